package writer

import (
	"encoding/json"
	"testing"

	"uneventful.dev/uneventful/domains/wallet"
	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/failure"
)

// FuzzRequest feeds arbitrary NATS message bodies through what the writer does with
// outside input before deciding: decode, check the entity id, parse the command. Nothing
// may panic, and whatever is refused is refused as invalid.
func FuzzRequest(f *testing.F) {
	for _, s := range []string{
		`{"kind":"command","entity":"28skwt5B8zTrs6AqBWrSgCHLcRL","command":"credit","data":{"amount":"5.00"}}`,
		`{"kind":"load","entity":"28skwt5B8zTrs6AqBWrSgCHLcRL"}`,
		`{"kind":"command","entity":"../../etc","command":"debit","data":{"amount":1e999}}`,
		`{"kind":"command","entity":"x","command":"credit","data":"not an object","expected_version":-1}`,
		`[]`, `null`, `{"data":{"amount":NaN}}`, ``,
	} {
		f.Add([]byte(s))
	}
	d := wallet.Domain{}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req command.Request
		if err := json.Unmarshal(body, &req); err != nil {
			return
		}
		if err := validEntity(req.Entity); err != nil {
			if failure.KindOf(err) != failure.Invalid {
				t.Fatalf("entity %q refused as %s", req.Entity, failure.KindOf(err))
			}
			return
		}
		cmd, err := d.ParseCommand(req.Command, req.Data)
		if err != nil {
			if failure.KindOf(err) != failure.Invalid {
				t.Fatalf("command refused as %s: %v", failure.KindOf(err), err)
			}
			return
		}
		if _, err := d.Decide(wallet.State{}, 0, cmd); err != nil && failure.KindOf(err) != failure.Rejected {
			t.Fatalf("a parsed command failed Decide with %v", err)
		}
	})
}
