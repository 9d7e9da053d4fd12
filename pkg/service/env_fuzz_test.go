package service_test

import (
	"log/slog"
	"strconv"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/service"
)

// FuzzEnv feeds arbitrary environment values through the configuration every service
// reads: nothing panics, and a value that is not a number or a duration gives the default.
func FuzzEnv(f *testing.F) {
	for _, s := range []string{"", "5", "-1", "99999999999999999999", "5s", "1h2m", "-3ms", "debug", "nonsense", "\x00"} {
		f.Add(s)
	}
	defer slog.SetDefault(slog.Default()) // Common sets the default logger
	f.Fuzz(func(t *testing.T, v string) {
		env := service.Env(func(string) string { return v })
		c := env.Common(":8080")
		if c.Log == nil || c.HTTPAddr == "" {
			t.Fatalf("Common(%q) = %+v", v, c)
		}
		n := env.Int("PARTITIONS", 16)
		if want, err := strconv.Atoi(v); err != nil && n != 16 || err == nil && n != want {
			t.Fatalf("Int(%q) = %d", v, n)
		}
		d := env.Duration("COMMAND_TIMEOUT", 5*time.Second)
		if want, err := time.ParseDuration(v); err != nil && d != 5*time.Second || err == nil && d != want {
			t.Fatalf("Duration(%q) = %s", v, d)
		}
	})
}
