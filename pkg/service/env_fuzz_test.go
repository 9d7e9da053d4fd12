package service_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/service"
	"uneventful.dev/uneventful/pkg/service/historyservice"
	"uneventful.dev/uneventful/pkg/service/writerservice"
)

// FuzzEnv feeds arbitrary environment values through the configuration every service
// reads: nothing panics, a valid value is taken, and an invalid one gives the default and
// an error naming its variable.
func FuzzEnv(f *testing.F) {
	for _, s := range []string{"", "5", "-1", "0", "99999999999999999999", "5s", "1h2m", "-3ms", "debug", "nonsense", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, read := range []func(*service.Env){
			func(e *service.Env) { writerservice.Configure(e, "wallet", 8082) },
			func(e *service.Env) { e.Server() },
			func(e *service.Env) { historyservice.Configure(e) },
		} {
			read(service.NewEnv(func(string) string { return v }))
		}

		env := service.NewEnv(func(string) string { return v })
		n := env.Int("PARTITIONS", 16, 1)
		want, err := strconv.Atoi(v)
		intOK := v == "" || err == nil && want >= 1
		switch {
		case v == "" && n != 16, intOK && v != "" && n != want, !intOK && n != 16:
			t.Fatalf("Int(%q) = %d", v, n)
		}
		checkErr(t, env, "PARTITIONS", v, intOK)

		env = service.NewEnv(func(string) string { return v })
		d := env.Duration("COMMAND_TIMEOUT", 5*time.Second)
		wantD, err := time.ParseDuration(v)
		durOK := v == "" || err == nil && wantD > 0
		switch {
		case v == "" && d != 5*time.Second, durOK && v != "" && d != wantD, !durOK && d != 5*time.Second:
			t.Fatalf("Duration(%q) = %s", v, d)
		}
		checkErr(t, env, "COMMAND_TIMEOUT", v, durOK)
	})
}

func checkErr(t *testing.T, env *service.Env, name, v string, ok bool) {
	t.Helper()
	err := env.Err()
	if ok != (err == nil) || err != nil && !strings.HasPrefix(err.Error(), name+"=") {
		t.Fatalf("%s=%q: Err() = %v", name, v, err)
	}
}
