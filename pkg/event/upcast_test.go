package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"uneventful.dev/uneventful/pkg/aggregate"
)

// versioned is a domain whose "renamed" events are at version 3: version 1 held {"n":1},
// version 2 {"count":1}, version 3 {"count":1,"unit":"x"}; "plain" events have no versions.
type versioned struct {
	name string
	ups  []aggregate.Upcaster
}

func (d versioned) Name() string                    { return d.name }
func (d versioned) Upcasters() []aggregate.Upcaster { return d.ups }

type plain struct{}

func (plain) Name() string { return "plain" }

func renameSteps() []aggregate.Upcaster {
	return []aggregate.Upcaster{
		{Type: "renamed", From: 2, Up: func(b json.RawMessage) (json.RawMessage, error) {
			return append(b[:len(b)-1:len(b)-1], `,"unit":"x"}`...), nil
		}},
		{Type: "renamed", From: 1, Up: func(b json.RawMessage) (json.RawMessage, error) {
			if !bytes.HasPrefix(b, []byte(`{"n":`)) {
				return nil, errors.New("not version 1")
			}
			return append([]byte(`{"count":`), b[len(`{"n":`):]...), nil
		}},
	}
}

func TestUpcast(t *testing.T) {
	up, err := NewUpcasters(versioned{"counter", renameSteps()}, plain{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		in         Envelope
		wantData   string
		wantSchema int
		wantErr    string
	}{
		{"version 1, absent", Envelope{Stream: "counter.a", Type: "renamed", Data: json.RawMessage(`{"n":1}`)}, `{"count":1,"unit":"x"}`, 3, ""},
		{"version 1, given", Envelope{Stream: "counter.a", Type: "renamed", Schema: 1, Data: json.RawMessage(`{"n":1}`)}, `{"count":1,"unit":"x"}`, 3, ""},
		{"version 2", Envelope{Stream: "counter.a", Type: "renamed", Schema: 2, Data: json.RawMessage(`{"count":2}`)}, `{"count":2,"unit":"x"}`, 3, ""},
		{"current", Envelope{Stream: "counter.a", Type: "renamed", Schema: 3, Data: json.RawMessage(`{"count":3,"unit":"y"}`)}, `{"count":3,"unit":"y"}`, 3, ""},
		{"a type without versions", Envelope{Stream: "counter.a", Type: "other", Data: json.RawMessage(`{"n":1}`)}, `{"n":1}`, 0, ""},
		{"a domain without versions", Envelope{Stream: "plain.a", Type: "renamed", Data: json.RawMessage(`{"n":1}`)}, `{"n":1}`, 0, ""},
		{"an unknown domain", Envelope{Stream: "queue.a", Type: "renamed", Data: json.RawMessage(`{"n":1}`)}, `{"n":1}`, 0, ""},
		{"newer than this build", Envelope{Stream: "counter.a", Type: "renamed", Schema: 4, Data: json.RawMessage(`{}`)}, "", 0, "not one of 1 to 3"},
		{"negative", Envelope{Stream: "counter.a", Type: "renamed", Schema: -1, Data: json.RawMessage(`{}`)}, "", 0, "not one of 1 to 3"},
		{"an upcaster refuses", Envelope{Stream: "counter.a", Type: "renamed", Data: json.RawMessage(`{"x":1}`)}, "", 0, "from version 1: not version 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.in
			err := up.Upcast(&e)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Upcast: %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || string(e.Data) != tc.wantData || e.Schema != tc.wantSchema {
				t.Fatalf("Upcast = %s schema %d, %v; want %s schema %d", e.Data, e.Schema, err, tc.wantData, tc.wantSchema)
			}
		})
	}
	var none *Upcasters
	e := Envelope{Stream: "counter.a", Type: "renamed", Data: json.RawMessage(`{"n":1}`)}
	if err := none.Upcast(&e); err != nil || string(e.Data) != `{"n":1}` || none.Current("counter", "renamed") != 1 {
		t.Fatalf("nil Upcasters changed %+v, %v", e, err)
	}
}

func TestStamp(t *testing.T) {
	up, err := NewUpcasters(versioned{"counter", renameSteps()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		stream, typ string
		want        int
	}{{"counter.a", "renamed", 3}, {"counter.a", "other", 0}, {"wallet.a", "renamed", 0}} {
		e := Envelope{Stream: tc.stream, Type: tc.typ, Schema: 7}
		up.Stamp(&e)
		b, _ := json.Marshal(e)
		if e.Schema != tc.want || (tc.want == 0) == bytes.Contains(b, []byte(`"schema"`)) {
			t.Fatalf("Stamp(%s %s) = %d: %s; want %d", tc.stream, tc.typ, e.Schema, b, tc.want)
		}
	}
}

func TestNewUpcastersChecksVersions(t *testing.T) {
	noop := func(b json.RawMessage) (json.RawMessage, error) { return b, nil }
	for _, tc := range []struct {
		name    string
		domains []interface{ Name() string }
		want    string
	}{
		{"a gap", []interface{ Name() string }{versioned{"d", []aggregate.Upcaster{{Type: "t", From: 2, Up: noop}}}}, "no upcaster of \"t\" from version 1"},
		{"twice", []interface{ Name() string }{versioned{"d", []aggregate.Upcaster{{Type: "t", From: 1, Up: noop}, {Type: "t", From: 1, Up: noop}}}}, "two upcasters"},
		{"from 0", []interface{ Name() string }{versioned{"d", []aggregate.Upcaster{{Type: "t", From: 0, Up: noop}}}}, "version from 1"},
		{"no function", []interface{ Name() string }{versioned{"d", []aggregate.Upcaster{{Type: "t", From: 1}}}}, "a function"},
		{"no type", []interface{ Name() string }{versioned{"d", []aggregate.Upcaster{{From: 1, Up: noop}}}}, "needs a type"},
		{"a domain twice", []interface{ Name() string }{versioned{"d", nil}, versioned{"d", nil}}, "given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewUpcasters(tc.domains...); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewUpcasters: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestDecodeUpcasts: Decode and DecodeArray hand out events upcast.
func TestDecodeUpcasts(t *testing.T) {
	up, err := NewUpcasters(versioned{"counter", renameSteps()})
	if err != nil {
		t.Fatal(err)
	}
	one := `{"id":"e1","stream":"counter.a","version":1,"type":"renamed","data":{"n":4},"command_id":"c","time":"2025-01-02T03:04:05Z"}`
	e, err := Decode([]byte(one), up)
	if err != nil || string(e.Data) != `{"count":4,"unit":"x"}` || e.Schema != 3 {
		t.Fatalf("Decode = %+v, %v", e, err)
	}
	for _, decode := range []func([]Envelope, []byte, *Upcasters) ([]Envelope, error){DecodeArray, DecodeLog} {
		evs, err := decode(nil, []byte("["+one+","+strings.Replace(one, `"data":{"n":4}`, `"schema":3,"data":{"count":5}`, 1)+"]"), up)
		if err != nil || len(evs) != 2 || string(evs[0].Data) != `{"count":4,"unit":"x"}` || string(evs[1].Data) != `{"count":5}` {
			t.Fatalf("decode = %+v, %v", evs, err)
		}
	}
	if _, err := Decode([]byte(strings.Replace(one, `{"n":4}`, `{"x":4}`, 1)), up); err == nil || !strings.Contains(err.Error(), "event e1 (counter.a v1, renamed schema 1): upcast") {
		t.Fatalf("Decode of an event its upcaster refuses: %v", err)
	}
}

// BenchmarkUpcastCurrent is the cost of Upcast for an event already current, of a domain
// with upcasters, and of one without.
func BenchmarkUpcastCurrent(b *testing.B) {
	up, _ := NewUpcasters(versioned{"counter", renameSteps()})
	for _, e := range []Envelope{
		{Stream: "counter.28skwt5B8zTrs6AqBWrSgCHLcRL", Type: "renamed", Schema: 3, Data: json.RawMessage(`{"count":1,"unit":"x"}`)},
		{Stream: "queue.28skwt5B8zTrs6AqBWrSgCHLcRL", Type: "enqueued", Data: json.RawMessage(`{}`)},
	} {
		b.Run(DomainOf(e.Stream), func(b *testing.B) {
			for b.Loop() {
				if err := up.Upcast(&e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
