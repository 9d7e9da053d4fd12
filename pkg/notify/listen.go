package notify

import (
	"context"
	"encoding/json"

	"github.com/nats-io/nats.go"
)

// Handler takes a session's notifications, one at a time, in the order NATS delivered
// them. It must return soon: while it runs, the session's next notifications wait in the
// subscription's buffer (NATS's pending limits: 512k messages or 64 MiB), past which NATS
// drops them.
type Handler func(Notification)

// Listener receives one session's notifications until closed.
type Listener struct {
	sub  *nats.Subscription
	stop func() bool
}

// Listen starts listening for session sessionID's notifications and returns once the NATS
// server knows of the listener: any notification sent after Listen returns reaches h
// (while the connection holds). Notifications sent before, or while the connection is
// lost, are missed: they are ephemeral. It listens until ctx is done or Close.
// Errors: ErrInvalidID, ErrUnavailable.
func (n *Notifier) Listen(ctx context.Context, sessionID string, h Handler) (*Listener, error) {
	if err := CheckID(sessionID); err != nil {
		return nil, err
	}
	sub, err := n.nc.Subscribe(Subject(sessionID), func(m *nats.Msg) {
		var nt Notification
		if json.Unmarshal(m.Data, &nt) != nil {
			return // not a notification: nobody else publishes here
		}
		h(nt)
	})
	if err != nil {
		return nil, ErrUnavailable.With("nats: " + err.Error())
	}
	l := &Listener{sub: sub}
	if err := n.flush(ctx); err != nil {
		l.sub.Unsubscribe() //nolint:errcheck // it failed already
		return nil, err
	}
	l.stop = context.AfterFunc(ctx, func() { l.sub.Unsubscribe() }) //nolint:errcheck // closed twice is fine
	return l, nil
}

// Close stops the listener: NATS delivers it nothing more (a handler call already under
// way finishes).
func (l *Listener) Close() {
	l.stop()
	l.sub.Unsubscribe() //nolint:errcheck // closed already
}
