package wallet

import (
	"strconv"
	"strings"

	"uneventful.dev/uneventful/pkg/failure"
)

// Amount is an exact amount of money in hundredths (cents). It marshals to JSON as a
// decimal string with two places ("5.00") and unmarshals from a JSON number or string
// with at most two decimal places.
type Amount int64

const (
	// MaxCommandAmount is the largest amount one credit or debit may carry: 1,000,000,000.00.
	MaxCommandAmount Amount = 1_000_000_000_00
	// MaxBalance is the largest balance a wallet may hold: 1,000,000,000,000,000.00.
	MaxBalance Amount = 1_000_000_000_000_000_00
	// maxIntegerDigits bounds parsing so that no input can overflow int64.
	maxIntegerDigits = 16
)

// ParseAmount parses a decimal such as "5", "5.5" or "5.05" (digits, at most two decimal
// places, no sign, no exponent, no leading zeros) into an Amount.
func ParseAmount(s string) (Amount, error) {
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" || !digits(intPart) || (hasDot && (frac == "" || !digits(frac))) {
		return 0, invalidAmount("amount must be a decimal number like 5 or 5.25, got %q", s)
	}
	if len(intPart) > 1 && intPart[0] == '0' {
		return 0, invalidAmount("amount must not have leading zeros, got %q", s)
	}
	if len(frac) > 2 {
		return 0, invalidAmount("amount must have at most 2 decimal places, got %q", s)
	}
	if len(intPart) > maxIntegerDigits {
		return 0, invalidAmount("amount must be at most %s", MaxCommandAmount)
	}
	units, _ := strconv.ParseInt(intPart, 10, 64)
	cents := int64(0)
	if frac != "" {
		cents, _ = strconv.ParseInt((frac + "0")[:2], 10, 64)
	}
	return Amount(units*100 + cents), nil
}

// UnmarshalJSON accepts a JSON number (5, 5.25) or a string ("5.25").
func (a *Amount) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	if strings.HasPrefix(s, "-") {
		return invalidAmount("amount must be positive, got %s", string(b))
	}
	v, err := ParseAmount(s)
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// MarshalJSON writes the amount as a decimal string with two places.
func (a Amount) MarshalJSON() ([]byte, error) { return []byte(`"` + a.String() + `"`), nil }

// String formats the amount with two decimal places, e.g. "5.00".
func (a Amount) String() string {
	v := int64(a)
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	cents := strconv.FormatInt(v%100, 10)
	if len(cents) == 1 {
		cents = "0" + cents
	}
	return sign + strconv.FormatInt(v/100, 10) + "." + cents
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func invalidAmount(format string, args ...any) error {
	return failure.Newf(failure.Invalid, "invalid_amount", format, args...)
}
