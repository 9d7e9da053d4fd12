package service

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// servePprof serves Go's profiler on c.PprofAddr (e.g. 127.0.0.1:6060) when it is set,
// until stop is called. An address it cannot bind is an error.
func servePprof(c Common) (stop func(), err error) {
	if c.PprofAddr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", c.PprofAddr)
	if err != nil {
		return nil, fmt.Errorf("listen on PPROF_ADDR %s: %w", c.PprofAddr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			c.Log.Warn("pprof", "err", err)
		}
	}()
	return func() { srv.Close(); <-done }, nil //nolint:errcheck // closing
}
