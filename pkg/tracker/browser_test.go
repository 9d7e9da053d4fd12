package tracker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/queue"
)

// TestBrowser opens the tracker page of a running stack (TRACKER_BROWSER_URL, e.g.
// http://localhost:8080; NATS at NATS_URL) in headless Chromium, enqueues a payment that
// credits a wallet and one that fails into payments.error (config/wallet.queues.yaml),
// and waits until the page has shown each in flight and then completed where it should,
// without a reload; then the same for a lock's grant, held then released, and the domain
// filter. scripts/e2e_tracker.sh starts the stack and runs it (./test.sh);
// with TRACKER_SCREENSHOT set it saves the page there as PNG.
func TestBrowser(t *testing.T) {
	base := os.Getenv("TRACKER_BROWSER_URL")
	if base == "" {
		t.Skip("needs a running stack: TRACKER_BROWSER_URL (scripts/e2e_tracker.sh runs this test)")
	}
	natsURL := os.Getenv("NATS_URL")
	if natsURL == "" {
		natsURL = nats.DefaultURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	b := startBrowser(t, base+"/tracker/", 1200, 900)
	waitFor(ctx, t, b, "the page is live", `document.getElementById("status")?.dataset.live === "live"`)
	// Record every row the tables show, as the page adds it; a reload would lose this.
	if err := b.eval(ctx, `window.seen = [];
		new MutationObserver(ms => { for (const m of ms) for (const n of m.addedNodes) {
			if (n.dataset && n.dataset.id) seen.push({id: n.dataset.id, table: (n.closest("table") || {}).id,
				status: n.dataset.status, state: n.dataset.state, where: n.dataset.where});
		} }).observe(document.querySelector("main"), {childList: true, subtree: true}); true`, nil); err != nil {
		t.Fatal(err)
	}

	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	q := queue.NewClient(nc)
	wallet := event.NewID()
	enqueue := func(payload string, delay time.Duration) string {
		id, err := q.Enqueue(ctx, "payments", queue.Message{Type: "application/json", Payload: []byte(payload), Properties: wallet},
			queue.EnqueueOptions{Delay: delay})
		if err != nil {
			t.Fatalf("enqueue %s: %v", payload, err)
		}
		return id
	}
	paid := enqueue(`{"amount": 5}`, 0)
	failed := enqueue(`{"amount": "five"}`, 0)
	waiting := enqueue(`{"amount": 1}`, time.Hour) // stays in flight: the screenshot shows one

	shown := func(id, table, state, where string) string {
		return fmt.Sprintf(`seen.some(r => r.id === %q && r.table === %q && r.state === %q && r.where === %q)`, id, table, state, where)
	}
	waitFor(ctx, t, b, "the payment in flight", shown(paid, "inflight", "queued", "payments"))
	waitFor(ctx, t, b, "the failing payment in flight", shown(failed, "inflight", "queued", "payments"))
	waitFor(ctx, t, b, "the payment committed", shown(paid, "completed", "committed", "payments"))
	waitFor(ctx, t, b, "the failing payment parked in payments.error", shown(failed, "completed", "parked", "payments.error"))
	waitFor(ctx, t, b, "the delayed payment in flight", shown(waiting, "inflight", "queued", "payments"))
	for _, id := range []string{paid, failed} {
		var order []string
		if err := b.eval(ctx, fmt.Sprintf(`seen.filter(r => r.id === %q).map(r => r.table)`, id), &order); err != nil {
			t.Fatal(err)
		}
		if len(order) < 2 || order[0] != "inflight" || order[len(order)-1] != "completed" {
			t.Errorf("%s showed in %v: want in flight first, completed last", id, order)
		}
	}
	// Where they are now, in the DOM: one row each, in the table of its status.
	var rows map[string]string
	if err := b.eval(ctx, `Object.fromEntries([...document.querySelectorAll("tr[data-id]")].map(r => [r.dataset.id, r.closest("table").id + " " + r.dataset.state]))`, &rows); err != nil {
		t.Fatal(err)
	}
	if rows[paid] != "completed committed" || rows[failed] != "completed parked" || rows[waiting] != "inflight queued" {
		t.Errorf("rows now: paid %q, failed %q, waiting %q", rows[paid], rows[failed], rows[waiting])
	}
	if balance := walletBalance(t, base, wallet); balance != "5.00" {
		t.Errorf("the wallet's balance is %q, want 5.00 (the payment credited it)", balance)
	}

	// The counters follow (the page reloads them at most once a second).
	waitFor(ctx, t, b, "the counters of payments and payments.error", `[...document.querySelectorAll("#queues tbody th")].map(th => th.textContent).join(" ") === "payments payments.error"`)
	if path := os.Getenv("TRACKER_SCREENSHOT"); path != "" {
		png, err := b.screenshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// A lock's grant (POST /lock/{name}/acquire, then release): in flight while held,
	// completed when released; the domain filter shows the lock's items only.
	name := "tracker-e2e-" + event.NewID()
	var grant struct{ Token int64 }
	lockCommand(t, base, name, "acquire", `{"holder":"e2e","ttl":"1m"}`, &grant)
	item := "lock." + name + "@1" // the grant of the lock's first event
	waitFor(ctx, t, b, "the lock's grant held", shown(item, "inflight", "held", "lock."+name))
	lockCommand(t, base, name, "release", fmt.Sprintf(`{"holder":"e2e","token":%d}`, grant.Token), nil)
	waitFor(ctx, t, b, "the lock's grant released", shown(item, "completed", "released", "lock."+name))
	waitFor(ctx, t, b, "the domain lock among the filter's choices", `[...document.getElementById("f-domain").options].some(o => o.value === "lock")`)
	if err := b.eval(ctx, `(() => { const s = document.getElementById("f-domain"); s.value = "lock";
		s.dispatchEvent(new Event("change")); return true })()`, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, b, "only the lock's items under the domain filter lock", fmt.Sprintf(`(() => {
		const rows = [...document.querySelectorAll("tr[data-id]")];
		return location.search === "?domain=lock" && rows.some(r => r.dataset.id === %q) && rows.every(r => r.dataset.domain === "lock");
	})()`, item))

	// A phone's width: nothing wider than the screen.
	if err := b.call(ctx, "Emulation.setDeviceMetricsOverride", map[string]any{"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": true}, nil); err != nil {
		t.Fatal(err)
	}
	var width int
	if err := b.eval(ctx, `new Promise(r => requestAnimationFrame(() => r(document.documentElement.scrollWidth)))`, &width); err != nil {
		t.Fatal(err)
	}
	if width > 390 {
		t.Errorf("at a phone's width (390 px) the page is %d px wide", width)
	}
}

// waitFor waits until the JavaScript condition holds in the page.
func waitFor(ctx context.Context, t *testing.T, b *browser, what, cond string) {
	t.Helper()
	for {
		var ok bool
		if err := b.eval(ctx, cond, &ok); err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			var seen, status any
			b.eval(context.Background(), `seen`, &seen)                                            //nolint:errcheck // for the message
			b.eval(context.Background(), `document.getElementById("status").textContent`, &status) //nolint:errcheck
			t.Fatalf("the page never showed %s; rows seen: %v; status: %v", what, seen, status)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// lockCommand posts body to /lock/{name}/<command> and decodes the answer into out
// (nil: not read); anything but 200 fails the test.
func lockCommand(t *testing.T, base, name, command, body string, out any) {
	t.Helper()
	resp, err := http.Post(base+"/lock/"+name+"/"+command, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: %d %s", command, name, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %s: %v", command, name, b, err)
		}
	}
}

func walletBalance(t *testing.T, base, id string) string {
	t.Helper()
	resp, err := http.Get(base + "/wallet/" + id + "/balance")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var b struct{ Balance string }
	if json.Unmarshal(body, &b) != nil {
		return strings.TrimSpace(string(body))
	}
	return b.Balance
}
