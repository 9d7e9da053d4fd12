package service_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/aggregate"
	"uneventful.dev/uneventful/pkg/service"
	"uneventful.dev/uneventful/pkg/service/historyservice"
	"uneventful.dev/uneventful/pkg/service/writerservice"
	"uneventful.dev/uneventful/pkg/stacktest"
)

func envOf(vars ...string) *service.Env {
	m := map[string]string{}
	for _, kv := range vars {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return service.NewEnv(func(k string) string { return m[k] })
}

// TestConfigDefaults checks the settings each service derives when nothing is set, and
// what BIND_ADDR, HTTP_ADDR, DATA_DIR and <DOMAIN>_DB change: every service but the HTTP
// entry listens on 127.0.0.1 unless told otherwise.
func TestConfigDefaults(t *testing.T) {
	before := slog.Default()
	tests := []struct {
		name     string
		read     func(*service.Env) (addr, db string)
		vars     []string
		addr, db string
	}{
		{"writer", writerOf("wallet"), nil, "127.0.0.1:8082", "data/wallet_writer/datastore.db"},
		{"writer of another domain", writerOf("session"), []string{"DATA_DIR=/d", "WALLET_DB=/w.db"}, "127.0.0.1:8082", "/d/session_writer/datastore.db"},
		{"writer, WALLET_DB", writerOf("wallet"), []string{"DATA_DIR=/d", "WALLET_DB=/w.db"}, "127.0.0.1:8082", "/w.db"},
		{"writer, BIND_ADDR", writerOf("wallet"), []string{"BIND_ADDR=0.0.0.0"}, "0.0.0.0:8082", "data/wallet_writer/datastore.db"},
		{"writer, HTTP_ADDR", writerOf("wallet"), []string{"BIND_ADDR=0.0.0.0", "HTTP_ADDR=:9"}, ":9", "data/wallet_writer/datastore.db"},
		{"history", history, nil, "127.0.0.1:8081", "data/history_writer/history.db"},
		{"history, BIND_ADDR", history, []string{"BIND_ADDR=10.0.0.1", "DATA_DIR=/d"}, "10.0.0.1:8081", "/d/history_writer/history.db"},
		{"history, HTTP_ADDR (compose)", history, []string{"HTTP_ADDR=:8081"}, ":8081", "data/history_writer/history.db"},
		{"server (the HTTP entry)", server, nil, ":80", ""},
		{"server, HTTP_PORT", server, []string{"HTTP_PORT=8080", "BIND_ADDR=127.0.0.1"}, ":8080", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := envOf(tt.vars...)
			addr, db := tt.read(env)
			if addr != tt.addr || db != filepath.FromSlash(tt.db) || env.Err() != nil {
				t.Errorf("addr %q db %q err %v, want %q %q", addr, db, env.Err(), tt.addr, tt.db)
			}
		})
	}
	if slog.Default() != before {
		t.Error("reading the configuration changed the default logger")
	}
}

func writerOf(domain string) func(*service.Env) (string, string) {
	return func(e *service.Env) (string, string) {
		c := writerservice.Configure(e, domain, 8082)
		return c.HTTPAddr, c.DBPath
	}
}
func history(e *service.Env) (string, string) {
	c := historyservice.Configure(e)
	return c.HTTPAddr, c.DBPath
}
func server(e *service.Env) (string, string) { c := e.Server(); return c.HTTPAddr, "" }

// TestConfigErrors checks that an invalid value is an error naming its variable, every
// one of them at once, never a silent default.
func TestConfigErrors(t *testing.T) {
	env := envOf("PARTITIONS=abc", "COMMAND_TIMEOUT=5", "LOG_LEVEL=chatty", "HTTP_PORT=99999")
	cfg := env.Server()
	err := env.Err()
	if err == nil {
		t.Fatalf("no error; config %+v", cfg)
	}
	for _, name := range []string{`PARTITIONS="abc"`, `COMMAND_TIMEOUT="5"`, `LOG_LEVEL="chatty"`, `HTTP_PORT="99999"`} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("%q does not name %s", err, name)
		}
	}
	env = envOf("PARTITIONS=8", "COMMAND_TIMEOUT=250ms", "LOG_LEVEL=debug")
	if cfg := env.Server(); env.Err() != nil || cfg.Partitions != 8 || cfg.CommandTimeout != 250*time.Millisecond {
		t.Errorf("valid values: %+v, %v", cfg, env.Err())
	}
}

// A domain whose state JSON has a field named id: the read model adds its own.
type idState struct {
	ID      string `json:"id"`
	Balance int    `json:"balance"`
}

type idDomain struct{ name string }

func (d idDomain) Name() string { return d.name }
func (idDomain) ParseCommand(typ string, body []byte) (aggregate.Command, error) {
	return aggregate.Command{Type: typ, Data: body}, nil
}
func (idDomain) Decide(idState, int64, aggregate.Command) ([]aggregate.Event, error) { return nil, nil }
func (idDomain) Evolve(s idState, _ aggregate.Event) (idState, error)                { return s, nil }
func (idDomain) Commands() []string                                                  { return []string{"open"} }
func (idDomain) Views() (state, events []string)                                     { return nil, []string{"events"} }

// The same state with the version embedded, omitted when empty: still refused.
type versionState struct {
	versioned
	Name string `json:"name"`
}
type versioned struct {
	V int64 `json:"version,omitempty"`
}
type versionDomain struct{ idDomain }

func (versionDomain) Decide(versionState, int64, aggregate.Command) ([]aggregate.Event, error) {
	return nil, nil
}
func (versionDomain) Evolve(s versionState, _ aggregate.Event) (versionState, error) { return s, nil }

// TestDomainRulesCheckedAtStart starts services with domains that break the rules of
// docs/domains.md: each refuses to start at once, saying which rule, and creates no
// database.
func TestDomainRulesCheckedAtStart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	common := func() service.Common {
		return service.Common{Listener: stacktest.Listen(t), Log: slog.New(slog.DiscardHandler), NATSURL: "nats://127.0.0.1:1"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tt := range []struct {
		name string
		run  func() error
		want string
	}{
		{"state with id", func() error {
			return writerservice.Run(ctx, writerservice.Config{Common: common(), DBPath: db}, idDomain{"thing"})
		}, `JSON field "id"`},
		{"state with an embedded version", func() error {
			return writerservice.Run(ctx, writerservice.Config{Common: common(), DBPath: db}, versionDomain{idDomain{"thing"}})
		}, `JSON field "version"`},
		{"name not fit for an environment variable", func() error {
			return writerservice.Run(ctx, writerservice.Config{Common: common(), DBPath: db}, versionDomain{idDomain{"my-thing"}})
		}, `domain name "my-thing"`},
		{"a name the command bus reserves", func() error {
			return writerservice.Run(ctx, writerservice.Config{Common: common(), DBPath: db}, versionDomain{idDomain{"service"}})
		}, `domain name "service" is reserved`},
		{"a view named events", func() error {
			return service.RunServer(ctx, service.ServerConfig{Common: common()}, idDomain{"thing"})
		}, `event view "events"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want one saying %s", err, tt.want)
			}
			if _, err := os.Stat(db); !os.IsNotExist(err) {
				t.Errorf("the database was created: %v", err)
			}
		})
	}
	b, _ := json.Marshal(versionState{})
	t.Logf("the embedded version's state marshals to %s (omitted, still refused)", b)
}
