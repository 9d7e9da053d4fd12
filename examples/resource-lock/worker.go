package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// report is one line a worker prints on stdout (JSON) for the demo.
type report struct {
	Worker  string    `json:"worker"`
	What    string    `json:"what"` // granted, releasing, released
	Token   int64     `json:"token"`
	Expires time.Time `json:"expires"`
	At      time.Time `json:"at"`
}

func say(r report) {
	r.At = time.Now()
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
}

// runWorker takes the lock rounds times, waiting its turn, holding it for hold each time.
func runWorker(url, name string) int {
	for range rounds {
		var g grant
		for {
			typ, err := post(url+"", "acquire?timeout=25s", fmt.Sprintf(`{"holder":%q,"ttl":%q,"wait":true}`, name, ttl), &g)
			if err == nil {
				break
			}
			if typ != "wait_timeout" {
				fmt.Fprintln(os.Stderr, name+":", err)
				return 1
			}
		}
		say(report{Worker: name, What: "granted", Token: g.Token, Expires: g.Expires})
		time.Sleep(hold)
		say(report{Worker: name, What: "releasing", Token: g.Token})
		if _, err := post(url, "release", fmt.Sprintf(`{"holder":%q,"token":%d}`, name, g.Token), nil); err != nil {
			fmt.Fprintln(os.Stderr, name+":", err)
			return 1
		}
	}
	return 0
}
