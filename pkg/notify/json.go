package notify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"uneventful.dev/uneventful/pkg/failure"
)

// The JSON form of a Constraint: one object per operator, named by "op".
//
//	{"op": "none"}                                         every session
//	{"op": "equal",     "key": "k", "value": "v"}          k is v
//	{"op": "not_equal", "key": "k", "value": "v"}          k is not v
//	{"op": "empty",     "key": "k"}                        k is empty or absent
//	{"op": "not_empty", "key": "k"}                        k is not empty
//	{"op": "in",        "key": "k", "values": ["a", "b"]}  k is one of values
//	{"op": "not",       "term": C}                         C does not match
//	{"op": "and",       "terms": [C, ...]}                 every C matches
//	{"op": "or",        "terms": [C, ...]}                 one C matches at least
//	{"op": "within",    "namespace": "ns", "terms": [C, ...]}
//	                                                       every C matches in namespace ns
//
// An operator takes exactly the fields shown: a missing one, another one, a field of the
// wrong JSON type, an empty key, an and/or/within/in without terms or values, a namespace
// that is not one (NamespacePattern), nesting deeper than MaxDepth or more than MaxNodes
// terms and values in all are each an ErrInvalidConstraint naming where
// ("constraint.terms[1]: equal needs \"value\"").

// Limits of a constraint, so that evaluating it against every session stays cheap.
const (
	MaxDepth = 16  // levels of nesting
	MaxNodes = 512 // operators and in-values in all
)

// NamespacePattern is the syntax of a namespace (contract C9); a leading _ is reserved.
var NamespacePattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)

// ErrInvalidConstraint is the failure of a constraint that breaks a rule above (HTTP 400).
var ErrInvalidConstraint = failure.New(failure.Invalid, "invalid_constraint", "invalid constraint")

// wire is the JSON object of one operator; pointers tell a missing field from an empty one.
type wire struct {
	Op        *string            `json:"op"`
	Key       *string            `json:"key,omitempty"`
	Value     *string            `json:"value,omitempty"`
	Values    *[]string          `json:"values,omitempty"`
	Namespace *string            `json:"namespace,omitempty"`
	Term      json.RawMessage    `json:"term,omitempty"`
	Terms     *[]json.RawMessage `json:"terms,omitempty"`
}

// fields says which fields each operator takes besides op.
var fields = map[op][]string{
	opNone: {}, opEqual: {"key", "value"}, opNotEqual: {"key", "value"},
	opEmpty: {"key"}, opNotEmpty: {"key"}, opIn: {"key", "values"},
	opNot: {"term"}, opAnd: {"terms"}, opOr: {"terms"}, opWithin: {"namespace", "terms"},
}

// MarshalJSON writes c in the JSON form above.
func (c Constraint) MarshalJSON() ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(c.wire())
}

// wireOut is what MarshalJSON writes: fields in a fixed order, terms as constraints.
type wireOut struct {
	Op        op        `json:"op"`
	Namespace *string   `json:"namespace,omitempty"`
	Key       *string   `json:"key,omitempty"`
	Value     *string   `json:"value,omitempty"`
	Values    []string  `json:"values,omitempty"`
	Term      *wireOut  `json:"term,omitempty"`
	Terms     []wireOut `json:"terms,omitempty"`
}

func (c Constraint) wire() wireOut {
	w := wireOut{Op: c.op}
	for _, f := range fields[c.op] {
		switch f {
		case "key":
			w.Key = &c.key
		case "value":
			w.Value = &c.value
		case "namespace":
			w.Namespace = &c.value
		case "values":
			w.Values = c.values
		case "term":
			t := c.terms[0].wire()
			w.Term = &t
		case "terms":
			for _, t := range c.terms {
				w.Terms = append(w.Terms, t.wire())
			}
		}
	}
	return w
}

// UnmarshalJSON reads c from the JSON form above and validates it; its error is an
// ErrInvalidConstraint saying what is wrong and where.
func (c *Constraint) UnmarshalJSON(b []byte) error {
	d, err := decode("constraint", b, 1)
	if err != nil {
		return err
	}
	if err := d.Validate(); err != nil {
		return err
	}
	*c = d
	return nil
}

// ParseConstraint reads a constraint from its JSON form; see UnmarshalJSON.
func ParseConstraint(b []byte) (Constraint, error) {
	var c Constraint
	err := c.UnmarshalJSON(b)
	return c, err
}

func invalid(path, format string, args ...any) error {
	return ErrInvalidConstraint.With(path + ": " + fmt.Sprintf(format, args...))
}

// decode reads one operator at path and its terms, checking the shape only; Validate
// checks the rest.
func decode(path string, b []byte, depth int) (Constraint, error) {
	if depth > MaxDepth {
		return Constraint{}, invalid(path, "nested deeper than %d levels", MaxDepth)
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return Constraint{}, invalid(path, "want a JSON object such as {\"op\": \"equal\", \"key\": \"k\", \"value\": \"v\"}")
	}
	var w wire
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return Constraint{}, invalid(path, "%s", jsonProblem(err))
	}
	if w.Op == nil {
		return Constraint{}, invalid(path, `"op" is missing`)
	}
	o := op(*w.Op)
	want, ok := fields[o]
	if !ok {
		return Constraint{}, invalid(path, "unknown op %q (want none, equal, not_equal, empty, not_empty, in, not, and, or or within)", truncate(*w.Op, 40))
	}
	present := map[string]bool{"key": w.Key != nil, "value": w.Value != nil, "values": w.Values != nil,
		"namespace": w.Namespace != nil, "term": w.Term != nil, "terms": w.Terms != nil}
	for _, f := range want {
		if !present[f] {
			return Constraint{}, invalid(path, "%s needs %q", o, f)
		}
		delete(present, f)
	}
	for f, p := range present {
		if p {
			return Constraint{}, invalid(path, "%s takes no %q (it takes %s)", o, f, takes(want))
		}
	}
	c := Constraint{op: o}
	if w.Key != nil {
		c.key = *w.Key
	}
	switch {
	case w.Value != nil:
		c.value = *w.Value
	case w.Namespace != nil:
		c.value = *w.Namespace
	}
	if w.Values != nil {
		c.values = *w.Values
	}
	if w.Term != nil {
		t, err := decode(path+".term", w.Term, depth+1)
		if err != nil {
			return Constraint{}, err
		}
		c.terms = []Constraint{t}
	}
	if w.Terms != nil {
		for i, raw := range *w.Terms {
			t, err := decode(fmt.Sprintf("%s.terms[%d]", path, i), raw, depth+1)
			if err != nil {
				return Constraint{}, err
			}
			c.terms = append(c.terms, t)
		}
	}
	return c, nil
}

// jsonProblem says what encoding/json found wrong, in the form's words.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		want := "a string"
		switch te.Field {
		case "values":
			want = "an array of strings"
		case "terms":
			want = "an array of constraints"
		case "term":
			want = "a constraint"
		}
		return fmt.Sprintf("%q must be %s, found %s %s", te.Field, want, article(te.Value), te.Value)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	return msg
}

func article(s string) string {
	if s != "" && strings.ContainsAny(s[:1], "aeiou") {
		return "an"
	}
	return "a"
}

func takes(fs []string) string {
	if len(fs) == 0 {
		return "nothing else"
	}
	q := make([]string, len(fs))
	for i, f := range fs {
		q[i] = fmt.Sprintf("%q", f)
	}
	return strings.Join(q, " and ")
}
