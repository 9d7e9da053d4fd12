// Package sse provides Server-Sent Events both ways: Stream writes an event stream to an
// HTTP client (C8's framing: id, event, data on one line, a retry: line, comment lines
// while idle, a write deadline so a client that stops reading is disconnected), and
// Follow reads one from a position, reconnecting with Last-Event-ID.
package sse

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Timings of a stream, the same for every stream served.
const (
	// Keepalive is the longest a stream stays silent: a comment line is written when no
	// event was for this long (C8: at least every 15 s; proxies cut idle streams after
	// 30-60 s).
	Keepalive = 10 * time.Second
	// WriteTimeout bounds each write: a client that stops reading fills its socket's
	// buffers, the write blocks, and after this long the stream ends (the client resumes
	// with Last-Event-ID). So a slow client never holds anyone else.
	WriteTimeout = 10 * time.Second
	// RetryMillis is the reconnection delay the stream asks clients for (retry:).
	RetryMillis = 1000
)

// maxKeptBuf is the largest buffer a stream keeps once idle (Keepalive).
const maxKeptBuf = 4 << 10

// Stream writes one event stream. Not safe for concurrent use: one goroutine, the
// handler's, writes.
type Stream struct {
	w      http.ResponseWriter
	rc     *http.ResponseController
	buf    []byte
	ctx    context.Context
	cancel context.CancelFunc
	stop   func() bool
	end    context.Context // EndStreams's, if any
	http1  bool            // a GET over HTTP/1.x: its connection can be detached
	// Once detached (detach.go): the connection, and whether its body is chunked.
	conn    net.Conn
	chunked bool
}

// Start sends the headers of an event stream and its retry: line at once (a client
// learns it is subscribed before any event), and lifts the server's read and write
// timeouts of the connection: each write has its own deadline instead. Close the
// stream when done with it.
func Start(w http.ResponseWriter, r *http.Request) (*Stream, error) {
	s := &Stream{w: w, rc: http.NewResponseController(w), buf: make([]byte, 0, 512),
		http1: r.ProtoMajor == 1 && r.Method == http.MethodGet, chunked: r.ProtoAtLeast(1, 1)}
	s.ctx, s.cancel = context.WithCancel(r.Context())
	s.stop = func() bool { return false }
	if end, ok := r.Context().Value(endKey{}).(context.Context); ok {
		s.end = end
		s.stop = context.AfterFunc(end, s.cancel)
	}
	_ = s.rc.SetReadDeadline(time.Time{}) // a request of a stream has no body to read
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: pass each event on at once
	w.WriteHeader(http.StatusOK)
	s.buf = append(s.buf[:0], "retry: "...)
	s.buf = strconv.AppendInt(s.buf, RetryMillis, 10)
	s.buf = append(s.buf, "\n\n"...)
	return s, s.flush()
}

// Context is done when the client went away or the server is shutting down
// (EndStreams): the stream's writer should return then.
func (s *Stream) Context() context.Context { return s.ctx }

// Close releases the stream's context. A detached stream closes itself (Detach): its
// Close does nothing.
func (s *Stream) Close() {
	if s.conn != nil {
		return
	}
	s.stop()
	s.cancel()
}

// Event writes one event: id, event (its type) and data, which must be one line (JSON
// as encoding/json writes it is). It is buffered until Flush.
func (s *Stream) Event(id int64, typ string, data []byte) {
	s.buf = append(s.buf, "id: "...)
	s.buf = strconv.AppendInt(s.buf, id, 10)
	s.buf = append(s.buf, "\nevent: "...)
	s.buf = append(s.buf, typ...)
	s.buf = append(s.buf, "\ndata: "...)
	s.buf = append(s.buf, data...)
	s.buf = append(s.buf, "\n\n"...)
}

// EventWithoutID writes one event without an id: line, an ephemeral one a client
// cannot resume after (a session's notifications, C9); otherwise as Event.
func (s *Stream) EventWithoutID(typ string, data []byte) {
	s.buf = append(s.buf, "event: "...)
	s.buf = append(s.buf, typ...)
	s.buf = append(s.buf, "\ndata: "...)
	s.buf = append(s.buf, data...)
	s.buf = append(s.buf, "\n\n"...)
}

// Flush sends what was buffered; an error means the stream is over (the client went
// away or did not read for WriteTimeout).
func (s *Stream) Flush() error {
	if len(s.buf) == 0 {
		return nil
	}
	return s.flush()
}

// Keepalive writes a comment line at once. The stream was idle: a buffer grown by a
// burst of events is let go.
func (s *Stream) Keepalive() error {
	if cap(s.buf) > maxKeptBuf {
		s.buf = nil
	}
	s.buf = append(s.buf, ": keepalive\n\n"...)
	return s.flush()
}

func (s *Stream) flush() error {
	if s.conn != nil {
		return s.flushConn()
	}
	if err := s.rc.SetWriteDeadline(time.Now().Add(WriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	_, err := s.w.Write(s.buf)
	s.buf = s.buf[:0]
	if err != nil {
		return err
	}
	return s.rc.Flush()
}

type endKey struct{}

// EndStreams is middleware under which every stream started ends when ctx is done: a
// server shutting down ends its streams (their clients resume elsewhere) instead of
// waiting for them, while its other requests finish.
func EndStreams(ctx context.Context) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), endKey{}, ctx)))
		})
	}
}
