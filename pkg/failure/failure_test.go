package failure

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
)

func TestIsByKindAndType(t *testing.T) {
	sentinel := New(Rejected, "insufficient_funds", "the balance is too low")
	other := New(Rejected, "frozen_attribute", "frozen")
	// a failure decoded from a reply is a new value with its own message
	var wire Error
	if err := json.Unmarshal([]byte(`{"kind":"rejected","type":"insufficient_funds","message":"balance 0.00 is less than 5.00"}`), &wire); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"same sentinel", sentinel, sentinel, true},
		{"decoded, other message", &wire, sentinel, true},
		{"wrapped", fmt.Errorf("decide: %w", &wire), sentinel, true},
		{"joined", errors.Join(errors.New("x"), sentinel.With("detail")), sentinel, true},
		{"by kind", fmt.Errorf("x: %w", &wire), Rejected, true},
		{"other kind", &wire, Invalid, false},
		{"same kind, other type", other, sentinel, false},
		{"same type, other kind", New(Conflict, "insufficient_funds", ""), sentinel, false},
		{"plain error", errors.New("insufficient_funds: the balance is too low"), sentinel, false},
		{"plain error is no kind", errors.New("internal"), Internal, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := errors.Is(tc.err, tc.target); got != tc.want {
				t.Fatalf("errors.Is(%v, %v) = %v, want %v", tc.err, tc.target, got, tc.want)
			}
		})
	}
}

func TestWithKeepsIdentity(t *testing.T) {
	sentinel := New(Unavailable, "store_unavailable", "retry later")
	e := sentinel.Withf("commit: %s", "database is locked")
	if e == sentinel || e.Message != "commit: database is locked" || !errors.Is(e, sentinel) {
		t.Fatalf("With: %#v", e)
	}
	if sentinel.Message != "retry later" {
		t.Fatalf("the sentinel changed: %q", sentinel.Message)
	}
}

func TestFromWrapsUnknownAsInternal(t *testing.T) {
	fe := From(errors.New("boom"))
	if fe.Kind != Internal || fe.Type != "internal" || !errors.Is(fe, Internal) {
		t.Fatalf("From: %#v", fe)
	}
	if From(nil) != nil || KindOf(nil) != "" {
		t.Fatal("nil is no failure")
	}
}
