package sse

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Event is one event received.
type Event struct {
	ID   int64  // the position (a version for one entity, a global position for the history)
	Type string // the event's type
	Data []byte // the envelope as JSON
}

// Handler takes the events of a stream in order; an error ends Follow with that error.
type Handler func(Event) error

// ErrRefused wraps the answer of a server that refused a stream (a 4xx: a bad position,
// an id not valid for its domain, an unknown route): following again would not help.
var ErrRefused = errors.New("sse: stream refused")

// Follower follows event streams. The zero value is ready: it uses a client without a
// timeout and reconnects after the delay the server asks for (retry:), else a second.
type Follower struct {
	Client *http.Client  // default: a client without timeout
	Retry  time.Duration // delay before reconnecting when the server does not say; default 1s
	// Connected, if set, is called each time a stream is open (headers received), with
	// the position it resumes after.
	Connected func(after int64)
}

// Follow reads the event stream at url after position after (0: from the first event;
// url may say ?after=end for the first connection) and hands each event to h, in order,
// each once: whenever the connection ends or fails it reconnects with Last-Event-ID
// set to the last event handled, until ctx is done (it returns ctx.Err()), h fails (its
// error) or the server refuses the stream (an error wrapping ErrRefused). Safe for
// concurrent use.
func (f *Follower) Follow(ctx context.Context, url string, after int64, h Handler) error {
	client := f.Client
	if client == nil {
		client = &http.Client{}
	}
	retry := f.Retry
	if retry <= 0 {
		retry = time.Second
	}
	for {
		err := f.once(ctx, client, url, &after, &retry, h)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var he handlerError
		if errors.As(err, &he) {
			return he.err
		}
		if errors.Is(err, ErrRefused) {
			return err
		}
		t := time.NewTimer(retry)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

type handlerError struct{ err error }

func (e handlerError) Error() string { return e.err.Error() }

// once reads one connection's events, advancing *after past each handled.
func (f *Follower) once(ctx context.Context, client *http.Client, url string, after *int64, retry *time.Duration, h Handler) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrRefused, err)
	}
	req.Header.Set("Accept", "text/event-stream")
	if *after > 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatInt(*after, 10))
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		err := fmt.Errorf("GET %s: %s: %s", url, resp.Status, bytes.TrimSpace(body))
		if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests {
			return fmt.Errorf("%w: %v", ErrRefused, err)
		}
		return err
	}
	if f.Connected != nil {
		f.Connected(*after)
	}
	return read(bufio.NewReaderSize(resp.Body, 64<<10), func(ev Event, ms int64) error {
		if ms > 0 {
			*retry = time.Duration(ms) * time.Millisecond
		}
		if ev.Data == nil {
			return nil
		}
		if ev.ID <= *after {
			return nil // sent again; handled already
		}
		if err := h(ev); err != nil {
			return handlerError{err}
		}
		*after = ev.ID
		return nil
	})
}

// Read reads one event stream from r until it ends, handing each event to h (ID 0 for
// one without id:, as a session's notifications are), without resuming: it returns h's
// error, or the reading's (io.ErrUnexpectedEOF when the stream ends).
func Read(r io.Reader, h Handler) error {
	return read(bufio.NewReaderSize(r, 64<<10), func(ev Event, _ int64) error {
		if ev.Data == nil {
			return nil // a retry: line
		}
		return h(ev)
	})
}

// read parses an event stream, calling emit for each event (and each retry: line,
// with a nil Data) until the body ends.
func read(r *bufio.Reader, emit func(Event, int64) error) error {
	var ev Event
	var data []byte
	var lastType string
	for {
		line, err := r.ReadSlice('\n') // valid until the next read: copied where kept
		if errors.Is(err, bufio.ErrBufferFull) {
			long := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = r.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 { // the end of an event
			if data != nil {
				ev.Data = data
				if err := emit(ev, 0); err != nil {
					return err
				}
			}
			ev, data = Event{}, nil
			continue
		}
		if line[0] == ':' {
			continue // a comment (keepalive)
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "id":
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil {
				return fmt.Errorf("sse: id %q is not a position", value)
			}
			ev.ID = n
		case "event":
			if string(value) != lastType { // most events of a stream share a few types
				lastType = string(value)
			}
			ev.Type = lastType
		case "data":
			if data == nil {
				data = make([]byte, 0, len(value))
			} else {
				data = append(data, '\n')
			}
			data = append(data, value...)
		case "retry":
			if ms, err := strconv.ParseInt(string(value), 10, 64); err == nil && ms > 0 {
				if err := emit(Event{}, ms); err != nil {
					return err
				}
			}
		}
	}
}

// Decode unmarshals the event's data (the envelope) into v.
func (e Event) Decode(v any) error { return json.Unmarshal(e.Data, v) }
