package command

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"uneventful.dev/uneventful/pkg/failure"
)

// Batching limits of a lane: messages on their way at once, requests per message and
// encoded bytes per message (well under NATS's default 1 MiB payload; a single larger
// request still goes alone).
const (
	laneMaxInFlight = 2
	laneMaxBatch    = 256
	laneMaxBytes    = 256 << 10
)

// A lane carries the requests of one subject (a kind and a partition, or all) to its writer.
// Up to laneMaxInFlight NATS messages are on their way at a time; requests arriving
// while that many are out wait and go together in the next one, so under load many
// requests share one message each way, and an idle lane sends a request at once (see
// room for when a second message goes beside one).
type lane struct {
	nc      *nats.Conn
	subject string

	mu       sync.Mutex
	waiting  []*call
	inFlight int // messages on their way (see run)
	out      int // requests in them
}

// call is one request on a lane and, once done is signalled, its reply or error.
type call struct {
	ctx      context.Context
	body     []byte
	deadline time.Time
	reply    Reply
	err      error
	done     chan struct{}
}

// do sends body on the lane and waits for its reply or for ctx to end.
func (l *lane) do(ctx context.Context, body []byte) (Reply, error) {
	dl, _ := ctx.Deadline()
	c := &call{ctx: ctx, body: body, deadline: dl, done: make(chan struct{}, 1)}
	l.mu.Lock()
	l.waiting = append(l.waiting, c)
	start := l.room()
	if start {
		l.inFlight++
	}
	l.mu.Unlock()
	if start {
		go l.run()
	}
	select {
	case <-c.done:
		return c.reply, c.err
	case <-ctx.Done():
		select {
		case <-c.done: // answered meanwhile: the answer wins
			return c.reply, c.err
		default:
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return Reply{}, errTimeout()
		}
		return Reply{}, failure.New(failure.Timeout, "canceled", "the request was canceled; the outcome is unknown")
	}
}

// room reports whether the waiting calls may go now: at once when nothing is on its way;
// beside a message on its way once they are at least half as many as its requests, so
// that a loaded lane sends messages of similar sizes instead of one request alone in the
// slot that just freed and the rest behind it.
func (l *lane) room() bool {
	return l.inFlight == 0 || (l.inFlight < laneMaxInFlight && 2*len(l.waiting) >= l.out)
}

// run is one sender: it sends batches, one at a time, while there is room for them. The
// caller has counted it in inFlight.
func (l *lane) run() {
	sent := 0 // requests of this sender's last message
	for {
		l.mu.Lock()
		l.inFlight--
		l.out -= sent
		var batch []*call
		if l.room() {
			batch = l.take()
		}
		if len(batch) == 0 {
			l.mu.Unlock()
			return
		}
		l.inFlight++
		l.out += len(batch)
		l.mu.Unlock()
		l.roundTrip(batch)
		sent = len(batch)
	}
}

// take removes the next batch from the waiting calls, leaving out those whose context
// already ended (their callers have given up and nothing was sent for them).
func (l *lane) take() []*call {
	var batch []*call
	size, i := 0, 0
	for ; i < len(l.waiting) && len(batch) < laneMaxBatch; i++ {
		c := l.waiting[i]
		if c.ctx.Err() != nil {
			continue
		}
		if len(batch) > 0 && size+len(c.body) > laneMaxBytes {
			break
		}
		size += len(c.body) + 1
		batch = append(batch, c)
	}
	rest := copy(l.waiting, l.waiting[i:])
	clear(l.waiting[rest:])
	l.waiting = l.waiting[:rest]
	return batch
}

// roundTrip sends batch as one message (a JSON array of requests) and hands each call
// its element of the reply (a JSON array of replies in the same order), or the error.
func (l *lane) roundTrip(batch []*call) {
	deadline := batch[0].deadline
	bodies := make([][]byte, len(batch))
	for i, c := range batch {
		bodies[i] = c.body
		if c.deadline.After(deadline) {
			deadline = c.deadline
		}
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	msg, err := l.nc.RequestWithContext(ctx, l.subject, Frame(bodies))
	var replies []Reply
	if err == nil {
		replies, err = splitReplies(msg.Data, len(batch))
	}
	err = transportError(err)
	for i, c := range batch {
		if err != nil {
			c.err = err
		} else {
			c.reply = replies[i]
		}
		c.done <- struct{}{}
	}
}

// splitReplies decodes the n replies of a batch. A writer that could not read the batch
// answers one Reply for all of it.
func splitReplies(data []byte, n int) ([]Reply, error) {
	bad := failure.New(failure.Internal, "bad_reply", "the writer's reply does not answer the batch")
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] == '{' {
		var one Reply
		if err := json.Unmarshal(data, &one); err != nil {
			return nil, bad
		}
		out := make([]Reply, n)
		for i := range out {
			out[i] = one
		}
		return out, nil
	}
	var replies []Reply
	if err := json.Unmarshal(data, &replies); err != nil || len(replies) != n {
		return nil, bad
	}
	return replies, nil
}

// transportError maps a NATS request error to a failure.
func transportError(err error) error {
	var fe *failure.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe):
		return err
	case errors.Is(err, nats.ErrNoResponders):
		return failure.New(failure.Unavailable, noWriter, "no writer is serving this entity; retry later")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return errTimeout()
	default:
		return failure.New(failure.Unavailable, "nats_unavailable", err.Error())
	}
}

// noWriter is the failure type of a request no writer received (NATS: no responders).
const noWriter = "writer_unavailable"

// isNoResponders reports whether err says that no writer received the request, so that
// sending it elsewhere cannot apply it twice.
func isNoResponders(err error) bool {
	var fe *failure.Error
	return errors.As(err, &fe) && fe.Type == noWriter
}

// errTimeout is a request's failure when its deadline passed before the writer answered.
func errTimeout() *failure.Error {
	return failure.New(failure.Timeout, "timeout", "the writer did not answer in time; the outcome is unknown: retry with the same Idempotency-Key")
}
