package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// `uneventful call` prints the reply or the failure, with an exit status for each
// outcome: 0 reply, 1 error, 2 usage, 3 failure, 4 not found.
func TestCallExitStatuses(t *testing.T) {
	s := stacktest.Start(t)
	url := s.NATS.ClientURL()
	nc := stacktest.Connect(t, s.NATS)
	sub, err := nc.QueueSubscribe("uneventful.service.silent", "service", func(*nats.Msg) {}) // never answers
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe() //nolint:errcheck
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	id := event.NewID()
	tests := []struct {
		name string
		args []string
		code int
		out  string // a part of stdout
	}{
		{"reply", []string{"call", "wallet.credit", id, `{"amount": 5}`, "-nats", url}, 0, `"balance":"5.00"`},
		{"failure", []string{"call", "wallet.debit", id, `{"amount": 50}`, "-nats", url}, exitFailure, `"type":"insufficient_funds"`},
		{"stale version", []string{"call", "-nats", url, "-if-version", "0", "wallet.credit", id, `{"amount": 1}`}, exitFailure, `"type":"version_mismatch"`},
		{"nobody serves the domain", []string{"call", "nowhere.credit", id, `{"amount": 5}`, "-nats", url}, exitNotFound, ""},
		{"nobody serves the service", []string{"call", "service.nobody", "-nats", url}, exitNotFound, ""},
		{"unknown command", []string{"call", "wallet.frobnicate", id, `{"amount": 5}`, "-nats", url}, exitNotFound, `"type":"unknown_command"`},
		{"timeout", []string{"call", "service.silent", "{}", "-timeout", "200ms", "-nats", url}, exitError, ""},
		{"no id", []string{"call", "wallet.credit", "-nats", url}, exitUsage, ""},
		{"no command", []string{"call", "-nats", url}, exitUsage, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := cli(t, "", tc.args...)
			if got := exitCode(err); got != tc.code {
				t.Fatalf("exit status %d (%v), want %d; output %s", got, err, tc.code, out)
			}
			if !strings.Contains(out, tc.out) {
				t.Fatalf("output %q, want it to hold %s", out, tc.out)
			}
			if tc.out != "" && !json.Valid([]byte(out)) {
				t.Fatalf("output %q is not JSON", out)
			}
		})
	}
}
