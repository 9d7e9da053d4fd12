// Package bus is uneventful's command bus for Go callers (rinq's Call, CallAsync and
// Execute, on NATS):
//
//	b := bus.New(nc, bus.Options{})
//	state, err := b.Call(ctx, "wallet."+id, "credit", []byte(`{"amount": 5}`))
//	switch {
//	case bus.IsFailure(err): // the domain refused: bus.FailureType(err) == "insufficient_funds", ...
//	case err != nil:         // the infrastructure's: unavailable, timeout, internal
//	}
//
// A target is an entity, "<domain>.<id>" (the command goes to the writer owning it,
// through package command's client and wire protocol), or a named service,
// "service.<name>" (served with forward.Serve; its instances share the calls as a NATS
// queue group), or a queue, "queue.<name>" (the command is the queue operation). The
// domain names "service" and "queue" are therefore reserved.
//
// Every call has a deadline: the context's, else Options.Timeout (default 5 s). It
// travels with the request (command.Request.Deadline; the Uneventful-Deadline header of a
// service call), and a writer never applies a command past it.
//
// Errors: a *Failure (IsFailure) is the target's refusal, part of its API
// (insufficient_funds, version_mismatch, unknown_command, ...). Anything else is a
// *failure.Error of the infrastructure: ErrNoResponders (nobody serves the target,
// answered at once, nothing was delivered), failure.Timeout (the deadline passed; the
// outcome is unknown: retry with the same key), failure.Unavailable, failure.Internal.
//
// A Bus is safe for concurrent use.
package bus

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/queue"
)

// DefaultTimeout bounds a call whose context has no deadline.
const DefaultTimeout = 5 * time.Second

// Options tune a Bus. The zero value is valid.
type Options struct {
	Timeout    time.Duration // for a context without deadline; default DefaultTimeout
	Partitions int           // partitions entities hash to, as the writers'; default command.DefaultPartitions
}

// Bus sends commands over one NATS connection.
type Bus struct {
	nc     *nats.Conn
	opt    Options
	queues *queue.Client

	mu      sync.Mutex
	writers map[string]*command.Client // by domain

	asyncDone func() // tests: called when a CallAsync's goroutine ends
}

// New returns a bus over nc.
func New(nc *nats.Conn, opt Options) *Bus {
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	if opt.Partitions <= 0 {
		opt.Partitions = command.DefaultPartitions
	}
	return &Bus{nc: nc, opt: opt, queues: queue.NewClient(nc), writers: make(map[string]*command.Client)}
}

// CallOption sets an optional part of a call.
type CallOption func(*call)

type call struct {
	key      string
	expected *int64
}

// Key makes an entity command idempotent: a second call with the same key returns the
// first one's result and changes nothing (the HTTP API's Idempotency-Key).
func Key(k string) CallOption { return func(c *call) { c.key = k } }

// IfVersion applies an entity command only if the entity is at version v (0: not yet
// written); else the call fails with version_mismatch (the HTTP API's If-Match).
func IfVersion(v int64) CallOption { return func(c *call) { c.expected = &v } }

// Call sends command with payload to target and waits for the reply: an entity's new
// state document, a service's or a queue's reply. See the package documentation for
// targets and errors.
func (b *Bus) Call(ctx context.Context, target, command string, payload []byte, opts ...CallOption) (json.RawMessage, error) {
	t, err := parseTarget(target)
	if err != nil {
		return nil, err
	}
	ctx, cancel := b.withDeadline(ctx)
	defer cancel()
	return b.call(ctx, t, command, payload, opts)
}

// Handler gets the outcome of a CallAsync: the reply, or the error as Call returns it.
type Handler func(reply json.RawMessage, err error)

// CallAsync sends command with payload to target and returns at once; h gets the reply
// on a goroutine of its own. h is called at most once, and never once the call's
// deadline has passed or ctx is canceled: a reply that comes later, and a timeout, are
// dropped without calling it (as rinq's). An invalid target is returned at once.
func (b *Bus) CallAsync(ctx context.Context, target, command string, payload []byte, h Handler, opts ...CallOption) error {
	t, err := parseTarget(target)
	if err != nil {
		return err
	}
	ctx, cancel := b.withDeadline(ctx)
	go func() {
		defer cancel()
		if b.asyncDone != nil {
			defer b.asyncDone()
		}
		reply, err := b.call(ctx, t, command, payload, opts)
		if dl, _ := ctx.Deadline(); ctx.Err() == nil && time.Now().Before(dl) {
			h(reply, err)
		}
	}()
	return nil
}

func (b *Bus) withDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, b.opt.Timeout)
}

func (b *Bus) call(ctx context.Context, t target, cmd string, payload []byte, opts []CallOption) (json.RawMessage, error) {
	var c call
	for _, o := range opts {
		o(&c)
	}
	switch t.kind {
	case targetService:
		return b.callService(ctx, t.name, cmd, payload)
	case targetQueue:
		return b.callQueue(ctx, t.name, cmd, payload)
	default:
		return b.callEntity(ctx, t, cmd, payload, c)
	}
}

// writer returns the command client of domain's writers.
func (b *Bus) writer(domain string) *command.Client {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.writers[domain]
	if c == nil {
		c = command.NewClient(b.nc, domain, b.opt.Partitions, b.opt.Timeout)
		b.writers[domain] = c
	}
	return c
}
