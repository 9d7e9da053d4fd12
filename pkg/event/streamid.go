package event

import (
	"errors"
	"strings"
)

// A stream name is "<domain>.<encoded id>". The encoding is the identity for ids made of
// letters, digits, '_', ':' and '-' (every KSUID, most lock names) and writes any other
// byte as %XX (upper-case hex), '.' and '%' included. An encoded id never holds a '.', so
// it is exactly one NATS subject token and one Redis key part: two ids never collide
// (lock "x.events" is stream "lock.x%2Eevents", apart from lock "x"'s events key
// "lock.x.events"), and "..", a leading or trailing '.' never make an invalid subject.

// EncodeID returns id as it appears in a stream name.
func EncodeID(id string) string {
	n := 0
	for i := 0; i < len(id); i++ {
		if !plainIDByte(id[i]) {
			n++
		}
	}
	if n == 0 {
		return id
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(id) + 2*n)
	for i := 0; i < len(id); i++ {
		c := id[i]
		if plainIDByte(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// DecodeID returns the id EncodeID encoded as s.
func DecodeID(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", errors.New("event: truncated %XX in an encoded id")
		}
		hi, ok1 := unhex(s[i+1])
		lo, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			return "", errors.New("event: bad %XX in an encoded id")
		}
		b.WriteByte(hi<<4 | lo)
		i += 2
	}
	return b.String(), nil
}

func plainIDByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_' || c == ':' || c == '-'
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
