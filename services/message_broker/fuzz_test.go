package main

import "testing"

// FuzzConfigFromEnv: whatever the environment holds, the broker's configuration is
// either refused with an error or valid; nothing panics.
func FuzzConfigFromEnv(f *testing.F) {
	f.Add("127.0.0.1", "4222", "8222", "./data/nats", "false")
	f.Add("", "-1", "0", "", "yes")
	f.Add("::", "99999999999999999999", "-2", "/", "1")
	f.Fuzz(func(t *testing.T, host, port, httpPort, dir, debug string) {
		env := map[string]string{"NATS_HOST": host, "NATS_PORT": port, "NATS_HTTP_PORT": httpPort, "NATS_STORE_DIR": dir, "NATS_DEBUG": debug}
		cfg, err := configFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("configFromEnv gave an invalid %+v: %v", cfg, err)
		}
	})
}
