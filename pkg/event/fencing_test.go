package event_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/event"
)

// TestDecodeLogReadsFencing: envelopes with fencing tokens (which the direct scan hands to
// encoding/json) are read with their tokens, beside ones without, as encoding/json reads
// them; a correlation id that merely looks like the fencing key changes nothing.
func TestDecodeLogReadsFencing(t *testing.T) {
	plain := event.Envelope{ID: "a", Stream: "wallet.x", Version: 1, Type: "credited", Data: json.RawMessage(`{"amount":"1.00"}`),
		CommandID: "c", CorrelationID: `,"fencing":{"x":1}`, Time: time.Unix(0, 0).UTC()}
	fenced := plain
	fenced.Version, fenced.Fencing = 2, map[string]int64{"myapp.resource": 7, "b": 1}
	b, _ := json.Marshal([]event.Envelope{plain, fenced})
	got, err := event.DecodeLog(nil, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	var want []event.Envelope
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Fencing != nil || got[1].Fencing["myapp.resource"] != 7 || got[1].Fencing["b"] != 1 {
		t.Fatalf("DecodeLog = %+v; want %+v", got, want)
	}
	for i := range got {
		g, w := got[i], want[i]
		if !reflect.DeepEqual(g.Fencing, w.Fencing) || g.CorrelationID != w.CorrelationID || g.Version != w.Version || string(g.Data) != string(w.Data) {
			t.Fatalf("envelope %d: %+v; want %+v", i, g, w)
		}
	}
}
