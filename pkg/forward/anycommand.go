package forward

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/failure"
	"uneventful.dev/uneventful/pkg/queue"
)

// AnyCommand as the command of a forward-service's target ("wallet.*") sends each
// message as the command its type names (the commands queue of the command bus,
// pkg/bus: Execute).
const AnyCommand = "*"

// anyCommandRetry is how long apart callAnyCommand tries a writer that is unavailable.
const anyCommandRetry = 250 * time.Millisecond

// callAnyCommand sends the message to the writer as the command named by its type: the
// properties name the entity, the payload is the command's data, the message's
// deduplication key (else "queue/<message id>") the idempotency key, so a message
// delivered twice changes the entity once. While the writer is unavailable (down,
// overloaded, no answer in time) it tries again for up to the target's timeout, then
// fails the call (rolled back, tried again after the queue's retry delay): the message
// waits in the queue for the writer. A refusal is an outcome (the writer recorded the
// rejected command): the message is done, and the reply queue, if any, gets
// {"error": ...}.
func callAnyCommand(ctx context.Context, f *flow, d *queue.Dequeued) error {
	key := d.Dedup
	if key == "" {
		key = "queue/" + d.ID
	}
	req := command.Request{Kind: command.KindCommand, Entity: d.Properties, CommandID: event.NewID(),
		Command: d.Type, Data: d.Payload, IdempotencyKey: key, CorrelationID: d.CorrelationID}
	until := time.Now().Add(f.timeout)
	for {
		cctx, cancel := context.WithDeadline(ctx, until)
		rep, err := f.writer.Send(cctx, req)
		cancel()
		switch {
		case err == nil:
			return f.reply(ctx, d, "application/json", rep.State)
		case !waitable(err):
			var fe *failure.Error
			if !errors.As(err, &fe) || fe.Kind == failure.Internal {
				return err
			}
			b, _ := json.Marshal(command.Reply{Error: fe})
			return f.reply(ctx, d, "application/json", b)
		case time.Until(until) < anyCommandRetry:
			return err
		}
		sleep(ctx, anyCommandRetry)
	}
}

// waitable reports whether err says the writer did not decide the command (yet).
func waitable(err error) bool {
	return errors.Is(err, failure.Unavailable) || errors.Is(err, failure.Overloaded) || errors.Is(err, failure.Timeout)
}
