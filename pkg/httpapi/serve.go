package httpapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// ShutdownGrace is how long requests in flight may finish once a server is told to stop.
const ShutdownGrace = 10 * time.Second

// Serve runs srv on ln until ctx is done, then stops taking requests and lets those in
// flight finish for up to ShutdownGrace; connections still open after it (event streams)
// are closed. It returns srv's error, if any, other than its closing.
func Serve(ctx context.Context, ln net.Listener, srv *http.Server) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
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
