package lock

import (
	"encoding/json"
	"slices"
	"time"

	"uneventful.dev/uneventful/pkg/aggregate"
	"uneventful.dev/uneventful/pkg/failure"
)

// Event data.
type (
	acquired struct { // acquired and renewed
		Holder  string    `json:"holder"`
		Token   int64     `json:"token"`
		TTL     string    `json:"ttl"`
		Expires time.Time `json:"expires"`
		Wait    int64     `json:"wait,omitempty"` // acquired: the wait it grants (0: at once)
	}
	waiting struct {
		Holder string    `json:"holder"`
		Wait   int64     `json:"wait"`
		TTL    string    `json:"ttl"`
		Until  time.Time `json:"until"`
	}
	released struct { // released and expired
		Holder string `json:"holder"`
		Token  int64  `json:"token"`
	}
	waitEnded struct {
		Holder string `json:"holder"`
		Wait   int64  `json:"wait"`
		Reason string `json:"reason"`
	}
)

// Evolve applies one event. It refuses an event that breaks the lock's rules (a token
// not above the last one, a grant of a held lock): the log is then corrupt.
func (Domain) Evolve(s State, e aggregate.Event) (State, error) {
	s.Waiters = slices.Clone(s.Waiters)
	if s.Waiters == nil {
		s.Waiters = []Waiter{}
	}
	switch e.Type {
	case EventAcquired:
		var a acquired
		if err := decode(e, &a); err != nil {
			return s, err
		}
		if s.held() || a.Token <= s.LastToken {
			return s, corrupt(e, "a grant of a held lock, or a token not above the last one")
		}
		if a.Wait > 0 {
			i := s.waiter(a.Wait)
			if i < 0 {
				return s, corrupt(e, "a grant to no waiter")
			}
			s.Waiters = slices.Delete(s.Waiters, i, i+1)
		}
		s.Holder, s.Token, s.Expires, s.LastToken = &a.Holder, &a.Token, &a.Expires, a.Token
	case EventRenewed:
		var a acquired
		if err := decode(e, &a); err != nil {
			return s, err
		}
		if !s.held() || *s.Token != a.Token {
			return s, corrupt(e, "a renewal of another token")
		}
		s.Expires = &a.Expires
	case EventReleased, EventExpired:
		var r released
		if err := decode(e, &r); err != nil {
			return s, err
		}
		if !s.held() || *s.Token != r.Token {
			return s, corrupt(e, "the end of another token's lease")
		}
		s.Holder, s.Token, s.Expires = nil, nil, nil
	case EventWaiting:
		var w waiting
		if err := decode(e, &w); err != nil {
			return s, err
		}
		s.Waiters = append(s.Waiters, Waiter(w))
	case EventWaitEnded:
		var w waitEnded
		if err := decode(e, &w); err != nil {
			return s, err
		}
		i := s.waiter(w.Wait)
		if i < 0 {
			return s, corrupt(e, "the end of no wait")
		}
		s.Waiters = slices.Delete(s.Waiters, i, i+1)
	default:
		return s, failure.Newf(failure.Internal, "unknown_event", "unknown lock event %q", e.Type)
	}
	return s, nil
}

func decode(e aggregate.Event, v any) error {
	if err := json.Unmarshal(e.Data, v); err != nil {
		return corrupt(e, err.Error())
	}
	return nil
}

func corrupt(e aggregate.Event, why string) error {
	return failure.Newf(failure.Internal, "corrupt_event", "lock event %s: %s", e.Type, why)
}
