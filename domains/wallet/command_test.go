package wallet_test

import (
	"encoding/json"
	"strings"
	"testing"

	"uneventful.dev/uneventful/domains/wallet"
	"uneventful.dev/uneventful/pkg/failure"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		name     string
		typ      string
		body     string
		wantData string // canonical data when accepted
		wantType string // failure type when refused
	}{
		{"credit number", wallet.CmdCredit, `{"amount": 5}`, `{"amount":"5.00"}`, ""},
		{"debit string", wallet.CmdDebit, `{"amount":"5.25"}`, `{"amount":"5.25"}`, ""},
		{"surrounding whitespace", wallet.CmdCredit, " \n{\"amount\":0.01}\t ", `{"amount":"0.01"}`, ""},
		{"max command amount", wallet.CmdCredit, `{"amount":1000000000}`, `{"amount":"1000000000.00"}`, ""},
		{"unknown command", "transfer", `{"amount":5}`, "", "unknown_command"},
		{"empty command", "", `{"amount":5}`, "", "unknown_command"},
		{"command case matters", "Credit", `{"amount":5}`, "", "unknown_command"},
		{"empty body", wallet.CmdCredit, ``, "", "invalid_body"},
		{"blank body", wallet.CmdCredit, "  \n ", "", "invalid_body"},
		{"not json", wallet.CmdCredit, `amount=5`, "", "invalid_json"},
		{"array", wallet.CmdCredit, `[{"amount":5}]`, "", "invalid_json"},
		{"string", wallet.CmdCredit, `"5"`, "", "invalid_json"},
		{"number", wallet.CmdCredit, `5`, "", "invalid_json"},
		{"null", wallet.CmdCredit, `null`, "", "invalid_json"},
		{"trailing garbage", wallet.CmdCredit, `{"amount":5}x`, "", "invalid_json"},
		{"missing amount", wallet.CmdCredit, `{}`, "", "invalid_amount"},
		{"amount wrong case", wallet.CmdCredit, `{"Amount":5}`, "", "invalid_amount"},
		{"unknown field", wallet.CmdCredit, `{"amount":5,"memo":"x"}`, "", "unknown_field"},
		{"zero", wallet.CmdCredit, `{"amount":0}`, "", "invalid_amount"},
		{"zero string", wallet.CmdDebit, `{"amount":"0.00"}`, "", "invalid_amount"},
		{"negative", wallet.CmdDebit, `{"amount":-5}`, "", "invalid_amount"},
		{"over max by a cent", wallet.CmdCredit, `{"amount":"1000000000.01"}`, "", "invalid_amount"},
		{"way over max", wallet.CmdCredit, `{"amount":9999999999999999}`, "", "invalid_amount"},
		{"huge digits", wallet.CmdCredit, `{"amount":` + strings.Repeat("9", 100) + `}`, "", "invalid_amount"},
		{"null amount", wallet.CmdCredit, `{"amount":null}`, "", "invalid_amount"},
		{"bool amount", wallet.CmdCredit, `{"amount":true}`, "", "invalid_amount"},
		{"object amount", wallet.CmdCredit, `{"amount":{}}`, "", "invalid_amount"},
		{"array amount", wallet.CmdCredit, `{"amount":[]}`, "", "invalid_amount"},
		{"exponent amount", wallet.CmdCredit, `{"amount":1e2}`, "", "invalid_amount"},
		{"three decimals", wallet.CmdCredit, `{"amount":1.001}`, "", "invalid_amount"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd, err := wallet.Domain{}.ParseCommand(tc.typ, []byte(tc.body))
			if tc.wantType != "" {
				if err == nil {
					t.Fatalf("ParseCommand(%q, %q) = %+v, want %s", tc.typ, tc.body, cmd, tc.wantType)
				}
				fe := failure.From(err)
				if fe.Kind != failure.Invalid || fe.Type != tc.wantType {
					t.Fatalf("error = %s/%s (%v), want invalid/%s", fe.Kind, fe.Type, err, tc.wantType)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseCommand(%q, %q): %v", tc.typ, tc.body, err)
			}
			if cmd.Type != tc.typ || string(cmd.Data) != tc.wantData {
				t.Fatalf("command = %s %s, want %s %s", cmd.Type, cmd.Data, tc.typ, tc.wantData)
			}
			again, err := wallet.Domain{}.ParseCommand(cmd.Type, cmd.Data)
			if err != nil || string(again.Data) != string(cmd.Data) {
				t.Fatalf("canonical form is not stable: %s -> %s, %v", cmd.Data, again.Data, err)
			}
		})
	}
}

func TestDomainDescription(t *testing.T) {
	d := wallet.Domain{}
	if d.Name() != "wallet" {
		t.Fatalf("Name() = %q", d.Name())
	}
	if got, _ := json.Marshal(d.Commands()); string(got) != `["credit","debit"]` {
		t.Fatalf("Commands() = %s", got)
	}
	state, events := d.Views()
	if len(state) != 1 || state[0] != "balance" || len(events) != 1 || events[0] != "transactions" {
		t.Fatalf("Views() = %v, %v", state, events)
	}
}
