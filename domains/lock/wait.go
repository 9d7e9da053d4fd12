package lock

import (
	"encoding/json"
	"slices"
	"time"

	"uneventful.dev/uneventful/pkg/failure"
)

// The server's side of a waiting acquire (pkg/httpapi's Waiter): the writer records the
// wait and answers at once; the server holds the request until the grant or the end of
// that wait arrives among the lock's events.

// Grant is the answer to an acquire once granted (C10).
type Grant struct {
	Name    string    `json:"name"`
	Holder  string    `json:"holder"`
	Token   int64     `json:"token"`
	Expires time.Time `json:"expires"`
}

// WaitData takes every acquire (its answer is a Grant) and adds the wait's limit to one
// that waits (from ParseCommand); false for any other command.
func (Domain) WaitData(command string, data []byte, timeout time.Duration) ([]byte, bool) {
	var r request
	if command != CmdAcquire || json.Unmarshal(data, &r) != nil {
		return nil, false
	}
	if !r.Wait {
		return data, true
	}
	r.Timeout = min(timeout, MaxWaitTime).String()
	out, _ := json.Marshal(r)
	return out, true
}

// Answer reads the writer's reply to an acquire (the lock's state document at version):
// the grant, or a wait recorded at version.
func (Domain) Answer(id, _ string, state []byte, version int64) ([]byte, bool, error) {
	var s State
	if err := json.Unmarshal(state, &s); err != nil {
		return nil, false, failure.New(failure.Internal, "corrupt_state", "lock state document: "+err.Error())
	}
	if slices.ContainsFunc(s.Waiters, func(w Waiter) bool { return w.Wait == version }) {
		return nil, true, nil
	}
	if !s.held() {
		return nil, false, ErrNotHolder.With("the lock is free") // never for an accepted acquire
	}
	doc, _ := json.Marshal(Grant{Name: id, Holder: *s.Holder, Token: *s.Token, Expires: *s.Expires})
	return doc, false, nil
}

// Settle recognises the event that settles the wait recorded at version wait: its grant
// (the answer is the Grant) or its end (409 wait_timeout).
func (Domain) Settle(id string, wait int64, typ string, data []byte) ([]byte, bool, error) {
	switch typ {
	case EventAcquired:
		var a acquired
		if json.Unmarshal(data, &a) != nil || a.Wait != wait {
			return nil, false, nil
		}
		doc, _ := json.Marshal(Grant{Name: id, Holder: a.Holder, Token: a.Token, Expires: a.Expires})
		return doc, true, nil
	case EventWaitEnded:
		var w waitEnded
		if json.Unmarshal(data, &w) != nil || w.Wait != wait {
			return nil, false, nil
		}
		if w.Reason == ReasonCancelled {
			return nil, true, ErrWaitTimeout.With("the wait was cancelled before the lock was granted")
		}
		return nil, true, ErrWaitTimeout.With("the wait reached its timeout before the lock was granted")
	}
	return nil, false, nil
}

// Cancel returns the cancel_wait of the wait recorded at version wait.
func (Domain) Cancel(wait int64) (string, []byte) {
	data, _ := json.Marshal(request{WaitID: wait})
	return CmdCancelWait, data
}
