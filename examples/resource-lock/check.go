package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// event is one event of the lock (its envelope).
type event struct {
	Version int64           `json:"version"`
	Type    string          `json:"type"`
	Data    json.RawMessage `json:"data"`
	Time    time.Time       `json:"time"`
}

// lockEvents reads the lock's events after version after, up to the last one now.
func lockEvents(url string, after int64) ([]event, error) {
	s, err := getState(url)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/lock/"+lockName+"/events?after="+strconv.FormatInt(after, 10), nil)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out []event
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for len(out) < int(s.Version-after) && sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var e event
			if err := json.Unmarshal([]byte(d), &e); err != nil {
				return nil, err
			}
			out = append(out, e)
		}
	}
	if len(out) < int(s.Version-after) {
		return out, fmt.Errorf("read %d of the lock's %d events", len(out), s.Version-after)
	}
	return out, nil
}

// check returns what is wrong with the demo's timeline: the workers' reports and the
// lock's events. killedToken is the token w1 held when it was killed.
func check(reports []report, events []event, killedToken int64) []string {
	var problems []string
	var grants []report
	released := map[int64]time.Time{}
	for _, r := range reports {
		switch r.What {
		case "granted":
			grants = append(grants, r)
		case "releasing":
			released[r.Token] = r.At
		}
	}
	order := []string{}
	for _, g := range grants {
		order = append(order, g.Worker)
	}
	if strings.Join(order, " ") != "w1 w2 w3 w1 w2 w3" {
		problems = append(problems, "turns went "+strings.Join(order, " ")+", want w1 w2 w3 w1 w2 w3")
	}
	for i := 1; i < len(grants); i++ {
		prev, g := grants[i-1], grants[i]
		if g.Token <= prev.Token {
			problems = append(problems, fmt.Sprintf("token %d after token %d", g.Token, prev.Token))
		}
		end, ok := released[prev.Token]
		if prev.Token == killedToken {
			end, ok = prev.Expires, true // the killed holder held it until its lease's end
		}
		if !ok {
			problems = append(problems, fmt.Sprintf("token %d was never released", prev.Token))
		} else if g.At.Before(end) {
			problems = append(problems, fmt.Sprintf("%s got token %d at %s while %s held token %d until %s",
				g.Worker, g.Token, g.At.Format("15:04:05.000"), prev.Worker, prev.Token, end.Format("15:04:05.000")))
		}
	}
	// The log agrees: a grant only when the lock is free (after a release or an expiry),
	// the killed lease expired (not released), and grants went in the order of waiting.
	held, expired := false, false
	var waits, granted []int64
	for _, e := range events {
		var d struct {
			Token int64 `json:"token"`
			Wait  int64 `json:"wait"`
		}
		json.Unmarshal(e.Data, &d) //nolint:errcheck // checked by the lock's own code
		switch e.Type {
		case "acquired":
			if held {
				problems = append(problems, fmt.Sprintf("version %d grants token %d while the lock is held", e.Version, d.Token))
			}
			held = true
			if d.Wait > 0 {
				granted = append(granted, d.Wait)
			}
		case "released", "expired":
			held = false
			expired = expired || e.Type == "expired" && d.Token == killedToken
		case "waiting":
			waits = append(waits, d.Wait)
		case "wait_ended":
			problems = append(problems, fmt.Sprintf("version %d ended a wait: %s", e.Version, e.Data))
		}
	}
	if !expired {
		problems = append(problems, fmt.Sprintf("the killed holder's token %d did not expire", killedToken))
	}
	for i, w := range granted {
		if i >= len(waits) || waits[i] != w {
			problems = append(problems, fmt.Sprintf("grants went to waits %v, waiting in the order %v", granted, waits))
			break
		}
	}
	return problems
}
