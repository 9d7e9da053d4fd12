package service

import (
	"log/slog"
	"os"
	"strconv"
	"time"
)

// Env reads configuration values; services pass os.Getenv.
type Env func(string) string

// Common reads NATS_URL, REDIS_ADDR, REDIS_PASSWORD, HTTP_ADDR (default httpAddr) and
// LOG_LEVEL (debug, info, warn, error) and PPROF_ADDR, and sets up JSON logs on stderr.
func (env Env) Common(httpAddr string) Common {
	level := slog.LevelInfo
	level.UnmarshalText([]byte(env("LOG_LEVEL"))) //nolint:errcheck // default info
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log)
	return Common{
		NATSURL:       env("NATS_URL"),
		RedisAddr:     env("REDIS_ADDR"),
		RedisPassword: env("REDIS_PASSWORD"),
		HTTPAddr:      env.String("HTTP_ADDR", httpAddr),
		Log:           log,
		PprofAddr:     env("PPROF_ADDR"),
	}
}

// String returns the value of name, or def if unset.
func (env Env) String(name, def string) string {
	if v := env(name); v != "" {
		return v
	}
	return def
}

// Int returns the integer value of name, or def if unset or not an integer.
func (env Env) Int(name string, def int) int {
	if v, err := strconv.Atoi(env(name)); err == nil {
		return v
	}
	return def
}

// Duration returns the duration value of name (e.g. "5s"), or def.
func (env Env) Duration(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(env(name)); err == nil {
		return v
	}
	return def
}
