package forward

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Headers of a service call.
const (
	// ErrorHeader on a reply marks the call failed (the NATS micro convention, so a
	// micro service is a valid target too).
	ErrorHeader = "Nats-Service-Error"
	// MessageIDHeader carries the id of the queue message behind a call: a service
	// called twice for one message (at-least-once) can deduplicate on it.
	MessageIDHeader = "Uneventful-Message-Id"
	// TypeHeader carries the payload type.
	TypeHeader = "Uneventful-Type"
	// CorrelationHeader carries the correlation id of the message behind a call: a
	// service that sends commands or enqueues messages passes it on (command.Request's
	// CorrelationID, queue.EnqueueOptions' CorrelationID) so they stay in its work item.
	CorrelationHeader = "Uneventful-Correlation-Id"
	// CausationHeader carries the id of the event that caused the call (the message's
	// "dequeued" event).
	CausationHeader = "Uneventful-Causation-Id"
)

// ServicesListSubject is answered by every service instance with its call statistics.
const ServicesListSubject = "uneventful.services.list"

// ServiceSubject is the subject a named service is called on.
func ServiceSubject(name string) string { return "uneventful.service." + name }

// Handler answers one call: the reply payload, or an error that fails the call.
type Handler func(ctx context.Context, payload []byte, h nats.Header) ([]byte, error)

// ServiceInfo is one line of the service listing.
type ServiceInfo struct {
	Name   string        `json:"name"`
	Group  string        `json:"group"` // the domain
	Calls  int64         `json:"calls"`
	Errors int64         `json:"errors"`
	Total  time.Duration `json:"total"`
	Min    time.Duration `json:"min"`
	Max    time.Duration `json:"max"`
	Last   time.Time     `json:"last,omitzero"`
}

// Avg is the average call time.
func (s ServiceInfo) Avg() time.Duration {
	if s.Calls == 0 {
		return 0
	}
	return s.Total / time.Duration(s.Calls)
}

// Service is a running service instance; Stop it when done.
type Service struct {
	subs []*nats.Subscription
	api  *serviceAPI // $SRV.PING/INFO/STATS (serviceapi.go)
	mu   sync.Mutex
	info ServiceInfo
}

// Serve advertises the service name of domain on nc and answers its calls with h.
// Instances of one name share its calls (a NATS queue group).
func Serve(nc *nats.Conn, domain, name string, h Handler) (*Service, error) {
	api, err := advertise(nc, domain, name)
	if err != nil {
		return nil, err
	}
	s := &Service{info: ServiceInfo{Name: name, Group: domain}, api: api}
	call, err := nc.QueueSubscribe(ServiceSubject(name), "service", func(m *nats.Msg) {
		start := time.Now()
		out, err := h(context.Background(), m.Data, m.Header)
		s.record(start, err)
		s.api.record(time.Since(start), err)
		reply := &nats.Msg{Subject: m.Reply, Data: out, Header: nats.Header{}}
		if err != nil {
			reply.Header.Set(ErrorHeader, err.Error())
			reply.Data = nil
		}
		m.RespondMsg(reply) //nolint:errcheck // the caller times out
	})
	if err != nil {
		return nil, err
	}
	list, err := nc.Subscribe(ServicesListSubject, func(m *nats.Msg) {
		b, _ := json.Marshal(s.Info())
		m.Respond(b) //nolint:errcheck
	})
	if err != nil {
		call.Unsubscribe() //nolint:errcheck
		return nil, err
	}
	s.subs = []*nats.Subscription{call, list}
	return s, nc.Flush()
}

func (s *Service) record(start time.Time, err error) {
	d := time.Since(start)
	s.mu.Lock()
	defer s.mu.Unlock()
	i := &s.info
	i.Calls++
	if err != nil {
		i.Errors++
	}
	i.Total += d
	if i.Calls == 1 || d < i.Min {
		i.Min = d
	}
	i.Max = max(i.Max, d)
	i.Last = start.UTC()
}

// Info returns the service's call statistics.
func (s *Service) Info() ServiceInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info
}

// Stop stops answering calls.
func (s *Service) Stop() {
	for _, sub := range s.subs {
		sub.Unsubscribe() //nolint:errcheck
	}
	s.api.svc.Stop()
}

// ErrRollback is what the example rollback service always fails with.
var ErrRollback = errors.New("rollback: this service always fails")

// Examples are the built-in example services a domain can advertise by name: echo
// (replies with the payload) and rollback (always fails).
var Examples = map[string]Handler{
	"echo":     func(_ context.Context, p []byte, _ nats.Header) ([]byte, error) { return p, nil },
	"rollback": func(context.Context, []byte, nats.Header) ([]byte, error) { return nil, ErrRollback },
}
