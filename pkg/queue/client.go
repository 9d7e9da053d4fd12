package queue

import (
	"context"
	"encoding/json"
	"sort"
	"time"

	"github.com/nats-io/nats.go"
)

// Client sends queue operations to whichever domain owns the queue. Safe for
// concurrent use.
type Client struct {
	nc      *nats.Conn
	timeout time.Duration
}

// NewClient returns a client over nc; each request waits up to 5 s for its reply
// (plus the wait of a blocking dequeue).
func NewClient(nc *nats.Conn) *Client { return &Client{nc: nc, timeout: 5 * time.Second} }

// EnqueueOptions are the optional parts of an enqueue.
type EnqueueOptions struct {
	Delay time.Duration // not available before now + Delay
	// Dedup makes the enqueue idempotent: a second enqueue with the same key (to any
	// queue of the domain) returns the first message's id and enqueues nothing.
	Dedup string
	// CorrelationID is the work item the message belongs to (1 to 64 printable ASCII
	// characters without spaces, as the HTTP edge's X-Correlation-Id): every queue event
	// about the message, wherever it is forwarded, carries it. Empty: the message id.
	CorrelationID string
	// CausationID is the id of the event that caused this enqueue (optional), the
	// causation id of the "enqueued" event.
	CausationID string
}

// Enqueue adds m (Type, Payload, Properties, Reply; ID if the caller picks one) to
// queue and returns the message id. ErrInvalid: a malformed correlation id.
func (c *Client) Enqueue(ctx context.Context, queue string, m Message, opt EnqueueOptions) (string, error) {
	m.Dedup, m.CorrelationID = opt.Dedup, opt.CorrelationID
	resp, err := c.call(ctx, queue, request{Op: opEnqueue, Message: &m, Delay: opt.Delay, Causation: opt.CausationID}, 0)
	return resp.ID, err
}

// Select chooses which message a dequeue takes and how.
type Select struct {
	ID         string        // this message only
	Properties string        // the first message with exactly these properties
	Wait       time.Duration // block up to Wait for a message
	Lease      time.Duration // rolled back by the owner if not committed within (default DefaultLease)
}

// Dequeue takes the first available message of queue (as sel selects). It returns
// ErrNoMessage when there is none (after sel.Wait). Commit or Rollback the result.
func (c *Client) Dequeue(ctx context.Context, queue string, sel Select) (*Dequeued, error) {
	resp, err := c.call(ctx, queue, request{Op: opDequeue, ID: sel.ID, Properties: sel.Properties, Wait: sel.Wait, LeaseFor: sel.Lease}, sel.Wait)
	return resp.Message, err
}

// Commit removes a dequeued message for good. ErrLeaseLost: it was rolled back meanwhile.
func (c *Client) Commit(ctx context.Context, d *Dequeued) error {
	_, err := c.call(ctx, d.Queue, request{Op: opCommit, ID: d.ID, Lease: d.Lease}, 0)
	return err
}

// Rollback returns a dequeued message to its queue (redelivered + 1, available after
// the retry delay) or moves it to the error queue once its retries are spent.
func (c *Client) Rollback(ctx context.Context, d *Dequeued) error {
	_, err := c.call(ctx, d.Queue, request{Op: opRollback, ID: d.ID, Lease: d.Lease}, 0)
	return err
}

// Browse returns queue's messages, payloads included, without consuming any.
func (c *Client) Browse(ctx context.Context, queue string) ([]Browsed, error) {
	resp, err := c.call(ctx, queue, request{Op: opBrowse}, 0)
	return resp.Messages, err
}

// Restore moves the messages of X.error back to X (queue may name either) and returns
// how many moved.
func (c *Client) Restore(ctx context.Context, queue string) (int, error) {
	resp, err := c.call(ctx, queue, request{Op: opRestore}, 0)
	return resp.Count, err
}

// Clear removes every message of queue that is not dequeued and returns how many.
func (c *Client) Clear(ctx context.Context, queue string) (int, error) {
	resp, err := c.call(ctx, queue, request{Op: opClear}, 0)
	return resp.Count, err
}

// Remove removes the messages ids from queue and returns how many it found.
func (c *Client) Remove(ctx context.Context, queue string, ids ...string) (int, error) {
	resp, err := c.call(ctx, queue, request{Op: opRemove, IDs: ids}, 0)
	return resp.Count, err
}

// Queues lists the queues of every connected domain, asking for wait.
func (c *Client) Queues(ctx context.Context, wait time.Duration) ([]QueueInfo, error) {
	var out []QueueInfo
	err := Gather(ctx, c.nc, ListSubject, wait, func(b []byte) error {
		var r response
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		out = append(out, r.Queues...)
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Group < out[j].Group })
	return out, err
}

func (c *Client) call(ctx context.Context, queue string, req request, wait time.Duration) (response, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return response{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout+wait)
	defer cancel()
	msg, err := c.nc.RequestWithContext(ctx, Subject(queue), b)
	if err != nil {
		return response{}, transportError(err)
	}
	var resp response
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return response{}, err
	}
	if resp.Error != nil {
		return resp, fromWire(resp.Error)
	}
	return resp, nil
}

// Gather publishes an empty request on subject and hands every reply that arrives
// within wait to f: every domain (or forwarder, or service) listening answers.
func Gather(ctx context.Context, nc *nats.Conn, subject string, wait time.Duration, f func([]byte) error) error {
	inbox := nc.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return err
	}
	defer sub.Unsubscribe() //nolint:errcheck
	if err := nc.PublishRequest(subject, inbox, nil); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for {
		m, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			return nil // wait is over
		}
		if len(m.Data) == 0 {
			continue // a no-responders status
		}
		if err := f(m.Data); err != nil {
			return err
		}
	}
}
