package main

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// syncAlways makes JetStream fsync every write before it acknowledges it (nats.conf:
// `sync_interval: always`; docker/message_broker/nats.conf says the same for the compose
// stack). The server's default syncs every two minutes, so a power failure could lose queue
// operations and events already acknowledged. NATS has no per-stream setting that asks for
// more than the server does, so it is server-wide. The cost is in docs/reliability.md.
const syncAlways = true

// Config is the broker's configuration; configFromEnv fills it from the
// environment.
type Config struct {
	Host         string        // NATS_HOST: bind address for clients and monitoring
	Port         int           // NATS_PORT: client port; -1 picks a free one
	HTTPPort     int           // NATS_HTTP_PORT: monitoring port (/healthz); -1 picks a free one
	StoreDir     string        // NATS_STORE_DIR: JetStream storage directory
	Debug        bool          // NATS_DEBUG: log the server's debug messages
	ReadyTimeout time.Duration // how long the server may take to accept connections
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.Host == "":
		return errors.New("host is empty")
	case !validPort(c.Port):
		return fmt.Errorf("client port %d: want 1-65535 or -1", c.Port)
	case !validPort(c.HTTPPort):
		return fmt.Errorf("monitoring port %d: want 1-65535 or -1", c.HTTPPort)
	case c.StoreDir == "":
		return errors.New("store dir is empty")
	case c.ReadyTimeout <= 0:
		return errors.New("ready timeout must be positive")
	}
	return nil
}

func validPort(p int) bool { return p == -1 || (p >= 1 && p <= 65535) }

// configFromEnv reads the configuration through lookup (os.LookupEnv in
// main), applying defaults for unset variables.
func configFromEnv(lookup func(string) (string, bool)) (Config, error) {
	cfg := Config{
		Host:         "127.0.0.1",
		Port:         4222,
		HTTPPort:     8222,
		StoreDir:     "./data/nats",
		ReadyTimeout: 10 * time.Second,
	}
	if v, ok := lookup("NATS_HOST"); ok && v != "" {
		cfg.Host = v
	}
	if v, ok := lookup("NATS_STORE_DIR"); ok && v != "" {
		cfg.StoreDir = v
	}
	for name, dst := range map[string]*int{"NATS_PORT": &cfg.Port, "NATS_HTTP_PORT": &cfg.HTTPPort} {
		if v, ok := lookup(name); ok && v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return Config{}, fmt.Errorf("%s=%q: not a number", name, v)
			}
			*dst = n
		}
	}
	if v, ok := lookup("NATS_DEBUG"); ok && v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return Config{}, fmt.Errorf("NATS_DEBUG=%q: not a boolean", v)
		}
		cfg.Debug = b
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}
