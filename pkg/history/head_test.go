package history

import (
	"encoding/json"
	"testing"

	"uneventful.dev/uneventful/pkg/event"
)

// TestEnvelopeHead: the stream, type and schema read without decoding are the decoded
// ones, whatever the strings and data hold; an escape in the stream or type is left to
// the decoder.
func TestEnvelopeHead(t *testing.T) {
	plain := event.Envelope{ID: "e1", Stream: "wallet.a", Version: 7, Type: "credited", Data: json.RawMessage(`{"a":1}`), CommandID: "c"}
	cases := []struct {
		name string
		e    event.Envelope
		ok   bool
	}{
		{"plain", plain, true},
		{"schema", with(plain, func(e *event.Envelope) { e.Schema = 12 }), true},
		{"keys in the data", with(plain, func(e *event.Envelope) {
			e.Data = json.RawMessage(`{"x":{"stream":"s","type":"t"},",\"type\":\"":1,"schema":9}`)
		}), true},
		{"keys in the id", with(plain, func(e *event.Envelope) { e.ID = `a","stream":"b.c","type":"d` }), true},
		{"keys in the ids after", with(plain, func(e *event.Envelope) { e.CausationID = `,"schema":3}` }), true},
		{"escaped type", with(plain, func(e *event.Envelope) { e.Type = `odd "type"` }), false},
		{"escaped stream", with(plain, func(e *event.Envelope) { e.Stream = "wallet.<a>" }), false},
	}
	for _, tc := range cases {
		b := appendEnvelope(nil, &tc.e)
		stream, typ, schema, ok := envelopeHead(b)
		if ok != tc.ok {
			t.Errorf("%s: %s: ok %v", tc.name, b, ok)
		}
		if ok && (string(stream) != tc.e.Stream || string(typ) != tc.e.Type || schema != tc.e.Schema) {
			t.Errorf("%s: %s: stream %q, type %q, schema %d", tc.name, b, stream, typ, schema)
		}
	}
	for _, b := range []string{``, `{}`, `{"id":"x"}`, `{"id":"x","stream":"s"}`, `{"id":"x","stream":"s","type":"t","schema":x}`} {
		if _, _, _, ok := envelopeHead([]byte(b)); ok {
			t.Errorf("%s: read", b)
		}
	}
}

func with(e event.Envelope, f func(*event.Envelope)) event.Envelope {
	f(&e)
	return e
}
