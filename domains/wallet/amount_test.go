package wallet_test

import (
	"encoding/json"
	"strings"
	"testing"

	"uneventful.dev/uneventful/domains/wallet"
	"uneventful.dev/uneventful/pkg/failure"
)

func TestParseAmount(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want wallet.Amount
		ok   bool
	}{
		{"integer", "5", 500, true},
		{"one decimal", "5.5", 550, true},
		{"two decimals", "5.05", 505, true},
		{"one cent", "0.01", 1, true},
		{"zero point five", "0.5", 50, true},
		{"trailing zeros", "5.00", 500, true},
		{"max command", "1000000000", wallet.MaxCommandAmount, true},
		{"max balance", "1000000000000000.00", wallet.MaxBalance, true},
		{"sixteen digits", "9999999999999999.99", 999999999999999999, true},
		{"zero parses (positivity is ParseCommand's job)", "0", 0, true},
		{"empty", "", 0, false},
		{"leading dot", ".5", 0, false},
		{"trailing dot", "5.", 0, false},
		{"leading zero", "05", 0, false},
		{"double zero", "00", 0, false},
		{"three decimals", "1.001", 0, false},
		{"three decimals of zeros", "1.000", 0, false},
		{"exponent", "1e2", 0, false},
		{"negative", "-1", 0, false},
		{"negative zero", "-0", 0, false},
		{"plus sign", "+1", 0, false},
		{"letters", "abc", 0, false},
		{"NaN", "NaN", 0, false},
		{"Infinity", "Infinity", 0, false},
		{"leading space", " 5", 0, false},
		{"trailing space", "5 ", 0, false},
		{"inner space", "5 .25", 0, false},
		{"two dots", "5.2.5", 0, false},
		{"comma", "5,25", 0, false},
		{"seventeen digits", "10000000000000000", 0, false},
		{"huge digit string", strings.Repeat("9", 400), 0, false},
		{"huge fraction", "1." + strings.Repeat("0", 400), 0, false},
		{"hex", "0x10", 0, false},
		{"unicode digit", "５", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := wallet.ParseAmount(tc.in)
			if !tc.ok {
				if err == nil {
					t.Fatalf("ParseAmount(%q) = %d, want an error", tc.in, got)
				}
				if k := failure.KindOf(err); k != failure.Invalid {
					t.Fatalf("kind = %q, want %q", k, failure.Invalid)
				}
				if typ := failure.From(err).Type; typ != "invalid_amount" {
					t.Fatalf("type = %q, want invalid_amount", typ)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAmount(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Fatalf("ParseAmount(%q) = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}

func TestAmountUnmarshalJSON(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want wallet.Amount
		ok   bool
	}{
		{"number", `5`, 500, true},
		{"decimal number", `5.5`, 550, true},
		{"two decimals", `5.05`, 505, true},
		{"string", `"5.25"`, 525, true},
		{"cent", `0.01`, 1, true},
		{"billion", `1000000000`, wallet.MaxCommandAmount, true},
		{"zero is parsed", `0`, 0, true},
		{"negative", `-1`, 0, false},
		{"negative zero", `-0`, 0, false},
		{"negative string", `"-5"`, 0, false},
		{"three decimals", `1.001`, 0, false},
		{"exponent", `1e2`, 0, false},
		{"letters", `"abc"`, 0, false},
		{"NaN", `NaN`, 0, false},
		{"NaN string", `"NaN"`, 0, false},
		{"Infinity", `Infinity`, 0, false},
		{"empty string", `""`, 0, false},
		{"empty input", ``, 0, false},
		{"lone quote", `"`, 0, false},
		{"unterminated string", `"5`, 0, false},
		{"leading dot", `".5"`, 0, false},
		{"trailing dot", `"5."`, 0, false},
		{"leading zero", `05`, 0, false},
		{"huge", strings.Repeat("1", 40), 0, false},
		{"space inside string", `" 5"`, 0, false},
		{"space after number", `5 `, 0, false},
		{"escaped digit", `"\u0035"`, 0, false},
		{"true", `true`, 0, false},
		{"null", `null`, 0, false},
		{"object", `{}`, 0, false},
		{"array", `[]`, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := wallet.Amount(-7) // sentinel: an error must leave it untouched
			err := a.UnmarshalJSON([]byte(tc.in))
			if !tc.ok {
				if err == nil {
					t.Fatalf("UnmarshalJSON(%s) = %d, want an error", tc.in, a)
				}
				if k := failure.KindOf(err); k != failure.Invalid {
					t.Fatalf("kind = %q, want %q", k, failure.Invalid)
				}
				if a != -7 {
					t.Fatalf("failed UnmarshalJSON changed the amount to %d", a)
				}
				return
			}
			if err != nil {
				t.Fatalf("UnmarshalJSON(%s): %v", tc.in, err)
			}
			if a != tc.want {
				t.Fatalf("UnmarshalJSON(%s) = %d, want %d", tc.in, a, tc.want)
			}
		})
	}
}

func TestAmountStringAndJSON(t *testing.T) {
	tests := []struct {
		name string
		in   wallet.Amount
		want string
	}{
		{"zero", 0, "0.00"},
		{"one cent", 1, "0.01"},
		{"ten cents", 10, "0.10"},
		{"five", 500, "5.00"},
		{"five and a half", 550, "5.50"},
		{"five oh five", 505, "5.05"},
		{"max command", wallet.MaxCommandAmount, "1000000000.00"},
		{"max balance", wallet.MaxBalance, "1000000000000000.00"},
		{"negative cent", -1, "-0.01"},
		{"negative", -12345, "-123.45"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.in.String(); got != tc.want {
				t.Fatalf("String() = %q, want %q", got, tc.want)
			}
			b, err := json.Marshal(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != `"`+tc.want+`"` {
				t.Fatalf("json = %s, want %q", b, tc.want)
			}
			if tc.in < 0 {
				return
			}
			var back wallet.Amount
			if err := json.Unmarshal(b, &back); err != nil || back != tc.in {
				t.Fatalf("round trip of %s = %d, %v; want %d", b, back, err, tc.in)
			}
		})
	}
}
