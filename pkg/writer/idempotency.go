package writer

// Idempotency: a command whose key was seen before is answered with the first result, or
// refused if the key came with a different request.

import (
	"context"

	"uneventful.dev/uneventful/pkg/aggregate"
	"uneventful.dev/uneventful/pkg/failure"
)

// replayed answers p from an earlier command with the same idempotency key, if any.
func (w *Writer[S]) replayed(ctx context.Context, p *pending, cmd aggregate.Command, inBatch map[string]*pending) bool {
	k := p.stream + "\x00" + p.req.IdempotencyKey
	if first, ok := inBatch[k]; ok {
		if first.row == nil { // the first was refused without being recorded
			p.reply = first.reply
		} else {
			p.reply = sameRequest(first.row.Command, string(first.row.Data), cmd, first.reply)
		}
		return true
	}
	if prior, ok := w.keys.get(k); ok {
		p.reply = sameRequest(prior.command, prior.data, cmd, prior.result)
		return true
	}
	row, ok, err := w.store.FindIdempotent(ctx, p.stream, p.req.IdempotencyKey)
	if err != nil {
		p.reply = errorReply(err)
		return true
	}
	if ok {
		p.reply = sameRequest(row.Command, string(row.Data), cmd, row.Result)
		return true
	}
	inBatch[k] = p
	return false
}

// sameRequest returns the first result if cmd is the request first made with the key.
func sameRequest(command, data string, cmd aggregate.Command, result []byte) []byte {
	if command != cmd.Type || data != string(cmd.Data) {
		return errorReply(failure.New(failure.Conflict, "idempotency_key_reused", "this Idempotency-Key was used for a different request"))
	}
	return result
}
