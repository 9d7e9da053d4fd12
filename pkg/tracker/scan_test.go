package tracker

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
	"unicode/utf8"

	"uneventful.dev/uneventful/pkg/event"
)

// event.EachField reads every top-level key and value of a JSON object as encoding/json does,
// and never panics on anything else.
func FuzzEachField(f *testing.F) {
	for _, s := range []string{
		`{"queue":"payments","message":{"id":"m1","dedup":"b1/m0","payload":"eyJhIjoxfQ=="},"time":"2026-12-06T10:00:00Z"}`,
		`{"queue":"a1","id":"m2","to":"a1.error","redelivered":3}`,
		`{}`, ` { "a" : [1, {"b": "}"}], "c\"d": null } `, `{"a":"\u00e9\\"}`, `[1]`, `{"a":`, `"x"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var keys []string
		vals := map[string]string{}
		ok := event.EachField(b, func(k, v []byte) {
			keys = append(keys, string(k))
			vals[string(k)] = string(v)
		})
		NewModel(time.Time{}).readQueueChange(b) //nolint:errcheck // must not panic
		readLockChange(b)                        //nolint:errcheck // nor this
		var want map[string]json.RawMessage
		if json.Unmarshal(b, &want) != nil || !ok {
			return // not an object encoding/json reads, or one EachField declines: nothing to compare
		}
		for _, k := range keys {
			if slices.Contains([]byte(k), '\\') || !utf8.ValidString(k) {
				return // keys are compared raw, unescaped and unrepaired: ours are plain ASCII
			}
		}
		if len(vals) != len(want) {
			t.Fatalf("%s: keys %v, encoding/json: %d keys", b, keys, len(want))
		}
		for k, v := range want {
			var a, c any
			if json.Unmarshal([]byte(vals[k]), &a) != nil || json.Unmarshal(v, &c) != nil {
				t.Fatalf("%s: key %q: value %q does not parse", b, k, vals[k])
			}
			ab, _ := json.Marshal(a)
			cb, _ := json.Marshal(c)
			if string(ab) != string(cb) {
				t.Fatalf("%s: key %q: %s, encoding/json %s", b, k, ab, cb)
			}
		}
	})
}

func TestReadQueueChange(t *testing.T) {
	c, ok := NewModel(time.Time{}).readQueueChange([]byte(`{"queue":"b2","message":{"id":"m2","type":"t","payload":"eA==","available":"2026-12-06T10:00:00Z","redelivered":0,"time":"2026-12-06T10:00:00Z","dedup":"b1/m1","correlation_id":"order-42"},"time":"2026-12-06T10:00:00Z"}`))
	if !ok || c.queue != "b2" || c.msgID != "m2" || c.dedup != "b1/m1" || c.correlation != "order-42" {
		t.Fatalf("enqueued: %+v %v", c, ok)
	}
	c, ok = NewModel(time.Time{}).readQueueChange([]byte(`{"queue":"a1","id":"m3","to":"a1.error","redelivered":2,"time":"2026-12-06T10:00:00Z"}`))
	if !ok || c.queue != "a1" || c.id != "m3" || c.to != "a1.error" || c.redelivered != 2 {
		t.Fatalf("moved: %+v %v", c, ok)
	}
	if _, ok := NewModel(time.Time{}).readQueueChange([]byte(`{"id":"m3"}`)); ok {
		t.Fatal("a change without a queue was read")
	}
}
