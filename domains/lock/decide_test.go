package lock

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/aggregate"
	"uneventful.dev/uneventful/pkg/failure"
)

var t0 = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

// entity is one lock driven through Decide and Evolve as the writer drives it.
type entity struct {
	t       *testing.T
	s       State
	version int64
	log     []aggregate.Event
}

// do parses (when from a client) and decides cmd at time at, applying its events.
func (e *entity) do(typ, body string, at time.Time) ([]aggregate.Event, error) {
	e.t.Helper()
	var cmd aggregate.Command
	if typ == CmdExpire || typ == CmdEndWait {
		cmd = aggregate.Command{Type: typ, Data: json.RawMessage(body)}
	} else {
		var err error
		if cmd, err = (Domain{}).ParseCommand(typ, []byte(body)); err != nil {
			e.t.Fatalf("%s %s: %v", typ, body, err)
		}
	}
	cmd.Time = at
	evs, err := Domain{}.Decide(e.s, e.version, cmd)
	if err != nil {
		return nil, err
	}
	for _, ev := range evs {
		if e.s, err = (Domain{}).Evolve(e.s, ev); err != nil {
			e.t.Fatalf("evolve %s: %v", ev.Type, err)
		}
		e.version++
		e.log = append(e.log, ev)
	}
	return evs, nil
}

func (e *entity) must(typ, body string, at time.Time) []aggregate.Event {
	e.t.Helper()
	evs, err := e.do(typ, body, at)
	if err != nil {
		e.t.Fatalf("%s %s: %v", typ, body, err)
	}
	return evs
}

func types(evs []aggregate.Event) string {
	var s []string
	for _, e := range evs {
		s = append(s, e.Type)
	}
	return strings.Join(s, ",")
}

func holder(s State) string {
	if s.Holder == nil {
		return "<free>"
	}
	return *s.Holder
}

func TestAcquireRenewRelease(t *testing.T) {
	e := &entity{t: t}
	if got := types(e.must(CmdAcquire, `{"holder":"w1","ttl":"10s"}`, t0)); got != "acquired" {
		t.Fatalf("acquire: %s", got)
	}
	if holder(e.s) != "w1" || *e.s.Token != 1 || !e.s.Expires.Equal(t0.Add(10*time.Second)) {
		t.Fatalf("state after acquire: %+v", e.s)
	}
	if _, err := e.do(CmdAcquire, `{"holder":"w2","ttl":"10s"}`, t0.Add(time.Second)); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "w1") {
		t.Fatalf("second acquire: %v, want locked naming w1", err)
	}
	if _, err := e.do(CmdRenew, `{"holder":"w2","token":1,"ttl":"10s"}`, t0.Add(time.Second)); !errors.Is(err, ErrNotHolder) {
		t.Fatalf("renew by another: %v", err)
	}
	if _, err := e.do(CmdRenew, `{"holder":"w1","token":2,"ttl":"10s"}`, t0.Add(time.Second)); !errors.Is(err, ErrNotHolder) {
		t.Fatalf("renew with a wrong token: %v", err)
	}
	e.must(CmdRenew, `{"holder":"w1","token":1,"ttl":"30s"}`, t0.Add(5*time.Second))
	if !e.s.Expires.Equal(t0.Add(35 * time.Second)) {
		t.Fatalf("expires after renew: %v", e.s.Expires)
	}
	if _, err := e.do(CmdRelease, `{"holder":"w1","token":7}`, t0.Add(6*time.Second)); !errors.Is(err, ErrNotHolder) {
		t.Fatalf("release with a wrong token: %v", err)
	}
	e.must(CmdRelease, `{"holder":"w1","token":1}`, t0.Add(6*time.Second))
	if e.s.Holder != nil || e.s.LastToken != 1 {
		t.Fatalf("after release: %+v", e.s)
	}
	e.must(CmdAcquire, `{"holder":"w1","ttl":"1s"}`, t0.Add(7*time.Second))
	if *e.s.Token != 2 {
		t.Fatalf("token after a release: %d, want 2 (never reused)", *e.s.Token)
	}
}

func TestWaitersGrantedInOrder(t *testing.T) {
	e := &entity{t: t}
	e.must(CmdAcquire, `{"holder":"w1","ttl":"10s"}`, t0)
	e.must(CmdAcquire, `{"holder":"w2","ttl":"5s","wait":true,"timeout":"20s"}`, t0.Add(time.Second))
	e.must(CmdAcquire, `{"holder":"w3","ttl":"5s","wait":true,"timeout":"20s"}`, t0.Add(2*time.Second))
	if len(e.s.Waiters) != 2 || e.s.Waiters[0].Holder != "w2" || e.s.Waiters[0].Wait != 2 || e.s.Waiters[1].Wait != 3 {
		t.Fatalf("waiters: %+v", e.s.Waiters)
	}
	if got := types(e.must(CmdRelease, `{"holder":"w1","token":1}`, t0.Add(3*time.Second))); got != "released,acquired" {
		t.Fatalf("release with waiters: %s", got)
	}
	if holder(e.s) != "w2" || *e.s.Token != 2 || !e.s.Expires.Equal(t0.Add(8*time.Second)) {
		t.Fatalf("after hand-over: %+v", e.s)
	}
	// w2's lease ends unrenewed: the expire timer hands it to w3 at once.
	if _, err := e.do(CmdExpire, `{"token":2}`, t0.Add(7*time.Second)); !errors.Is(err, ErrNothingDue) {
		t.Fatalf("an expire before the lease's end: %v", err)
	}
	if got := types(e.must(CmdExpire, `{"token":2}`, t0.Add(8*time.Second))); got != "expired,acquired" {
		t.Fatalf("expire: %s", got)
	}
	if holder(e.s) != "w3" || *e.s.Token != 3 || len(e.s.Waiters) != 0 {
		t.Fatalf("after expiry: %+v", e.s)
	}
}

func TestWaitEnds(t *testing.T) {
	e := &entity{t: t}
	e.must(CmdAcquire, `{"holder":"w1","ttl":"60s"}`, t0)
	e.must(CmdAcquire, `{"holder":"w2","ttl":"5s","wait":true,"timeout":"2s"}`, t0)
	e.must(CmdAcquire, `{"holder":"w3","ttl":"5s","wait":true,"timeout":"20s"}`, t0)
	e.must(CmdAcquire, `{"holder":"w4","ttl":"5s","wait":true,"timeout":"20s"}`, t0)
	evs := e.must(CmdEndWait, `{"wait_id":2}`, t0.Add(2*time.Second))
	if types(evs) != "wait_ended" || !strings.Contains(string(evs[0].Data), `"reason":"timeout"`) {
		t.Fatalf("end_wait: %s %s", types(evs), evs[0].Data)
	}
	evs = e.must(CmdCancelWait, `{"wait_id":3}`, t0.Add(3*time.Second))
	if types(evs) != "wait_ended" || !strings.Contains(string(evs[0].Data), `"reason":"cancelled"`) {
		t.Fatalf("cancel_wait: %s", types(evs))
	}
	if _, err := e.do(CmdCancelWait, `{"wait_id":3}`, t0.Add(3*time.Second)); !errors.Is(err, ErrNotWaiting) {
		t.Fatalf("cancel twice: %v", err)
	}
	e.must(CmdRelease, `{"holder":"w1","token":1}`, t0.Add(4*time.Second))
	if holder(e.s) != "w4" {
		t.Fatalf("after release: holder %s, want w4 (w2 and w3 are no longer waiting)", holder(e.s))
	}
	if _, err := e.do(CmdCancelWait, `{"wait_id":4}`, t0.Add(4*time.Second)); !errors.Is(err, ErrNotWaiting) {
		t.Fatalf("cancel of a granted wait: %v", err)
	}
}

// A command decided after a lease's end (its timer not fired yet, the writer was down)
// settles what is due first: waits past their limit end, the lease expires, the first
// waiter still waiting is granted; then the command.
func TestDueSettledFirst(t *testing.T) {
	e := &entity{t: t}
	e.must(CmdAcquire, `{"holder":"w1","ttl":"10s"}`, t0)
	e.must(CmdAcquire, `{"holder":"w2","ttl":"5s","wait":true,"timeout":"5s"}`, t0)
	e.must(CmdAcquire, `{"holder":"w3","ttl":"5s","wait":true,"timeout":"20s"}`, t0)
	got := types(e.must(CmdAcquire, `{"holder":"w4","ttl":"5s","wait":true,"timeout":"20s"}`, t0.Add(11*time.Second)))
	if got != "wait_ended,expired,acquired,waiting" {
		t.Fatalf("events: %s", got)
	}
	if holder(e.s) != "w3" || *e.s.Token != 2 || len(e.s.Waiters) != 1 || e.s.Waiters[0].Holder != "w4" {
		t.Fatalf("state: %+v", e.s)
	}
	// A renewal after the lease's end is refused: the lease is over, whatever the timer.
	if _, err := e.do(CmdRenew, `{"holder":"w3","token":2,"ttl":"5s"}`, t0.Add(16*time.Second)); !errors.Is(err, ErrNotHolder) {
		t.Fatalf("late renewal: %v", err)
	}
	// A cancel decided after the due grant of its own wait: the grant is its answer.
	evs := e.must(CmdCancelWait, `{"wait_id":7}`, t0.Add(16*time.Second))
	if types(evs) != "expired,acquired" || holder(e.s) != "w4" {
		t.Fatalf("cancel after due grant: %s, holder %s", types(evs), holder(e.s))
	}
}

func TestTimersFollowState(t *testing.T) {
	e := &entity{t: t}
	if ts := (Domain{}).Timers(e.s); len(ts) != 0 {
		t.Fatalf("timers of a free lock: %v", ts)
	}
	e.must(CmdAcquire, `{"holder":"w1","ttl":"10s"}`, t0)
	e.must(CmdAcquire, `{"holder":"w2","ttl":"5s","wait":true,"timeout":"3s"}`, t0)
	ts := Domain{}.Timers(e.s)
	if len(ts) != 2 || ts[0].Key != "expire" || !ts[0].At.Equal(t0.Add(10*time.Second)) || ts[0].Command.Type != CmdExpire ||
		ts[1].Key != "wait:2" || !ts[1].At.Equal(t0.Add(3*time.Second)) || ts[1].Command.Type != CmdEndWait {
		t.Fatalf("timers: %+v", ts)
	}
	if !(Domain{}).Pinned(e.s) {
		t.Fatal("a held lock with a waiter is not pinned")
	}
	// Firing each timer's own command at its moment does what it says.
	if got := types(e.must(ts[1].Command.Type, string(ts[1].Command.Data), ts[1].At)); got != "wait_ended" {
		t.Fatalf("fired end_wait: %s", got)
	}
	e.must(CmdRenew, `{"holder":"w1","token":1,"ttl":"20s"}`, t0.Add(5*time.Second))
	ts = Domain{}.Timers(e.s)
	if len(ts) != 1 || !ts[0].At.Equal(t0.Add(25*time.Second)) {
		t.Fatalf("timers after renew: %+v", ts)
	}
	if _, err := e.do(CmdExpire, `{"token":1}`, t0.Add(10*time.Second)); !errors.Is(err, ErrNothingDue) {
		t.Fatalf("the superseded expire: %v", err)
	}
	if got := types(e.must(ts[0].Command.Type, string(ts[0].Command.Data), ts[0].At)); got != "expired" {
		t.Fatalf("fired expire: %s", got)
	}
	if ts := (Domain{}).Timers(e.s); len(ts) != 0 || (Domain{}).Pinned(e.s) {
		t.Fatalf("timers of a free lock: %v", ts)
	}
}

// Replaying the log gives the same state, through JSON, and tokens only grow.
func TestReplayAndTokens(t *testing.T) {
	e := &entity{t: t}
	at := t0
	for i := range 20 {
		at = at.Add(time.Second)
		e.must(CmdAcquire, `{"holder":"w1","ttl":"1s"}`, at)
		if i%2 == 0 {
			e.must(CmdRelease, `{"holder":"w1","token":`+itoa(int64(i+1))+`}`, at)
		} else {
			at = at.Add(time.Second)
			e.must(CmdExpire, `{"token":`+itoa(int64(i+1))+`}`, at)
		}
	}
	var s State
	var last int64
	for _, ev := range e.log {
		var err error
		if s, err = (Domain{}).Evolve(s, ev); err != nil {
			t.Fatal(err)
		}
		if s.Token != nil {
			if *s.Token <= last {
				t.Fatalf("token %d after %d", *s.Token, last)
			}
			last = *s.Token
		}
	}
	a, _ := json.Marshal(s)
	b, _ := json.Marshal(e.s)
	var back State
	if err := json.Unmarshal(a, &back); err != nil {
		t.Fatal(err)
	}
	c, _ := json.Marshal(back)
	if string(a) != string(b) || string(a) != string(c) || s.LastToken != 20 {
		t.Fatalf("replayed %s\nlive %s\nround trip %s", a, b, c)
	}
	// A grant whose token is not above the last one is a corrupt log.
	bad := aggregate.Event{Type: EventAcquired, Data: json.RawMessage(`{"holder":"x","token":3,"ttl":"1s","expires":"2026-12-06T12:00:00Z"}`)}
	if _, err := (Domain{}).Evolve(s, bad); failure.KindOf(err) != failure.Internal {
		t.Fatalf("a reused token: %v", err)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
