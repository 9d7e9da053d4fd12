package wallet_test

import (
	"encoding/json"
	"testing"

	"uneventful.dev/uneventful/domains/wallet"
	"uneventful.dev/uneventful/pkg/failure"
)

// FuzzParseAmount: ParseAmount never panics, refuses only with kind Invalid, and an
// accepted amount is non-negative and formats to a string that parses back to it.
func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"5", "5.5", "5.05", "0.01", "0", "1000000000", "9999999999999999.99",
		"", ".5", "5.", "05", "-1", "1e2", "1.001", "abc", "NaN", " 5", "99999999999999999", "1.", "0.00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := wallet.ParseAmount(s)
		if err != nil {
			if k := failure.KindOf(err); k != failure.Invalid {
				t.Fatalf("ParseAmount(%q): kind %q, want invalid", s, k)
			}
			return
		}
		if a < 0 {
			t.Fatalf("ParseAmount(%q) = %d: negative", s, a)
		}
		back, err := wallet.ParseAmount(a.String())
		if err != nil || back != a {
			t.Fatalf("ParseAmount(%q) = %d; String() = %q parses to %d, %v", s, a, a.String(), back, err)
		}
		var viaJSON wallet.Amount
		b, _ := json.Marshal(a)
		if err := json.Unmarshal(b, &viaJSON); err != nil || viaJSON != a {
			t.Fatalf("JSON round trip of %d via %s = %d, %v", a, b, viaJSON, err)
		}
	})
}

// FuzzParseCommand: ParseCommand never panics, refuses only with kind Invalid, and an
// accepted command carries an amount from 0.01 to MaxCommandAmount in canonical form.
func FuzzParseCommand(f *testing.F) {
	f.Add("credit", `{"amount":5}`)
	f.Add("debit", `{"amount":"5.25"}`)
	f.Add("credit", `{"amount":0.01}`)
	f.Add("credit", `{"amount":1000000000}`)
	f.Add("credit", `{"amount":1000000000.01}`)
	f.Add("debit", `{"amount":0}`)
	f.Add("debit", `{"amount":-1}`)
	f.Add("credit", `{"amount":"abc"}`)
	f.Add("credit", `{"amount":5,"x":1}`)
	f.Add("credit", `{}`)
	f.Add("credit", ``)
	f.Add("credit", `[]`)
	f.Add("credit", `null`)
	f.Add("transfer", `{"amount":5}`)
	f.Fuzz(func(t *testing.T, typ, body string) {
		d := wallet.Domain{}
		cmd, err := d.ParseCommand(typ, []byte(body))
		if err != nil {
			if k := failure.KindOf(err); k != failure.Invalid {
				t.Fatalf("ParseCommand(%q, %q): kind %q, want invalid", typ, body, k)
			}
			return
		}
		if cmd.Type != wallet.CmdCredit && cmd.Type != wallet.CmdDebit {
			t.Fatalf("accepted command type %q", cmd.Type)
		}
		var data struct {
			Amount wallet.Amount `json:"amount"`
		}
		if err := json.Unmarshal(cmd.Data, &data); err != nil {
			t.Fatalf("canonical data %s does not decode: %v", cmd.Data, err)
		}
		if data.Amount < 1 || data.Amount > wallet.MaxCommandAmount {
			t.Fatalf("ParseCommand(%q, %q) accepted amount %s", typ, body, data.Amount)
		}
		again, err := d.ParseCommand(cmd.Type, cmd.Data)
		if err != nil || string(again.Data) != string(cmd.Data) {
			t.Fatalf("canonical form is not a fixed point: %s -> %s, %v", cmd.Data, again.Data, err)
		}
	})
}
