package sse

import (
	"bytes"
	"net/http/httptest"
	"testing"
)

// TestIdleStreamLetsGoOfItsBuffer: a buffer grown by a burst of events is kept while
// events come, and let go once the stream was idle long enough for a keepalive.
func TestIdleStreamLetsGoOfItsBuffer(t *testing.T) {
	w := httptest.NewRecorder()
	st, err := Start(w, httptest.NewRequest("GET", "/events", nil))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.Event(1, "t", bytes.Repeat([]byte("x"), 64<<10))
	if err := st.Flush(); err != nil {
		t.Fatal(err)
	}
	if cap(st.buf) <= maxKeptBuf {
		t.Fatalf("buffer of %d after a 64 KiB event: want it kept for the next ones", cap(st.buf))
	}
	if err := st.Keepalive(); err != nil {
		t.Fatal(err)
	}
	if cap(st.buf) > maxKeptBuf {
		t.Fatalf("buffer of %d kept by an idle stream, want at most %d", cap(st.buf), maxKeptBuf)
	}
	if !bytes.HasSuffix(w.Body.Bytes(), []byte("\n\n: keepalive\n\n")) {
		t.Fatalf("body ends %q", w.Body.Bytes()[max(0, w.Body.Len()-40):])
	}
}
