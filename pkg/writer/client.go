package writer

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/nats-io/nats.go"

	"uneventful.dev/uneventful/pkg/failure"
)

// Client sends requests to the writers of one domain. Safe for concurrent use.
type Client struct {
	nc         *nats.Conn
	domain     string
	partitions int
	timeout    time.Duration
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
	return &Client{nc: nc, domain: domain, partitions: partitions, timeout: timeout}
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
	msg, err := c.nc.RequestWithContext(ctx, Subject(req.Kind, c.domain, req.Entity, c.partitions), body)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return Reply{}, failure.New(failure.Unavailable, "writer_unavailable", "no writer is serving this entity; retry later")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return Reply{}, failure.New(failure.Timeout, "timeout", "the writer did not answer in time; the outcome is unknown: retry with the same Idempotency-Key")
	case errors.Is(err, context.Canceled):
		return Reply{}, failure.New(failure.Timeout, "canceled", "the request was canceled; the outcome is unknown")
	case err != nil:
		return Reply{}, failure.New(failure.Unavailable, "nats_unavailable", err.Error())
	}
	var rep Reply
	if err := json.Unmarshal(msg.Data, &rep); err != nil {
		return Reply{}, failure.New(failure.Internal, "bad_reply", "the writer's reply is not valid JSON")
	}
	if rep.Error != nil {
		return rep, rep.Error
	}
	return rep, nil
}
