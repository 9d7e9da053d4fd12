// Package lock is a resource lock taken in turn (fox-wamp's demo, C10): a lease with a
// holder, a fencing token and an expiry, and a FIFO queue of waiters. It is pure: the
// decision time comes with each command (aggregate.Command.Time), and the lease's end
// and each wait's end are timers (aggregate.Scheduler) the writer fires through Decide.
//
// Tokens grow strictly per lock and are never reused: each grant takes the last token
// ever issued plus one, and that last token is part of the state, rebuilt from events.
package lock

import (
	"regexp"
	"time"

	"uneventful.dev/uneventful/pkg/aggregate"
	"uneventful.dev/uneventful/pkg/failure"
)

// Commands from clients (HTTP), from the server (cancel_wait) and from timers.
const (
	CmdAcquire    = "acquire"     // {"holder","ttl","wait"} (+ "timeout" when waiting)
	CmdRenew      = "renew"       // {"holder","token","ttl"}
	CmdRelease    = "release"     // {"holder","token"}
	CmdCancelWait = "cancel_wait" // {"wait"}: the waiter's client hung up (sent by the server)
	CmdExpire     = "expire"      // {"token"}: the lease's end (a timer)
	CmdEndWait    = "end_wait"    // {"wait"}: a wait's limit (a timer)
)

// Events.
const (
	EventAcquired  = "acquired"   // {"holder","token","ttl","expires","wait"?}: a grant
	EventWaiting   = "waiting"    // {"holder","wait","ttl","until"}: a waiter queued
	EventRenewed   = "renewed"    // {"holder","token","ttl","expires"}
	EventReleased  = "released"   // {"holder","token"}
	EventExpired   = "expired"    // {"holder","token"}: the lease ended unrenewed
	EventWaitEnded = "wait_ended" // {"holder","wait","reason"}: timeout or cancelled
)

// Limits.
const (
	MaxTTL      = 24 * time.Hour   // the longest lease (acquire, renew)
	MaxWaiters  = 1000             // waiters at most per lock; one more is 409 too_many_waiters
	MaxWaitTime = 25 * time.Second // the longest wait (the server's ?timeout= is at most this)
)

// Wait-end reasons.
const (
	ReasonTimeout   = "timeout"
	ReasonCancelled = "cancelled"
)

// namePattern is the syntax of lock names (C10); holders use it too.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,200}$`)

// Domain implements aggregate.Domain[State], aggregate.Scheduler[State],
// aggregate.Pinner[State] and aggregate.IDSyntax.
type Domain struct{}

var (
	_ aggregate.Domain[State]    = Domain{}
	_ aggregate.Scheduler[State] = Domain{}
	_ aggregate.Pinner[State]    = Domain{}
	_ aggregate.IDSyntax         = Domain{}
)

// Name returns "lock".
func (Domain) Name() string { return "lock" }

// CheckID accepts lock names: 1 to 200 of A-Z a-z 0-9 _ . : -
func (Domain) CheckID(id string) error {
	if !namePattern.MatchString(id) {
		return failure.New(failure.Invalid, "invalid_id", "a lock name is 1 to 200 characters of A-Z a-z 0-9 _ . : -")
	}
	return nil
}

// Commands lists the commands served over HTTP: POST /lock/{name}/acquire, /renew and
// /release. The others are internal (sent by the server or fired by timers).
func (Domain) Commands() []string { return []string{CmdAcquire, CmdRenew, CmdRelease} }

// Views: no other names than GET /lock/{name} and /lock/{name}/events.
func (Domain) Views() (state, events []string) { return nil, nil }

// Implicit: every valid name is a lock, free until first acquired (aggregate.Implicit),
// so GET /lock/{name} of a lock never taken shows it free at version 0.
func (Domain) Implicit() bool { return true }
