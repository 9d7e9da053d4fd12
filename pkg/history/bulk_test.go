package history_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"uneventful.dev/uneventful/pkg/history"
	"uneventful.dev/uneventful/pkg/httpapi"
)

// GET /history/bulk: entries after a position as JSON lines, read back by ReadBulk; bad
// parameters are C3 errors.
func TestBulk(t *testing.T) {
	ctx := context.Background()
	s := openHistory(t)
	if _, err := s.Append(ctx, evs(1, 10)); err != nil {
		t.Fatal(err)
	}
	r := httpapi.NewRouter()
	history.Mount(r, s)
	srv := httptest.NewServer(r)
	defer srv.Close()

	var got []history.Entry
	n, last, err := history.ReadBulk(ctx, http.DefaultClient, srv.URL, 2, 5, nil, func(e history.Entry) error {
		e.Data = append([]byte(nil), e.Data...) // valid only during the call
		got = append(got, e)
		return nil
	})
	if err != nil || n != 5 || last != 7 {
		t.Fatalf("ReadBulk after 2, limit 5: %d entries, last %d, %v", n, last, err)
	}
	want, err := s.Range(ctx, 2, 7, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i].Position != want[i].Position || got[i].ID != want[i].ID || got[i].CorrelationID != want[i].CorrelationID ||
			string(got[i].Data) != string(want[i].Data) || !got[i].Time.Equal(want[i].Time) {
			t.Errorf("entry %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if n, last, err := history.ReadBulk(ctx, http.DefaultClient, srv.URL, 7, 100, nil, func(history.Entry) error { return nil }); err != nil || n != 3 || last != 10 {
		t.Fatalf("ReadBulk to the end: %d entries, last %d, %v", n, last, err)
	}

	for _, q := range []string{"after=-1", "after=x", "limit=0", "limit=1000001"} {
		resp, err := http.Get(srv.URL + "/history/bulk?" + q)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(body), `"error"`) {
			t.Errorf("?%s: %d %s", q, resp.StatusCode, body)
		}
	}

	e, err := history.DecodeEntry([]byte(`{"position":4,"id":"x","stream":"wallet.a","version":1,"type":"t","data":{"amount":`), nil)
	if err == nil || e.Position != 4 || e.ID != "" {
		t.Errorf("a broken envelope: %+v, %v; want an error and position 4", e, err)
	}
	if _, err := history.DecodeEntry([]byte(`{"id":"x"}`), nil); err == nil {
		t.Error("a line without a position decoded")
	}
}

// BulkDecoder (ReadBulk's fast path) gives what DecodeEntry gives, for the lines the
// history writes (times of every shape, escapes, schemas, a month's last days) and for
// lines it leaves to event.Decode.
func TestBulkDecoderEqualsDecodeEntry(t *testing.T) {
	times := []string{"2026-12-06T16:00:00Z", "2026-12-06T16:00:00.1Z", "2026-12-06T16:00:00.123456789Z",
		"2026-02-28T23:59:59.000001Z", "2024-02-29T00:00:00.5Z", "2026-12-31T10:11:12.01Z",
		"2026-12-06T16:00:00+02:00", "1999-01-01T00:00:00.999999999Z"}
	var lines []string
	for i, ts := range times {
		lines = append(lines,
			`{"position":`+strconv.Itoa(i+1)+`,"id":"e1","stream":"wallet.a","version":3,"type":"credited","data":{"amount":"5","time":"x"},"command_id":"c","correlation_id":"k","time":"`+ts+`"}`,
			`{"position":`+strconv.Itoa(i+100)+`,"id":"e\u00e9","stream":"queue.payments","version":1,"type":"enqueued","data":{"message":{"id":"m"}},"command_id":"","causation_id":"z","time":"`+ts+`","schema":2}`)
	}
	lines = append(lines,
		`{"position":+7,"id":"e","stream":"s.a","version":1,"type":"t","data":null,"command_id":"","time":"2026-12-06T16:00:00Z"}`,
		`{"position":8,"id":"e","stream":"s.a","version":1,"type":"t","data":1,"command_id":"","time":"2026-13-06T16:00:00Z"}`,
		`{"position":9,"stream":"s.a","version":1,"type":"t","data":1,"command_id":"","time":"2026-12-06T16:00:00Z"}`,
		`{"position":10,"id":"e","stream":"s.a","version":1,"type":"t","data":{"a":1},"command_id":"","time":"2026-12-06T16:00:00Z","time":"2026-12-07T16:00:00Z"}`)
	for _, d := range []*history.BulkDecoder{{}, {Shared: true}} {
		for _, l := range lines {
			checkBulkDecoder(t, d, l)
		}
	}
}

func checkBulkDecoder(t *testing.T, d *history.BulkDecoder, l string) {
	t.Helper()
	want, werr := history.DecodeEntry([]byte(l), nil)
	got, gerr := d.Decode([]byte(l), nil)
	if (werr == nil) != (gerr == nil) || got.Position != want.Position || got.ID != want.ID || got.Stream != want.Stream ||
		got.Version != want.Version || got.Type != want.Type || string(got.Data) != string(want.Data) ||
		got.CommandID != want.CommandID || got.CorrelationID != want.CorrelationID || got.CausationID != want.CausationID ||
		got.Schema != want.Schema || got.Time != want.Time {
		t.Errorf("shared %v, %s:\n got %+v, %v\nwant %+v, %v", d.Shared, l, got, gerr, want, werr)
	}
}
