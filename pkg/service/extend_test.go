package service_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/segmentio/ksuid"

	"uneventful.dev/uneventful/domains/wallet"
	"uneventful.dev/uneventful/pkg/notify"
	"uneventful.dev/uneventful/pkg/service"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// TestWithRoutes: a domain's server mounts the routes WithRoutes adds (here the
// notifications, on the wallet's server until the session's exists) beside its own, with
// its middleware, and a mount that fails fails the start.
func TestWithRoutes(t *testing.T) {
	s := stacktest.StartParts(t)
	common := func() service.Common {
		return service.Common{NATSURL: s.NATS.ClientURL(), RedisAddr: s.RedisAddr, Listener: stacktest.Listen(t), Log: slog.New(slog.DiscardHandler)}
	}
	c := common()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- service.RunServer(ctx, service.ServerConfig{Common: c}, wallet.Domain{},
			service.WithRoutes(func(r chi.Router, d service.Deps) error {
				notify.New(d.NATS, d.Redis).Mount(r)
				return nil
			}))
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	base := "http://" + c.Listener.Addr().String()
	stacktest.WaitReady(t, base)

	id := ksuid.New().String()
	sctx, stop := context.WithTimeout(context.Background(), 20*time.Second)
	defer stop()
	req, _ := http.NewRequestWithContext(sctx, http.MethodGet, base+"/session/"+id+"/notifications", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Correlation-Id") == "" {
		t.Fatalf("notifications: %d, correlation id %q", resp.StatusCode, resp.Header.Get("X-Correlation-Id"))
	}
	post, err := http.Post(base+"/session/"+id+"/notify", "application/json", strings.NewReader(`{"namespace":"app","type":"ping"}`))
	if err != nil {
		t.Fatal(err)
	}
	post.Body.Close()
	if post.StatusCode != 200 {
		t.Fatalf("notify: %d", post.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() && sc.Text() != "event: ping" {
	}
	if sc.Text() != "event: ping" {
		t.Fatalf("no event: %v", sc.Err())
	}
	bad, err := http.Get(base + "/session/nope/notifications")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(bad.Body)
	bad.Body.Close()
	if bad.StatusCode != 400 || !strings.Contains(string(body), `"type":"invalid_id"`) {
		t.Fatalf("bad id: %d %s", bad.StatusCode, body)
	}

	refused := errors.New("refused")
	err = service.RunServer(context.Background(), service.ServerConfig{Common: common()}, wallet.Domain{},
		service.WithRoutes(func(chi.Router, service.Deps) error { return refused }))
	if !errors.Is(err, refused) {
		t.Fatalf("a failing mount: RunServer = %v", err)
	}
}
