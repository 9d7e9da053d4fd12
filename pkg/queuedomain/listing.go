package queuedomain

import (
	"context"
	"encoding/json"
	"time"

	"github.com/nats-io/nats.go"

	"uneventful.dev/uneventful/pkg/forward"
	"uneventful.dev/uneventful/pkg/queue"
)

// Listing is what every connected domain reports: queues, forwards, services,
// connections.
type Listing struct {
	Queues      []queue.QueueInfo
	Forwards    []forward.Info
	Services    []forward.ServiceInfo
	Connections []Connection
}

// List gathers the listings of every domain reachable from nc, asking for wait.
func List(ctx context.Context, nc *nats.Conn, wait time.Duration) (Listing, error) {
	var l Listing
	var err error
	if l.Queues, err = queue.NewClient(nc).Queues(ctx, wait); err != nil {
		return l, err
	}
	gather := func(subject string, into func([]byte) error) error {
		return queue.Gather(ctx, nc, subject, wait, into)
	}
	if err := gather(forward.ListSubject, func(b []byte) error {
		var fs []forward.Info
		err := json.Unmarshal(b, &fs)
		l.Forwards = append(l.Forwards, fs...)
		return err
	}); err != nil {
		return l, err
	}
	if err := gather(forward.ServicesListSubject, func(b []byte) error {
		var s forward.ServiceInfo
		err := json.Unmarshal(b, &s)
		l.Services = append(l.Services, s)
		return err
	}); err != nil {
		return l, err
	}
	err = gather(DomainsListSubject, func(b []byte) error {
		var cs []Connection
		err := json.Unmarshal(b, &cs)
		l.Connections = append(l.Connections, cs...)
		return err
	})
	return l, err
}

// Queue returns the named queue of the listing.
func (l Listing) Queue(name string) (queue.QueueInfo, bool) {
	for _, q := range l.Queues {
		if q.Name == name {
			return q, true
		}
	}
	return queue.QueueInfo{}, false
}

// Service returns the named service's statistics, summed over its instances.
func (l Listing) Service(name string) forward.ServiceInfo {
	sum := forward.ServiceInfo{Name: name}
	for _, s := range l.Services {
		if s.Name == name {
			sum.Group, sum.Calls, sum.Errors, sum.Total = s.Group, sum.Calls+s.Calls, sum.Errors+s.Errors, sum.Total+s.Total
		}
	}
	return sum
}
