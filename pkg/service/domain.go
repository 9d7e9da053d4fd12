package service

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"
)

// What a domain must be beyond aggregate.Domain, checked when a service starts
// (docs/domains.md says it in words).

var (
	domainName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	routeName  = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
)

// reservedStateFields are the names the read model adds to a state document.
var reservedStateFields = []string{"id", "version", "fencing"}

// CheckName reports a domain name that cannot name a stream prefix, a NATS subject
// token, a directory and an environment variable (<DOMAIN>_DB) all at once.
func CheckName(name string) error {
	if !domainName.MatchString(name) {
		return fmt.Errorf("domain name %q: want lower-case letters, digits and _, starting with a letter", name)
	}
	if name == "service" || name == "queue" {
		return fmt.Errorf("domain name %q is reserved: the command bus's targets service.<name> and queue.<name> (pkg/bus)", name)
	}
	return nil
}

// CheckState reports a state type S whose JSON cannot be a read model document: one
// that is not an object, or has a field the read model adds (id, version, fencing).
func CheckState[S any](domain string) error {
	var zero S
	names := jsonFields(reflect.TypeOf(&zero).Elem())
	b, err := json.Marshal(zero)
	if err != nil {
		return fmt.Errorf("domain %s: its state does not marshal to JSON: %w", domain, err)
	}
	var obj map[string]json.RawMessage
	if string(b) != "null" {
		if err := json.Unmarshal(b, &obj); err != nil {
			return fmt.Errorf("domain %s: its state marshals to %.40s, not to a JSON object", domain, b)
		}
	}
	for k := range obj {
		names[k] = true
	}
	for _, r := range reservedStateFields {
		if names[r] {
			return fmt.Errorf("domain %s: its state has a JSON field %q, a name the read model uses for itself (id, version, fencing): rename it", domain, r)
		}
	}
	return nil
}

// jsonFields returns the JSON names of the fields of struct type t (through pointers
// and untagged embedded structs), omitempty or not.
func jsonFields(t reflect.Type) map[string]bool {
	names := map[string]bool{}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return names
	}
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case tag == "-":
		case f.Anonymous && tag == "":
			for n := range jsonFields(f.Type) {
				names[n] = true
			}
		case !f.IsExported():
		case tag != "":
			names[tag] = true
		default:
			names[f.Name] = true
		}
	}
	return names
}

// checkAPI reports commands and views that cannot be routes of their own under
// /{domain}/{id}/: names that are not path segments, a name used twice, or "events"
// (the entity's event list).
func checkAPI(d API) error {
	if err := CheckName(d.Name()); err != nil {
		return err
	}
	states, events := d.Views()
	if len(d.Commands()) == 0 {
		return fmt.Errorf("domain %s: Commands() is empty", d.Name())
	}
	seen := map[string]string{"events": "the event list"}
	for _, group := range []struct {
		what  string
		names []string
	}{{"command", d.Commands()}, {"state view", states}, {"event view", events}} {
		for _, n := range group.names {
			if !routeName.MatchString(n) {
				return fmt.Errorf("domain %s: %s %q: want lower-case letters, digits, _ and -", d.Name(), group.what, n)
			}
			if other, ok := seen[n]; ok {
				return fmt.Errorf("domain %s: %s %q is also %s", d.Name(), group.what, n, other)
			}
			seen[n] = group.what + " " + n
		}
	}
	return nil
}
