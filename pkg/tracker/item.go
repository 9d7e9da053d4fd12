package tracker

import (
	"slices"
	"strings"
	"time"

	"uneventful.dev/uneventful/pkg/event"
)

// Item statuses.
const (
	InFlight  = "in_flight"
	Completed = "completed"
)

// Item states: where an item stands in its queue, or how it ended.
const (
	StateQueued     = "queued"     // waiting in a queue
	StateRetrying   = "retrying"   // rolled back, waiting in its queue for another try
	StateProcessing = "processing" // dequeued: a forward, service or consumer has it
	StateParked     = "parked"     // in an error queue (complete until restored)
	StateCommitted  = "committed"  // done: its last message committed, or its command accepted
	StateRemoved    = "removed"    // its last message removed from its queue
	StateRejected   = "rejected"   // its command was rejected (an event saying so)
	// A lock's grant (KindLock).
	StateWaiting   = "waiting"   // its acquire waits for the lock
	StateHeld      = "held"      // granted: its holder holds the lock
	StateReleased  = "released"  // done: its holder released the lock
	StateExpired   = "expired"   // done: its lease ended unrenewed
	StateTimedOut  = "timed_out" // done: its wait ended, never granted
	StateCancelled = "cancelled" // done: its waiter hung up, never granted
)

// Kinds of item.
const (
	KindQueue   = "queue"   // begun by a queue message
	KindCommand = "command" // begun by a command's events
	KindLock    = "lock"    // a lock's grant, from its acquire (or wait) to its release
)

// maxSteps and maxIDs bound what an item keeps: its newest steps, its first ids.
const (
	maxSteps = 16
	maxIDs   = 16
)

// Step is one event of an item: where it happened.
type Step struct {
	Position int64     `json:"position"` // in the history
	Time     time.Time `json:"time"`
	Domain   string    `json:"domain"`
	Where    string    `json:"where"` // a queue, or an entity's stream ("wallet.<id>")
	Event    string    `json:"event"` // the event's type
}

// Item is one work item: what one correlation id ties together.
type Item struct {
	// ID is the correlation id; a lock's grant: "<lock stream>@<version of its acquire's
	// first event>" (its wait's, if it waited), e.g. "lock.printer@3".
	ID        string    `json:"correlation_id"`
	Kind      string    `json:"kind"`   // KindQueue, KindCommand or KindLock
	Status    string    `json:"status"` // InFlight or Completed
	Domain    string    `json:"domain"` // where it is now (or ended)
	Where     string    `json:"where"`  // the queue or stream it is in now (or ended in)
	State     string    `json:"state"`  // a State*
	Retries   int       `json:"retries"`
	Holder    string    `json:"holder,omitempty"` // a lock's grant: its holder
	Token     int64     `json:"token,omitempty"`  // a lock's grant: its fencing token, once granted
	Events    int       `json:"events"`
	Started   time.Time `json:"started"`
	Updated   time.Time `json:"updated"`
	Completed time.Time `json:"completed,omitzero"`
	Position  int64     `json:"position"` // of its newest event
	// AgeMS is filled by the API, not the model: in flight, the time since it started;
	// completed, how long it took.
	AgeMS int64 `json:"age_ms"`
	// IDs are its message ids, the streams it changed and their command ids (the first
	// maxIDs); a lock's grant: its lock's stream, "<stream>#<token>", the correlation and
	// command ids of its commands. What a search finds it by, besides its ID.
	IDs          []string `json:"ids"`
	Steps        []Step   `json:"steps"` // its newest maxSteps events, oldest first
	StepsDropped int      `json:"steps_dropped,omitempty"`
}

// item is an Item in the model.
type item struct {
	Item
	live   []string // its messages still in a queue (parked ones too)
	parked int      // how many of live are in an error queue
	done   uint64   // its entry in Model.done while completed; 0 while in flight
}

func (it *item) addID(id string) {
	if id == "" || len(it.IDs) >= maxIDs || slices.Contains(it.IDs, id) {
		return
	}
	it.IDs = append(it.IDs, strings.Clone(id)) // not the entry's memory
}

func (it *item) addStep(s Step) {
	if len(it.Steps) == maxSteps {
		copy(it.Steps, it.Steps[1:])
		it.Steps = it.Steps[:maxSteps-1]
		it.StepsDropped++
	}
	it.Steps = append(it.Steps, s)
	it.Events++
	it.Updated, it.Position = s.Time, s.Position
}

func (it *item) dropLive(id string) {
	if i := slices.Index(it.live, id); i >= 0 {
		it.live[i] = it.live[len(it.live)-1]
		it.live = it.live[:len(it.live)-1]
	}
}

// view is a copy of the item that the model does not change afterwards.
func (it *item) view() Item {
	v := it.Item
	v.IDs = slices.Clone(it.IDs)
	v.Steps = slices.Clone(it.Steps)
	return v
}

// matches reports whether the item passes f's domain, queue and search filters.
func (it *item) matches(f Filter) bool {
	if f.Domain != "" && it.Domain != f.Domain && !slices.ContainsFunc(it.Steps, func(s Step) bool { return s.Domain == f.Domain }) {
		return false
	}
	if f.Queue != "" && it.Where != f.Queue && !slices.ContainsFunc(it.Steps, func(s Step) bool { return s.Where == f.Queue }) {
		return false
	}
	return f.Search == "" || slices.ContainsFunc(f.searches, it.found)
}

// found reports whether the item is found by search: its ID, one of its IDs, or the id
// part of one of its streams (after the domain's ".").
func (it *item) found(search string) bool {
	return it.ID == search || slices.ContainsFunc(it.IDs, func(id string) bool {
		return id == search || (len(id) > len(search) && id[len(id)-len(search)-1] == '.' && id[len(id)-len(search):] == search)
	})
}

// searchForms are the forms of a search as ids appear in streams: as written, and with
// the id encoded (event.EncodeID) alone or after its domain, so that lock "print.er" is
// found by "print.er" and "lock.print.er" in its stream "lock.print%2Eer".
func searchForms(search string) []string {
	forms := []string{search}
	add := func(s string) {
		if !slices.Contains(forms, s) {
			forms = append(forms, s)
		}
	}
	add(event.EncodeID(search))
	if domain, id, ok := strings.Cut(search, "."); ok {
		add(domain + "." + event.EncodeID(id))
		if id, grant, ok := strings.Cut(id, "#"); ok { // "<stream>#<token>"
			add(domain + "." + event.EncodeID(id) + "#" + grant)
		}
	}
	return forms
}
