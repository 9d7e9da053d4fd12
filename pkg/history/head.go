package history

import (
	"bytes"
	"strconv"
)

// envelopeHead reads the stream, type and schema version (0 for 1) of a stored
// envelope without decoding it, from the order appendEnvelope writes its keys in (the
// migration's too): "stream" and "type" first after "id", "schema" last or absent. The
// first `,"stream":"` and `,"type":"` are the keys: inside a JSON string every quote is
// escaped, so neither can occur in the id or the stream. ok is false for an envelope not
// in that order or with an escape in its stream or type: decode it instead.
func envelopeHead(b []byte) (stream, typ []byte, schema int, ok bool) {
	if !bytes.HasPrefix(b, []byte(`{"id":"`)) || !bytes.HasSuffix(b, []byte("}")) {
		return nil, nil, 0, false
	}
	var rest []byte
	if stream, rest, ok = stringAfter(b, `,"stream":"`); !ok {
		return nil, nil, 0, false
	}
	if typ, _, ok = stringAfter(rest, `,"type":"`); !ok {
		return nil, nil, 0, false
	}
	if bytes.HasSuffix(b, []byte(`"}`)) { // ends with the time: no schema
		return stream, typ, 0, true
	}
	i := bytes.LastIndex(b, []byte(`,"schema":`))
	if i < 0 {
		return nil, nil, 0, false
	}
	v, err := strconv.Atoi(string(b[i+len(`,"schema":`) : len(b)-1]))
	return stream, typ, v, err == nil
}

// stringAfter returns the string value after the first key (its opening quote
// included) in b and what follows it; false if there is none or it has an escape.
func stringAfter(b []byte, key string) (value, rest []byte, ok bool) {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return nil, nil, false
	}
	b = b[i+len(key):]
	j := bytes.IndexByte(b, '"')
	if j < 0 || bytes.IndexByte(b[:j], '\\') >= 0 {
		return nil, nil, false
	}
	return b[:j], b[j+1:], true
}
