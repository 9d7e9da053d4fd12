package stacktest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"uneventful.dev/uneventful/domains/wallet"
	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/service"
	"uneventful.dev/uneventful/pkg/service/historyservice"
	"uneventful.dev/uneventful/pkg/service/writerservice"
	"uneventful.dev/uneventful/pkg/writer"
)

// Stack is a running wallet stack: NATS, Redis, wallet writer, history writer, server.
type Stack struct {
	NATS       *server.Server
	RedisAddr  string
	WalletDB   string
	HistoryDB  string
	URL        string // the wallet server, e.g. http://127.0.0.1:41234
	HistoryURL string // the history writer
	WriterURL  string // the writer's health endpoints
	Writer     writer.Config
	Log        *slog.Logger

	t          testing.TB
	stopWriter func()
	natsDir    string
	natsPort   int
	redisPort  int
	redisCmd   *exec.Cmd
}

// Start starts a whole stack; it is stopped when the test ends.
func Start(t testing.TB) *Stack {
	t.Helper()
	s := StartParts(t)
	s.StartServices()
	return s
}

// StartServices starts the wallet writer, the server and the history writer in-process,
// and waits until they are ready: Start after StartParts, for a test that first changes
// the stack (e.g. where the databases live or the log).
func (s *Stack) StartServices() {
	t := s.t
	t.Helper()
	s.StartWriter()
	s.URL = s.run("wallet_server", func(ctx context.Context, c service.Common) error {
		return service.RunServer(ctx, service.ServerConfig{Common: c}, wallet.Domain{})
	})
	s.HistoryURL = s.run("history_writer", func(ctx context.Context, c service.Common) error {
		up, err := event.NewUpcasters(wallet.Domain{})
		if err != nil {
			return err
		}
		return historyservice.Run(ctx, historyservice.Config{Common: c, DBPath: s.HistoryDB, Upcasters: up})
	})
	for _, u := range []string{s.URL, s.HistoryURL, s.WriterURL} {
		WaitReady(t, u)
	}
}

// StartParts starts NATS and Redis only, with the services' file paths set: for tests
// that run the services themselves (e.g. as processes they kill). Stopped when the test ends.
func StartParts(t testing.TB) *Stack {
	t.Helper()
	dir := t.TempDir()
	s := &Stack{t: t, natsDir: t.TempDir(), natsPort: FreePort(t), redisPort: FreePort(t),
		WalletDB: filepath.Join(dir, "wallet_writer", "datastore.db"), HistoryDB: filepath.Join(dir, "history_writer", "history.db"),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	s.NATS = natsAt(t, s.natsPort, s.natsDir)
	s.redisCmd = redisAt(t, s.redisPort)
	s.RedisAddr = "127.0.0.1:" + strconv.Itoa(s.redisPort)
	return s
}

// common returns the configuration of a service on a fresh :0 listener.
func (s *Stack) common() service.Common {
	return service.Common{NATSURL: s.NATS.ClientURL(), RedisAddr: s.RedisAddr, Listener: Listen(s.t), Log: s.Log}
}

// run starts a service and returns its base URL; it is stopped (and awaited) at cleanup.
func (s *Stack) run(name string, f func(context.Context, service.Common) error) string {
	url, stop := s.start(name, f)
	s.t.Cleanup(stop)
	return url
}

func (s *Stack) start(name string, f func(context.Context, service.Common) error) (string, func()) {
	c := s.common()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f(ctx, c) }()
	stop := func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				s.t.Errorf("%s: %v", name, err)
			}
		case <-time.After(30 * time.Second):
			s.t.Errorf("%s did not stop within 30s", name)
		}
	}
	return "http://" + c.Listener.Addr().String(), stop
}

// StartWriter starts the wallet writer (again) on the stack's database.
func (s *Stack) StartWriter() {
	url, stop := s.start("wallet_writer", func(ctx context.Context, c service.Common) error {
		return writerservice.Run(ctx, writerservice.Config{Common: c, DBPath: s.WalletDB, Writer: s.Writer}, wallet.Domain{})
	})
	s.WriterURL, s.stopWriter = url, stop
	s.t.Cleanup(s.StopWriter) // a no-op if the writer was already stopped
}

// StartOtherWriter starts one more wallet writer, on its own database file db and with
// cfg (e.g. other partitions through cfg.Owned), stopped when the test ends. It returns
// the writer's health base URL once it is ready.
func (s *Stack) StartOtherWriter(db string, cfg writer.Config) string {
	url := s.run("wallet_writer "+db, func(ctx context.Context, c service.Common) error {
		return writerservice.Run(ctx, writerservice.Config{Common: c, DBPath: db, Writer: cfg}, wallet.Domain{})
	})
	WaitReady(s.t, url)
	return url
}

// StopWriter stops the writer gracefully (as on SIGTERM) and waits for it.
func (s *Stack) StopWriter() {
	if s.stopWriter != nil {
		s.stopWriter()
		s.stopWriter = nil
	}
}

// RestartWriter stops the writer and starts it again, waiting until it is ready.
func (s *Stack) RestartWriter() {
	s.StopWriter()
	s.StartWriter()
	WaitReady(s.t, s.WriterURL)
}

// WaitReady polls url/readyz until it answers 200.
func WaitReady(t testing.TB, url string) {
	t.Helper()
	Eventually(t, 15*time.Second, func() error {
		resp, err := http.Get(url + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return Errorf("readyz: %d", resp.StatusCode)
		}
		return nil
	})
}
