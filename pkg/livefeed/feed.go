// Package livefeed delivers a domain's events live inside one process: one core NATS
// subscription on events.<domain>.> (the subjects the outbox publishes each event on),
// fanned out to the subscribers of each entity's stream. It never blocks on a
// subscriber: one whose buffer is full is dropped (its Gone channel closes), and it
// resumes from its last version, reading what it missed from the stored events. An idle
// subscriber costs its registration and a channel: its buffer is allocated as events
// wait in it.
package livefeed

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"uneventful.dev/uneventful/pkg/event"
)

// Buffer is how many live events a subscriber may have waiting; one more and it is
// dropped. A pointer each: at most 2 KiB per subscriber, allocated as they wait.
const Buffer = 256

// Event is one live event of an entity.
type Event struct {
	Version int64
	Type    string
	JSON    []byte // the envelope
}

// Feed is the live events of one domain. Safe for concurrent use.
type Feed struct {
	nc       *nats.Conn
	sub      *nats.Subscription
	statuses chan nats.Status
	done     chan struct{}

	mu   sync.Mutex
	subs map[string][]*Subscription // by stream
}

// Start subscribes to the events of domain on nc. Close it when done.
func Start(nc *nats.Conn, domain string) (*Feed, error) {
	f := &Feed{nc: nc, subs: map[string][]*Subscription{}, done: make(chan struct{})}
	prefix := event.Subject(domain + ".")
	sub, err := nc.Subscribe(prefix+">", func(m *nats.Msg) { f.deliver(strings.TrimPrefix(m.Subject, "events."), m.Data) })
	if err != nil {
		return nil, err
	}
	if err := sub.SetPendingLimits(-1, 256<<20); err != nil {
		sub.Unsubscribe() //nolint:errcheck
		return nil, err
	}
	f.sub = sub
	f.statuses = nc.StatusChanged(nats.CONNECTED)
	go f.watchReconnects()
	return f, nil
}

// Close ends the subscription; subscribers still open are dropped.
func (f *Feed) Close() error {
	close(f.done)
	f.nc.RemoveStatusListener(f.statuses)
	f.mu.Lock()
	for _, set := range f.subs {
		for _, s := range set {
			s.drop()
		}
	}
	f.subs = map[string][]*Subscription{}
	f.mu.Unlock()
	return f.sub.Unsubscribe()
}

// Subscribe registers a subscriber to the live events of stream ("<domain>.<id>").
// Register before reading the stored events: then every event is either stored when
// read, or delivered live, or both (drop versions already seen).
func (f *Feed) Subscribe(stream string) *Subscription {
	s := &Subscription{f: f, stream: stream, ready: make(chan struct{}, 1)}
	f.mu.Lock()
	f.subs[stream] = append(f.subs[stream], s)
	f.mu.Unlock()
	return s
}

// remove unregisters s, if it is registered. f.mu is held.
func (f *Feed) remove(s *Subscription) {
	set := f.subs[s.stream]
	for i, o := range set {
		if o == s {
			set[i] = set[len(set)-1]
			set[len(set)-1] = nil
			set = set[:len(set)-1]
			break
		}
	}
	if len(set) == 0 {
		delete(f.subs, s.stream)
	} else {
		f.subs[s.stream] = set
	}
}

// Subscribers returns how many subscribers are registered.
func (f *Feed) Subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, set := range f.subs {
		n += len(set)
	}
	return n
}

// deliver hands a message of stream to its subscribers, on NATS's delivery goroutine.
func (f *Feed) deliver(stream string, data []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	set := f.subs[stream]
	if len(set) == 0 {
		return
	}
	e, err := Decode(data)
	if err != nil {
		return // not an event: nothing a subscriber could be sent
	}
	ep := &e // one copy shared by every subscriber of the stream
	kept := set[:0]
	for _, s := range set {
		if s.push(ep) {
			kept = append(kept, s)
		} else { // full: the subscriber is too slow; it resumes from what is stored
			s.drop()
		}
	}
	clear(set[len(kept):])
	if len(kept) == 0 {
		delete(f.subs, stream)
	} else {
		f.subs[stream] = kept
	}
}

// watchReconnects tells every subscriber to read the stored events again after each
// reconnection: events published while the connection was down never came.
func (f *Feed) watchReconnects() {
	for {
		select {
		case <-f.done:
			return
		case _, ok := <-f.statuses:
			if !ok {
				return
			}
		}
		// The subscription was sent again before the status changed; once NATS has it
		// (the flush's round trip), whatever a subscriber does not read from the stored
		// events is delivered live.
		f.nc.FlushTimeout(5 * time.Second) //nolint:errcheck // a new disconnection brings a new resync
		f.mu.Lock()
		for _, set := range f.subs {
			for _, s := range set {
				s.askResync()
			}
		}
		f.mu.Unlock()
	}
}

// Decode reads an envelope (as JSON, from NATS or the stored events) as an Event: its
// version and type, and the envelope on one line.
func Decode(data []byte) (Event, error) {
	var env struct {
		Version int64  `json:"version"`
		Type    string `json:"type"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return Event{}, err
	}
	if env.Version <= 0 || env.Type == "" {
		return Event{}, errors.New("livefeed: not an event envelope")
	}
	return Event{Version: env.Version, Type: env.Type, JSON: OneLine(data)}, nil
}

// OneLine returns JSON data without line breaks (as SSE's data: needs it).
func OneLine(data []byte) []byte {
	for _, c := range data {
		if c == '\n' || c == '\r' {
			var b strings.Builder
			b.Grow(len(data))
			for _, c := range data {
				if c != '\n' && c != '\r' {
					b.WriteByte(c)
				}
			}
			return []byte(b.String())
		}
	}
	return data
}
