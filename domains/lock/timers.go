package lock

import (
	"encoding/json"
	"strconv"

	"uneventful.dev/uneventful/pkg/aggregate"
)

// Timers lists a lock's pending timers: the end of the holder's lease ("expire", at its
// expiry: a renewal moves it) and the end of each wait ("wait:<wait>", at its limit).
func (Domain) Timers(s State) []aggregate.Timer {
	var ts []aggregate.Timer
	if s.held() {
		data, _ := json.Marshal(request{Token: *s.Token})
		ts = append(ts, aggregate.Timer{Key: "expire", At: *s.Expires, Command: aggregate.Command{Type: CmdExpire, Data: data}})
	}
	for _, w := range s.Waiters {
		data, _ := json.Marshal(request{WaitID: w.Wait})
		ts = append(ts, aggregate.Timer{Key: "wait:" + strconv.FormatInt(w.Wait, 10), At: w.Until,
			Command: aggregate.Command{Type: CmdEndWait, Data: data}})
	}
	return ts
}

// Pinned keeps a held lock, or one with waiters, in the writer's memory.
func (Domain) Pinned(s State) bool { return s.held() || len(s.Waiters) > 0 }
