package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/segmentio/ksuid"

	"uneventful.dev/uneventful/pkg/httpapi"
	"uneventful.dev/uneventful/pkg/notify"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// TestNotifyCLI: `uneventful notify listen <id>` prints what `uneventful notify <id> ...`
// and `uneventful notify many ...` send to that session, one line each; a bad constraint
// is refused with the server's message.
func TestNotifyCLI(t *testing.T) {
	ns := stacktest.NATS(t)
	rdb := goredis.NewClient(&goredis.Options{Addr: stacktest.Redis(t)})
	defer rdb.Close()
	r := httpapi.NewRouter()
	notify.New(stacktest.Connect(t, ns), rdb).Mount(r)
	srv := httptest.NewServer(r)
	defer srv.Close()
	id := ksuid.New().String()
	doc := `{"id":"` + id + `","version":1,"attributes":{"app":{"tier":{"value":"gold","frozen":false}}}}`
	if err := rdb.Set(context.Background(), "session."+id, doc, 0).Err(); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"notify", "listen", id, "-url", srv.URL}, nil, pw)
		pw.Close()
	}()
	// listening once the server has a subscription to the session's notifications (the
	// stream also subscribes to the session's events, first: a count of subscriptions
	// would see that one and send before the listener is there)
	stacktest.Eventually(t, 20*time.Second, func() error {
		if !ns.GlobalAccount().SubscriptionInterest(notify.Subject(id)) {
			return stacktest.Errorf("not subscribed yet")
		}
		return nil
	})
	var out bytes.Buffer
	if err := run(ctx, []string{"notify", id, "app", "greeting", `{"text":"hi"}`, "-url", srv.URL}, nil, &out); err != nil {
		t.Fatal(err)
	}
	var rec notify.Receipt
	if err := json.Unmarshal(out.Bytes(), &rec); err != nil || rec.Sessions != 1 {
		t.Fatalf("notify printed %q (%v)", out.String(), err)
	}
	out.Reset()
	if err := run(ctx, []string{"notify", "many", "app", "offer", `{"op":"equal","key":"tier","value":"gold"}`, "-url", srv.URL}, nil, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"sessions":1`) {
		t.Fatalf("notify many printed %q", out.String())
	}
	err := run(ctx, []string{"notify", "many", "app", "offer", `{"op":"equal","key":"tier"}`, "-url", srv.URL}, nil, &out)
	if err == nil || !strings.Contains(err.Error(), `400`) || !strings.Contains(err.Error(), `equal needs \"value\"`) {
		t.Fatalf("a bad constraint: %v", err)
	}
	if err := run(ctx, []string{"notify", "many", "app"}, nil, &out); err == nil {
		t.Fatal("notify many without its arguments succeeded")
	}
	lines := bufio.NewScanner(pr)
	for _, want := range []string{"greeting\t", "offer\t"} {
		if !lines.Scan() {
			t.Fatalf("listen ended before %q: %v", want, <-done)
		}
		if l := lines.Text(); !strings.HasPrefix(l, want) || !strings.Contains(l, `"session":"`+id+`"`) {
			t.Fatalf("listen printed %q, want %q...", l, want)
		}
	}
	cancel()
	go io.Copy(io.Discard, pr) //nolint:errcheck
	<-done
}
