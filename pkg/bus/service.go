package bus

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"uneventful.dev/uneventful/pkg/failure"
	"uneventful.dev/uneventful/pkg/forward"
	"uneventful.dev/uneventful/pkg/microapi"
	"uneventful.dev/uneventful/pkg/queue"
)

// Headers of a service call.
const (
	CommandHeader  = "Uneventful-Command"  // the command's name
	DeadlineHeader = "Uneventful-Deadline" // the call's deadline, RFC 3339 with nanoseconds
)

// callService calls a named service (forward.Serve: its instances form a queue group,
// so one of them answers). A reply with the micro error headers is a failure (4xx code
// or none) or an error (5xx), its body the failure's payload.
func (b *Bus) callService(ctx context.Context, name, cmd string, payload []byte) (json.RawMessage, error) {
	req := &nats.Msg{Subject: forward.ServiceSubject(name), Data: payload, Header: nats.Header{}}
	if cmd != "" {
		req.Header.Set(CommandHeader, cmd)
	}
	dl, _ := ctx.Deadline()
	req.Header.Set(DeadlineHeader, dl.UTC().Format(time.RFC3339Nano))
	resp, err := b.nc.RequestMsgWithContext(ctx, req)
	if err != nil {
		return nil, transport(err)
	}
	if fe := microapi.ErrorFrom(resp.Header); fe != nil {
		return nil, answered(fe, resp.Data)
	}
	return resp.Data, nil
}

// callQueue sends a queue operation (cmd: enqueue, dequeue, commit, rollback, browse,
// restore, clear, remove) to the queue's owner: payload is a JSON object with the
// operation's other fields (queue's wire protocol), the reply the owner's answer.
func (b *Bus) callQueue(ctx context.Context, name, cmd string, payload []byte) (json.RawMessage, error) {
	if len(bytes.TrimSpace(payload)) == 0 {
		payload = []byte("{}")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(payload, &fields); err != nil || fields == nil {
		return nil, failure.New(failure.Invalid, "invalid_payload", "a queue operation's payload is a JSON object")
	}
	fields["op"] = json.RawMessage(strconv.Quote(cmd))
	body, _ := json.Marshal(fields)
	resp, err := b.nc.RequestWithContext(ctx, queue.Subject(name), body)
	if err != nil {
		return nil, transport(err)
	}
	var answer struct {
		Error *failure.Error `json:"error"`
	}
	if err := json.Unmarshal(resp.Data, &answer); err != nil {
		return nil, failure.New(failure.Internal, "bad_reply", "the queue's reply is not JSON: "+err.Error())
	}
	if answer.Error != nil {
		return nil, answered(answer.Error, nil)
	}
	return resp.Data, nil
}
