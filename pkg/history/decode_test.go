package history

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/event"
)

// envelopes are events as the writer and the queue owner marshal them.
func envelopes() []event.Envelope {
	t := time.Date(2026, 12, 4, 2, 8, 28, 123456789, time.UTC)
	return []event.Envelope{
		{ID: event.NewID(), Stream: "wallet." + event.NewID(), Version: 7, Type: "credited",
			Data: json.RawMessage(`{"amount":"5.00","balance":"35.00"}`), CommandID: event.NewID(),
			CorrelationID: "corr", CausationID: event.NewID(), Time: t},
		{ID: "e1", Stream: "queue.A", Version: 1, Type: "enqueued", Data: json.RawMessage(`{"m":[1,"]}",{"x":null}],"s":"a\"b"}`),
			CommandID: "c", Time: t.In(time.FixedZone("", 2*3600))},
		{ID: "é€", Stream: "s", Version: -3, Type: "t", Data: json.RawMessage(`null`), CommandID: "c", CausationID: "x", Time: time.Time{}},
		{ID: "e2", Stream: "s", Version: 0, Type: "t", Data: json.RawMessage(`"text"`), CommandID: "c", Time: t.Truncate(time.Second)},
	}
}

// TestDecodeCanonical: what json.Marshal writes of an envelope is read without
// json.Unmarshal, to the same envelope.
func TestDecodeCanonical(t *testing.T) {
	for _, in := range envelopes() {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := decodeCanonical(b)
		if !ok {
			t.Fatalf("not read as canonical: %s", b)
		}
		checkSameDecoding(t, b, got, nil)
	}
	// Not as json.Marshal writes it: left to json.Unmarshal, which reads it the same.
	for _, s := range []string{
		`{"id":"e1","stream":"s","version":1,"type":"t","data":{},"command_id":"c","time":"2025-01-02T03:04:05Z"} `,
		`{"id":"e\u0031","stream":"s","version":1,"type":"t","data":{},"command_id":"c","time":"2025-01-02T03:04:05Z"}`,
		`{"stream":"s","id":"e1","version":1,"type":"t","data":{},"command_id":"c","time":"2025-01-02T03:04:05Z"}`,
		`{"id":"e1","stream":"s","version":1.0,"type":"t","data":{},"command_id":"c","time":"2025-01-02T03:04:05Z"}`,
		`{"id":"e1","stream":"s","version":01,"type":"t","data":{},"command_id":"c","time":"2025-01-02T03:04:05Z"}`,
		`{"id":"e1","stream":"s","version":1,"type":"t","data": {},"command_id":"c","time":"2025-01-02T03:04:05Z"}`,
		`{"id":"e1","stream":"s","version":1,"type":"t","data":{} ,"command_id":"c","time":"2025-01-02T03:04:05Z"}`,
		`{"id":"e1","stream":"s","version":1,"type":"t","data":{,"command_id":"c","time":"2025-01-02T03:04:05Z"}`,
		`{"id":"e1","stream":"s","version":1,"type":"t","data":{},"command_id":"c","time":"2025-01-02T03:04:05"}`,
		`{"id":"e1","stream":"s","version":1,"type":"t","data":{},"command_id":"c","time":null}`,
		`{"id":"e1","stream":"s","version":1,"type":"t","data":{},"command_id":"c","time":"2025-01-02T03:04:05Z","x":1}`,
		"{\"id\":\"e\xff\",\"stream\":\"s\",\"version\":1,\"type\":\"t\",\"data\":{},\"command_id\":\"c\",\"time\":\"2025-01-02T03:04:05Z\"}",
	} {
		if _, ok := decodeCanonical([]byte(s)); ok {
			t.Errorf("read as canonical: %s", s)
		}
		e, err := decodeEvent([]byte(s))
		checkSameDecoding(t, []byte(s), e, err)
	}
}

// FuzzDecodeEvent: decodeEvent reads anything as json.Unmarshal does.
func FuzzDecodeEvent(f *testing.F) {
	for _, e := range envelopes() {
		b, _ := json.Marshal(e)
		f.Add(b)
	}
	f.Add([]byte(`{"id":"e1","stream":"s","version":1,"type":"t","data":[{"a":"}"}],"command_id":"c","time":"2025-01-02T03:04:05.5+01:00"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEvent(b)
		checkSameDecoding(t, b, e, err)
	})
}

// checkSameDecoding requires got and err to be what json.Unmarshal makes of b.
func checkSameDecoding(t *testing.T, b []byte, got event.Envelope, err error) {
	t.Helper()
	var want event.Envelope
	werr := json.Unmarshal(b, &want)
	if werr == nil && want.ID == "" {
		werr = errors.New("no event id")
	}
	if (err == nil) != (werr == nil) {
		t.Fatalf("%s: error %v, json.Unmarshal's %v", b, err, werr)
	}
	if err != nil {
		return
	}
	_, gotOff := got.Time.Zone()
	_, wantOff := want.Time.Zone()
	if got.ID != want.ID || got.Stream != want.Stream || got.Version != want.Version || got.Type != want.Type ||
		!bytes.Equal(got.Data, want.Data) || got.CommandID != want.CommandID || got.CorrelationID != want.CorrelationID ||
		got.CausationID != want.CausationID || !got.Time.Equal(want.Time) || gotOff != wantOff ||
		got.Time.Location() == time.UTC != (want.Time.Location() == time.UTC) {
		t.Fatalf("%s:\nread    %+v\nwant    %+v", b, got, want)
	}
}
