package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/ksuid"

	"uneventful.dev/uneventful/pkg/stacktest"
)

func TestWatchURL(t *testing.T) {
	for target, want := range map[string]string{
		"":                                   "B/history/events",
		"wallet":                             "B/history/events?stream=wallet.",
		"wallet.":                            "B/history/events?stream=wallet.",
		"queue.":                             "B/history/events?stream=queue.",
		"wallet.28skwt5B8zTrs6AqBWrSgCHLcRL": "B/wallet/28skwt5B8zTrs6AqBWrSgCHLcRL/events",
		"lock.a.b.":                          "B/history/events?stream=lock.a.b.",
	} {
		if got := watchURL("B", target); got != want {
			t.Errorf("watchURL(%q) = %s, want %s", target, got, want)
		}
	}
}

// TestEventsWatch: `uneventful events watch wallet.<id>` prints the wallet's stored
// events, then a new one as it is written.
func TestEventsWatch(t *testing.T) {
	s := stacktest.Start(t)
	id := ksuid.New().String()
	post := func() {
		resp, err := http.Post(s.URL+"/wallet/"+id+"/credit", "application/json", strings.NewReader(`{"amount": 1}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("credit: %d", resp.StatusCode)
		}
	}
	post()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"events", "watch", "wallet." + id, "-url", s.URL}, nil, pw)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	for want := 1; want <= 2; want++ {
		if !lines.Scan() {
			t.Fatalf("output ended before event %d: %v", want, <-done)
		}
		f := strings.SplitN(lines.Text(), "\t", 3)
		if len(f) != 3 || f[0] != string(rune('0'+want)) || f[1] != "credited" || !strings.Contains(f[2], `"stream":"wallet.`+id+`"`) {
			t.Fatalf("line %d: %q", want, lines.Text())
		}
		if want == 1 {
			post() // the second comes live
		}
	}
	cancel()
	go io.Copy(io.Discard, pr) //nolint:errcheck
	<-done
}
