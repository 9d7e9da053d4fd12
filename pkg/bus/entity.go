package bus

import (
	"context"
	"encoding/json"

	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/event"
)

// callEntity sends a domain command to the writer owning the entity (package command's
// client: batched lanes, partition subjects) and returns the entity's new state.
func (b *Bus) callEntity(ctx context.Context, t target, cmd string, payload []byte, c call) (json.RawMessage, error) {
	id := event.NewID()
	rep, err := b.writer(t.domain).Send(ctx, command.Request{Kind: command.KindCommand, Entity: t.name, CommandID: id,
		Command: cmd, Data: payload, IdempotencyKey: c.key, ExpectedVersion: c.expected, CorrelationID: id})
	if err != nil {
		return nil, transport(err)
	}
	return rep.State, nil
}
