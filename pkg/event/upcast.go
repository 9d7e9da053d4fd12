package event

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"uneventful.dev/uneventful/pkg/aggregate"
)

// Upcasters bring stored events to the current schema version of their type, with the
// upcasters their domains declare (aggregate.Versioned). A nil *Upcasters is valid and
// upcasts nothing. Safe for concurrent use.
//
// An envelope's Schema is its data's version; 0 (absent) is version 1, the format of
// every event stored before versions existed. An event already at its current version
// costs two map look-ups and nothing else.
type Upcasters struct {
	domains map[string]map[string]*chain // by domain name, then event type
}

// chain is the upcasters of one event type: steps[v-1] turns version v into v+1.
type chain struct {
	current int
	steps   []func(json.RawMessage) (json.RawMessage, error)
}

// NewUpcasters returns the upcasters of domains: those implementing aggregate.Versioned
// contribute theirs. It checks each type's upcasters cover versions 1 up to the
// current one, once each.
func NewUpcasters(domains ...interface{ Name() string }) (*Upcasters, error) {
	u := &Upcasters{domains: map[string]map[string]*chain{}}
	for _, d := range domains {
		v, ok := d.(aggregate.Versioned)
		if !ok {
			continue
		}
		name := d.Name()
		if _, dup := u.domains[name]; dup {
			return nil, fmt.Errorf("event: upcasters of domain %q given twice", name)
		}
		types := map[string]*chain{}
		for _, up := range v.Upcasters() {
			if up.Type == "" || up.From < 1 || up.Up == nil {
				return nil, fmt.Errorf("event: %s upcaster of %q from %d: needs a type, a version from 1 and a function", name, up.Type, up.From)
			}
			c := types[up.Type]
			if c == nil {
				c = &chain{}
				types[up.Type] = c
			}
			for len(c.steps) < up.From {
				c.steps = append(c.steps, nil)
			}
			if c.steps[up.From-1] != nil {
				return nil, fmt.Errorf("event: %s has two upcasters of %q from version %d", name, up.Type, up.From)
			}
			c.steps[up.From-1] = up.Up
		}
		for typ, c := range types {
			for v, f := range c.steps {
				if f == nil {
					return nil, fmt.Errorf("event: %s has no upcaster of %q from version %d", name, typ, v+1)
				}
			}
			c.current = len(c.steps) + 1
		}
		u.domains[name] = types
	}
	return u, nil
}

// Current returns the current schema version of events of typ in domain (1 unless the
// domain declares upcasters of typ).
func (u *Upcasters) Current(domain, typ string) int {
	if c := u.chain(domain, typ); c != nil {
		return c.current
	}
	return 1
}

// Stamp sets e.Schema to the current version of its type: what a writer does to every
// new event (0, omitted from the JSON, for version 1).
func (u *Upcasters) Stamp(e *Envelope) {
	e.Schema = 0
	if v := u.Current(DomainOf(e.Stream), e.Type); v > 1 {
		e.Schema = v
	}
}

// Upcast brings e's data to the current version of its type and sets e.Schema to it;
// an event already current is left as it is. An upcaster's error, or a version newer
// than the current one (a log written by a newer build), is an error.
func (u *Upcasters) Upcast(e *Envelope) error {
	if u == nil {
		return nil
	}
	data, schema, err := u.upcastData(e.Stream, e.Type, e.Schema, e.Data)
	if err != nil {
		return upcastError(e, err)
	}
	e.Data, e.Schema = data, schema
	return nil
}

// upcastData is Upcast of an event's parts: it returns the data and schema of the event
// of stream, typ and schema (0 for 1) at the current version of its type. A current
// event's data comes back as it was.
func (u *Upcasters) upcastData(stream, typ string, schema int, data json.RawMessage) (json.RawMessage, int, error) {
	c := u.chain(DomainOf(stream), typ)
	if c == nil {
		return data, schema, nil
	}
	v := max(schema, 1)
	if v == c.current {
		return data, schema, nil
	}
	if schema < 0 || v > c.current {
		return nil, 0, fmt.Errorf("schema version %d of %q is not one of 1 to %d, the versions this build knows", schema, typ, c.current)
	}
	for ; v < c.current; v++ {
		next, err := c.steps[v-1](data)
		if err != nil {
			return nil, 0, fmt.Errorf("from version %d: %w", v, err)
		}
		data = next
	}
	return data, c.current, nil
}

func (u *Upcasters) chain(domain, typ string) *chain {
	if u == nil {
		return nil
	}
	return u.domains[domain][typ]
}

// DomainOf returns the domain of a stream: "wallet" of "wallet.<id>".
func DomainOf(stream string) string {
	if i := strings.IndexByte(stream, '.'); i >= 0 {
		return stream[:i]
	}
	return stream
}

// schema returns e's schema version, 0 read as 1.
func (e *Envelope) schema() int { return max(e.Schema, 1) }

// fields are the JSON names of Envelope's fields, in lower case: a key that matches one
// but is not read by scanEnvelope is left to json.Unmarshal.
var fields = func() []string {
	var names []string
	t := reflect.TypeFor[Envelope]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "" {
			name = t.Field(i).Name
		}
		names = append(names, strings.ToLower(name))
	}
	return names
}()

// isField reports whether key names a field of Envelope, in any case, as json.Unmarshal
// matches them.
func isField(key string) bool {
	for _, f := range fields {
		if strings.EqualFold(key, f) {
			return true
		}
	}
	return false
}
