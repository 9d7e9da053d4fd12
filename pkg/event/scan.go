package event

// The scan under Decode: reads the JSON of an envelope json.Marshal wrote without
// reflection, and says when it must leave one to json.Unmarshal.

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

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

// EachField calls f with each key of the JSON object b (unquoted, escapes left as they
// are) and its value as written (a string with its quotes), reading as the scan does:
// without reflection or allocation, checking only the object's punctuation. It returns
// false if b is not an object it can read (then f may have been called for its first
// keys). For readers of an event's data that want a few fields of it.
func EachField(b []byte, f func(key, value []byte)) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	if i = skipSpace(b, i+1); i < len(b) && b[i] == '}' {
		return true
	}
	for i < len(b) {
		if b[i] != '"' {
			return false
		}
		end := skipString(b, i)
		if end < 0 {
			return false
		}
		key := b[i+1 : end-1]
		if i = skipSpace(b, end); i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipSpace(b, i+1)
		if end = skipValue(b, i); end <= i {
			return false
		}
		f(key, b[i:end])
		if i = skipSpace(b, end); i >= len(b) {
			return false
		}
		switch b[i] {
		case '}':
			return true
		case ',':
			i = skipSpace(b, i+1)
		default:
			return false
		}
	}
	return false
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
