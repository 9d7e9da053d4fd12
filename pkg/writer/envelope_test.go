package writer

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/event"
)

// The direct scan must read exactly what encoding/json reads, for envelopes as the writer
// marshals them, whatever their data holds.
func TestSplitEventsMatchesEncodingJSON(t *testing.T) {
	datas := []string{
		`{"amount":"5.00","balance":"10.00"}`,
		`{"s":"brace } and ] in a string","q":"quote \" here","b":"back\\\\slash"}`,
		`{"nested":{"a":[1,2,{"b":"}"}]},"version":99,"type":"fake"}`,
		`[1,2,3]`, `"just a string"`, `42`, `null`, `{}`,
	}
	var envs []event.Envelope
	for i, d := range datas {
		envs = append(envs, event.Envelope{ID: event.NewID(), Stream: "wallet.x", Version: int64(i + 1), Type: "t\u00e9st",
			Data: json.RawMessage(d), CommandID: "c", Time: time.Unix(0, 0)})
	}
	for n := 0; n <= len(envs); n++ {
		b, _ := json.Marshal(envs[:n])
		var want []storedEvent
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		got, ok := scanEvents(nil, b)
		if !ok {
			t.Fatalf("%d envelopes: the scan gave up on what the writer writes: %s", n, b)
		}
		if len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
			t.Fatalf("%d envelopes: scan %+v, encoding/json %+v", n, got, want)
		}
	}
}

func TestSplitEventsFallsBackAndRejects(t *testing.T) {
	reordered := `[{"type":"credited","version":3,"data":{"amount":"1.00"}}]`
	got, err := splitEvents(nil, []byte(reordered))
	if err != nil || len(got) != 1 || got[0].Version != 3 || got[0].Type != "credited" || string(got[0].Data) != `{"amount":"1.00"}` {
		t.Fatalf("fallback: %+v, %v", got, err)
	}
	for _, bad := range []string{``, `[`, `[{"version":1,"type":"x","data":{]`, `{"not":"an array"}`} {
		if _, err := splitEvents(nil, []byte(bad)); err == nil {
			t.Errorf("splitEvents(%q) accepted broken input", bad)
		}
	}
}

// FuzzSplitEventsMatchesEncodingJSON: for envelopes as the writer marshals them, with any
// type and any string inside their data, the direct scan reads what encoding/json reads.
func FuzzSplitEventsMatchesEncodingJSON(f *testing.F) {
	f.Add("credited", `5.00`, "c")
	f.Add(`t"y\pe`, `a\"b\\c"`, `\`)
	f.Add("", "}]", "\x00\u2028")
	f.Fuzz(func(t *testing.T, typ, s, correlation string) {
		data, _ := json.Marshal(map[string]string{"s": s, "t": typ})
		env := event.Envelope{ID: "id", Stream: "wallet.x", Version: 3, Type: typ, Data: data, CommandID: s, CorrelationID: correlation, Time: time.Unix(0, 0)}
		b, err := json.Marshal([]event.Envelope{env, env})
		if err != nil {
			t.Skip()
		}
		var want []storedEvent
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		got, err := splitEvents(nil, b)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("splitEvents(%s) = %+v, %v; encoding/json %+v", b, got, err, want)
		}
	})
}
