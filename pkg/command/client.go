package command

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"uneventful.dev/uneventful/pkg/failure"
)

// Client sends requests to the writers of one domain. Safe for concurrent use.
// Requests travel in batches (see lane): under load, many share one NATS message each
// way. While one writer owns every partition (local mode, a single writer), every
// request goes on one lane to the subject kind.domain.all, which that writer's
// subscription kind.domain.* takes, so requests to different partitions share messages.
// A writer owning some partitions only does not take it: NATS answers "no responders"
// at once, nothing was delivered, and the client sends the request to its partition's
// subject instead, trying the all subject again after allRetry.
type Client struct {
	nc         *nats.Conn
	domain     string
	partitions int
	timeout    time.Duration
	allAfter   atomic.Int64 // unix nanoseconds before which the all subject is not tried

	mu    sync.Mutex
	lanes map[string]*lane // by subject
}

// AllPartitions is the last token of the subject that reaches a writer owning every
// partition; partition subjects end in a number.
const AllPartitions = "all"

// allRetry is how long the client sends to partition subjects after the all subject had
// no responders (writers own some partitions each), before it tries again.
const allRetry = 5 * time.Second

// NewClient returns a client for domain over nc. timeout bounds a request without a
// context deadline (default 5s); partitions must match the writers' (default 16).
func NewClient(nc *nats.Conn, domain string, partitions int, timeout time.Duration) *Client {
	if partitions <= 0 {
		partitions = DefaultPartitions
	}
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	return &Client{nc: nc, domain: domain, partitions: partitions, timeout: timeout, lanes: make(map[string]*lane)}
}

// Send sends req to the writer owning req.Entity and waits for the reply. Transport
// problems come back as *failure.Error: Unavailable (no writer), Timeout (the outcome is
// unknown; retry with the same idempotency key).
func (c *Client) Send(ctx context.Context, req Request) (Reply, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	dl, _ := ctx.Deadline()
	req.Deadline = dl.UnixNano()
	body, err := json.Marshal(req)
	if err != nil {
		return Reply{}, failure.New(failure.Internal, "encode_request", err.Error())
	}
	rep, err := c.send(ctx, req, body)
	if err != nil {
		return Reply{}, err
	}
	if rep.Error != nil {
		return rep, rep.Error
	}
	return rep, nil
}

// send sends body on the all subject while a writer takes it, else on the partition's.
func (c *Client) send(ctx context.Context, req Request, body []byte) (Reply, error) {
	if now := time.Now().UnixNano(); now >= c.allAfter.Load() {
		rep, err := c.lane(SubjectOf(req.Kind, c.domain, AllPartitions)).do(ctx, body)
		if !isNoResponders(err) {
			return rep, err
		}
		c.allAfter.Store(now + int64(allRetry))
	}
	return c.lane(Subject(req.Kind, c.domain, req.Entity, c.partitions)).do(ctx, body)
}

func (c *Client) lane(subject string) *lane {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.lanes[subject]
	if l == nil {
		l = &lane{nc: c.nc, subject: subject}
		c.lanes[subject] = l
	}
	return l
}
