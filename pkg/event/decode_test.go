package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
)

// envelopes are events as the writer and the queue owner marshal them.
func envelopes() []Envelope {
	t := time.Date(2026, 12, 4, 2, 8, 28, 123456789, time.UTC)
	return []Envelope{
		{ID: NewID(), Stream: "wallet." + NewID(), Version: 7, Type: "credited",
			Data: json.RawMessage(`{"amount":"5.00","balance":"35.00"}`), CommandID: NewID(),
			CorrelationID: "corr", CausationID: NewID(), Time: t, Schema: 2},
		{ID: "e1", Stream: "queue.A", Version: 1, Type: "enqueued", Data: json.RawMessage(`{"m":[1,"]}",{"x":null}],"s":"a\"b"}`),
			CommandID: "c", Time: t.In(time.FixedZone("", 2*3600))},
		{ID: "é€", Stream: "s", Version: -3, Type: "t", Data: json.RawMessage(`null`), CommandID: "c", CausationID: "x", Time: time.Time{}},
		{ID: "e2", Stream: "s", Version: 0, Type: "t", Data: json.RawMessage(`"text"`), CommandID: "c", Time: t.Truncate(time.Second)},
	}
}

// TestDecodeFast: what json.Marshal writes of an envelope is read without json.Unmarshal,
// to the same envelope, also with its keys in another order or spaced out.
func TestDecodeFast(t *testing.T) {
	for _, in := range envelopes() {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var fields map[string]json.RawMessage
		json.Unmarshal(b, &fields)                            //nolint:errcheck // just marshalled
		reordered, _ := json.MarshalIndent(fields, " ", "\t") // keys sorted, spaces around
		for _, b := range [][]byte{b, reordered} {
			got, end, ok := scanEnvelope(b, string(b), skipSpace(b, 0), strict)
			if !ok || skipSpace(b, end) != len(b) {
				t.Fatalf("not read by the scan: %s", b)
			}
			checkSameDecoding(t, b, got, nil)
		}
	}
}

// TestDecodeFallback: what the scan leaves to json.Unmarshal is read as json.Unmarshal
// reads it.
func TestDecodeFallback(t *testing.T) {
	for _, s := range []string{
		`{"id":"e\u0031","stream":"s","version":1,"type":"t","data":{},"command_id":"c","time":"2025-01-02T03:04:05Z"}`,
		`{"ID":"e1","stream":"s","version":1,"type":"t","data":{},"command_id":"c","time":"2025-01-02T03:04:05Z"}`,
		`{"id":"e1","stream":"s","version":1.0,"type":"t","data":{},"command_id":"c","time":"2025-01-02T03:04:05Z"}`,
		`{"id":"e1","stream":"s","version":01,"type":"t","data":{},"command_id":"c","time":"2025-01-02T03:04:05Z"}`,
		`{"id":"e1","stream":"s","version":1,"type":"t","data":{,"command_id":"c","time":"2025-01-02T03:04:05Z"}`,
		`{"id":"e1","stream":"s","version":1,"type":"t","data":{},"command_id":"c","time":"2025-01-02T03:04:05"}`,
		`{"id":"e1","stream":"s","version":1,"type":"t","data":{},"command_id":"c","time":null}`,
		`{"id":"e1","stream":"s","version":null,"type":"t","data":{},"command_id":"c","time":"2025-01-02T03:04:05Z"}`,
		`{"id":"e1","stream":"s","version":9223372036854775808,"type":"t","data":{}}`,
		`{"id":"e1","stream":"s","version":-9223372036854775808,"type":"t","data":{}}`,
		`{"id":"e1","schema":1e3,"data":{}}`,
		`{"id":"e1","x":[1,2}`,
		`{"id":"e1","x":{"y":[true]}}`,
		`{"id":"e1"} x`,
		`{"id":"e1",}`,
		`{"id":""}`,
		`{}`,
		"{\"id\":\"e\xff\",\"stream\":\"s\",\"version\":1,\"type\":\"t\",\"data\":{},\"command_id\":\"c\",\"time\":\"2025-01-02T03:04:05Z\"}",
	} {
		e, err := Decode([]byte(s), nil)
		checkSameDecoding(t, []byte(s), e, err)
	}
}

// TestDecodeArray: a row's events are read as json.Unmarshal reads them, by the scan or
// not; DecodeLog reads the same but for the time.
func TestDecodeArray(t *testing.T) {
	var rows [][]byte
	all, _ := json.Marshal(envelopes())
	rows = append(rows, all, []byte(` [ ] `), []byte(`[]`))
	for _, e := range envelopes() {
		b, _ := json.Marshal([]Envelope{e})
		rows = append(rows, b)
	}
	rows = append(rows, []byte(`[{"id":"e\u0031","data":{}}]`), []byte(`[{"id":"e1"},]`), []byte(`[{"id":"e1"}`),
		[]byte(`[{"id":"e1"}] [`), []byte(`[{"data":1}]`), []byte(`{}`))
	for _, b := range rows {
		prefix := []Envelope{{ID: "kept"}}
		got, err := DecodeArray(prefix, b, nil)
		var want []Envelope
		werr := json.Unmarshal(b, &want)
		for _, e := range want {
			if werr == nil && e.ID == "" {
				werr = ErrNoID
			}
		}
		if (err == nil) != (werr == nil) {
			t.Fatalf("%s: error %v, json.Unmarshal's %v", b, err, werr)
		}
		if got[0].ID != "kept" || err != nil && len(got) != 1 {
			t.Fatalf("%s: dst changed: %+v", b, got)
		}
		if err != nil {
			continue
		}
		if len(got) != len(want)+1 {
			t.Fatalf("%s: %d events, want %d", b, len(got)-1, len(want))
		}
		logged, err := DecodeLog(nil, b, nil)
		if err != nil {
			t.Fatalf("DecodeLog %s: %v", b, err)
		}
		shared, err := DecodeLogShared(nil, bytes.Clone(b), nil)
		if err != nil || !reflect.DeepEqual(shared, logged) {
			t.Fatalf("DecodeLogShared %s = %+v, %v; DecodeLog's %+v", b, shared, err, logged)
		}
		for i, w := range want {
			wb, _ := json.Marshal(w)
			checkSameDecoding(t, wb, got[i+1], nil)
			l := logged[i]
			if l.ID != w.ID || l.Stream != w.Stream || l.Version != w.Version || l.Type != w.Type || !bytes.Equal(l.Data, w.Data) || l.Schema != w.Schema {
				t.Fatalf("DecodeLog %s: %+v, want %+v", b, l, w)
			}
		}
	}
}

// FuzzDecode: Decode reads anything as json.Unmarshal does.
func FuzzDecode(f *testing.F) {
	for _, e := range envelopes() {
		b, _ := json.Marshal(e)
		f.Add(b)
	}
	f.Add([]byte(`{"id":"e1","stream":"s","version":1,"type":"t","data":[{"a":"}"}],"command_id":"c","time":"2025-01-02T03:04:05.5+01:00"}`))
	f.Add([]byte(`{"time":"2025-01-02T03:04:05Z","id":"e1","schema":3,"unknown":{"a":[1,"x"]}, "data" : 5 }`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Decode(b, nil)
		checkSameDecoding(t, b, e, err)
	})
}

// checkSameDecoding requires got and err to be what json.Unmarshal makes of b.
func checkSameDecoding(t *testing.T, b []byte, got Envelope, err error) {
	t.Helper()
	var want Envelope
	werr := json.Unmarshal(b, &want)
	if werr == nil && want.ID == "" {
		werr = ErrNoID
	}
	if (err == nil) != (werr == nil) {
		t.Fatalf("%s: error %v, json.Unmarshal's %v", b, err, werr)
	}
	if err != nil {
		if errors.Is(werr, ErrNoID) != errors.Is(err, ErrNoID) {
			t.Fatalf("%s: error %v, want %v", b, err, werr)
		}
		return
	}
	_, gotOff := got.Time.Zone()
	_, wantOff := want.Time.Zone()
	if got.ID != want.ID || got.Stream != want.Stream || got.Version != want.Version || got.Type != want.Type ||
		got.Schema != want.Schema || !bytes.Equal(got.Data, want.Data) || got.CommandID != want.CommandID ||
		got.CorrelationID != want.CorrelationID || got.CausationID != want.CausationID ||
		!got.Time.Equal(want.Time) || gotOff != wantOff || got.Time.Location() == time.UTC != (want.Time.Location() == time.UTC) {
		t.Fatalf("%s:\nread    %+v\nwant    %+v", b, got, want)
	}
}

// BenchmarkDecodeLog reads a row of one envelope as the writer stores it.
func BenchmarkDecodeLog(b *testing.B) {
	e := envelopes()[0]
	row, _ := json.Marshal([]Envelope{e})
	up, _ := NewUpcasters()
	dst := make([]Envelope, 0, 1)
	b.Run("log", func(b *testing.B) {
		for b.Loop() {
			dst, _ = DecodeLog(dst[:0], row, up)
		}
	})
	b.Run("array", func(b *testing.B) {
		for b.Loop() {
			dst, _ = DecodeArray(dst[:0], row, up)
		}
	})
	b.Run("json.Unmarshal", func(b *testing.B) {
		for b.Loop() {
			var evs []Envelope
			json.Unmarshal(row, &evs) //nolint:errcheck // benchmark
		}
	})
}

// FuzzDecodeLog: for rows as the writer stores them, with any type and any string inside
// their events' data, DecodeLog and DecodeArray read what encoding/json reads.
func FuzzDecodeLog(f *testing.F) {
	f.Add("credited", `5.00`, "c", 0)
	f.Add(`t"y\pe`, `a\"b\\c"`, `\`, 2)
	f.Add("", "}]", "\x00\u2028", -1)
	f.Fuzz(func(t *testing.T, typ, s, correlation string, schema int) {
		data, _ := json.Marshal(map[string]string{"s": s, "t": typ})
		env := Envelope{ID: "id", Stream: "wallet.x", Version: 3, Type: typ, Schema: schema, Data: data, CommandID: s,
			CorrelationID: correlation, Time: time.Unix(0, 0).UTC()}
		b, err := json.Marshal([]Envelope{env, env})
		if err != nil {
			t.Skip()
		}
		var want []Envelope
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		got, err := DecodeArray(nil, b, nil)
		if err != nil || len(got) != 2 {
			t.Fatalf("DecodeArray(%s) = %+v, %v; encoding/json %+v", b, got, err, want)
		}
		logged, err := DecodeLog(nil, b, nil)
		if err != nil || len(logged) != 2 {
			t.Fatalf("DecodeLog(%s) = %+v, %v", b, logged, err)
		}
		for i := range want {
			wb, _ := json.Marshal(want[i])
			checkSameDecoding(t, wb, got[i], nil)
			logged[i].Time = want[i].Time
			gb, _ := json.Marshal(logged[i])
			if !bytes.Equal(gb, wb) {
				t.Fatalf("DecodeLog(%s) = %s, want %s", b, gb, wb)
			}
		}
	})
}
