package tracker

import (
	"encoding/json"

	"uneventful.dev/uneventful/pkg/event"
)

// text returns the JSON string v unquoted ("" if v is not a string).
func text(v []byte) string {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return ""
	}
	for _, c := range v[1 : len(v)-1] {
		if c == '\\' {
			var s string
			if json.Unmarshal(v, &s) != nil {
				return ""
			}
			return s
		}
	}
	return string(v[1 : len(v)-1])
}

// number returns the JSON integer v (0 if it is not one).
func number(v []byte) int {
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// queueChange is what the tracker reads of a queue event's data (pkg/queue's change).
type queueChange struct {
	queue, id, to string
	redelivered   int
	// enqueued: the message
	msgID, dedup, correlation string
}

// readQueueChange reads data; its strings are copies (queue names kept once: nameOf).
func (m *Model) readQueueChange(data []byte) (c queueChange, ok bool) {
	ok = event.EachField(data, func(key, v []byte) {
		switch string(key) {
		case "queue":
			c.queue = m.nameOf(v)
		case "id":
			c.id = text(v)
		case "to":
			c.to = m.nameOf(v)
		case "redelivered":
			c.redelivered = number(v)
		case "message":
			event.EachField(v, func(key, v []byte) {
				switch string(key) {
				case "id":
					c.msgID = text(v)
				case "dedup":
					c.dedup = text(v)
				case "correlation_id":
					c.correlation = text(v)
				}
			})
		}
	})
	return c, ok && c.queue != ""
}
