package command

import (
	"regexp"
	"strconv"
	"strings"

	"uneventful.dev/uneventful/pkg/failure"
)

// lockName is the syntax of a lock name (C10), in a fencing token too.
var lockName = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,200}$`)

// ValidLockName reports whether name is a lock name: 1 to 200 of [A-Za-z0-9_.:-].
func ValidLockName(name string) bool { return lockName.MatchString(name) }

// ParseFence parses a Fencing-Token header value, "<lock name>=<token>" with a positive
// integer token, into the form of Request.Fencing.
func ParseFence(h string) (map[string]int64, error) {
	name, tok, ok := strings.Cut(strings.TrimSpace(h), "=")
	if !ok || !ValidLockName(name) {
		return nil, failure.New(failure.Invalid, "invalid_fencing_token", "Fencing-Token must be <lock name>=<token>, the name 1 to 200 of [A-Za-z0-9_.:-]")
	}
	v, err := strconv.ParseInt(tok, 10, 64)
	if err != nil || v <= 0 || tok[0] == '+' {
		return nil, failure.New(failure.Invalid, "invalid_fencing_token", "Fencing-Token's token must be a positive integer")
	}
	return map[string]int64{name: v}, nil
}

// CheckFencing validates a request's fencing tokens (a writer does: a request may come
// from anywhere on NATS).
func CheckFencing(f map[string]int64) error {
	for name, v := range f {
		if !ValidLockName(name) || v <= 0 {
			return failure.New(failure.Invalid, "invalid_fencing_token", "fencing tokens must be positive integers under lock names of 1 to 200 of [A-Za-z0-9_.:-]")
		}
	}
	return nil
}
