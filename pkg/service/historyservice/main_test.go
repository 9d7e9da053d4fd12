package historyservice

import (
	"slices"
	"strings"
	"testing"

	"uneventful.dev/uneventful/pkg/service"
)

// HISTORY_JS_DOMAINS names the JetStream domains to copy, comma-separated; unset, none
// (the domain of NATS_URL's server).
func TestConfigureJSDomains(t *testing.T) {
	for v, want := range map[string][]string{"": nil, "A": {"A"}, "A,B": {"A", "B"}, " A , B ,": {"A", "B"}, ",": nil} {
		env := service.NewEnv(func(name string) string {
			if name == "HISTORY_JS_DOMAINS" {
				return v
			}
			return ""
		})
		if got := Configure(env).JSDomains; !slices.Equal(got, want) {
			t.Errorf("HISTORY_JS_DOMAINS=%q: %q, want %q", v, got, want)
		}
	}
}

// A JetStream domain named twice is a configuration error (exit 2 at start).
func TestConfigureJSDomainTwice(t *testing.T) {
	env := service.NewEnv(func(name string) string {
		if name == "HISTORY_JS_DOMAINS" {
			return "A,B,A"
		}
		return ""
	})
	Configure(env)
	if err := env.Err(); err == nil || !strings.Contains(err.Error(), `"A" is named twice`) {
		t.Fatalf("HISTORY_JS_DOMAINS=A,B,A: error %v, want \"A\" is named twice", err)
	}
}
