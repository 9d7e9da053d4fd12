package service_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// The writer's NATS protocol from a raw client: a message is a JSON array of requests and
// is answered with an array of replies in the same order; a message it cannot read gets
// one error for all of it, and nothing is written.
func TestWriterProtocolFromARawClient(t *testing.T) {
	s := stacktest.Start(t)
	nc := stacktest.Connect(t, s.NATS)
	id := newWallet()
	subject := command.Subject(command.KindCommand, "wallet", id, command.DefaultPartitions)
	ask := func(body string) string {
		t.Helper()
		m, err := nc.Request(subject, []byte(body), 5*time.Second)
		if err != nil {
			t.Fatalf("request %q: %v", body, err)
		}
		return string(m.Data)
	}
	for _, bad := range []string{`not json`, `[]`, `{"kind":"command"}`, `[1,2]`, `null`} {
		if got := ask(bad); !strings.HasPrefix(got, `{"error":{"kind":"invalid","type":"invalid_request"`) {
			t.Errorf("message %q: reply %s, want one invalid_request error", bad, got)
		}
	}
	credit := `{"kind":"command","entity":"` + id + `","command":"credit","data":{"amount":"5.00"}}`
	got := ask(`[` + credit + `,{"kind":"command","entity":"bad id!"},` + credit + `]`)
	var replies []command.Reply
	if err := json.Unmarshal([]byte(got), &replies); err != nil || len(replies) != 3 {
		t.Fatalf("reply %s: want an array of 3 replies", got)
	}
	if replies[0].Error != nil || replies[0].Version != 1 || replies[2].Error != nil || replies[2].Version != 2 {
		t.Errorf("credits answered %s, want versions 1 and 2 in order", got)
	}
	if replies[1].Error == nil || replies[1].Error.Type != "invalid_id" {
		t.Errorf("bad entity answered %+v, want invalid_id", replies[1])
	}
	var rows int
	if err := walletDB(t, s).QueryRow(`SELECT count(*) FROM event`).Scan(&rows); err != nil || rows != 2 {
		t.Errorf("event rows %d (%v), want 2: one per credit, none for the rest", rows, err)
	}
}
