package wallet

import (
	"encoding/json"
	"testing"

	"uneventful.dev/uneventful/pkg/aggregate"
)

func TestUpcastCentsToDecimals(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"version 1 credited", `{"amount_cents":500,"balance_cents":1500}`, `{"amount":"5.00","balance":"15.00"}`},
		{"version 1 keys in another order", `{"balance_cents":7,"amount_cents":1234}`, `{"amount":"12.34","balance":"0.07"}`},
		{"version 1 without balance", `{"amount_cents":1}`, `{"amount":"0.01"}`},
		{"today's form, stored without a version", `{"amount":"5.00","balance":"15.00"}`, `{"amount":"5.00","balance":"15.00"}`},
		{"neither form: left to Evolve", `{"balance":"1.00"}`, `{"balance":"1.00"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := centsToDecimals(json.RawMessage(tc.in))
			if err != nil || string(got) != tc.want {
				t.Fatalf("centsToDecimals(%s) = %s, %v; want %s", tc.in, got, err, tc.want)
			}
		})
	}
	if _, err := centsToDecimals(json.RawMessage(`{"amount_cents":"x"}`)); err == nil {
		t.Fatal("centsToDecimals accepted amount_cents that is not a number")
	}
}

// TestUpcastedEventsEvolve: a version 1 event, upcast, changes a wallet as version 2 does;
// without the upcaster it would not (Evolve reads version 2 only).
func TestUpcastedEventsEvolve(t *testing.T) {
	var d Domain
	var s State
	for _, e := range []struct{ typ, data string }{
		{EventCredited, `{"amount_cents":1000,"balance_cents":1000}`},
		{EventDebited, `{"amount_cents":250,"balance_cents":750}`},
		{EventCredited, `{"amount":"0.25","balance":"7.75"}`},
	} {
		data, err := centsToDecimals(json.RawMessage(e.data))
		if err != nil {
			t.Fatal(err)
		}
		if s, err = d.Evolve(s, aggregate.Event{Type: e.typ, Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	if s.Balance.String() != "7.75" {
		t.Fatalf("balance %s, want 7.75", s.Balance)
	}
	raw, err := d.Evolve(State{}, aggregate.Event{Type: EventCredited, Data: json.RawMessage(`{"amount_cents":1000}`)})
	if err == nil && raw.Balance.String() == "10.00" {
		t.Fatal("Evolve reads version 1 without the upcaster: the test proves nothing")
	}
}
