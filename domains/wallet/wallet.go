// Package wallet is the reference domain: wallets that are credited and debited with exact
// amounts. It is pure: no I/O, no infrastructure imports.
package wallet

import (
	"bytes"
	"encoding/json"

	"uneventful.dev/uneventful/pkg/aggregate"
	"uneventful.dev/uneventful/pkg/failure"
)

// Command and event types.
const (
	CmdCredit     = "credit"
	CmdDebit      = "debit"
	EventCredited = "credited"
	EventDebited  = "debited"
)

// State is a wallet's state. The zero value is a wallet never written (balance 0).
type State struct {
	Balance Amount `json:"balance"`
}

// change is the data of both commands ({"amount": ...}) and both events
// ({"amount": ..., "balance": ...}, the balance after the change).
type change struct {
	Amount  Amount  `json:"amount"`
	Balance *Amount `json:"balance,omitempty"`
}

// Domain implements aggregate.Domain[State].
type Domain struct{}

var _ aggregate.Domain[State] = Domain{}

// Name returns "wallet".
func (Domain) Name() string { return "wallet" }

// ParseCommand validates a credit or debit body: a JSON object with exactly one field,
// "amount", between 0.01 and MaxCommandAmount.
func (Domain) ParseCommand(typ string, body []byte) (aggregate.Command, error) {
	if typ != CmdCredit && typ != CmdDebit {
		return aggregate.Command{}, failure.Newf(failure.Invalid, "unknown_command", "unknown wallet command %q", typ)
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return aggregate.Command{}, failure.New(failure.Invalid, "invalid_body", `body must be a JSON object like {"amount": 5}`)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return aggregate.Command{}, failure.New(failure.Invalid, "invalid_json", `body must be a JSON object like {"amount": 5}`)
	}
	amountJSON, ok := raw["amount"]
	if !ok {
		return aggregate.Command{}, failure.New(failure.Invalid, "invalid_amount", `"amount" is required`)
	}
	for k := range raw {
		if k != "amount" {
			return aggregate.Command{}, failure.Newf(failure.Invalid, "unknown_field", "unknown field %q", k)
		}
	}
	var amount Amount
	if err := amount.UnmarshalJSON(amountJSON); err != nil {
		return aggregate.Command{}, err
	}
	if amount <= 0 {
		return aggregate.Command{}, failure.New(failure.Invalid, "invalid_amount", "amount must be at least 0.01")
	}
	if amount > MaxCommandAmount {
		return aggregate.Command{}, failure.Newf(failure.Invalid, "invalid_amount", "amount must be at most %s", MaxCommandAmount)
	}
	data, _ := json.Marshal(change{Amount: amount})
	return aggregate.Command{Type: typ, Data: data}, nil
}

// Decide credits or debits the wallet. cmd comes from ParseCommand. A debit beyond the
// balance is rejected as insufficient_funds; a credit beyond MaxBalance as balance_limit.
func (d Domain) Decide(s State, _ int64, cmd aggregate.Command) ([]aggregate.Event, error) {
	var c change
	if err := json.Unmarshal(cmd.Data, &c); err != nil || c.Amount <= 0 || c.Amount > MaxCommandAmount {
		return nil, failure.New(failure.Invalid, "invalid_command", "the command was not made by ParseCommand")
	}
	var typ string
	var balance Amount
	switch cmd.Type {
	default:
		return nil, failure.Newf(failure.Invalid, "unknown_command", "unknown wallet command %q", cmd.Type)
	case CmdCredit:
		if c.Amount > MaxBalance-s.Balance {
			return nil, failure.Newf(failure.Rejected, "balance_limit", "a wallet holds at most %s", MaxBalance)
		}
		typ, balance = EventCredited, s.Balance+c.Amount
	case CmdDebit:
		if c.Amount > s.Balance {
			return nil, failure.Newf(failure.Rejected, "insufficient_funds", "balance %s is less than %s", s.Balance, c.Amount)
		}
		typ, balance = EventDebited, s.Balance-c.Amount
	}
	data, _ := json.Marshal(change{Amount: c.Amount, Balance: &balance})
	return []aggregate.Event{{Type: typ, Data: data}}, nil
}

// Evolve applies credited or debited to the state.
func (Domain) Evolve(s State, e aggregate.Event) (State, error) {
	c, err := decodeChange(e.Data)
	if err != nil {
		return s, failure.Newf(failure.Internal, "corrupt_event", "wallet event %s: %v", e.Type, err)
	}
	switch e.Type {
	case EventCredited:
		s.Balance += c.Amount
	case EventDebited:
		s.Balance -= c.Amount
	default:
		return s, failure.Newf(failure.Internal, "unknown_event", "unknown wallet event %q", e.Type)
	}
	return s, nil
}

// Commands lists the wallet's commands: POST /wallet/{id}/credit and /debit.
func (Domain) Commands() []string { return []string{CmdCredit, CmdDebit} }

// Views names the wallet's read views: /balance shows its state, /transactions its events.
func (Domain) Views() (state, events []string) { return []string{"balance"}, []string{"transactions"} }

// decodeChange reads an event's data. The exact form Decide writes,
// {"amount":"5.00","balance":"15.00"}, is read directly (a replay reads millions of
// them); anything else goes through encoding/json.
func decodeChange(b []byte) (change, error) {
	const amountKey, balanceKey = `{"amount":"`, `","balance":"`
	if rest, ok := bytes.CutPrefix(b, []byte(amountKey)); ok {
		if i := bytes.IndexByte(rest, '"'); i > 0 {
			amount, after := string(rest[:i]), rest[i:]
			if bal, ok := bytes.CutPrefix(after, []byte(balanceKey)); ok && bytes.HasSuffix(bal, []byte(`"}`)) {
				a, aerr := ParseAmount(amount)
				v, verr := ParseAmount(string(bal[:len(bal)-2]))
				if aerr == nil && verr == nil {
					return change{Amount: a, Balance: &v}, nil
				}
			}
		}
	}
	var c change
	err := json.Unmarshal(b, &c)
	return c, err
}
