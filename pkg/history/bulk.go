package history

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/failure"
	"uneventful.dev/uneventful/pkg/httpapi"
)

// Bulk pages: GET /history/bulk answers at most MaxBulk entries, BulkPage by default.
const (
	BulkPage = 100_000
	MaxBulk  = 1_000_000
)

// mountBulk adds GET /history/bulk?after=<position>&limit=<n>: the entries with
// position > after, oldest first, as JSON lines (application/x-ndjson), one Entry a line
// ({"position":N,"id":...} as json.Marshal writes an Entry). It is made for readers that
// rebuild a model from the whole history (the tracker): many rows per request, no
// per-page envelope, written while they are read. Fewer lines than limit means the
// newest entry was reached (or the answer was cut short: a reader that then follows
// GET /history/events from its last position misses nothing either way).
func mountBulk(r chi.Router, s *Store) {
	r.Get("/history/bulk", func(w http.ResponseWriter, req *http.Request) {
		after, err := httpapi.QueryInt(req, "after", 0, 0, 1<<62)
		if err != nil {
			httpapi.WriteError(w, err)
			return
		}
		limit, err := httpapi.QueryInt(req, "limit", BulkPage, 1, MaxBulk)
		if err != nil {
			httpapi.WriteError(w, err)
			return
		}
		newest, err := s.Newest(req.Context())
		if err != nil {
			httpapi.WriteError(w, failure.New(failure.Unavailable, "history_unavailable", err.Error()))
			return
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.Header().Set("X-History-Newest", strconv.FormatInt(newest, 10))
		w.WriteHeader(http.StatusOK)
		bw := bufio.NewWriterSize(w, 256<<10)
		line := make([]byte, 0, 1024)
		_, err = s.RangeJSON(req.Context(), after, newest, "", int(limit), func(position int64, _ string, envelope []byte) error {
			line = append(line[:0], `{"position":`...)
			line = strconv.AppendInt(line, position, 10)
			line = append(line, ',')
			line = append(line, envelope[1:]...) // envelope starts with {
			line = append(line, '\n')
			_, err := bw.Write(line)
			return err
		})
		if err == nil {
			bw.Flush() //nolint:errcheck // the client sees a short answer
		}
	})
}

// errBadEnvelope: a bulk line whose envelope cannot be decoded (or upcast).
var errBadEnvelope = errors.New("history: an envelope that cannot be decoded")

// ReadBulk reads GET {base}/history/bulk?after=&limit= with client, decodes each line
// (DecodeEntry, with up) and calls each with
// every entry in order; it returns how many it read and the last position read (after if
// none). An answer cut short mid-line is an error.
func ReadBulk(ctx context.Context, client *http.Client, base string, after int64, limit int, up *event.Upcasters, each func(Entry) error) (int, int64, error) {
	return readBulk(ctx, client, base, after, limit, up, false, each)
}

// ReadBulkShared is ReadBulk for a reader that copies what it keeps of an entry (the
// tracker's model): each entry's strings, as its Data, are valid only during the call to
// each (BulkDecoder.Shared), which saves a copy of every line.
func ReadBulkShared(ctx context.Context, client *http.Client, base string, after int64, limit int, up *event.Upcasters, each func(Entry) error) (int, int64, error) {
	return readBulk(ctx, client, base, after, limit, up, true, each)
}

func readBulk(ctx context.Context, client *http.Client, base string, after int64, limit int, up *event.Upcasters, shared bool, each func(Entry) error) (int, int64, error) {
	url := base + "/history/bulk?after=" + strconv.FormatInt(after, 10) + "&limit=" + strconv.Itoa(limit)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, after, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, after, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return 0, after, fmt.Errorf("GET %s: %s: %s", url, resp.Status, bytes.TrimSpace(body))
	}
	r := bufio.NewReaderSize(resp.Body, 1<<20)
	d := BulkDecoder{Shared: shared}
	n, last := 0, after
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = r.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err == io.EOF && len(line) == 0 {
			return n, last, nil
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return n, last, err
		}
		e, err := d.Decode(line[:len(line)-1], up)
		if errors.Is(err, errBadEnvelope) {
			err = nil // its position, without an event: the reader skips it
		}
		if err != nil {
			return n, last, err
		}
		if e.Position <= last {
			return n, last, fmt.Errorf("history: bulk position %d after %d", e.Position, last)
		}
		if err := each(e); err != nil {
			return n, last, err
		}
		n, last = n+1, e.Position
	}
}
