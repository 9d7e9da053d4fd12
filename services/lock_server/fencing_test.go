package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/ksuid"

	"uneventful.dev/uneventful/domains/lock"
	"uneventful.dev/uneventful/pkg/service"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// Kleppmann's case: a holder paused (SIGSTOP) past its lease; another takes the lock and
// writes to a fenced wallet; the first wakes (SIGCONT) and writes with its old token: it
// is refused with stale_token, and the balance is exactly what the current holder wrote.
func TestFencingStoppedHolder(t *testing.T) {
	s := stacktest.Start(t) // NATS, Redis, the wallet's writer and server
	lockURL, _ := s.RunService("lock_server", func(ctx context.Context, c service.Common) error {
		return service.RunServer(ctx, service.ServerConfig{Common: c}, lock.Domain{})
	})
	lockDB := t.TempDir() + "/lock.db"
	writerURL, _ := s.RunService("lock_writer", func(ctx context.Context, c service.Common) error {
		return writerserviceRun(ctx, c, lockDB)
	})
	stacktest.WaitReady(t, lockURL)
	stacktest.WaitReady(t, writerURL)
	wallet := ksuid.New().String()

	child := exec.Command(os.Args[0], "-test.run=^TestFencingHelperProcess$")
	child.Env = append(os.Environ(), "LOCK_FENCE_HELPER=1", "LOCK_URL="+lockURL, "WALLET_URL="+s.URL+"/wallet/"+wallet)
	stdin, _ := child.StdinPipe()
	stdout, _ := child.StdoutPipe()
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Process.Kill() //nolint:errcheck
	lines := bufio.NewScanner(stdout)
	next := func() string {
		if !lines.Scan() {
			t.Fatalf("the holder process ended: %v", lines.Err())
		}
		return lines.Text()
	}
	var oldToken int64
	var expires time.Time
	var exp string
	if _, err := fmt.Sscanf(next(), "token %d expires %s", &oldToken, &exp); err != nil {
		t.Fatal(err)
	}
	expires, _ = time.Parse(time.RFC3339Nano, exp)
	if err := child.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// Paused past its lease: a waiter gets the lock when the lease ends.
	r := do(context.Background(), t, http.MethodPost, lockURL+"/lock/fence/acquire", `{"holder":"h2","ttl":"30s","wait":true}`)
	if r.status != 200 || r.token() <= oldToken || time.Now().Before(expires) {
		t.Fatalf("h2: %d %s (old token %d, its lease until %s)", r.status, r.raw, oldToken, expires)
	}
	credit := func(token int64, amount string) reply {
		return doWith(context.Background(), t, http.MethodPost, s.URL+"/wallet/"+wallet+"/credit", `{"amount":`+amount+`}`,
			http.Header{"Fencing-Token": {fmt.Sprintf("fence=%d", token)}})
	}
	if c := credit(r.token(), "5"); c.status != 200 {
		t.Fatalf("h2's credit: %d %s", c.status, c.raw)
	}
	if err := child.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(stdin, "write")
	if got := next(); got != "409 stale_token" {
		t.Fatalf("the woken holder's write: %s, want 409 stale_token", got)
	}
	b := do(context.Background(), t, http.MethodGet, s.URL+"/wallet/"+wallet, "")
	if b.body["balance"] != "5.00" {
		t.Fatalf("balance: %s, want exactly h2's 5.00", b.raw)
	}
}

// TestFencingHelperProcess is the holder TestFencingStoppedHolder runs as a process: it
// takes the lock, says its token, and on a line from stdin credits the wallet with it.
func TestFencingHelperProcess(t *testing.T) {
	if os.Getenv("LOCK_FENCE_HELPER") != "1" {
		t.Skip("run by TestFencingStoppedHolder")
	}
	r := do(context.Background(), t, http.MethodPost, os.Getenv("LOCK_URL")+"/lock/fence/acquire", `{"holder":"h1","ttl":"500ms"}`)
	if r.status != 200 {
		t.Fatalf("acquire: %s", r.raw)
	}
	fmt.Printf("token %d expires %s\n", r.token(), r.body["expires"])
	bufio.NewScanner(os.Stdin).Scan()
	w := doWith(context.Background(), t, http.MethodPost, os.Getenv("WALLET_URL")+"/credit", `{"amount":100}`,
		http.Header{"Fencing-Token": {fmt.Sprintf("fence=%d", r.token())}})
	fmt.Printf("%d %s\n", w.status, w.errType())
}
