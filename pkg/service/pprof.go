package service

import (
	"net/http"
	"net/http/pprof"
)

// servePprof serves Go's profiler on addr (e.g. 127.0.0.1:6060) when addr is set.
func servePprof(c Common) {
	if c.PprofAddr == "" {
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	go func() {
		if err := http.ListenAndServe(c.PprofAddr, mux); err != nil {
			c.Log.Warn("pprof", "err", err)
		}
	}()
}
