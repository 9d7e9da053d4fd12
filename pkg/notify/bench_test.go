package notify

import (
	"context"
	"testing"
	"time"
)

// BenchmarkNotifyMany10000: NotifyMany over 10,000 sessions, each listened to, with a
// constraint matching 1%: the time from the call until the last of the 100 matching
// listeners has the notification (notify_ms). Beside it, in the same iterations on the
// same data (the machine is shared: the three take turns), its ceilings: reading the
// 10,000 documents as NotifyMany does, SCAN + MGET without decoding or evaluating
// (scan_mget_ms), and publishing 100 notifications of the same size straight to the
// matching sessions' subjects until their listeners have them (publish_ms).
//
//	go test -run '^$' -bench NotifyMany10000 -benchtime 50x ./pkg/notify/
func BenchmarkNotifyMany10000(b *testing.B) {
	p := startParts(b)
	all, golden := fleetSessions(b, p, 10000, 100)
	f := listenAll(b, p.listen, all)
	ctx := context.Background()
	payload := map[string]string{"discount": "10%"}
	body, err := message("app", "offer", payload, new(Equal("tier", "gold")))
	if err != nil {
		b.Fatal(err)
	}
	notify := func() {
		rec, err := p.n.NotifyMany(ctx, "app", "offer", Equal("tier", "gold"), payload)
		if err != nil || rec.Sessions != 100 {
			b.Fatal(rec, err)
		}
		f.await(b, 100)
	}
	scan := func() {
		docs := 0
		var cursor uint64
		for {
			keys, next, err := p.rdb.Scan(ctx, cursor, sessionKeys, scanCount).Result()
			if err != nil {
				b.Fatal(err)
			}
			if len(keys) > 0 {
				vals, err := p.rdb.MGet(ctx, keys...).Result()
				if err != nil {
					b.Fatal(err)
				}
				docs += len(vals)
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
		if docs < 10000 {
			b.Fatal(docs)
		}
	}
	publish := func() {
		for _, id := range golden {
			if err := p.n.nc.Publish(Subject(id), body.to(id)); err != nil {
				b.Fatal(err)
			}
		}
		if err := p.n.nc.Flush(); err != nil {
			b.Fatal(err)
		}
		f.await(b, 100)
	}
	steps := []func(){notify, scan, publish}
	spent := make([]time.Duration, len(steps))
	i := 0
	for b.Loop() {
		for j := range steps {
			k := (i + j) % len(steps)
			start := time.Now()
			steps[k]()
			spent[k] += time.Since(start)
		}
		i++
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / float64(i) }
	b.ReportMetric(ms(spent[0]), "notify_ms")
	b.ReportMetric(ms(spent[1]), "scan_mget_ms")
	b.ReportMetric(ms(spent[2]), "publish_ms")
	b.ReportMetric(float64(spent[1]+spent[2])/float64(spent[0]), "ceiling_ratio")
}
