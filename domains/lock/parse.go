package lock

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"uneventful.dev/uneventful/pkg/aggregate"
	"uneventful.dev/uneventful/pkg/failure"
)

// request is the data of every command, in canonical form (only its command's fields).
type request struct {
	Holder  string `json:"holder,omitempty"`
	Token   int64  `json:"token,omitempty"`
	TTL     string `json:"ttl,omitempty"`
	Wait    bool   `json:"wait,omitempty"`
	Timeout string `json:"timeout,omitempty"` // acquire with wait: the wait's limit
	WaitID  int64  `json:"wait_id,omitempty"` // cancel_wait, end_wait: the wait
}

// fields lists what each command may carry; * marks the required ones.
var fields = map[string][]string{
	CmdAcquire:    {"*holder", "*ttl", "wait", "timeout"},
	CmdRenew:      {"*holder", "*token", "*ttl"},
	CmdRelease:    {"*holder", "*token"},
	CmdCancelWait: {"*wait_id"},
}

// ParseCommand validates acquire, renew, release (from HTTP) and cancel_wait (from the
// server): a JSON object with its command's fields only. holder matches the lock names'
// syntax; ttl is a Go duration above 0 and at most MaxTTL; token and wait_id are
// positive JSON integers; timeout (set by the server from ?timeout=) a duration above 0
// and at most MaxWaitTime. expire and end_wait come only from timers.
func (Domain) ParseCommand(typ string, body []byte) (aggregate.Command, error) {
	allowed, ok := fields[typ]
	if !ok {
		return aggregate.Command{}, failure.Newf(failure.Invalid, "unknown_command", "unknown lock command %q", typ)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(bytes.TrimSpace(body), &raw); err != nil || raw == nil {
		return aggregate.Command{}, failure.New(failure.Invalid, "invalid_json", `body must be a JSON object like {"holder":"w1","ttl":"10s"}`)
	}
	known := map[string]bool{}
	for _, f := range allowed {
		name := f
		if f[0] == '*' {
			name = f[1:]
			if _, ok := raw[name]; !ok {
				return aggregate.Command{}, failure.Newf(failure.Invalid, "missing_"+name, "%q is required", name)
			}
		}
		known[name] = true
	}
	for k := range raw {
		if !known[k] {
			return aggregate.Command{}, failure.Newf(failure.Invalid, "unknown_field", "unknown field %q", truncate(k))
		}
	}
	var r request
	var err error
	for k, v := range raw {
		switch k {
		case "holder":
			err = parseHolder(v, &r.Holder)
		case "token":
			err = parsePositive(v, "token", &r.Token)
		case "wait_id":
			err = parsePositive(v, "wait_id", &r.WaitID)
		case "ttl":
			err = parseDuration(v, "ttl", MaxTTL, &r.TTL)
		case "timeout":
			err = parseDuration(v, "timeout", MaxWaitTime, &r.Timeout)
		case "wait":
			if json.Unmarshal(v, &r.Wait) != nil {
				err = failure.New(failure.Invalid, "invalid_wait", "wait must be true or false")
			}
		}
		if err != nil {
			return aggregate.Command{}, err
		}
	}
	if !r.Wait {
		r.Timeout = ""
	}
	data, _ := json.Marshal(r)
	return aggregate.Command{Type: typ, Data: data}, nil
}

func parseHolder(v json.RawMessage, out *string) error {
	if json.Unmarshal(v, out) != nil || !namePattern.MatchString(*out) {
		return failure.New(failure.Invalid, "invalid_holder", "holder must be a string of 1 to 200 characters of A-Z a-z 0-9 _ . : -")
	}
	return nil
}

// parsePositive reads a JSON integer from 1 to 2^53 (exact in every JSON reader).
func parsePositive(v json.RawMessage, name string, out *int64) error {
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil || n < 1 || n > 1<<53 {
		return failure.Newf(failure.Invalid, "invalid_"+name, "%s must be a positive JSON integer (not a string)", name)
	}
	*out = n
	return nil
}

// parseDuration reads a Go duration string above 0 and at most limit, in canonical form.
func parseDuration(v json.RawMessage, name string, limit time.Duration, out *string) error {
	var s string
	d, err := time.Duration(0), json.Unmarshal(v, &s)
	if err == nil {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d <= 0 || d > limit {
		return failure.Newf(failure.Invalid, "invalid_"+name, "%s must be a Go duration such as \"10s\", more than 0 and at most %s", name, limit)
	}
	*out = d.String()
	return nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
