package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"unsafe"
)

// ErrNoID is returned by Decode for a JSON object without an event id: not an event.
var ErrNoID = errors.New("event: no event id")

// Decode decodes one envelope as json.Unmarshal into an Envelope would, then upcasts its
// data to the current version of its type through up (nil: as stored). An envelope
// without an id is ErrNoID. The envelope as json.Marshal writes it, in any key order, is
// read without reflection; anything else goes through json.Unmarshal, with the same
// result. e.Data may alias b: do not change b while e is in use.
func Decode(b []byte, up *Upcasters) (Envelope, error) {
	e, end, ok := scanEnvelope(b, string(b), skipSpace(b, 0), strict)
	if !ok || skipSpace(b, end) != len(b) {
		e = Envelope{}
		if err := json.Unmarshal(b, &e); err != nil {
			return Envelope{}, err
		}
	}
	if e.ID == "" {
		return Envelope{}, ErrNoID
	}
	if err := up.Upcast(&e); err != nil {
		return Envelope{}, err
	}
	return e, nil
}

// DecodeArray decodes a JSON array of envelopes (the events of one event log row) and
// appends them, upcast through up (nil: as stored), to dst. It is Decode for a whole
// row, with the same results, one allocation for the row's strings, and every e.Data
// aliasing b. An envelope without an id is ErrNoID.
func DecodeArray(dst []Envelope, b []byte, up *Upcasters) ([]Envelope, error) {
	return decodeArray(dst, b, string(b), up, strict)
}

// DecodeLog is DecodeArray for rows this project wrote itself (with json.Marshal) and
// stored, read in bulk by a replay: it trusts them to be valid JSON, with strings in
// valid UTF-8 and without control characters, as json.Marshal writes them, and does
// not read Time (zero, but for an envelope left to json.Unmarshal); those are the
// costliest checks of DecodeArray. A replay of millions of
// events uses it. What it cannot read directly (an escape in a string, keys in other
// case) goes through json.Unmarshal, as in DecodeArray.
func DecodeLog(dst []Envelope, b []byte, up *Upcasters) ([]Envelope, error) {
	return decodeArray(dst, b, string(b), up, trusted)
}

// DecodeLogShared is DecodeLog without a copy: the envelopes' strings share b's memory,
// so b must never change afterwards (a replay reads rows into memory it never reuses).
func DecodeLogShared(dst []Envelope, b []byte, up *Upcasters) ([]Envelope, error) {
	return decodeArray(dst, b, unsafe.String(unsafe.SliceData(b), len(b)), up, trusted)
}

func decodeArray(dst []Envelope, b []byte, s string, up *Upcasters, m mode) ([]Envelope, error) {
	n := len(dst)
	var fast bool
	dst, fast = scanArray(dst, b, s, m)
	if !fast {
		var evs []Envelope
		if err := json.Unmarshal(b, &evs); err != nil {
			return dst[:n], err
		}
		dst = append(dst[:n], evs...)
	}
	for i := n; i < len(dst); i++ {
		e := &dst[i]
		if e.ID == "" {
			return dst[:n], ErrNoID
		}
		if err := up.Upcast(e); err != nil {
			return dst[:n], err
		}
	}
	return dst, nil
}

// scanArray appends the envelopes of the array b to dst, their strings slices of s (b as
// a string); false if b is not an array of envelopes the scan reads (dst is then cut
// back).
func scanArray(dst []Envelope, b []byte, s string, m mode) ([]Envelope, bool) {
	n := len(dst)
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return dst[:n], false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return dst, skipSpace(b, i+1) == len(b)
	}
	for {
		e, end, ok := scanEnvelope(b, s, i, m)
		if !ok {
			return dst[:n], false
		}
		dst = append(dst, e)
		i = skipSpace(b, end)
		if i >= len(b) {
			return dst[:n], false
		}
		if b[i] == ']' {
			return dst, skipSpace(b, i+1) == len(b)
		}
		if b[i] != ',' {
			return dst[:n], false
		}
		i = skipSpace(b, i+1)
	}
}

// upcastError says which event an upcaster refused.
func upcastError(e *Envelope, err error) error {
	return fmt.Errorf("event %s (%s v%d, %s schema %d): upcast: %w", e.ID, e.Stream, e.Version, e.Type, e.schema(), err)
}
