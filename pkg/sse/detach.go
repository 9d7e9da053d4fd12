package sse

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strconv"
	"time"
)

// Detach goes on with the stream in a goroutine of its own, run, which holds the
// connection itself instead of the HTTP server: the handler returns at once, and the
// server lets go of what it holds per request (its goroutine and stack, its read and
// write buffers, the request). A stream waiting for events then costs its connection,
// run's goroutine and one more, small, that notices the client hanging up. Call it once
// the stream is flushed, return from the handler right after it, and use neither the
// request nor the response writer again: run writes with the Stream, and gets a context
// done when the client hangs up or the server ends its streams (EndStreams). The stream
// ends (its body's last chunk, and the connection closes) when run returns.
//
// Where the connection cannot be taken (not a GET over HTTP/1.x, or a response writer
// that cannot hijack), run runs in the handler's goroutine with the stream's Context:
// the same behaviour at the server's usual cost.
func (s *Stream) Detach(run func(ctx context.Context) error) {
	if len(s.buf) > 0 || !s.http1 {
		run(s.ctx) //nolint:errcheck // run's error ends the stream; nothing more to say
		return
	}
	conn, rw, err := s.rc.Hijack() // net/http flushes what it buffered first
	if err != nil {
		run(s.ctx) //nolint:errcheck // as above
		return
	}
	_ = rw // what the client sent after its request (nothing, on a stream) is ignored
	s.stop()
	s.cancel() // the request's context: done once the handler returns anyway
	s.w, s.rc, s.conn = nil, nil, conn
	ctx, cancel := context.WithCancel(context.Background())
	stopEnd := func() bool { return false }
	if s.end != nil {
		stopEnd = context.AfterFunc(s.end, cancel)
	}
	s.ctx, s.cancel, s.stop = ctx, cancel, stopEnd
	s.buf = nil // an idle stream holds no buffer; the next write allocates one
	go s.watchHangUp()
	go func() {
		defer s.closeConn()
		defer func() { // as the HTTP server would: log it, end this stream, not the process
			if v := recover(); v != nil {
				slog.Default().Error("panic in an event stream", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			}
		}()
		run(ctx) //nolint:errcheck // run's error ends the stream
	}()
}

// watchHangUp reads the detached connection until it fails (the client hung up, or
// closeConn closed it), then ends the stream's context. A client sends nothing on a
// stream: what it does send is ignored.
func (s *Stream) watchHangUp() {
	var b [16]byte
	for {
		if _, err := s.conn.Read(b[:]); err != nil {
			s.cancel()
			return
		}
	}
}

// closeConn ends a detached stream: its body's last chunk, then the connection.
func (s *Stream) closeConn() {
	s.stop()
	s.cancel()
	if s.chunked {
		_ = s.conn.SetWriteDeadline(time.Now().Add(WriteTimeout))
		_, _ = s.conn.Write([]byte("0\r\n\r\n"))
	}
	s.conn.Close() //nolint:errcheck // the stream is over either way
}

// flushConn writes what was buffered to a detached stream's connection, as one chunk
// of the body when it is chunked.
func (s *Stream) flushConn() error {
	if err := s.conn.SetWriteDeadline(time.Now().Add(WriteTimeout)); err != nil {
		return err
	}
	var err error
	if s.chunked {
		head := strconv.AppendInt(make([]byte, 0, 18), int64(len(s.buf)), 16)
		head = append(head, "\r\n"...)
		bufs := net.Buffers{head, s.buf, []byte("\r\n")}
		_, err = bufs.WriteTo(s.conn)
	} else {
		_, err = s.conn.Write(s.buf)
	}
	s.buf = s.buf[:0]
	return err
}
