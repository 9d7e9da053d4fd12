// Package notify provides rinq's notifications to sessions: Notify to one session,
// NotifyMany to every session whose attributes match a Constraint, and listeners (Go:
// Listen; HTTP: GET /session/{id}/notifications as Server-Sent Events).
//
// Notifications are ephemeral, as rinq's are: each is one NATS core message on the
// session's subject (Subject), delivered to the listeners connected at that moment and
// to nobody else. A listener that is not connected, or reconnecting, misses it; nothing
// stores it and nothing resends it. NotifyMany evaluates its constraint against the
// sessions' current state in the Redis read model (the documents under session.<id>),
// never against the log.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"time"

	"github.com/nats-io/nats.go"
	goredis "github.com/redis/go-redis/v9"
	"github.com/segmentio/ksuid"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/failure"
)

// Domain is the domain whose entities receive notifications.
const Domain = "session"

// MaxPayload is the largest payload of a notification, as JSON.
const MaxPayload = 256 << 10

// TypePattern is the syntax of a notification type (it is the SSE event: line).
var TypePattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,200}$`)

// The failures of the package besides ErrInvalidConstraint and ErrInvalidNamespace.
var (
	ErrInvalidID       = failure.New(failure.Invalid, "invalid_id", "id must be a KSUID")
	ErrInvalidType     = failure.New(failure.Invalid, "invalid_type", "invalid notification type")
	ErrInvalidPayload  = failure.New(failure.Invalid, "invalid_payload", "the payload must be JSON")
	ErrPayloadTooLarge = failure.New(failure.TooLarge, "payload_too_large", "payload too large")
	ErrNotFound        = failure.New(failure.NotFound, "not_found", "session not found")
	ErrUnavailable     = failure.New(failure.Unavailable, "unavailable", "NATS or Redis unavailable")
)

// Subject is the NATS subject of a session's notifications.
func Subject(sessionID string) string { return "notification." + event.Stream(Domain, sessionID) }

// Notification is one notification, as a listener receives it and as the data: of its
// SSE event.
type Notification struct {
	Session   string          `json:"session"`
	ID        string          `json:"id"` // a KSUID, the same for every session a NotifyMany reached
	Namespace string          `json:"namespace"`
	Type      string          `json:"type"`
	Payload   json.RawMessage `json:"payload"`
	// Constraint is the constraint of a NotifyMany, nil for a Notify (rinq's IsMulticast).
	Constraint *Constraint `json:"constraint,omitempty"`
	Time       time.Time   `json:"time"`
}

// Receipt is what a Notify or NotifyMany did: the notification's id and the number of
// sessions it was sent to (not the number of listeners, which nobody counts).
type Receipt struct {
	ID       string `json:"id"`
	Sessions int    `json:"sessions"`
}

// Notifier sends notifications and listens for them. Safe for concurrent use.
type Notifier struct {
	nc  *nats.Conn
	rdb goredis.UniversalClient
}

// New returns a Notifier publishing on nc and reading the sessions' read model in rdb.
func New(nc *nats.Conn, rdb goredis.UniversalClient) *Notifier { return &Notifier{nc: nc, rdb: rdb} }

// CheckID reports an id that is not a KSUID (ErrInvalidID).
func CheckID(id string) error {
	if _, err := ksuid.Parse(id); err != nil || !base62(id) {
		return ErrInvalidID.Withf("id must be a KSUID (27 characters of 0-9A-Za-z), got %q", truncate(id, 64))
	}
	return nil
}

func base62(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

// Notify sends a notification of type typ in namespace ns to session sessionID's
// listeners connected now. A session whose read model says destroyed is ErrNotFound;
// one not written yet gets it (its listeners may come first, as with C8's events).
// Errors: ErrInvalidID, ErrInvalidNamespace, ErrInvalidType, ErrInvalidPayload,
// ErrPayloadTooLarge, ErrNotFound, ErrUnavailable (NATS or Redis).
func (n *Notifier) Notify(ctx context.Context, sessionID, ns, typ string, payload any) (Receipt, error) {
	if err := CheckID(sessionID); err != nil {
		return Receipt{}, err
	}
	body, err := message(ns, typ, payload, nil)
	if err != nil {
		return Receipt{}, err
	}
	if err := n.checkNotDestroyed(ctx, sessionID); err != nil {
		return Receipt{}, err
	}
	if err := n.nc.Publish(Subject(sessionID), body.to(sessionID)); err != nil {
		return Receipt{}, ErrUnavailable.With("nats: " + err.Error())
	}
	if err := n.flush(ctx); err != nil {
		return Receipt{}, err
	}
	return Receipt{ID: body.id, Sessions: 1}, nil
}

// checkNotDestroyed answers ErrNotFound for a session the read model says is destroyed.
func (n *Notifier) checkNotDestroyed(ctx context.Context, id string) error {
	doc, err := n.rdb.Get(ctx, event.Stream(Domain, id)).Bytes()
	switch {
	case errors.Is(err, goredis.Nil):
		return nil
	case err != nil:
		return unavailable(ctx, err)
	}
	var d struct {
		Destroyed bool `json:"destroyed"`
	}
	if json.Unmarshal(doc, &d) == nil && d.Destroyed {
		return ErrNotFound.Withf("session %s was destroyed", id)
	}
	return nil
}

// flush waits until the NATS server has every message published so far.
func (n *Notifier) flush(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	if err := n.nc.FlushWithContext(ctx); err != nil {
		return ErrUnavailable.With("nats: " + err.Error())
	}
	return nil
}

// body is a notification's message without its session, shared by every session a
// NotifyMany reaches.
type body struct {
	id   string
	rest []byte // the JSON object without "session", from its opening brace
}

// to returns the message for one session.
func (b body) to(sessionID string) []byte {
	m := make([]byte, 0, len(b.rest)+48)
	m = append(m, `{"session":"`...)
	m = append(m, sessionID...)
	m = append(m, `",`...)
	return append(m, b.rest[1:]...)
}

// message validates a notification and encodes its message.
func message(ns, typ string, payload any, c *Constraint) (body, error) {
	if err := CheckNamespace(ns); err != nil {
		return body{}, err
	}
	if !TypePattern.MatchString(typ) {
		return body{}, ErrInvalidType.Withf("type %q must be 1 to 200 of A-Z a-z 0-9 _ . : -", truncate(typ, 64))
	}
	p, err := json.Marshal(payload)
	if err != nil {
		return body{}, ErrInvalidPayload.With("the payload is not JSON: " + err.Error())
	}
	if len(p) > MaxPayload {
		return body{}, ErrPayloadTooLarge.Withf("the payload is %d bytes of JSON, over %d", len(p), MaxPayload)
	}
	nt := Notification{ID: event.NewID(), Namespace: ns, Type: typ, Payload: p, Constraint: c, Time: time.Now().UTC()}
	b, err := json.Marshal(struct {
		ID         string          `json:"id"`
		Namespace  string          `json:"namespace"`
		Type       string          `json:"type"`
		Payload    json.RawMessage `json:"payload"`
		Constraint *Constraint     `json:"constraint,omitempty"`
		Time       time.Time       `json:"time"`
	}{nt.ID, nt.Namespace, nt.Type, nt.Payload, nt.Constraint, nt.Time})
	if err != nil {
		return body{}, ErrInvalidPayload.With(err.Error())
	}
	return body{id: nt.ID, rest: b}, nil
}
