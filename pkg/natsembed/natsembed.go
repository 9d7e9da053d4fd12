// Package natsembed starts a NATS server inside the process: the message broker's, a
// queue domain's own, and the tests'. One way to start one, so every caller learns of a
// server that fails to start.
package natsembed

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// DefaultReadyTimeout is how long Start waits for a server unless told otherwise.
const DefaultReadyTimeout = 10 * time.Second

// Start starts a NATS server with opts and returns once it accepts connections (with
// JetStream on, if opts ask for it). The server logs through log (nil: nowhere), its
// debug and trace messages as opts.Debug and opts.Trace say; it never handles signals
// (Start sets opts.NoSigs: the process's main owns them). The server writes the ports it
// chose where opts said -1 (random) back into opts. It fails if the server reports a
// fatal error (a port in use, a store it cannot open) or is not ready within timeout
// (<= 0: DefaultReadyTimeout); then nothing is left running. Stop the server with Stop.
func Start(opts *server.Options, log *slog.Logger, timeout time.Duration) (*server.Server, error) {
	if timeout <= 0 {
		timeout = DefaultReadyTimeout
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts.NoSigs = true
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("configure nats server: %w", err)
	}
	nl := newNATSLogger(log)
	srv.SetLoggerV2(nl, opts.Debug, opts.Trace, opts.TraceVerbose)
	srv.Start()
	if err := waitReady(srv, nl, opts.JetStream, timeout); err != nil {
		Stop(srv)
		return nil, err
	}
	return srv, nil
}

// Stop shuts srv down and waits until it has.
func Stop(srv *server.Server) {
	srv.Shutdown()
	srv.WaitForShutdown()
}

// waitReady polls until srv accepts connections (with JetStream on if jetStream), the
// server reports a fatal error, or timeout passes.
func waitReady(srv *server.Server, nl *natsLogger, jetStream bool, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if msg, failed := nl.fatal(); failed {
			return fmt.Errorf("nats server failed to start: %s", msg)
		}
		if srv.ReadyForConnections(100 * time.Millisecond) {
			if jetStream && !srv.JetStreamEnabled() {
				return errors.New("nats server started without JetStream")
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nats server not ready after %s", timeout)
		}
	}
}
