package writer

// The intake: the writer's NATS subscriptions, decoding each message of requests onto the
// commit loop's queue, and answering the message once all its requests are decided.

import (
	"encoding/json"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/failure"
	"uneventful.dev/uneventful/pkg/microapi"
)

func (w *Writer[S]) subscribe() ([]*nats.Subscription, error) {
	if err := w.advertise(); err != nil { // before any request comes: receive reads w.api
		return nil, err
	}
	var subs []*nats.Subscription
	parts := w.cfg.Owned
	wildcard := len(parts) == 0
	if wildcard {
		parts = []int{-1}
	}
	for _, kind := range []string{command.KindCommand, command.KindLoad} {
		for _, p := range parts {
			subject := command.SubjectOf(kind, w.name, "*")
			if !wildcard {
				subject = command.SubjectOf(kind, w.name, strconv.Itoa(p))
			}
			sub, err := w.nc.Subscribe(subject, w.receive)
			if err != nil {
				return nil, err
			}
			sub.SetPendingLimits(-1, -1)
			subs = append(subs, sub)
		}
	}
	return subs, w.nc.Flush()
}

// drain stops the subscriptions after the messages already received are handed over.
func (w *Writer[S]) drain(subs []*nats.Subscription) {
	for _, s := range subs {
		s.Drain() //nolint:errcheck // best effort on shutdown
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, s := range subs {
		for s.IsValid() && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// receive decodes a message of requests (a JSON array, see Client) and queues each; it
// runs on the NATS delivery goroutine. The message is answered once every request has
// its reply (see inbound).
func (w *Writer[S]) receive(m *nats.Msg) {
	var reqs []command.Request
	if err := json.Unmarshal(m.Data, &reqs); err != nil || len(reqs) == 0 {
		respondError(m, failure.New(failure.Invalid, "invalid_request", "request is not a JSON array of requests"))
		return
	}
	in := &inbound{msg: m, replies: make([][]byte, len(reqs)), start: time.Now(), ep: w.api.endpoint(m.Subject)}
	in.left.Store(int32(len(reqs)))
	var shed []byte
	for i, req := range reqs {
		select {
		case w.intake <- &pending{req: req, in: in, idx: i}:
		default:
			if shed == nil {
				shed = errorReply(failure.New(failure.Overloaded, "overloaded", "the writer is at capacity; retry later"))
			}
			in.answer(i, shed)
		}
	}
}

func respondError(m *nats.Msg, e *failure.Error) {
	b, _ := json.Marshal(command.Reply{Error: e})
	respondFailed(m, b, e)
}

// inbound is one NATS message of requests. Its requests may be decided in different
// batches; the reply (a JSON array in the same order) goes when the last one is answered.
type inbound struct {
	msg     *nats.Msg
	replies [][]byte
	left    atomic.Int32
	start   time.Time          // when it came, for the service API's statistics
	ep      *microapi.Endpoint // where those are recorded
}

// answer sets the reply of request i and sends the message's reply if it was the last.
// Each i is answered once; the atomic count orders the writes of the replies before the
// send.
func (in *inbound) answer(i int, reply []byte) {
	if len(reply) == 0 {
		reply = errorReply(failure.New(failure.Internal, "no_reply", "the writer produced no reply"))
	}
	in.replies[i] = reply
	if in.left.Add(-1) != 0 || in.msg.Reply == "" {
		return
	}
	in.respond()
}
