package history_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
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
