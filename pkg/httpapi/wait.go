package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/failure"
	"uneventful.dev/uneventful/pkg/livefeed"
)

// Waits: a command whose answer may take long (a lock's acquire waiting its turn) never
// holds its writer. The writer records the wait as an event and answers at once; the
// server holds the HTTP request, following the entity's events (C8's feed and stored
// events), until an event settles the wait (a grant, or the end of the wait the writer
// decided). A client that hangs up, or a wait the writer has not settled shortly after
// its limit, gets a cancel command: the writer decides between the cancel and whatever
// settled the wait first, so a wait has exactly one outcome.

// Wait limits, from ?timeout= (a Go duration).
const (
	DefaultWait = 20 * time.Second
	MaxWait     = 25 * time.Second // under the router's 30 s read timeout
	// waitGrace is how long after a wait's limit the server waits for the writer's own
	// decision before it sends the cancel.
	waitGrace = 2 * time.Second
)

// Waiter is implemented by a domain with commands that may wait. Its methods are pure.
type Waiter interface {
	// WaitData returns the data of a command that may wait (with the wait's limit
	// added when it does) and true: its answer goes through Answer. False for any other
	// command (answered with the state document).
	WaitData(command string, data []byte, timeout time.Duration) ([]byte, bool)
	// Answer turns the writer's reply to such a command (the state document at version)
	// into the HTTP answer, or reports that the command recorded a wait (waiting true),
	// named by version.
	Answer(id, command string, state []byte, version int64) (doc []byte, waiting bool, err error)
	// Settle tells whether an event of the entity (its type and data) settles the wait
	// recorded at version wait: done, with the answer or the failure that ends it.
	Settle(id string, wait int64, typ string, data []byte) (doc []byte, done bool, err error)
	// Cancel returns the command (type and data) that ends the wait recorded at version
	// wait if nothing settled it before.
	Cancel(wait int64) (command string, data []byte)
}

// WaitTimeout returns ?timeout= (default DefaultWait, more than 0, at most MaxWait).
func WaitTimeout(r *http.Request) (time.Duration, error) {
	s := r.URL.Query().Get("timeout")
	if s == "" {
		return DefaultWait, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d > MaxWait {
		return 0, failure.Newf(failure.Invalid, "invalid_timeout", "timeout must be a duration such as 20s, more than 0 and at most %s", MaxWait)
	}
	return d, nil
}

// commandWaiting serves a command that may wait: true when it was served (answered or
// failed); false when it is not one (it is sent the ordinary way).
func (a *Entities) commandWaiting(w http.ResponseWriter, r *http.Request, req command.Request, timeout time.Duration) bool {
	limit, terr := WaitTimeout(r)
	data, ok := a.Waits.WaitData(req.Command, req.Data, max(limit, time.Nanosecond))
	if !ok {
		return false
	}
	if terr != nil {
		WriteError(w, terr)
		return true
	}
	if a.Feed == nil || a.Stored == nil {
		WriteError(w, failure.New(failure.Unavailable, "no_live_events", "this server does not serve waits"))
		return true
	}
	req.Data = data
	wt := waiting{a: a, key: event.Stream(a.Domain, req.Entity), id: req.Entity}
	wt.sub = a.Feed.Subscribe(wt.key) // before the command: every later event is seen
	defer func() { wt.sub.Close() }()
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	rep, err := a.Writer.Send(ctx, req)
	cancel()
	if err != nil {
		WriteError(w, err)
		return true
	}
	doc, waits, err := a.Waits.Answer(req.Entity, req.Command, rep.State, rep.Version)
	if !waits {
		answer(w, outcome{rep.Version, doc, err})
		return true
	}
	wt.wait = rep.Version
	if o, ok := wt.follow(r.Context(), time.Now().Add(limit+waitGrace)); ok {
		answer(w, o)
		return true
	}
	// The client hung up, or the writer did not settle the wait in time: cancel it. The
	// writer decides the cancel after anything that settled the wait before, so the wait
	// has one outcome, found in the events once the cancel is answered.
	// One more waitGrace for the cancel and its outcome: a wait's answer comes within
	// MaxWait + 2*waitGrace (29 s), inside the HTTP entry's and the server's 30 s.
	ctx, cancel = context.WithTimeout(context.WithoutCancel(r.Context()), min(timeout, waitGrace))
	defer cancel()
	if err := wt.cancel(ctx, req); err != nil {
		WriteError(w, err) // the outcome is unknown (503, 504); a client gone reads nothing
		return true
	}
	if r.Context().Err() != nil {
		return true
	}
	deadline, _ := ctx.Deadline()
	o, ok := wt.follow(ctx, deadline)
	if !ok {
		o.err = failure.New(failure.Timeout, "wait_unsettled", "the wait's outcome did not arrive in time; read the lock's state")
	}
	answer(w, o)
	return true
}

// outcome is a settled wait's answer: a document at a version, or a failure.
type outcome struct {
	version int64
	doc     []byte
	err     error
}

// waiting follows one entity's events for the one that settles a wait.
type waiting struct {
	a    *Entities
	key  string
	id   string
	wait int64 // the version that recorded the wait
	sub  *livefeed.Subscription
}

// follow returns the outcome of the wait once an event after it settles it; false when
// ctx ends or deadline passes first. It reads the stored events after the wait, then
// the live ones, and the stored ones again after a reconnection or a drop.
func (wt *waiting) follow(ctx context.Context, deadline time.Time) (outcome, bool) {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		if o, ok := wt.stored(ctx); ok {
			return o, true
		}
	live:
		for {
			select {
			case <-ctx.Done():
				return outcome{}, false
			case <-timer.C:
				return outcome{}, false
			case <-wt.sub.Ready():
				news := wt.sub.Take()
				for _, e := range news.Events {
					if e.Version <= wt.wait {
						continue
					}
					if o, ok := wt.check(e.JSON); ok {
						return o, true
					}
				}
				if news.Gone {
					wt.sub.Close()
					wt.sub = wt.a.Feed.Subscribe(wt.key)
					break live
				}
				if news.Resync {
					break live
				}
			}
		}
	}
}

// stored looks for the settling event among the stored events after the wait.
func (wt *waiting) stored(ctx context.Context) (outcome, bool) {
	for after := wt.wait; ; {
		page, err := wt.a.Stored.EventsAfter(ctx, wt.key, after, storedPage)
		if err != nil {
			return outcome{}, false // the live events, or the cancel, still settle it
		}
		for _, s := range page {
			if o, ok := wt.check([]byte(s)); ok {
				return o, true
			}
			if v := event.DocVersion(s); v > after {
				after = v
			}
		}
		if len(page) < storedPage {
			return outcome{}, false
		}
	}
}

// check asks the domain whether the event in envelope settles the wait.
func (wt *waiting) check(envelope []byte) (outcome, bool) {
	var env struct {
		Version int64           `json:"version"`
		Type    string          `json:"type"`
		Data    json.RawMessage `json:"data"`
	}
	if json.Unmarshal(envelope, &env) != nil || env.Version <= wt.wait {
		return outcome{}, false
	}
	doc, done, err := wt.a.Waits.Settle(wt.id, wt.wait, env.Type, env.Data)
	return outcome{env.Version, doc, err}, done
}

// cancel sends the command that ends the wait unless something settled it first. The
// writer's answer either way (accepted, or refused because the wait is over) means the
// outcome is in the events; only a failure to reach the writer is returned.
func (wt *waiting) cancel(ctx context.Context, req command.Request) error {
	typ, data := wt.a.Waits.Cancel(wt.wait)
	_, err := wt.a.Writer.Send(ctx, command.Request{Kind: command.KindCommand, Entity: wt.id, CommandID: event.NewID(),
		Command: typ, Data: data, CorrelationID: req.CorrelationID})
	switch failure.KindOf(err) {
	case "", failure.Conflict, failure.Rejected:
		return nil
	}
	return err
}

// answer writes a command's answer: its document, or its failure.
func answer(w http.ResponseWriter, o outcome) {
	if o.err != nil {
		WriteError(w, o.err)
		return
	}
	if o.version > 0 {
		w.Header().Set("ETag", `"`+strconv.FormatInt(o.version, 10)+`"`)
	}
	WriteRaw(w, http.StatusOK, o.doc)
}
