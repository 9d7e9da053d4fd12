package writer

import (
	"testing"

	"uneventful.dev/uneventful/pkg/readmodel/redis"
)

func TestMergeUpdatesFoldsOneEntity(t *testing.T) {
	ev := func(v int64) redis.Entry { return redis.Entry{Version: v, JSON: []byte{byte('0' + v)}} }
	in := []redis.Update{
		{Key: "wallet.a", Version: 1, Doc: []byte("a1"), Events: []redis.Entry{ev(1)}},
		{Key: "wallet.b", Version: 4, Doc: []byte("b4"), Events: []redis.Entry{ev(4)}},
		{Key: "wallet.a", Version: 2, Doc: []byte("a2"), Events: []redis.Entry{ev(2)}},
		{Key: "wallet.a", Version: 3, Doc: []byte("a3"), Events: []redis.Entry{ev(3)}},
	}
	out := mergeUpdates(in)
	if len(out) != 2 {
		t.Fatalf("%d updates, want 2: %+v", len(out), out)
	}
	a, b := out[0], out[1]
	if a.Key != "wallet.a" || a.Version != 3 || string(a.Doc) != "a3" || len(a.Events) != 3 || a.Events[2].Version != 3 {
		t.Fatalf("merged a = %+v", a)
	}
	if b.Key != "wallet.b" || b.Version != 4 || len(b.Events) != 1 {
		t.Fatalf("b = %+v", b)
	}
	if len(in[0].Events) != 1 {
		t.Fatalf("merging changed its input: %+v", in[0])
	}
}
