package bus

import (
	"context"
	"errors"

	"uneventful.dev/uneventful/pkg/failure"
	"uneventful.dev/uneventful/pkg/queue"
)

// CommandsQueue is the queue Execute puts domain's commands in: "<domain>.commands". The
// domain's queue configuration declares it and forwards it to the domain's writer with
// target command "<domain>.*" (config/wallet.queues.yaml).
func CommandsQueue(domain string) string { return domain + ".commands" }

// Execute sends command with payload to an entity target ("<domain>.<id>") without
// waiting for it to be applied: it returns once the command is stored durably in the
// domain's commands queue (CommandsQueue), and the queue's forwarder applies it when the
// writer takes it, also if the writer is down now and comes back later. key makes it
// happen once: a second Execute with the same key and entity is not queued again, and
// the writer records the command under the idempotency key "execute/<id>/<key>". A
// refusal (insufficient_funds, ...) is recorded in the writer's log like any rejected
// command; nobody is told. Commands of one entity may be applied out of order when one
// waits for a retry. It returns an error if the command could not be queued (no owner of
// the queue: ErrNoResponders).
func (b *Bus) Execute(ctx context.Context, target, command string, payload []byte, key string) error {
	t, err := parseTarget(target)
	if err != nil {
		return err
	}
	if t.kind != targetEntity {
		return ErrInvalidTarget.Withf("Execute needs an entity target <domain>.<id>, not %q", target)
	}
	if key == "" || len(key) > 255 {
		return failure.New(failure.Invalid, "invalid_key", "Execute needs a key of 1 to 255 characters")
	}
	if command == "" {
		return failure.New(failure.Invalid, "invalid_command", "Execute needs a command")
	}
	ctx, cancel := b.withDeadline(ctx)
	defer cancel()
	_, err = b.queues.Enqueue(ctx, CommandsQueue(t.domain), queue.Message{Type: command, Payload: payload, Properties: t.name},
		queue.EnqueueOptions{Dedup: "execute/" + t.name + "/" + key})
	if err != nil {
		if errors.Is(err, queue.ErrQueueNotFound) {
			return ErrNoResponders.Withf("nobody owns the queue %s", CommandsQueue(t.domain))
		}
		return transport(err)
	}
	return nil
}
