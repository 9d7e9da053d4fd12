package history

import (
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"

	"uneventful.dev/uneventful/pkg/event"
)

// decodeEvent decodes a message of the events stream; one without an id is not an event.
// It reads the envelope as json.Marshal writes it (pkg/event, keys in order, nothing to
// unescape) without reflection, and anything else with json.Unmarshal: either way the
// result, and whether it is an error, are json.Unmarshal's (FuzzDecodeEvent).
func decodeEvent(b []byte) (event.Envelope, error) {
	e, ok := decodeCanonical(b)
	if !ok {
		e = event.Envelope{}
		if err := json.Unmarshal(b, &e); err != nil {
			return e, err
		}
	}
	if e.ID == "" {
		return e, errors.New("no event id")
	}
	return e, nil
}

// decodeCanonical decodes b if it is exactly
//
//	{"id":S,"stream":S,"version":N,"type":S,"data":V,"command_id":S[,"correlation_id":S][,"causation_id":S],"time":S}
//
// with strings S without escapes, in valid UTF-8, an integer N and any JSON value V;
// false otherwise.
func decodeCanonical(b []byte) (e event.Envelope, ok bool) {
	d := canonical{s: string(b)} // one copy; the strings are slices of it
	d.key(`{"id":`)
	e.ID = d.str()
	d.key(`,"stream":`)
	e.Stream = d.str()
	d.key(`,"version":`)
	e.Version = d.integer()
	d.key(`,"type":`)
	e.Type = d.str()
	d.key(`,"data":`)
	e.Data = d.value(b)
	d.key(`,"command_id":`)
	e.CommandID = d.str()
	if d.maybe(`,"correlation_id":`) {
		e.CorrelationID = d.str()
	}
	if d.maybe(`,"causation_id":`) {
		e.CausationID = d.str()
	}
	d.key(`,"time":`)
	t := d.i
	d.str()
	quoted := b[t:d.i]
	d.key(`}`)
	if d.bad || d.i != len(b) || e.Time.UnmarshalJSON(quoted) != nil {
		return event.Envelope{}, false
	}
	return e, true
}

// canonical reads s from i on; once bad, every read returns a zero value.
type canonical struct {
	s   string
	i   int
	bad bool
}

func (d *canonical) key(k string) {
	if !d.maybe(k) {
		d.bad = true
	}
}

func (d *canonical) maybe(k string) bool {
	if d.bad || len(d.s)-d.i < len(k) || d.s[d.i:d.i+len(k)] != k {
		return false
	}
	d.i += len(k)
	return true
}

// str reads a string without escapes or control characters, in valid UTF-8.
func (d *canonical) str() string {
	if d.bad || d.i >= len(d.s) || d.s[d.i] != '"' {
		d.bad = true
		return ""
	}
	j, ascii := d.i+1, true
	for ; j < len(d.s) && d.s[j] != '"'; j++ {
		if c := d.s[j]; c == '\\' || c < 0x20 {
			d.bad = true
			return ""
		} else if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	if j == len(d.s) || (!ascii && !utf8.ValidString(d.s[d.i+1:j])) {
		d.bad = true
		return ""
	}
	v := d.s[d.i+1 : j]
	d.i = j + 1
	return v
}

// integer reads an integer as JSON writes it: no leading zero, fraction or exponent.
func (d *canonical) integer() int64 {
	if d.bad {
		return 0
	}
	j := d.i
	if j < len(d.s) && d.s[j] == '-' {
		j++
	}
	digits := j
	for j < len(d.s) && d.s[j] >= '0' && d.s[j] <= '9' {
		j++
	}
	n, err := strconv.ParseInt(d.s[d.i:j], 10, 64)
	if err != nil || j == digits || (d.s[digits] == '0' && j > digits+1) {
		d.bad = true
		return 0
	}
	d.i = j
	return n
}

// value reads any JSON value, as a slice of b (which s is a copy of): its end is found
// by counting brackets outside strings, and json.Valid checks it.
func (d *canonical) value(b []byte) json.RawMessage {
	if d.bad {
		return nil
	}
	depth, j := 0, d.i
scan:
	for ; j < len(d.s); j++ {
		switch d.s[j] {
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				break scan // the envelope's end
			}
			depth--
		case ',':
			if depth == 0 {
				break scan
			}
		case '"':
			for j++; j < len(d.s) && d.s[j] != '"'; j++ {
				if d.s[j] == '\\' {
					j++
				}
			}
		}
	}
	v := b[d.i:j]
	if depth != 0 || len(v) == 0 || isSpace(v[0]) || isSpace(v[len(v)-1]) || !json.Valid(v) {
		d.bad = true // json.Unmarshal keeps no space around a raw value
		return nil
	}
	d.i = j
	return v
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
