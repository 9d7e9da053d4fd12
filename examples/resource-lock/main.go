// Command resource-lock is fox-wamp's resource-lock demo on the lock domain (C10):
// three worker processes take the lock myapp.resource in turn, each holding it about 2 s
// and releasing it; then the holder is SIGKILLed while holding, and the next waiter gets
// the lock when the lease ends. It prints a timeline and exits 0 only if no two holders
// overlapped, tokens grew, and every worker had its turns in FIFO order.
//
//	resource-lock [-url http://localhost]          the demo (./run.sh example resource-lock)
//	resource-lock -worker w1 [-url ...] [-rounds 2] one worker (started by the demo)
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

// The demo's lock and timing.
const (
	lockName = "myapp.resource"
	ttl      = 3 * time.Second // the lease: a killed holder frees the lock after this
	hold     = 2 * time.Second // how long a worker holds the lock before releasing it
	rounds   = 2               // turns per worker
)

func main() {
	url := flag.String("url", "http://localhost", "the stack's HTTP entry")
	worker := flag.String("worker", "", "run as this worker")
	flag.Parse()
	if *worker != "" {
		os.Exit(runWorker(*url, *worker))
	}
	if err := runDemo(*url); err != nil {
		fmt.Fprintln(os.Stderr, "resource-lock:", err)
		os.Exit(1)
	}
}
