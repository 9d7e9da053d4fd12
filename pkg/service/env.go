package service

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"uneventful.dev/uneventful/pkg/command"
)

// Env reads configuration through a lookup function (main passes os.Getenv). A value
// that is set but not valid is remembered, named by its variable, and reported by Err;
// the reading goes on, so one run reports every bad value. Reading changes nothing
// outside the Env. Not safe for concurrent use.
type Env struct {
	get  func(string) string
	errs []error
}

// NewEnv returns an Env reading through get.
func NewEnv(get func(string) string) *Env { return &Env{get: get} }

// Err returns every invalid value read so far, each naming its variable, or nil.
func (e *Env) Err() error {
	if len(e.errs) == 0 {
		return nil
	}
	msgs := make([]string, len(e.errs))
	for i, err := range e.errs {
		msgs[i] = err.Error()
	}
	return errors.New(strings.Join(msgs, "; "))
}

func (e *Env) fail(name, v, format string, args ...any) {
	e.errs = append(e.errs, fmt.Errorf("%s=%q: %s", name, v, fmt.Sprintf(format, args...)))
}

// String returns the value of name, or def if unset or empty.
func (e *Env) String(name, def string) string {
	if v := e.get(name); v != "" {
		return v
	}
	return def
}

// List returns the comma-separated items of name, spaces trimmed and empty ones dropped
// (none if unset). An item named twice is an error.
func (e *Env) List(name string) []string {
	v := e.get(name)
	var out []string
	for item := range strings.SplitSeq(v, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		if slices.Contains(out, item) {
			e.fail(name, v, "%q is named twice", item)
			return nil
		}
		out = append(out, item)
	}
	return out
}

// Int returns the integer value of name, or def if unset. A value that is not an
// integer, or is below min, is an error.
func (e *Env) Int(name string, def, min int) int {
	v := e.get(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		e.fail(name, v, "not an integer")
		return def
	case n < min:
		e.fail(name, v, "must be at least %d", min)
		return def
	}
	return n
}

// Duration returns the duration value of name (e.g. "5s"), or def if unset. A value
// that is not a duration with its unit, or is not positive, is an error.
func (e *Env) Duration(name string, def time.Duration) time.Duration {
	v := e.get(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		e.fail(name, v, "not a duration with its unit (e.g. 5s, 250ms)")
		return def
	case d <= 0:
		e.fail(name, v, "must be positive")
		return def
	}
	return d
}

// Port returns the TCP port in name (1-65535), or def if unset.
func (e *Env) Port(name string, def int) int {
	p := e.Int(name, def, 1)
	if p > 65535 {
		e.fail(name, e.get(name), "not a port (1-65535)")
		return def
	}
	return p
}

// LocalAddr is the default listen address of a service that is not the HTTP entry:
// $BIND_ADDR (default 127.0.0.1) and port.
func (e *Env) LocalAddr(port int) string {
	return e.String("BIND_ADDR", "127.0.0.1") + ":" + strconv.Itoa(port)
}

// Common reads NATS_URL, REDIS_ADDR, REDIS_PASSWORD, HTTP_ADDR (default httpAddr),
// LOG_LEVEL (debug, info, warn, error; default info) and PPROF_ADDR. Its logger writes
// JSON lines to stderr.
func (e *Env) Common(httpAddr string) Common {
	level := slog.LevelInfo
	if v := e.get("LOG_LEVEL"); v != "" {
		if err := level.UnmarshalText([]byte(v)); err != nil {
			e.fail("LOG_LEVEL", v, "want debug, info, warn or error")
		}
	}
	return Common{
		NATSURL:       e.get("NATS_URL"),
		RedisAddr:     e.get("REDIS_ADDR"),
		RedisPassword: e.get("REDIS_PASSWORD"),
		HTTPAddr:      e.String("HTTP_ADDR", httpAddr),
		Log:           slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
		PprofAddr:     e.get("PPROF_ADDR"),
	}
}

// Server reads the configuration of a domain's server, the HTTP entry: Common with
// HTTP_ADDR defaulting to :$HTTP_PORT (80; every interface), PARTITIONS (16) and
// COMMAND_TIMEOUT (5s).
func (e *Env) Server() ServerConfig {
	return ServerConfig{
		Common:         e.Common(":" + strconv.Itoa(e.Port("HTTP_PORT", 80))),
		Partitions:     e.Int("PARTITIONS", command.DefaultPartitions, 1),
		CommandTimeout: e.Duration("COMMAND_TIMEOUT", 5*time.Second),
	}
}
