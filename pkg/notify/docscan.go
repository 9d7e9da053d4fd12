package notify

import (
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"
)

// readDoc reads what NotifyMany needs of a session document: whether it is destroyed,
// and the attributes of the namespaces in want. It scans the bytes once without
// reflection (encoding/json took ten times as long, the bulk of a NotifyMany), and falls
// back to encoding/json for a document it does not read (the two agree: docscan_test.go).
func readDoc(b string, want map[string]bool) (destroyed bool, a Attributes) {
	s := scanner{b: b, want: want}
	destroyed, a, err := s.doc()
	if err == nil {
		return destroyed, a
	}
	var d sessionDoc
	if json.Unmarshal([]byte(b), &d) != nil {
		return true, nil // not a session document: skipped as a destroyed one is
	}
	for ns := range d.Attributes {
		if !want[ns] {
			delete(d.Attributes, ns)
		}
	}
	return d.Destroyed, d.Attributes
}

var errScan = errors.New("not read")

type scanner struct {
	b    string
	i    int
	want map[string]bool
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// next skips white space and returns the next byte, 0 at the end.
func (s *scanner) next() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) expect(c byte) error {
	if s.next() != c {
		return errScan
	}
	s.i++
	return nil
}

// str reads a string without escapes (one with escapes is left to encoding/json).
func (s *scanner) str() (string, error) {
	if err := s.expect('"'); err != nil {
		return "", err
	}
	start, ascii := s.i, true
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			v := s.b[start : s.i-1]
			if !ascii && !utf8.ValidString(v) {
				return "", errScan // encoding/json would replace the bad bytes
			}
			return v, nil
		case c == '\\' || c < 0x20:
			return "", errScan
		case c >= 0x80:
			ascii = false
		}
		s.i++
	}
	return "", errScan
}

// object reads an object, calling f after each key with the scanner at its value.
func (s *scanner) object(f func(key string) error) error {
	if err := s.expect('{'); err != nil {
		return err
	}
	if s.next() == '}' {
		s.i++
		return nil
	}
	for {
		k, err := s.str()
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		if err := f(k); err != nil {
			return err
		}
		switch s.next() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return errScan
		}
	}
}

// skip skips one value (numbers, literals, objects and arrays of them, strings without
// escapes).
func (s *scanner) skip() error {
	switch c := s.next(); {
	case c == '"':
		_, err := s.str()
		return err
	case c == '{':
		return s.object(func(string) error { return s.skip() })
	case c == '[':
		s.i++
		if s.next() == ']' {
			s.i++
			return nil
		}
		for {
			if err := s.skip(); err != nil {
				return err
			}
			switch s.next() {
			case ',':
				s.i++
			case ']':
				s.i++
				return nil
			default:
				return errScan
			}
		}
	case c == '-' || c >= '0' && c <= '9':
		start := s.i
		for s.i < len(s.b) && (s.b[s.i] >= '0' && s.b[s.i] <= '9' || s.b[s.i] == '-' || s.b[s.i] == '+' ||
			s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E') {
			s.i++
		}
		if !json.Valid([]byte(s.b[start:s.i])) {
			return errScan
		}
		return nil
	case c == 'n':
		if len(s.b)-s.i >= 4 && s.b[s.i:s.i+4] == "null" {
			s.i += 4
			return nil
		}
		return errScan
	case c == 't' || c == 'f':
		_, err := s.boolean()
		return err
	}
	return errScan
}

// other skips the value of key k, which is none of names; a k encoding/json would take
// for one of them (it matches field names without regard to case) is left to it.
func (s *scanner) other(k string, names ...string) error {
	for _, n := range names {
		if strings.EqualFold(k, n) {
			return errScan
		}
	}
	return s.skip()
}

// boolean reads true or false.
func (s *scanner) boolean() (bool, error) {
	s.ws()
	switch {
	case len(s.b)-s.i >= 4 && s.b[s.i:s.i+4] == "true":
		s.i += 4
		return true, nil
	case len(s.b)-s.i >= 5 && s.b[s.i:s.i+5] == "false":
		s.i += 5
		return false, nil
	}
	return false, errScan
}

func (s *scanner) doc() (destroyed bool, a Attributes, err error) {
	err = s.object(func(k string) error {
		var err error
		switch k {
		case "destroyed":
			destroyed, err = s.boolean()
		case "attributes":
			a, err = s.attributes()
		default:
			err = s.other(k, "destroyed", "attributes")
		}
		return err
	})
	if err == nil && s.next() != 0 {
		err = errScan
	}
	return destroyed, a, err
}

func (s *scanner) attributes() (Attributes, error) {
	a := Attributes{}
	err := s.object(func(ns string) error {
		if !s.want[ns] {
			return s.skip()
		}
		kv := map[string]Attribute{}
		a[ns] = kv
		return s.object(func(k string) error {
			var at Attribute
			err := s.object(func(f string) error {
				var err error
				switch f {
				case "value":
					at.Value, err = s.str()
				case "frozen":
					at.Frozen, err = s.boolean()
				default:
					err = s.other(f, "value", "frozen")
				}
				return err
			})
			kv[k] = at
			return err
		})
	})
	return a, err
}
