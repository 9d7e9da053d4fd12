// Package natsconn connects to NATS the way every uneventful service does: retrying the
// first connection and reconnecting forever, so a NATS restart is survived.
package natsconn

import (
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
)

// Connect connects to url as name. It returns once connected or, if NATS is not up yet,
// at once with a connection that keeps retrying in the background.
func Connect(url, name string, log *slog.Logger) (*nats.Conn, error) {
	return nats.Connect(url,
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectBufSize(64<<20),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info("nats reconnected", "url", c.ConnectedUrl()) }),
	)
}
