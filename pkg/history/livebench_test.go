package history_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/history"
	"uneventful.dev/uneventful/pkg/httpapi"
	"uneventful.dev/uneventful/pkg/sse"
)

// BenchmarkLiveCatchUp measures one subscriber reading b.N stored events from position 0
// through GET /history/events (sse.Follower on the client side, over loopback), beside
// the ceiling: the same events read from the store's SQLite in pages, as the stream
// reads them (Store.RangeJSON, without HTTP).
//
//	go test -run x -bench LiveCatchUp -benchtime 1000000x ./pkg/history/
func BenchmarkLiveCatchUp(b *testing.B) {
	ctx := context.Background()
	store, err := history.Open(ctx, filepath.Join(b.TempDir(), "history.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	data := json.RawMessage(`{"amount":"1.00"}`)
	now := time.Now()
	batch := make([]event.Envelope, 0, 1000)
	for i := range b.N {
		batch = append(batch, event.Envelope{ID: event.NewID(), Stream: "wallet.28skwt5B8zTrs6AqBWrSgCHLcRL", Version: int64(i + 1), Type: "credited", Data: data, CommandID: event.NewID(), Time: now})
		if len(batch) == cap(batch) || i == b.N-1 {
			if _, err := store.Append(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	r := httpapi.NewRouter()
	history.Mount(r, store)
	srv := httptest.NewServer(r)
	defer srv.Close()

	b.ResetTimer()
	var read int64
	var began time.Time
	for range 2 { // the first pass warms the page cache, as a stream's would
		read, began = 0, time.Now()
		for after := int64(0); ; {
			n, err := store.RangeJSON(ctx, after, int64(b.N), "", 256, func(position int64, _ string, _ []byte) error {
				after = position
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			if n == 0 {
				break
			}
			read += int64(n)
		}
	}
	raw := time.Since(began)
	began = time.Now()
	var got int64
	stop := errors.New("all read")
	f := sse.Follower{}
	err = f.Follow(ctx, srv.URL+"/history/events", 0, func(e sse.Event) error {
		if got++; e.ID != got {
			return errors.New("out of order")
		}
		if got == int64(b.N) {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || read != int64(b.N) {
		b.Fatalf("read %d raw, %d streamed: %v", read, got, err)
	}
	streamed := time.Since(began)
	b.ReportMetric(float64(b.N)/streamed.Seconds(), "streamed-events/s")
	b.ReportMetric(float64(b.N)/raw.Seconds(), "raw-sqlite-events/s")
	b.ReportMetric(raw.Seconds()/streamed.Seconds(), "ratio")
}
