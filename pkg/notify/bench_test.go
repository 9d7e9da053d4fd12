package notify

import (
	"context"
	"testing"
)

// BenchmarkNotifyMany10000: NotifyMany over 10,000 sessions, each listened to, with a
// constraint matching 1%: the time from the call until the last of the 100 matching
// listeners has the notification. Beside it, in the same run on the same data, its two
// ceilings: reading the 10,000 documents as NotifyMany does (SCAN + MGET, no decoding,
// no evaluation) and publishing 100 notifications of the same size straight to the
// matching sessions' subjects until their listeners have them.
//
//	go test -run '^$' -bench NotifyMany10000 -benchtime 50x ./pkg/notify/
func BenchmarkNotifyMany10000(b *testing.B) {
	p := startParts(b)
	all, golden := fleetSessions(b, p, 10000, 100)
	f := listenAll(b, p.listen, all)
	ctx := context.Background()
	payload := map[string]string{"discount": "10%"}
	b.Run("notify_many_until_last_listener", func(b *testing.B) {
		for b.Loop() {
			rec, err := p.n.NotifyMany(ctx, "app", "offer", Equal("tier", "gold"), payload)
			if err != nil || rec.Sessions != 100 {
				b.Fatal(rec, err)
			}
			f.await(b, 100)
		}
	})
	b.Run("ceiling_scan_mget", func(b *testing.B) {
		for b.Loop() {
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
	})
	body, err := message("app", "offer", payload, new(Equal("tier", "gold")))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("ceiling_publish_100_until_last_listener", func(b *testing.B) {
		for b.Loop() {
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
	})
}
