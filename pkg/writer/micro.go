package writer

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/failure"
	"uneventful.dev/uneventful/pkg/microapi"
)

// serviceAPI makes the writer a NATS micro service to the standard tooling: it answers
// $SRV.PING/INFO/STATS as "<domain>_writer" with an endpoint per request kind (its
// statistics count NATS messages, each a batch of requests), and a reply all of whose
// requests failed carries the micro error headers of the first failure.
type serviceAPI struct {
	svc           *microapi.Service
	command, load *microapi.Endpoint
}

func (w *Writer[S]) advertise() error {
	svc, err := microapi.Advertise(w.nc, microapi.Config{Name: w.name + "_writer",
		Description: "the " + w.name + " domain's writer: requests are JSON arrays of command.Request, replies JSON arrays of command.Reply"})
	if err != nil {
		return err
	}
	w.api = &serviceAPI{svc: svc,
		command: svc.Endpoint(command.KindCommand, command.SubjectOf(command.KindCommand, w.name, "*"), ""),
		load:    svc.Endpoint(command.KindLoad, command.SubjectOf(command.KindLoad, w.name, "*"), "")}
	return nil
}

func (a *serviceAPI) stop() {
	if a != nil {
		a.svc.Stop()
	}
}

// endpoint is the endpoint of a message that came on subject.
func (a *serviceAPI) endpoint(subject string) *microapi.Endpoint {
	switch {
	case a == nil:
		return nil
	case strings.HasPrefix(subject, command.KindLoad+"."):
		return a.load
	default:
		return a.command
	}
}

// errorPrefix starts every failed reply (command.Reply with only Error set).
var errorPrefix = []byte(`{"error":`)

// respond sends the message's replies and records it.
func (in *inbound) respond() {
	reply := &nats.Msg{Subject: in.msg.Reply, Data: command.Frame(in.replies)}
	var desc string
	if fe := allFailed(in.replies); fe != nil {
		reply.Header = nats.Header{}
		microapi.SetError(reply.Header, fe)
		desc = fe.Error()
	}
	in.msg.RespondMsg(reply) //nolint:errcheck // a lost reply is a timeout for the client, who retries
	if in.ep != nil {
		in.ep.Record(time.Since(in.start), desc)
	}
}

// allFailed returns the first failure when every reply is one, else nil.
func allFailed(replies [][]byte) *failure.Error {
	for _, r := range replies {
		if !bytes.HasPrefix(r, errorPrefix) {
			return nil
		}
	}
	var first command.Reply
	if json.Unmarshal(replies[0], &first) != nil || first.Error == nil {
		return nil
	}
	return first.Error
}

// respondFailed answers a message the writer could not read with reply, failure e.
func respondFailed(m *nats.Msg, reply []byte, e *failure.Error) {
	msg := &nats.Msg{Subject: m.Reply, Data: reply, Header: nats.Header{}}
	microapi.SetError(msg.Header, e)
	m.RespondMsg(msg) //nolint:errcheck // the requester times out if this is lost
}
