package wallet

import (
	"encoding/json"
	"testing"
)

// decodeChange's direct path must agree with encoding/json on every input.
func TestDecodeChangeAgreesWithJSON(t *testing.T) {
	inputs := []string{
		`{"amount":"5.00","balance":"15.00"}`,
		`{"amount":"0.01","balance":"0.01"}`,
		`{"amount":"1000000000.00","balance":"10000000000000.00"}`,
		`{"amount":"5","balance":"7.5"}`,
		`{"amount":"5.00"}`,
		`{"amount":5,"balance":"5.00"}`,
		`{"amount":"-5.00","balance":"5.00"}`,
		`{"amount":"5.001","balance":"5.00"}`,
		`{"amount":"5.00","balance":"x"}`,
		`{"amount":"5.00","balance":"5.00"}x`,
		`{"amount":"","balance":"5.00"}`,
		`{"amount":"5.00","balance":"5.00","amount":"9.00"}`,
		`{"amount":"5.00", "balance":"5.00"}`,
		`{"amount":"5\"","balance":"5.00"}`,
	}
	for _, in := range inputs {
		got, gerr := decodeChange([]byte(in))
		var want change
		werr := json.Unmarshal([]byte(in), &want)
		if (gerr == nil) != (werr == nil) {
			t.Errorf("%s: decodeChange error %v, encoding/json error %v", in, gerr, werr)
			continue
		}
		if gerr != nil {
			continue
		}
		if got.Amount != want.Amount || (got.Balance == nil) != (want.Balance == nil) || (got.Balance != nil && *got.Balance != *want.Balance) {
			t.Errorf("%s: decodeChange %+v, encoding/json %+v", in, got, want)
		}
	}
}

func FuzzDecodeChange(f *testing.F) {
	f.Add([]byte(`{"amount":"5.00","balance":"15.00"}`))
	f.Add([]byte(`{"amount":"5.00","balance":"5.00","amount":"9.00"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, gerr := decodeChange(b)
		var want change
		werr := json.Unmarshal(b, &want)
		if (gerr == nil) != (werr == nil) {
			t.Fatalf("%q: decodeChange error %v, encoding/json error %v", b, gerr, werr)
		}
		if gerr == nil && got.Amount != want.Amount {
			t.Fatalf("%q: amount %v, encoding/json %v", b, got.Amount, want.Amount)
		}
	})
}
