package notify

// Checks of a constraint and of a namespace, whichever way they were built.

import (
	"fmt"
	"strings"

	"uneventful.dev/uneventful/pkg/failure"
)

// Validate reports the first rule c breaks (see the JSON form), as an
// ErrInvalidConstraint naming where; nil if c is valid.
func (c Constraint) Validate() error {
	nodes := 0
	return c.validate("constraint", 1, &nodes)
}

func (c Constraint) validate(path string, depth int, nodes *int) error {
	if depth > MaxDepth {
		return invalid(path, "nested deeper than %d levels", MaxDepth)
	}
	*nodes += 1 + len(c.values)
	if *nodes > MaxNodes {
		return invalid(path, "more than %d operators and values in all", MaxNodes)
	}
	want, ok := fields[c.op]
	if !ok {
		if c.op == "" {
			return invalid(path, "empty constraint (use None to match every session)")
		}
		return invalid(path, "unknown op %q", c.op)
	}
	for _, f := range want {
		switch {
		case f == "key" && c.key == "":
			return invalid(path, "%s needs a non-empty key", c.op)
		case f == "values" && len(c.values) == 0:
			return invalid(path, "in needs at least one value")
		case f == "term" && len(c.terms) != 1:
			return invalid(path, "not needs exactly one term")
		case f == "terms" && len(c.terms) == 0:
			return invalid(path, "%s needs at least one term", c.op)
		case f == "namespace":
			if err := CheckNamespace(c.value); err != nil {
				return invalid(path, "%s", failure.From(err).Message)
			}
		}
	}
	for i, t := range c.terms {
		p := fmt.Sprintf("%s.terms[%d]", path, i)
		if c.op == opNot {
			p = path + ".term"
		}
		if err := t.validate(p, depth+1, nodes); err != nil {
			return err
		}
	}
	return nil
}

// ErrInvalidNamespace is the failure of a namespace that breaks NamespacePattern or
// starts with _ (HTTP 400).
var ErrInvalidNamespace = failure.New(failure.Invalid, "invalid_namespace", "invalid namespace")

// CheckNamespace reports a namespace that is not one: not matching NamespacePattern, over
// 200 bytes, or starting with _ (reserved, C9).
func CheckNamespace(ns string) error {
	switch {
	case !NamespacePattern.MatchString(ns) || len(ns) > 200:
		return ErrInvalidNamespace.Withf("namespace %q must be 1 to 200 of A-Z a-z 0-9 _ . : -", truncate(ns, 64))
	case strings.HasPrefix(ns, "_"):
		return ErrInvalidNamespace.Withf("namespace %q: a leading _ is reserved", truncate(ns, 64))
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
