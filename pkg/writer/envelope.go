package writer

import (
	"bytes"
	"encoding/json"
)

// storedEvent is what replay needs of an envelope.
type storedEvent struct {
	Version int64            `json:"version"`
	Type    string           `json:"type"`
	Data    json.RawMessage  `json:"data"`
	Fencing map[string]int64 `json:"fencing"`
}

// splitEvents parses an events column (a JSON array of envelopes) into storedEvents,
// appending to dst. Envelopes written by this package have their fields in a fixed
// order, which a direct scan uses; anything else falls back to encoding/json.
func splitEvents(dst []storedEvent, b []byte) ([]storedEvent, error) {
	n := len(dst)
	if fast, ok := scanEvents(dst, b); ok {
		return fast, nil
	}
	var evs []storedEvent
	if err := json.Unmarshal(b, &evs); err != nil {
		return dst[:n], err
	}
	return append(dst[:n], evs...), nil
}

func scanEvents(dst []storedEvent, b []byte) ([]storedEvent, bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return dst, false
	}
	i = skipSpace(b, i+1)
	for i < len(b) && b[i] != ']' {
		end := skipValue(b, i)
		if end < 0 {
			return dst, false
		}
		e, ok := scanEnvelope(b[i:end])
		if !ok {
			return dst, false
		}
		dst = append(dst, e)
		i = skipSpace(b, end)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return dst, i < len(b)
}

var (
	keyVersion = []byte(`"version":`)
	keyType    = []byte(`"type":"`)
	keyData    = []byte(`"data":`)
	keyFencing = []byte(`,"fencing":`)
)

// scanEnvelope reads version, type and data from {"id":..,"stream":..,"version":N,"type":"..","data":{..},...}.
func scanEnvelope(b []byte) (storedEvent, bool) {
	var e storedEvent
	i := bytes.Index(b, keyVersion)
	if i < 0 {
		return e, false
	}
	i += len(keyVersion)
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		e.Version = e.Version*10 + int64(b[i]-'0')
	}
	if !bytes.HasPrefix(b[i:], []byte(`,"type":"`)) {
		return e, false
	}
	i += len(`,"type":"`)
	j := bytes.IndexByte(b[i:], '"')
	if j < 0 || bytes.IndexByte(b[i:i+j], '\\') >= 0 {
		return e, false
	}
	e.Type = string(b[i : i+j])
	i += j + 1
	if !bytes.HasPrefix(b[i:], []byte(`,"data":`)) {
		return e, false
	}
	i += len(`,"data":`)
	end := skipValue(b, i)
	if end < 0 {
		return e, false
	}
	e.Data = b[i:end]
	if bytes.Contains(b[end:], keyFencing) {
		return e, false // fenced: encoding/json reads it
	}
	return e, true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index just after the JSON value starting at b[i], or -1.
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
			if c := b[i]; c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' {
				return i
			}
		}
		return i
	}
}

// skipString returns the index just after the string starting at b[i] (a quote), or -1.
func skipString(b []byte, i int) int {
	// Most strings hold no escape: the first quote ends them.
	if j := bytes.IndexByte(b[i+1:], '"'); j >= 0 && bytes.IndexByte(b[i+1:i+1+j], '\\') < 0 {
		return i + 2 + j
	}
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
