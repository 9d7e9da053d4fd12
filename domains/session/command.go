package session

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"

	"uneventful.dev/uneventful/pkg/aggregate"
	"uneventful.dev/uneventful/pkg/failure"
)

// Limits of the input (README, "Sessions"); anything beyond is 400 and writes nothing.
const (
	MaxNameLength = 128  // characters of a namespace or a key
	MaxValueBytes = 4096 // bytes of a value (UTF-8)
	MaxAttributes = 256  // attributes one session holds, across its namespaces (frozen empty ones count)
)

// Namespaces and keys: letters, digits, '_', '.', ':' and '-'; a namespace starting with
// '_' is reserved.
var nameSyntax = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)

// update is the data of the update command:
// {"namespace":"ns","attributes":{"k":"v"},"freeze":["k"]}. In canonical form freeze is
// sorted without repeats, and empty parts are left out.
type update struct {
	Namespace  string            `json:"namespace"`
	Attributes map[string]string `json:"attributes,omitempty"`
	Freeze     []string          `json:"freeze,omitempty"`
}

// clear is the data of the clear command: {"namespace":"ns"}.
type clear struct {
	Namespace string `json:"namespace"`
}

// fields decodes body, a JSON object holding only fields among allowed.
func fields(body []byte, example string, allowed ...string) (map[string]json.RawMessage, error) {
	body = bytes.TrimSpace(body)
	var raw map[string]json.RawMessage
	if len(body) == 0 || json.Unmarshal(body, &raw) != nil || raw == nil {
		return nil, failure.Newf(failure.Invalid, "invalid_json", "body must be a JSON object like %s", example)
	}
	for k := range raw {
		if !slices.Contains(allowed, k) {
			return nil, failure.Newf(failure.Invalid, "unknown_field", "unknown field %q", truncate(k))
		}
	}
	return raw, nil
}

func parseNamespace(raw json.RawMessage) (string, error) {
	var ns string
	if raw == nil || json.Unmarshal(raw, &ns) != nil {
		return "", failure.New(failure.Invalid, "invalid_namespace", `"namespace" is required: a string`)
	}
	if len(ns) > MaxNameLength || !nameSyntax.MatchString(ns) {
		return "", failure.Newf(failure.Invalid, "invalid_namespace", "namespace %q: want 1 to %d characters of A-Z a-z 0-9 _ . : -", truncate(ns), MaxNameLength)
	}
	if ns[0] == '_' {
		return "", failure.Newf(failure.Invalid, "reserved_namespace", "namespace %q: a namespace starting with _ is reserved", truncate(ns))
	}
	return ns, nil
}

func checkKey(k string) error {
	if len(k) > MaxNameLength || !nameSyntax.MatchString(k) {
		return failure.Newf(failure.Invalid, "invalid_key", "key %q: want 1 to %d characters of A-Z a-z 0-9 _ . : -", truncate(k), MaxNameLength)
	}
	return nil
}

func parseUpdate(body []byte) (aggregate.Command, error) {
	raw, err := fields(body, `{"namespace":"ns","attributes":{"k":"v"},"freeze":["k"]}`, "namespace", "attributes", "freeze")
	if err != nil {
		return aggregate.Command{}, err
	}
	u := update{}
	if u.Namespace, err = parseNamespace(raw["namespace"]); err != nil {
		return aggregate.Command{}, err
	}
	if a, ok := raw["attributes"]; ok {
		var values map[string]*string
		if json.Unmarshal(a, &values) != nil {
			return aggregate.Command{}, failure.New(failure.Invalid, "invalid_attributes", `"attributes" must be an object of strings, like {"k":"v"}`)
		}
		u.Attributes = make(map[string]string, len(values))
		for k, v := range values {
			if err := checkKey(k); err != nil {
				return aggregate.Command{}, err
			}
			if v == nil {
				return aggregate.Command{}, failure.Newf(failure.Invalid, "invalid_attributes", "attribute %q: the value must be a string (\"\" removes it)", k)
			}
			if len(*v) > MaxValueBytes {
				return aggregate.Command{}, failure.Newf(failure.Invalid, "value_too_large", "attribute %q: a value holds at most %d bytes", k, MaxValueBytes)
			}
			u.Attributes[k] = *v
		}
	}
	if f, ok := raw["freeze"]; ok {
		if json.Unmarshal(f, &u.Freeze) != nil {
			return aggregate.Command{}, failure.New(failure.Invalid, "invalid_freeze", `"freeze" must be a list of keys, like ["k"]`)
		}
		for _, k := range u.Freeze {
			if err := checkKey(k); err != nil {
				return aggregate.Command{}, err
			}
		}
		slices.Sort(u.Freeze)
		u.Freeze = slices.Compact(u.Freeze)
	}
	keys := len(u.Attributes)
	for _, k := range u.Freeze {
		if _, ok := u.Attributes[k]; !ok {
			keys++
		}
	}
	switch {
	case keys == 0:
		return aggregate.Command{}, failure.New(failure.Invalid, "invalid_body", `an update names at least one attribute in "attributes" or "freeze"`)
	case keys > MaxAttributes:
		return aggregate.Command{}, failure.Newf(failure.Invalid, "too_many_attributes", "an update names at most %d attributes", MaxAttributes)
	}
	if len(u.Attributes) == 0 {
		u.Attributes = nil
	}
	if len(u.Freeze) == 0 {
		u.Freeze = nil
	}
	data, _ := json.Marshal(u)
	return aggregate.Command{Type: CmdUpdate, Data: data}, nil
}

func parseClear(body []byte) (aggregate.Command, error) {
	raw, err := fields(body, `{"namespace":"ns"}`, "namespace")
	if err != nil {
		return aggregate.Command{}, err
	}
	ns, err := parseNamespace(raw["namespace"])
	if err != nil {
		return aggregate.Command{}, err
	}
	data, _ := json.Marshal(clear{Namespace: ns})
	return aggregate.Command{Type: CmdClear, Data: data}, nil
}

// parseDestroy accepts {} or an empty body.
func parseDestroy(body []byte) (aggregate.Command, error) {
	if len(bytes.TrimSpace(body)) > 0 {
		if _, err := fields(body, `{}`); err != nil {
			return aggregate.Command{}, err
		}
	}
	return aggregate.Command{Type: CmdDestroy, Data: json.RawMessage(`{}`)}, nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
