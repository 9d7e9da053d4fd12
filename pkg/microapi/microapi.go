// Package microapi makes a service that keeps its own NATS subscriptions visible to the
// standard NATS service tooling (`nats micro ls`, `nats micro info`, `nats micro stats`):
// it answers the service API's control subjects ($SRV.PING, $SRV.INFO, $SRV.STATS, each
// also with the service's name and with its name and id) in the JSON shapes of nats.go's
// micro package, with statistics its service records per request (Endpoint.Record), and
// it sets the micro error headers (Nats-Service-Error, Nats-Service-Error-Code) on a
// failed reply (SetError).
//
// Why not micro.AddService itself: a micro endpoint owns its subscription and answers
// each message with one handler call, while a writer takes batches of requests on its own
// subscription and answers a message when its last request is committed.
package microapi

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/segmentio/ksuid"
)

// Config describes a service. Name must match micro's rule (letters, digits, '-' and
// '_'); Version is semantic (default 1.0.0).
type Config struct {
	Name        string
	Version     string
	Description string
	Metadata    map[string]string
}

// Endpoint is one subject a service serves. Record is safe for concurrent use.
type Endpoint struct {
	info micro.EndpointInfo

	mu    sync.Mutex
	stats micro.EndpointStats
}

// Record counts one request answered after d; errMsg is its error ("" when it succeeded).
func (e *Endpoint) Record(d time.Duration, errMsg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := &e.stats
	s.NumRequests++
	s.ProcessingTime += d
	s.AverageProcessingTime = s.ProcessingTime / time.Duration(s.NumRequests)
	if errMsg != "" {
		s.NumErrors++
		s.LastError = errMsg
	}
}

func (e *Endpoint) snapshot() *micro.EndpointStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.stats
	s.Name, s.Subject, s.QueueGroup = e.info.Name, e.info.Subject, e.info.QueueGroup
	return &s
}

// Service is an advertised service. Create it with Advertise; Stop it when done.
type Service struct {
	id      micro.ServiceIdentity
	desc    string
	started time.Time
	subs    []*nats.Subscription

	mu        sync.Mutex
	endpoints []*Endpoint
}

// Advertise answers the control subjects of a service named cfg.Name on nc; declare the
// endpoints the service serves with Endpoint. Safe for concurrent use.
func Advertise(nc *nats.Conn, cfg Config) (*Service, error) {
	if cfg.Version == "" {
		cfg.Version = "1.0.0"
	}
	if cfg.Metadata == nil {
		cfg.Metadata = map[string]string{}
	}
	s := &Service{id: micro.ServiceIdentity{Name: cfg.Name, ID: ksuid.New().String(), Version: cfg.Version, Metadata: cfg.Metadata},
		desc: cfg.Description, started: time.Now().UTC()}
	answers := map[micro.Verb]func() any{
		micro.PingVerb:  func() any { return micro.Ping{ServiceIdentity: s.id, Type: micro.PingResponseType} },
		micro.InfoVerb:  func() any { return s.Info() },
		micro.StatsVerb: func() any { return s.Stats() },
	}
	for verb, answer := range answers {
		for _, names := range [][2]string{{"", ""}, {cfg.Name, ""}, {cfg.Name, s.id.ID}} {
			subject, err := micro.ControlSubject(verb, names[0], names[1])
			if err == nil {
				var sub *nats.Subscription
				sub, err = nc.Subscribe(subject, func(m *nats.Msg) {
					b, _ := json.Marshal(answer())
					m.Respond(b) //nolint:errcheck // the asker times out
				})
				s.subs = append(s.subs, sub)
			}
			if err != nil {
				s.Stop()
				return nil, fmt.Errorf("microapi: %s: %w", subject, err)
			}
		}
	}
	return s, nc.Flush()
}

// Endpoint declares a subject the service serves (queueGroup "" when every instance
// gets every message) and returns it for recording its requests.
func (s *Service) Endpoint(name, subject, queueGroup string) *Endpoint {
	e := &Endpoint{info: micro.EndpointInfo{Name: name, Subject: subject, QueueGroup: queueGroup, Metadata: map[string]string{}}}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endpoints = append(s.endpoints, e)
	return e
}

func (s *Service) endpointList() []*Endpoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.endpoints[:len(s.endpoints):len(s.endpoints)]
}

// ID is the instance id the service answers to ($SRV.PING.<name>.<id>).
func (s *Service) ID() string { return s.id.ID }

// Info is the answer to $SRV.INFO.
func (s *Service) Info() micro.Info {
	list := s.endpointList()
	eps := make([]micro.EndpointInfo, 0, len(list))
	for _, e := range list {
		eps = append(eps, e.info)
	}
	return micro.Info{ServiceIdentity: s.id, Type: micro.InfoResponseType, Description: s.desc, Endpoints: eps}
}

// Stats is the answer to $SRV.STATS.
func (s *Service) Stats() micro.Stats {
	list := s.endpointList()
	eps := make([]*micro.EndpointStats, 0, len(list))
	for _, e := range list {
		eps = append(eps, e.snapshot())
	}
	return micro.Stats{ServiceIdentity: s.id, Type: micro.StatsResponseType, Started: s.started, Endpoints: eps}
}

// Stop stops answering the control subjects.
func (s *Service) Stop() {
	for _, sub := range s.subs {
		if sub != nil {
			sub.Unsubscribe() //nolint:errcheck // best effort on shutdown
		}
	}
}
