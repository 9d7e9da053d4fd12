package notify

// Constraint is rinq's constraint language: a boolean expression over a session's
// attributes that selects the sessions a NotifyMany reaches. It is evaluated in one
// namespace (the notification's, or the one a Within names); every attribute is a string
// and an absent key is empty. Build one with the constructors below, or decode its JSON
// form (json.go). The zero Constraint is not valid (Validate says so): None matches
// every session.
//
// A Constraint is a value: safe to share between goroutines.
type Constraint struct {
	op     op
	key    string       // equal, not_equal, empty, not_empty, in
	value  string       // equal, not_equal; the namespace of within
	values []string     // in
	terms  []Constraint // not (one), and, or, within
}

type op string

const (
	opNone     op = "none"
	opEqual    op = "equal"
	opNotEqual op = "not_equal"
	opEmpty    op = "empty"
	opNotEmpty op = "not_empty"
	opIn       op = "in"
	opNot      op = "not"
	opAnd      op = "and"
	opOr       op = "or"
	opWithin   op = "within"
)

// None matches every session (rinq's constraint.None).
var None = Constraint{op: opNone}

// Equal matches a session whose attribute k is v.
func Equal(k, v string) Constraint { return Constraint{op: opEqual, key: k, value: v} }

// NotEqual matches a session whose attribute k is not v.
func NotEqual(k, v string) Constraint { return Constraint{op: opNotEqual, key: k, value: v} }

// Empty matches a session whose attribute k is empty or absent.
func Empty(k string) Constraint { return Constraint{op: opEmpty, key: k} }

// NotEmpty matches a session whose attribute k has a non-empty value.
func NotEmpty(k string) Constraint { return Constraint{op: opNotEmpty, key: k} }

// In matches a session whose attribute k is one of values (In("k") matches none).
// It is Or(Equal(k, v1), Equal(k, v2), ...) written shortly; rinq has no such operator.
func In(k string, values ...string) Constraint {
	return Constraint{op: opIn, key: k, values: append([]string(nil), values...)}
}

// Not matches a session c does not match.
func Not(c Constraint) Constraint { return Constraint{op: opNot, terms: []Constraint{c}} }

// And matches a session every one of cs matches.
func And(cs ...Constraint) Constraint {
	return Constraint{op: opAnd, terms: append([]Constraint(nil), cs...)}
}

// Or matches a session one of cs matches at least.
func Or(cs ...Constraint) Constraint {
	return Constraint{op: opOr, terms: append([]Constraint(nil), cs...)}
}

// Within matches a session every one of cs matches when evaluated against the attributes
// of namespace ns instead of the notification's namespace, as rinq's Within does:
// NotifyMany("chat", ..., And(Equal("room", "7"), Within("auth", Equal("role", "admin"))))
// reaches the sessions in room 7 of "chat" whose "auth" role is admin.
func Within(ns string, cs ...Constraint) Constraint {
	return Constraint{op: opWithin, value: ns, terms: append([]Constraint(nil), cs...)}
}

// Attribute is one attribute of a session, as the session's read model holds it.
type Attribute struct {
	Value  string `json:"value"`
	Frozen bool   `json:"frozen"`
}

// Attributes are a session's attribute tables: namespace -> key -> attribute.
type Attributes map[string]map[string]Attribute

// Get returns the value of key k in namespace ns, "" when absent.
func (a Attributes) Get(ns, k string) string { return a[ns][k].Value }

// Match reports whether a session with attributes a matches c in namespace ns. An
// invalid c (see Validate) matches nothing.
func (c Constraint) Match(a Attributes, ns string) bool {
	switch c.op {
	case opNone:
		return true
	case opEqual:
		return a.Get(ns, c.key) == c.value
	case opNotEqual:
		return a.Get(ns, c.key) != c.value
	case opEmpty:
		return a.Get(ns, c.key) == ""
	case opNotEmpty:
		return a.Get(ns, c.key) != ""
	case opIn:
		v := a.Get(ns, c.key)
		for _, w := range c.values {
			if v == w {
				return true
			}
		}
		return false
	case opNot:
		return len(c.terms) == 1 && !c.terms[0].Match(a, ns)
	case opAnd:
		return allMatch(c.terms, a, ns)
	case opOr:
		for _, t := range c.terms {
			if t.Match(a, ns) {
				return true
			}
		}
		return false
	case opWithin:
		return allMatch(c.terms, a, c.value)
	}
	return false
}

func allMatch(cs []Constraint, a Attributes, ns string) bool {
	for _, t := range cs {
		if !t.Match(a, ns) {
			return false
		}
	}
	return len(cs) > 0
}

// namespaces returns the namespaces c reads besides the notification's (Withins').
func (c Constraint) namespaces(into map[string]bool) {
	if c.op == opWithin {
		into[c.value] = true
	}
	for _, t := range c.terms {
		t.namespaces(into)
	}
}
