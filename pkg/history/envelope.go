package history

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"uneventful.dev/uneventful/pkg/event"
)

// appendEnvelope appends e as one line of JSON, as json.Marshal of the Envelope writes
// it but without fencing (the history does not keep it), its time in UTC and its data
// compacted ("null" if it has none): the envelope column of a history row, and what
// RangeJSON serves.
func appendEnvelope(buf []byte, e *event.Envelope) []byte {
	buf = append(buf, `{"id":`...)
	buf = appendString(buf, e.ID)
	buf = append(buf, `,"stream":`...)
	buf = appendString(buf, e.Stream)
	buf = append(buf, `,"version":`...)
	buf = strconv.AppendInt(buf, e.Version, 10)
	buf = append(buf, `,"type":`...)
	buf = appendString(buf, e.Type)
	buf = append(buf, `,"data":`...)
	buf = appendCompact(buf, e.Data)
	buf = append(buf, `,"command_id":`...)
	buf = appendString(buf, e.CommandID)
	if e.CorrelationID != "" {
		buf = append(buf, `,"correlation_id":`...)
		buf = appendString(buf, e.CorrelationID)
	}
	if e.CausationID != "" {
		buf = append(buf, `,"causation_id":`...)
		buf = appendString(buf, e.CausationID)
	}
	buf = append(buf, `,"time":"`...)
	buf = e.Time.UTC().AppendFormat(buf, time.RFC3339Nano)
	buf = append(buf, '"')
	if e.Schema > 1 {
		buf = append(buf, `,"schema":`...)
		buf = strconv.AppendInt(buf, int64(e.Schema), 10)
	}
	return append(buf, '}')
}

// appendString appends s as a JSON string: as is when it needs no escaping (ids, stream
// names, types), else as encoding/json writes it.
func appendString(buf []byte, s string) []byte {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(buf, q...)
		}
	}
	buf = append(buf, '"')
	buf = append(buf, s...)
	return append(buf, '"')
}

// appendCompact appends the JSON value data on one line ("null" for none).
func appendCompact(buf, data []byte) []byte {
	if len(data) == 0 {
		return append(buf, "null"...)
	}
	if bytes.IndexAny(data, "\n\r") < 0 {
		return append(buf, data...)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, data); err != nil {
		return append(buf, "null"...)
	}
	return append(buf, b.Bytes()...)
}
