package sse_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/sse"
)

// TestFollowResumes: a server that ends every connection after two events; Follow
// reconnects with Last-Event-ID and hands over each event once, in order.
func TestFollowResumes(t *testing.T) {
	var mu sync.Mutex
	var lastIDs []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pos, err := sse.StartPosition(r)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		mu.Lock()
		lastIDs = append(lastIDs, r.Header.Get("Last-Event-ID"))
		mu.Unlock()
		st, err := sse.Start(w, r)
		if err != nil {
			return
		}
		defer st.Close()
		for id := pos.After + 1; id <= pos.After+2; id++ {
			st.Event(id, "t", fmt.Appendf(nil, `{"n":%d}`, id))
		}
		st.Event(pos.After, "t", []byte(`{"again":true}`)) // an event sent twice is skipped
		st.Flush()                                         //nolint:errcheck
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	f := sse.Follower{Retry: time.Millisecond}
	var got []int64
	err := f.Follow(ctx, srv.URL, 0, func(e sse.Event) error {
		if want := fmt.Sprintf(`{"n":%d}`, e.ID); string(e.Data) != want || e.Type != "t" {
			return fmt.Errorf("event %d: %s %s", e.ID, e.Type, e.Data)
		}
		got = append(got, e.ID)
		if e.ID == 7 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[1 2 3 4 5 6 7]" {
		t.Fatalf("got %v", got)
	}
	if strings.Join(lastIDs, ",") != ",2,4,6" {
		t.Fatalf("Last-Event-ID sent: %q", lastIDs)
	}
}

var errStop = errors.New("stop")

func TestFollowRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":{"type":"invalid_after"}}`, 400)
	}))
	defer srv.Close()
	var f sse.Follower
	if err := f.Follow(context.Background(), srv.URL, 0, func(sse.Event) error { return nil }); !errors.Is(err, sse.ErrRefused) {
		t.Fatalf("err %v, want ErrRefused", err)
	}
}
