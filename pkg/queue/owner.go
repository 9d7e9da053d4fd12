package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"uneventful.dev/uneventful/pkg/eventstream"
	"uneventful.dev/uneventful/pkg/failure"
)

// Owner holds one domain's queues and serves their operations. Exactly one Owner runs
// per domain. Every change is published to JetStream (and acknowledged) before its
// reply goes out; at start the Owner rebuilds its queues from those events.
//
// Requests are handled on one goroutine in batches: the events of all requests that
// arrived together are published together (one round of acknowledgements per batch).
type Owner struct {
	cfg   Config
	nc    *nats.Conn
	js    jetstream.JetStream
	log   *slog.Logger
	st    *domainState
	reqs  chan *nats.Msg
	ready chan struct{}

	waiters []*waiter
	pending []change
	replies []reply
	now     time.Time

	rounds   chan *round
	inflight sync.WaitGroup // rounds handed to the acker, not yet answered
	broken   atomic.Bool    // set by the acker when a round was not stored
	blocked  atomic.Int64   // dequeues waiting for a message, after the last step
}

type waiter struct {
	msg      *nats.Msg
	req      request
	deadline time.Time
}

type reply struct {
	msg  *nats.Msg
	resp response
}

// NewOwner returns the owner of cfg's queues over nc. Run starts it.
func NewOwner(cfg Config, nc *nats.Conn, log *slog.Logger) (*Owner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	return &Owner{cfg: cfg, nc: nc, js: js, log: log, reqs: make(chan *nats.Msg, 4096), ready: make(chan struct{}),
		rounds: make(chan *round, 64)}, nil
}

// Ready is closed once Run serves the queues.
func (o *Owner) Ready() <-chan struct{} { return o.ready }

// Run rebuilds the queues from the stream, then serves them until ctx is done.
func (o *Owner) Run(ctx context.Context) error {
	if err := o.rebuild(ctx); err != nil {
		return err
	}
	if err := o.checkUnique(ctx); err != nil {
		return err
	}
	acker := make(chan struct{})
	go func() { o.ack(); close(acker) }()
	defer func() { close(o.rounds); <-acker }() // answer what was decided
	subs := []*nats.Subscription{}
	defer func() {
		for _, s := range subs {
			s.Unsubscribe() //nolint:errcheck // closing
		}
		// Once Run returns, the server no longer routes requests here: a client then
		// gets "no such queue" at once instead of waiting out its timeout.
		o.nc.Flush() //nolint:errcheck // closing
	}()
	enqueue := func(m *nats.Msg) {
		select {
		case o.reqs <- m:
		default:
			respond(m, response{Error: failure.New(failure.Overloaded, "overloaded", "queue owner busy")})
		}
	}
	for _, name := range append(o.st.order, ListSubject) {
		subj := ListSubject
		if name != ListSubject {
			subj = Subject(name)
		}
		s, err := o.nc.Subscribe(subj, enqueue)
		if err != nil {
			return err
		}
		subs = append(subs, s)
	}
	if err := o.nc.Flush(); err != nil {
		return err
	}
	close(o.ready)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		var batch []*nats.Msg
		select {
		case <-ctx.Done():
			return nil
		case m := <-o.reqs:
			batch = append(batch, m)
		drain:
			for len(batch) < 512 {
				select {
				case m := <-o.reqs:
					batch = append(batch, m)
				default:
					break drain
				}
			}
		case <-tick.C:
		}
		o.step(ctx, batch)
	}
}

// step handles a batch, expires leases and serves waiting dequeues, then hands the
// resulting events (published, not yet acknowledged) and replies to the acker: the
// next batch is decided while this one's acknowledgements are on their way.
func (o *Owner) step(ctx context.Context, batch []*nats.Msg) {
	if o.broken.Load() {
		// A round's events were not all stored: memory is ahead of the stream.
		o.inflight.Wait()
		for _, w := range o.waiters { // decided against the state being dropped
			o.answer(w.msg, response{Error: failure.New(failure.Unavailable, "unavailable", "queue state rebuilt; retry")})
		}
		if err := o.rebuild(ctx); err != nil {
			o.log.Error("queue rebuild", "err", err)
		}
		o.broken.Store(false)
	}
	o.now = time.Now().UTC()
	for _, m := range batch {
		o.handle(m)
	}
	o.expireLeases()
	o.serveWaiters()
	o.blocked.Store(int64(len(o.waiters)))
	if len(o.replies) == 0 && len(o.pending) == 0 {
		return
	}
	r := &round{replies: o.replies}
	if len(o.pending) > 0 {
		r.futures, r.err = o.publish(o.pending)
	}
	o.inflight.Add(1)
	o.rounds <- r
	clear(o.pending)
	o.pending, o.replies = o.pending[:0], nil
}

// round is one batch on its way: its events' acknowledgements and its replies.
type round struct {
	futures []jetstream.PubAckFuture
	err     error
	replies []reply
}

// ack waits for each round's acknowledgements, in order, then sends its replies; a
// round not wholly stored fails its replies (and every later one's until the owner
// has rebuilt its state).
func (o *Owner) ack() {
	for r := range o.rounds {
		err := r.err
		if err == nil {
			err = awaitAcks(r.futures)
		}
		if err != nil && !o.broken.Load() {
			o.log.Error("queue events not stored; rebuilding from the stream", "domain", o.cfg.Domain, "err", err)
			o.broken.Store(true)
		}
		if o.broken.Load() {
			fail := failure.New(failure.Unavailable, "unavailable", "queue events not stored; retry")
			for i := range r.replies {
				if r.replies[i].resp.Error == nil {
					r.replies[i].resp = response{Error: fail}
				}
			}
		}
		for _, rep := range r.replies {
			respond(rep.msg, rep.resp)
		}
		o.inflight.Done()
	}
}

// emit applies changes to the state and queues them for publishing, each with a new
// event id and its message's correlation and causation ids.
func (o *Owner) emit(cs ...change) {
	for _, c := range cs {
		c.event = newID()
		o.st.link(&c)
		if err := o.st.apply(c); err != nil {
			panic(err) // a decision that does not fold is a bug
		}
		o.pending = append(o.pending, c)
	}
}

func (o *Owner) answer(m *nats.Msg, r response) { o.replies = append(o.replies, reply{m, r}) }

func (o *Owner) handle(m *nats.Msg) {
	if m.Subject == ListSubject {
		qs := make([]QueueInfo, 0, len(o.st.order))
		for _, name := range o.st.order {
			qs = append(qs, o.st.queues[name].info(o.cfg.Domain))
		}
		o.answer(m, response{Queues: qs})
		return
	}
	var req request
	if err := json.Unmarshal(m.Data, &req); err != nil {
		o.answer(m, response{Error: withMessage(ErrInvalid, err.Error())})
		return
	}
	q := o.st.queues[m.Subject[len(subjectPrefix):]]
	if q == nil {
		o.answer(m, response{Error: ErrQueueNotFound})
		return
	}
	resp, wait := o.decide(q, req)
	if wait {
		o.waiters = append(o.waiters, &waiter{msg: m, req: req, deadline: o.now.Add(req.Wait)})
		return
	}
	o.answer(m, resp)
}

func respond(m *nats.Msg, r response) {
	if m.Reply == "" {
		return
	}
	b, err := json.Marshal(r)
	if err != nil {
		b, _ = json.Marshal(response{Error: failure.From(err)})
	}
	m.Respond(b) //nolint:errcheck // the requester times out if this is lost
}

// ensureStream makes sure the EVENTS stream exists.
func (o *Owner) ensureStream(ctx context.Context) error { return eventstream.Ensure(ctx, o.js) }

// ErrOwned is returned by Run when a queue of the domain is already served by a
// connected domain (or by another owner of this one): queue names are unique.
var ErrOwned = errors.New("queue already owned")

// checkUnique asks the connected domains for their queues. Best effort: a domain not
// connected yet is not seen.
func (o *Owner) checkUnique(ctx context.Context) error {
	theirs, err := NewClient(o.nc).Queues(ctx, 150*time.Millisecond)
	if err != nil {
		return err
	}
	for _, q := range theirs {
		if _, ours := o.st.queues[q.Name]; ours {
			return fmt.Errorf("%w: %s is served by domain %s", ErrOwned, q.Name, q.Group)
		}
	}
	return nil
}
