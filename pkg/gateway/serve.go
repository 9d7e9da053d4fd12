package gateway

import (
	"context"
	"net"
	"net/http"
	"time"

	"uneventful.dev/uneventful/pkg/httpapi"
)

// Serve answers HTTP on ln with h until ctx is done, then shuts down (httpapi.Serve). The
// server has no read or write timeout on a request once its headers are in (5 s for
// those): either would cut a Server-Sent Events stream, and the upstreams bound how long
// they read a body themselves.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 120 * time.Second,
		MaxHeaderBytes: 64 << 10}
	return httpapi.Serve(ctx, ln, srv)
}
