package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
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
// valid UTF-8 and without control characters, as json.Marshal writes them, and leaves
// Time zero; those are the costliest checks of DecodeArray. A replay of millions of
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

// mode is how much scanEnvelope checks.
type mode uint8

const (
	strict  mode = iota // everything json.Unmarshal checks
	trusted             // what json.Marshal writes is taken as valid: data, strings; time is not read
)

// str reads the string at s[i] as scanString, or, trusted, only checks it has no escape.
func (m mode) str(s string, i int) (string, int, bool) {
	if m == strict {
		return scanString(s, i)
	}
	if i >= len(s) || s[i] != '"' {
		return "", 0, false
	}
	j := strings.IndexByte(s[i+1:], '"')
	if j < 0 || strings.IndexByte(s[i+1:i+1+j], '\\') >= 0 {
		return "", 0, false
	}
	return s[i+1 : i+1+j], i + 2 + j, true
}

// scanEnvelope reads the JSON object starting at b[i] (s is string(b)) into an envelope
// and returns the index after it. ok is false if the object holds anything the scan
// leaves to json.Unmarshal: a string with an escape, a key that differs from a field's
// name only in case, a number that is not a plain integer, a null, an unknown key whose
// value is not valid JSON.
func scanEnvelope(b []byte, s string, i int, m mode) (e Envelope, end int, ok bool) {
	if i >= len(b) || b[i] != '{' {
		return e, 0, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return e, i + 1, true
	}
	for {
		var key string
		if key, i, ok = m.str(s, i); !ok {
			return e, 0, false
		}
		if i = skipSpace(b, i); i >= len(b) || b[i] != ':' {
			return e, 0, false
		}
		i = skipSpace(b, i+1)
		switch key {
		case "id":
			e.ID, i, ok = m.str(s, i)
		case "stream":
			e.Stream, i, ok = m.str(s, i)
		case "version":
			e.Version, i, ok = scanInt(s, i)
		case "type":
			e.Type, i, ok = m.str(s, i)
		case "schema":
			var v int64
			v, i, ok = scanInt(s, i)
			e.Schema = int(v)
			ok = ok && int64(e.Schema) == v
		case "data":
			j := skipValue(b, i)
			if ok = j > i && (m == trusted || json.Valid(b[i:j])); ok {
				e.Data, i = b[i:j:j], j
			}
		case "command_id":
			e.CommandID, i, ok = m.str(s, i)
		case "correlation_id":
			e.CorrelationID, i, ok = m.str(s, i)
		case "causation_id":
			e.CausationID, i, ok = m.str(s, i)
		case "time":
			j := i
			if _, j, ok = m.str(s, i); ok && m == strict {
				ok = e.Time.UnmarshalJSON(b[i:j]) == nil
			}
			i = j
		default:
			if isField(key) {
				return e, 0, false // a field this scan does not read, or a key in other case
			}
			j := skipValue(b, i)
			if ok = j > i && json.Valid(b[i:j]); ok {
				i = j
			}
		}
		if !ok {
			return e, 0, false
		}
		if i = skipSpace(b, i); i >= len(b) {
			return e, 0, false
		}
		switch b[i] {
		case '}':
			return e, i + 1, true
		case ',':
			i = skipSpace(b, i+1)
		default:
			return e, 0, false
		}
	}
}

// scanString reads the string at s[i], which must have no escape nor control character
// and be valid UTF-8, and returns it and the index after it.
func scanString(s string, i int) (string, int, bool) {
	if i >= len(s) || s[i] != '"' {
		return "", 0, false
	}
	j := strings.IndexByte(s[i+1:], '"')
	if j < 0 {
		return "", 0, false
	}
	v, ascii := s[i+1:i+1+j], true
	for k := 0; k < len(v); k++ {
		if c := v[k]; special[c] {
			if c < 0x80 {
				return "", 0, false // an escape (even of this quote) or a control character
			}
			ascii = false
		}
	}
	if !ascii && !utf8.ValidString(v) {
		return "", 0, false
	}
	return v, i + 2 + j, true
}

// special marks the bytes scanString looks at twice: '\\', control characters, non-ASCII.
var special = func() (t [256]bool) {
	for c := range t {
		t[c] = c < 0x20 || c == '\\' || c >= 0x80
	}
	return t
}()

// scanInt reads an integer as JSON writes it (no leading zero, fraction or exponent)
// that fits an int64.
func scanInt(s string, i int) (int64, int, bool) {
	j := i
	neg := j < len(s) && s[j] == '-'
	if neg {
		j++
	}
	digits := j
	var v uint64
	for ; j < len(s) && s[j] >= '0' && s[j] <= '9'; j++ {
		if v > (1<<63)/10 {
			return 0, 0, false
		}
		v = v*10 + uint64(s[j]-'0')
	}
	switch {
	case j == digits, s[digits] == '0' && j > digits+1, v > 1<<63, v == 1<<63 && !neg:
		return 0, 0, false
	case j < len(s) && (s[j] == '.' || s[j] == 'e' || s[j] == 'E'):
		return 0, 0, false
	}
	if neg {
		return -int64(v), j, true
	}
	return int64(v), j, true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index just after the JSON value starting at b[i], found by
// counting brackets outside strings (it does not check the value), or -1.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				if i = skipString(b, i); i < 0 {
					return -1
				}
				i--
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	case '"':
		return skipString(b, i)
	default:
		for ; i < len(b); i++ {
			if c := b[i]; c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\t' || c == '\r' {
				return i
			}
		}
		return i
	}
}

// skipString returns the index just after the string starting at b[i] (a quote), or -1.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// upcastError says which event an upcaster refused.
func upcastError(e *Envelope, err error) error {
	return fmt.Errorf("event %s (%s v%d, %s schema %d): upcast: %w", e.ID, e.Stream, e.Version, e.Type, e.schema(), err)
}
