package writer

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/event"
)

// TestSplitEventsReadsFencing: envelopes with fencing tokens (which the direct scan hands
// to encoding/json) are read with their tokens, beside ones without.
func TestSplitEventsReadsFencing(t *testing.T) {
	plain := event.Envelope{ID: "a", Stream: "wallet.x", Version: 1, Type: "credited", Data: json.RawMessage(`{"amount":"1.00"}`),
		CommandID: "c", CorrelationID: `,"fencing":{"x":1}`, Time: time.Unix(0, 0)}
	fenced := plain
	fenced.Version, fenced.Fencing = 2, map[string]int64{"myapp.resource": 7, "b": 1}
	b, _ := json.Marshal([]event.Envelope{plain, fenced})
	got, err := splitEvents(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	var want []storedEvent
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) || got[0].Fencing != nil || got[1].Fencing["myapp.resource"] != 7 {
		t.Fatalf("splitEvents = %+v; want %+v", got, want)
	}
	only, _ := json.Marshal([]event.Envelope{plain})
	if _, fast := scanEvents(nil, only); !fast {
		t.Fatal("an envelope without tokens left the direct scan")
	}
}
