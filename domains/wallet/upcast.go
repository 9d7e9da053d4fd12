package wallet

import (
	"bytes"
	"encoding/json"

	"uneventful.dev/uneventful/pkg/aggregate"
	"uneventful.dev/uneventful/pkg/failure"
)

// Upcasters declares the versions of the wallet's events (aggregate.Versioned): credited
// and debited are at version 2.
//
// Version 1, written by the first wallets, held amounts in cents as JSON integers:
// {"amount_cents":500,"balance_cents":1500}. Version 2 holds decimal strings:
// {"amount":"5.00","balance":"15.00"}. Events stored before versions were recorded carry
// none, which reads as version 1, and already hold version 2's form: the upcaster leaves
// those as they are.
func (Domain) Upcasters() []aggregate.Upcaster {
	return []aggregate.Upcaster{
		{Type: EventCredited, From: 1, Up: centsToDecimals},
		{Type: EventDebited, From: 1, Up: centsToDecimals},
	}
}

var _ aggregate.Versioned = Domain{}

// centsToDecimals upcasts credited and debited from version 1 to 2.
func centsToDecimals(data json.RawMessage) (json.RawMessage, error) {
	if bytes.HasPrefix(data, []byte(`{"amount":`)) {
		return data, nil // version 2's form already, as Decide writes it
	}
	var v1 struct {
		AmountCents  *int64 `json:"amount_cents"`
		BalanceCents *int64 `json:"balance_cents"`
	}
	if err := json.Unmarshal(data, &v1); err != nil {
		return nil, failure.Newf(failure.Internal, "corrupt_event", "wallet event version 1: %v", err)
	}
	if v1.AmountCents == nil {
		return data, nil // not version 1's form: Evolve judges it
	}
	c := change{Amount: Amount(*v1.AmountCents)}
	if v1.BalanceCents != nil {
		balance := Amount(*v1.BalanceCents)
		c.Balance = &balance
	}
	return json.Marshal(c)
}
