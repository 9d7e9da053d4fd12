package writer

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"uneventful.dev/uneventful/pkg/failure"
)

// Client sends requests to the writers of one domain. Safe for concurrent use.
// Requests to one partition travel in batches (see lane): under load, many share one
// NATS message each way.
type Client struct {
	nc         *nats.Conn
	domain     string
	partitions int
	timeout    time.Duration

	mu    sync.Mutex
	lanes map[string]*lane // by subject
}

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
	rep, err := c.lane(Subject(req.Kind, c.domain, req.Entity, c.partitions)).do(ctx, body)
	if err != nil {
		return Reply{}, err
	}
	if rep.Error != nil {
		return rep, rep.Error
	}
	return rep, nil
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
