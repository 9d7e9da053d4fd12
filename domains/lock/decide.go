package lock

import (
	"encoding/json"
	"time"

	"uneventful.dev/uneventful/pkg/aggregate"
	"uneventful.dev/uneventful/pkg/failure"
)

// Rejections (409).
var (
	ErrLocked         = failure.New(failure.Conflict, "locked", "the lock is held")
	ErrNotHolder      = failure.New(failure.Conflict, "not_holder", "not the lock's holder with this token")
	ErrWaitTimeout    = failure.New(failure.Conflict, "wait_timeout", "the wait ended before the lock was granted")
	ErrNotWaiting     = failure.New(failure.Conflict, "not_waiting", "no such wait: it was granted or ended")
	ErrTooManyWaiters = failure.New(failure.Conflict, "too_many_waiters", "the lock has too many waiters")
	ErrNothingDue     = failure.New(failure.Conflict, "nothing_due", "the timer's moment has passed: the state moved on")
)

// Decide decides cmd at its decision time, cmd.Time. It first settles what that time
// makes due (waits past their limit end; a lease past its end expires and passes to the
// first waiter), then the command itself; a rejected command writes nothing, what was due
// included (its timers still fire).
func (d Domain) Decide(s State, version int64, cmd aggregate.Command) ([]aggregate.Event, error) {
	if cmd.Time.IsZero() {
		return nil, failure.New(failure.Internal, "no_time", "lock commands need their decision time (aggregate.Command.Time)")
	}
	var r request
	if err := json.Unmarshal(cmd.Data, &r); err != nil {
		return nil, failure.New(failure.Invalid, "invalid_command", "the command was not made by ParseCommand or a timer")
	}
	b := &builder{d: d, s: s, version: version, now: cmd.Time.UTC()}
	if err := b.settle(); err != nil {
		return nil, err
	}
	var err error
	switch cmd.Type {
	case CmdAcquire:
		err = b.acquire(r)
	case CmdRenew:
		err = b.renew(r)
	case CmdRelease:
		err = b.release(r)
	case CmdCancelWait:
		err = b.cancelWait(r)
	case CmdExpire, CmdEndWait: // settle did what was due
		if len(b.events) == 0 {
			err = ErrNothingDue
		}
	default:
		err = failure.Newf(failure.Invalid, "unknown_command", "unknown lock command %q", cmd.Type)
	}
	if err != nil {
		return nil, err
	}
	return b.events, nil
}

// builder collects events, applying each to the state as it goes.
type builder struct {
	d       Domain
	s       State
	version int64
	now     time.Time
	events  []aggregate.Event
}

func (b *builder) add(typ string, data any) error {
	raw, _ := json.Marshal(data)
	e := aggregate.Event{Type: typ, Data: raw}
	s, err := b.d.Evolve(b.s, e)
	if err != nil {
		return err
	}
	b.s, b.version, b.events = s, b.version+1, append(b.events, e)
	return nil
}

// settle ends the waits past their limit, then expires a lease past its end and grants
// the lock to the first waiter left.
func (b *builder) settle() error {
	for _, w := range b.s.Waiters {
		if !b.now.Before(w.Until) {
			if err := b.add(EventWaitEnded, waitEnded{Holder: w.Holder, Wait: w.Wait, Reason: ReasonTimeout}); err != nil {
				return err
			}
		}
	}
	if b.s.held() && !b.now.Before(*b.s.Expires) {
		if err := b.add(EventExpired, released{Holder: *b.s.Holder, Token: *b.s.Token}); err != nil {
			return err
		}
	}
	return b.grantNext()
}

// grantNext grants a free lock to its first waiter.
func (b *builder) grantNext() error {
	if b.s.held() || len(b.s.Waiters) == 0 {
		return nil
	}
	w := b.s.Waiters[0]
	ttl, _ := time.ParseDuration(w.TTL)
	return b.grant(w.Holder, ttl, w.Wait)
}

func (b *builder) grant(holder string, ttl time.Duration, wait int64) error {
	return b.add(EventAcquired, acquired{Holder: holder, Token: b.s.LastToken + 1, TTL: ttl.String(), Expires: b.now.Add(ttl), Wait: wait})
}

func (b *builder) acquire(r request) error {
	ttl, err := time.ParseDuration(r.TTL)
	if err != nil || ttl <= 0 {
		return failure.New(failure.Invalid, "invalid_command", "acquire needs a ttl")
	}
	if !b.s.held() && len(b.s.Waiters) == 0 {
		return b.grant(r.Holder, ttl, 0)
	}
	if !r.Wait {
		return ErrLocked.Withf("held by %s until %s", *b.s.Holder, b.s.Expires.Format(time.RFC3339Nano))
	}
	if len(b.s.Waiters) >= MaxWaiters {
		return ErrTooManyWaiters.Withf("the lock has %d waiters, the most it takes", MaxWaiters)
	}
	timeout, err := time.ParseDuration(r.Timeout)
	if err != nil || timeout <= 0 {
		timeout = MaxWaitTime
	}
	return b.add(EventWaiting, waiting{Holder: r.Holder, Wait: b.version + 1, TTL: ttl.String(), Until: b.now.Add(timeout)})
}

// holds reports whether r names the current holder and token.
func (b *builder) holds(r request) bool {
	return b.s.held() && *b.s.Holder == r.Holder && *b.s.Token == r.Token
}

func (b *builder) renew(r request) error {
	ttl, err := time.ParseDuration(r.TTL)
	if err != nil || ttl <= 0 {
		return failure.New(failure.Invalid, "invalid_command", "renew needs a ttl")
	}
	if !b.holds(r) {
		return b.notHolder(r)
	}
	return b.add(EventRenewed, acquired{Holder: r.Holder, Token: r.Token, TTL: ttl.String(), Expires: b.now.Add(ttl)})
}

func (b *builder) release(r request) error {
	if !b.holds(r) {
		return b.notHolder(r)
	}
	if err := b.add(EventReleased, released{Holder: r.Holder, Token: r.Token}); err != nil {
		return err
	}
	return b.grantNext()
}

func (b *builder) notHolder(r request) error {
	if !b.s.held() {
		return ErrNotHolder.Withf("%s with token %d does not hold the lock: it is free", r.Holder, r.Token)
	}
	return ErrNotHolder.Withf("%s with token %d does not hold the lock", r.Holder, r.Token)
}

// cancelWait ends a wait whose client is gone, unless it was settled first (then the
// events settling it, if this command's time settled it, are the answer).
func (b *builder) cancelWait(r request) error {
	i := b.s.waiter(r.WaitID)
	if i < 0 {
		if len(b.events) > 0 {
			return nil
		}
		return ErrNotWaiting.Withf("wait %d was granted or ended", r.WaitID)
	}
	w := b.s.Waiters[i]
	return b.add(EventWaitEnded, waitEnded{Holder: w.Holder, Wait: w.Wait, Reason: ReasonCancelled})
}
