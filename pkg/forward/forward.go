// Package forward moves queue messages on: a forward-service dequeues from a queue,
// calls a service and enqueues the reply to a reply queue; a forward-queue dequeues and
// enqueues to another queue, in any domain. Both commit only after the next step is
// durable and roll back on failure, so a message is never lost; a forwarder that dies
// mid-flow leaves its message dequeued until the lease expires and the owner rolls it
// back. The next step is deduplicated by (forward, message id), so a redelivered
// message is not enqueued twice downstream. Everything a message causes stays in its
// work item: the enqueue downstream, the service call (CorrelationHeader) and the
// domain command carry the message's correlation id, and the id of its "dequeued"
// event as their cause. The package also serves named services with call statistics
// (Serve).
package forward

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/queue"
)

// ListSubject is answered by every domain's forwards with their statistics.
const ListSubject = "uneventful.forwards.list"

// Info is one line of the forward listings.
type Info struct {
	Kind      string    `json:"kind"` // "service" or "queue"
	Alias     string    `json:"alias"`
	Group     string    `json:"group"`
	Source    string    `json:"source"`
	Target    string    `json:"target"` // a service or a queue
	Reply     string    `json:"reply,omitempty"`
	Delay     float64   `json:"delay"` // seconds: reply.delay or target.delay
	CI        int       `json:"ci"`    // configured instances
	I         int       `json:"i"`     // running instances
	Commits   int64     `json:"commits"`
	Rollbacks int64     `json:"rollbacks"`
	Last      time.Time `json:"last,omitzero"`
}

// Forwards runs the forwards of one domain.
type Forwards struct {
	nc    *nats.Conn
	q     *queue.Client
	log   *slog.Logger
	flows []*flow
}

type flow struct {
	info    Info
	timeout time.Duration
	lease   time.Duration // how long a dequeued message stays with this forwarder
	delay   time.Duration
	running atomic.Int64
	commits atomic.Int64
	rolls   atomic.Int64
	mu      sync.Mutex
	last    time.Time
	step    func(ctx context.Context, f *flow, d *queue.Dequeued) error
	q       *queue.Client
	nc      *nats.Conn
	writer  *command.Client // a domain command's writers, for callCommand
}

// New returns the forwards configured in cfg, over nc.
func New(cfg queue.Config, nc *nats.Conn, log *slog.Logger) *Forwards {
	fs := &Forwards{nc: nc, q: queue.NewClient(nc), log: log}
	group := "forward-" + cfg.Domain
	for _, c := range cfg.Forward.Services {
		f := &flow{
			info: Info{Kind: "service", Alias: c.Alias, Group: group, Source: c.Source, Target: c.Target.Service,
				Reply: c.Reply.Queue, Delay: time.Duration(c.Reply.Delay).Seconds(), CI: c.Instances},
			timeout: time.Duration(c.Target.Timeout), lease: time.Duration(c.Lease), delay: time.Duration(c.Reply.Delay), step: callService,
		}
		if c.Target.Command != "" {
			domain, name, _ := strings.Cut(c.Target.Command, ".")
			f.info.Target, f.step = c.Target.Command, callCommand
			if name == AnyCommand { // the command named by each message (anycommand.go)
				f.step = callAnyCommand
			}
			f.writer = command.NewClient(nc, domain, 0, f.timeout)
		}
		fs.flows = append(fs.flows, f)
	}
	for _, c := range cfg.Forward.Queues {
		fs.flows = append(fs.flows, &flow{
			info: Info{Kind: "queue", Alias: c.Alias, Group: group, Source: c.Source, Target: c.Target.Queue,
				Delay: time.Duration(c.Target.Delay).Seconds(), CI: c.Instances},
			timeout: queue.ForwardQueueTimeout, lease: time.Duration(c.Lease), delay: time.Duration(c.Target.Delay), step: toQueue,
		})
	}
	for _, f := range fs.flows {
		f.q, f.nc = fs.q, nc
	}
	return fs
}

// Run runs every forward's instances until ctx is done.
func (fs *Forwards) Run(ctx context.Context) error {
	sub, err := fs.nc.Subscribe(ListSubject, func(m *nats.Msg) {
		b, _ := json.Marshal(fs.Info())
		m.Respond(b) //nolint:errcheck
	})
	if err != nil {
		return err
	}
	defer sub.Unsubscribe() //nolint:errcheck
	var wg sync.WaitGroup
	for _, f := range fs.flows {
		for range f.info.CI {
			wg.Go(func() { f.run(ctx, fs.log) })
		}
	}
	wg.Wait()
	return nil
}

// Info returns the statistics of every forward.
func (fs *Forwards) Info() []Info {
	out := make([]Info, 0, len(fs.flows))
	for _, f := range fs.flows {
		i := f.info
		i.I, i.Commits, i.Rollbacks = int(f.running.Load()), f.commits.Load(), f.rolls.Load()
		f.mu.Lock()
		i.Last = f.last
		f.mu.Unlock()
		out = append(out, i)
	}
	return out
}

func (f *flow) run(ctx context.Context, log *slog.Logger) {
	f.running.Add(1)
	defer f.running.Add(-1)
	lease := f.lease
	if lease <= 0 { // a Config not from ParseConfig
		lease = f.timeout + 30*time.Second
	}
	for ctx.Err() == nil {
		d, err := f.q.Dequeue(ctx, f.info.Source, queue.Select{Wait: time.Second, Lease: lease})
		if errors.Is(err, queue.ErrNoMessage) {
			continue
		}
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("forward: dequeue", "alias", f.info.Alias, "source", f.info.Source, "err", err)
				sleep(ctx, 500*time.Millisecond)
			}
			continue
		}
		// The step finishes even when ctx ends: a shutdown drains flows rather than
		// rolling their messages back (a rollback counts as a redelivery).
		if err := f.step(context.WithoutCancel(ctx), f, d); err != nil {
			if rerr := f.q.Rollback(context.WithoutCancel(ctx), d); rerr != nil {
				log.Warn("forward: rollback (the lease will expire)", "alias", f.info.Alias, "id", d.ID, "err", rerr)
			}
			f.rolls.Add(1)
		} else if err := f.q.Commit(context.WithoutCancel(ctx), d); err != nil {
			log.Warn("forward: commit (the message will be redelivered, deduplicated downstream)", "alias", f.info.Alias, "id", d.ID, "err", err)
			continue
		} else {
			f.commits.Add(1)
		}
		f.mu.Lock()
		f.last = time.Now().UTC()
		f.mu.Unlock()
	}
}

// callService calls the target service with the message and enqueues its reply.
func callService(ctx context.Context, f *flow, d *queue.Dequeued) error {
	req := &nats.Msg{Subject: ServiceSubject(f.info.Target), Data: d.Payload, Header: nats.Header{}}
	req.Header.Set(MessageIDHeader, d.ID)
	req.Header.Set(CorrelationHeader, d.CorrelationID)
	req.Header.Set(CausationHeader, d.EventID)
	if d.Type != "" {
		req.Header.Set(TypeHeader, d.Type)
	}
	cctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	resp, err := f.nc.RequestMsgWithContext(cctx, req)
	if err != nil {
		return err
	}
	if e := resp.Header.Get(ErrorHeader); e != "" {
		return errors.New(e)
	}
	typ := resp.Header.Get(TypeHeader)
	if typ == "" {
		typ = d.Type
	}
	return f.reply(ctx, d, typ, resp.Data)
}

// reply enqueues a call's reply to the reply queue, if there is one.
func (f *flow) reply(ctx context.Context, d *queue.Dequeued, typ string, payload []byte) error {
	if f.info.Reply == "" {
		return nil
	}
	_, err := f.q.Enqueue(ctx, f.info.Reply, queue.Message{Type: typ, Payload: payload, Properties: d.Properties}, f.next(d))
	return err
}

// next is how a flow enqueues what d became: delayed as configured, deduplicated by
// (forward, message), in d's work item (its correlation id) and caused by its dequeue.
func (f *flow) next(d *queue.Dequeued) queue.EnqueueOptions {
	return queue.EnqueueOptions{Delay: f.delay, Dedup: f.info.Alias + "/" + d.ID, CorrelationID: d.CorrelationID, CausationID: d.EventID}
}

// callCommand sends the message as a domain command: the properties name the entity,
// the payload is the command's data and the message id its idempotency key, so a
// message delivered twice changes the entity once; its events carry the message's
// correlation id. A rejection fails the call. The reply is the entity's new state.
func callCommand(ctx context.Context, f *flow, d *queue.Dequeued) error {
	_, name, _ := strings.Cut(f.info.Target, ".")
	rep, err := f.writer.Send(ctx, command.Request{Kind: command.KindCommand, Entity: d.Properties, CommandID: event.NewID(),
		Command: name, Data: d.Payload, IdempotencyKey: "queue/" + d.ID, CorrelationID: d.CorrelationID})
	if err != nil {
		return err
	}
	return f.reply(ctx, d, "application/json", rep.State)
}

// toQueue enqueues the message to the target queue.
func toQueue(ctx context.Context, f *flow, d *queue.Dequeued) error {
	_, err := f.q.Enqueue(ctx, f.info.Target, queue.Message{Type: d.Type, Payload: d.Payload, Properties: d.Properties, Reply: d.Reply}, f.next(d))
	return err
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
