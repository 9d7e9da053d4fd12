package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// worker is one worker process and what it reported.
type worker struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
}

// runDemo starts the workers in order (each once the previous one holds or waits, so
// the FIFO order is w1, w2, w3), kills the first worker in its second turn, and checks
// the timeline.
func runDemo(url string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	start, err := getState(url)
	if err != nil {
		return fmt.Errorf("is the stack running, with the lock domain? %w", err)
	}
	reports := make(chan report, 64)
	failed := make(chan error, 3) // a worker that exited with an error
	var killedW1 atomic.Bool
	var mu sync.Mutex
	var all []report
	workers := map[string]*worker{}
	t0 := time.Now()
	launch := func(name string) error {
		w := &worker{name: name, cmd: exec.Command(self, "-url", url, "-worker", name), done: make(chan struct{})}
		w.cmd.Stderr = os.Stderr
		out, err := w.cmd.StdoutPipe()
		if err != nil {
			return err
		}
		if err := w.cmd.Start(); err != nil {
			return err
		}
		workers[name] = w
		go func() {
			defer close(w.done)
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				var r report
				if json.Unmarshal(sc.Bytes(), &r) == nil {
					reports <- r
				}
			}
			if err := w.cmd.Wait(); err != nil && !(w.name == "w1" && killedW1.Load()) {
				failed <- fmt.Errorf("worker %s: %v", w.name, err)
			}
		}()
		return nil
	}
	defer func() {
		for _, w := range workers {
			w.cmd.Process.Kill() //nolint:errcheck // done by now, or stopped on a failure
		}
	}()
	var killed *report
	var killedAt time.Time
	grants := 0
	// next takes the workers' reports until cond holds (cond also sees each report).
	next := func(d time.Duration, what string, cond func(r report) bool) error {
		deadline := time.After(d)
		for {
			select {
			case r := <-reports:
				mu.Lock()
				all = append(all, r)
				mu.Unlock()
				line(t0, r)
				if r.What == "granted" {
					grants++
					if r.Worker == "w1" && grants == 4 { // w1's second turn: kill it while it holds
						killedW1.Store(true)
						workers["w1"].cmd.Process.Kill() //nolint:errcheck
						killedAt, killed = time.Now(), &r
						fmt.Printf("%7.2fs  w1 SIGKILLed while holding token %d (its lease ends %s)\n",
							killedAt.Sub(t0).Seconds(), r.Token, r.Expires.Format("15:04:05.000"))
					}
				}
				if cond(r) {
					return nil
				}
			case err := <-failed:
				return err
			case <-deadline:
				return fmt.Errorf("timed out waiting for %s", what)
			}
		}
	}
	waitWaiters := func(want ...string) error {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			s, err := getState(url)
			if err != nil {
				return err
			}
			var got []string
			for _, w := range s.Waiters {
				got = append(got, w.Holder)
			}
			if slices.Equal(got, want) {
				return nil
			}
		}
		return fmt.Errorf("the waiters are not %v", want)
	}
	fmt.Printf("resource-lock: three workers take %s in turn (lease %s, each holds it %s)\n", lockName, ttl, hold)
	if err := launch("w1"); err != nil {
		return err
	}
	if err := next(30*time.Second, "w1's grant", func(r report) bool { return r.What == "granted" }); err != nil {
		return err
	}
	if err := launch("w2"); err != nil {
		return err
	}
	if err := waitWaiters("w2"); err != nil {
		return err
	}
	if err := launch("w3"); err != nil {
		return err
	}
	if err := waitWaiters("w2", "w3"); err != nil {
		return err
	}
	// w1, w2, w3, w1 (killed), w2 (at the lease's end), w3: six grants, the last released.
	if err := next(60*time.Second, "six turns", func(r report) bool { return r.What == "releasing" && r.Worker == "w3" && grants == 6 }); err != nil {
		printEvents(url, start.Version, t0)
		return err
	}
	for _, name := range []string{"w2", "w3"} {
		<-workers[name].done
		if err := workers[name].cmd.Wait(); err != nil && !errors.Is(err, os.ErrProcessDone) && workers[name].cmd.ProcessState.ExitCode() != 0 {
			return fmt.Errorf("%s: %v", name, workers[name].cmd.ProcessState)
		}
	}
	for len(reports) > 0 {
		r := <-reports
		all = append(all, r)
		line(t0, r)
	}
	events, err := printEvents(url, start.Version, t0)
	if err != nil {
		return err
	}
	if killed == nil {
		return errors.New("w1 had no second turn to be killed in")
	}
	problems := check(all, events, killed.Token)
	if len(problems) > 0 {
		return fmt.Errorf("the timeline is wrong:\n  %s", strings.Join(problems, "\n  "))
	}
	fmt.Println("\nok: no two holders overlapped, tokens grew, turns went w1 w2 w3 w1 w2 w3 (FIFO), and the killed holder's lease passed to w2 when it ended")
	return nil
}

func line(t0 time.Time, r report) {
	switch r.What {
	case "granted":
		fmt.Printf("%7.2fs  %s granted token %d (lease until %s)\n", r.At.Sub(t0).Seconds(), r.Worker, r.Token, r.Expires.Format("15:04:05.000"))
	case "releasing":
		fmt.Printf("%7.2fs  %s releases token %d\n", r.At.Sub(t0).Seconds(), r.Worker, r.Token)
	}
}

// printEvents reads and prints the lock's events after version after.
func printEvents(url string, after int64, t0 time.Time) ([]event, error) {
	events, err := lockEvents(url, after)
	fmt.Println("\nthe lock's events (GET /lock/" + lockName + "/events):")
	for _, e := range events {
		fmt.Printf("%7.2fs  v%-4d %-10s %s\n", e.Time.Sub(t0).Seconds(), e.Version, e.Type, e.Data)
	}
	return events, err
}
