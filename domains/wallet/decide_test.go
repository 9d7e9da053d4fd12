package wallet_test

import (
	"encoding/json"
	"testing"

	"uneventful.dev/uneventful/domains/wallet"
	"uneventful.dev/uneventful/pkg/aggregate"
	"uneventful.dev/uneventful/pkg/failure"
)

func cmd(typ, data string) aggregate.Command {
	return aggregate.Command{Type: typ, Data: json.RawMessage(data)}
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name      string
		balance   wallet.Amount
		cmd       aggregate.Command
		wantEvent string // event type and data when accepted
		wantData  string
		wantKind  failure.Kind // when refused
		wantType  string
	}{
		{"credit empty wallet", 0, cmd("credit", `{"amount":"5.00"}`), "credited", `{"amount":"5.00","balance":"5.00"}`, "", ""},
		{"credit adds", 525, cmd("credit", `{"amount":"0.75"}`), "credited", `{"amount":"0.75","balance":"6.00"}`, "", ""},
		{"debit whole balance", 500, cmd("debit", `{"amount":"5.00"}`), "debited", `{"amount":"5.00","balance":"0.00"}`, "", ""},
		{"debit part", 1000, cmd("debit", `{"amount":"2.50"}`), "debited", `{"amount":"2.50","balance":"7.50"}`, "", ""},
		{"credit up to max balance", wallet.MaxBalance - 1, cmd("credit", `{"amount":"0.01"}`), "credited", `{"amount":"0.01","balance":"1000000000000000.00"}`, "", ""},
		{"debit empty wallet", 0, cmd("debit", `{"amount":"0.01"}`), "", "", failure.Rejected, "insufficient_funds"},
		{"debit short by a cent", 499, cmd("debit", `{"amount":"5.00"}`), "", "", failure.Rejected, "insufficient_funds"},
		{"credit at max balance", wallet.MaxBalance, cmd("credit", `{"amount":"0.01"}`), "", "", failure.Rejected, "balance_limit"},
		{"credit over max balance", wallet.MaxBalance - 100, cmd("credit", `{"amount":"1.01"}`), "", "", failure.Rejected, "balance_limit"},
		{"garbage data", 500, cmd("credit", `garbage`), "", "", failure.Invalid, "invalid_command"},
		{"missing data", 500, cmd("debit", ``), "", "", failure.Invalid, "invalid_command"},
		{"zero amount", 500, cmd("debit", `{"amount":"0"}`), "", "", failure.Invalid, "invalid_command"},
		{"over max command", 0, cmd("credit", `{"amount":"1000000000.01"}`), "", "", failure.Invalid, "invalid_command"},
		{"unknown command", 500, cmd("refund", `{"amount":"1"}`), "", "", failure.Invalid, "unknown_command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			events, err := wallet.Domain{}.Decide(wallet.State{Balance: tc.balance}, 7, tc.cmd)
			if tc.wantKind != "" {
				if err == nil {
					t.Fatalf("Decide = %v, want %s", events, tc.wantType)
				}
				if fe := failure.From(err); fe.Kind != tc.wantKind || fe.Type != tc.wantType {
					t.Fatalf("error = %s/%s (%v), want %s/%s", fe.Kind, fe.Type, err, tc.wantKind, tc.wantType)
				}
				if events != nil {
					t.Fatalf("refused command produced events %v", events)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decide: %v", err)
			}
			if len(events) != 1 || events[0].Type != tc.wantEvent || string(events[0].Data) != tc.wantData {
				t.Fatalf("events = %+v, want one %s %s", events, tc.wantEvent, tc.wantData)
			}
			// Evolve agrees with the balance the event records.
			s, err := wallet.Domain{}.Evolve(wallet.State{Balance: tc.balance}, events[0])
			if err != nil {
				t.Fatalf("Evolve: %v", err)
			}
			var recorded struct{ Balance wallet.Amount }
			if err := json.Unmarshal(events[0].Data, &recorded); err != nil || recorded.Balance != s.Balance {
				t.Fatalf("Evolve gives %s, event records %s (%v)", s.Balance, recorded.Balance, err)
			}
		})
	}
}

func TestEvolve(t *testing.T) {
	tests := []struct {
		name     string
		balance  wallet.Amount
		event    aggregate.Event
		want     wallet.Amount
		wantType string // failure type (kind Internal) when refused
	}{
		{"credited", 100, aggregate.Event{Type: "credited", Data: json.RawMessage(`{"amount":"5.00","balance":"6.00"}`)}, 600, ""},
		{"debited", 600, aggregate.Event{Type: "debited", Data: json.RawMessage(`{"amount":"5.00","balance":"1.00"}`)}, 100, ""},
		{"balance field is not trusted", 0, aggregate.Event{Type: "credited", Data: json.RawMessage(`{"amount":"1.00","balance":"99.00"}`)}, 100, ""},
		{"unknown event", 100, aggregate.Event{Type: "refunded", Data: json.RawMessage(`{"amount":"1.00"}`)}, 100, "unknown_event"},
		{"empty type", 100, aggregate.Event{Data: json.RawMessage(`{"amount":"1.00"}`)}, 100, "unknown_event"},
		{"corrupt data", 100, aggregate.Event{Type: "credited", Data: json.RawMessage(`{`)}, 100, "corrupt_event"},
		{"no data", 100, aggregate.Event{Type: "debited"}, 100, "corrupt_event"},
		{"bad amount", 100, aggregate.Event{Type: "credited", Data: json.RawMessage(`{"amount":"-1"}`)}, 100, "corrupt_event"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := wallet.Domain{}.Evolve(wallet.State{Balance: tc.balance}, tc.event)
			if tc.wantType != "" {
				if fe := failure.From(err); err == nil || fe.Kind != failure.Internal || fe.Type != tc.wantType {
					t.Fatalf("Evolve error = %v, want internal/%s", err, tc.wantType)
				}
			} else if err != nil {
				t.Fatalf("Evolve: %v", err)
			}
			if s.Balance != tc.want {
				t.Fatalf("balance = %s, want %s", s.Balance, tc.want)
			}
		})
	}
}

// TestDecideEvolveSequence folds a sequence of commands the way a writer does.
func TestDecideEvolveSequence(t *testing.T) {
	d := wallet.Domain{}
	steps := []struct {
		cmd      aggregate.Command
		wantKind failure.Kind
		balance  wallet.Amount
	}{
		{cmd("debit", `{"amount":5}`), failure.Rejected, 0},
		{cmd("credit", `{"amount":10}`), "", 1000},
		{cmd("debit", `{"amount":"10.01"}`), failure.Rejected, 1000},
		{cmd("debit", `{"amount":"9.99"}`), "", 1},
		{cmd("debit", `{"amount":0.01}`), "", 0},
	}
	var s wallet.State
	for i, st := range steps {
		parsed, err := d.ParseCommand(st.cmd.Type, st.cmd.Data)
		if err != nil {
			t.Fatalf("step %d: ParseCommand: %v", i, err)
		}
		events, err := d.Decide(s, int64(i), parsed)
		if k := failure.KindOf(err); k != st.wantKind {
			t.Fatalf("step %d: kind %q (%v), want %q", i, k, err, st.wantKind)
		}
		for _, e := range events {
			if s, err = d.Evolve(s, e); err != nil {
				t.Fatalf("step %d: Evolve: %v", i, err)
			}
		}
		if s.Balance != st.balance {
			t.Fatalf("step %d: balance %s, want %s", i, s.Balance, st.balance)
		}
	}
}
