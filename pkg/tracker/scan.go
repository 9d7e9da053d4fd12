package tracker

import "encoding/json"

// eachField calls f with each key of the JSON object b and its value as written (a
// string with its quotes). It reads without reflection or allocation; false if b is not
// an object it can read (then f may have been called for its first keys).
func eachField(b []byte, f func(key, value []byte)) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return true
	}
	for i < len(b) {
		if b[i] != '"' {
			return false
		}
		end := skipValue(b, i)
		if end < 0 {
			return false
		}
		key := b[i+1 : end-1]
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipSpace(b, i+1)
		end = skipValue(b, i)
		if end < 0 {
			return false
		}
		f(key, b[i:end])
		i = skipSpace(b, end)
		if i >= len(b) {
			return false
		}
		if b[i] == '}' {
			return true
		}
		if b[i] != ',' {
			return false
		}
		i = skipSpace(b, i+1)
	}
	return false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index just past the JSON value starting at b[i], -1 if none.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1
			}
		}
		return -1
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			case '"':
				k := skipValue(b, j)
				if k < 0 {
					return -1
				}
				j = k - 1
			}
		}
		return -1
	default: // number, true, false, null
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\r' && b[j] != '\t' {
			j++
		}
		if j == i {
			return -1
		}
		return j
	}
}

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
	ok = eachField(data, func(key, v []byte) {
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
			eachField(v, func(key, v []byte) {
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
