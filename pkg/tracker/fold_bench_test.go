package tracker_test

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/history"
	"uneventful.dev/uneventful/pkg/tracker"
)

// BenchmarkFold measures the tracker's own share of a replay, per event: decoding a
// line of GET /history/bulk (history.BulkDecoder, as ReadBulk does) and folding it into
// the model, without the history or HTTP.
//
//	go test -run '^$' -bench Fold ./pkg/tracker/
func BenchmarkFold(b *testing.B) {
	f := newFlows(time.Now().UTC(), time.Millisecond)
	for len(f.events) < 100_000 {
		f.mixed(100)
	}
	lines := make([][]byte, len(f.events))
	for i, e := range f.events {
		env, _ := json.Marshal(e)
		lines[i] = append([]byte(`{"position":`+strconv.Itoa(i+1)+`,`), env[1:]...)
	}
	b.Run("decode_entry", func(b *testing.B) { // for comparison: event.Decode, strict
		for i := range b.N {
			if _, err := history.DecodeEntry(lines[i%len(lines)], nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		var d history.BulkDecoder
		for i := range b.N {
			if _, err := d.Decode(lines[i%len(lines)], nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode_and_fold", func(b *testing.B) {
		m := tracker.NewModel(time.Time{})
		var d history.BulkDecoder
		var base int64
		for i := range b.N {
			if i%len(lines) == 0 && i > 0 {
				m = tracker.NewModel(time.Time{}) // positions start again
				base = 0
			}
			e, err := d.Decode(lines[i%len(lines)], nil)
			if err != nil {
				b.Fatal(err)
			}
			e.Position += base
			m.Apply(e)
		}
	})
}
