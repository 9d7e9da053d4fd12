package gateway

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// Serve answers HTTP on ln with h until ctx is done, then stops taking requests and lets
// those in flight finish for up to 10 seconds. The server has no read or write timeout on
// a request once its headers are in (5 s for those): either would cut a Server-Sent
// Events stream, and the upstreams bound how long they read a body themselves.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 120 * time.Second,
		MaxHeaderBytes: 64 << 10}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = srv.Close() // streams still open after the grace period
	}
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	return err
}
