package service_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// sqlite3Shell runs a shell script (with the sqlite3 CLI) in its own process group; stop
// kills the group and waits.
func sqlite3Shell(t *testing.T, script string) (stop func()) {
	t.Helper()
	if _, err := exec.LookPath("sqlite3"); err != nil {
		t.Fatal("the sqlite3 CLI is not on PATH: apt-get install sqlite3, or run ./test.sh, which does")
	}
	cmd := exec.Command("bash", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) //nolint:errcheck
			cmd.Wait()                                      //nolint:errcheck
		})
	}
	t.Cleanup(stop)
	return stop
}

// briefLocks takes the write lock of path (BEGIN IMMEDIATE) from a connection of its own
// for 20ms, then leaves it free for 50ms, until it has held it n times, and returns how
// long each hold really lasted (a busy machine stretches them). A round whose BEGIN does
// not get the lock within 500ms from the busy writer is skipped; n holds in 20n rounds
// or it fails.
func briefLocks(t *testing.T, path string, n int) []time.Duration {
	t.Helper()
	db, err := sqlite.OpenDB(path, false, sqlite.Options{BusyTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var holds []time.Duration
	for round := 0; len(holds) < n; round++ {
		if round > 0 {
			time.Sleep(50 * time.Millisecond)
		}
		if round == 20*n {
			t.Fatalf("the write lock was free for only %d of %d rounds beside the load", len(holds), round)
		}
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
			conn.Close() // the writer kept the lock (busy, not brief): try again next round
			continue
		}
		took := time.Now()
		time.Sleep(20 * time.Millisecond)
		_, err = conn.ExecContext(ctx, `ROLLBACK`)
		holds = append(holds, time.Since(took))
		conn.Close()
		if err != nil {
			t.Fatalf("ROLLBACK: %v", err)
		}
	}
	return holds
}

// holdWriteLock makes another process (the sqlite3 CLI) take the write lock of path
// (BEGIN IMMEDIATE) and returns once it holds it. release commits, and returns when the
// process has ended.
func holdWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	held := filepath.Join(t.TempDir(), "held")
	cmd := exec.Command("sqlite3", path)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("sqlite3: %v", err)
	}
	ended := make(chan error, 1)
	go func() { ended <- cmd.Wait() }()
	fmt.Fprintf(in, ".timeout 30000\nBEGIN IMMEDIATE;\n.shell touch '%s'\n", held)
	for {
		if _, err := os.Stat(held); err == nil {
			break
		}
		select {
		case err := <-ended:
			t.Fatalf("sqlite3 ended before it held the write lock: %v: %s", err, out.Bytes())
		case <-time.After(5 * time.Millisecond): // polls the file the CLI touches once it holds the lock
		}
	}
	return func() {
		fmt.Fprint(in, "COMMIT;\n")
		in.Close()
		if err := <-ended; err != nil {
			t.Fatalf("sqlite3 BEGIN IMMEDIATE ... COMMIT: %v: %s", err, out.Bytes())
		}
	}
}

// TestSQLiteContention: while a keyed load runs, another process reads the writer's
// file in a loop, each time holding a read transaction (the seed's sqlite3 shell loop).
// First, for 2s, another connection takes the write lock over and over for 20ms at a
// time (as a checkpoint or a short write would): no command is answered 503. Then twice
// another process holds the write lock (BEGIN IMMEDIATE) until commands sent meanwhile
// have been answered 503: the writer refuses while the lock is held instead of waiting
// for it (were it waiting, the lock would never be released and no 503 would come),
// never answers 504 or 500, and commits again by itself once the lock is released;
// every command ends with its real outcome, exactly once in the log. How fast a 503
// comes and how soon commits resume are figures (logged), not bounds: a loaded machine
// stretches both.
func TestSQLiteContention(t *testing.T) {
	s := stacktest.Start(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	stopReaders := sqlite3Shell(t, `while :; do printf 'BEGIN;\nSELECT count(*) FROM event;\nSELECT count(*) FROM state;\n.shell sleep 0.2\nCOMMIT;\n' | sqlite3 '`+s.WalletDB+`' >/dev/null 2>&1; done`)

	wallets := newWallets(20)
	var mu sync.Mutex
	var released time.Time
	var recoveries []time.Duration      // lock released to the first command acknowledged after it
	recovered := make(chan struct{}, 2) // a command was acknowledged after a release
	type answer struct {
		code int
		at   time.Time
	}
	answers := make(chan answer, 4096) // every attempt's answer, as it comes
	stop := make(chan struct{})
	done := make(chan []keyedOutcome)
	go func() {
		done <- runKeyedLoad(func() string { return s.URL }, wallets, 8, seed, stop, func(k keyedOutcome) {
			mu.Lock()
			defer mu.Unlock()
			if k.Code == 200 && !released.IsZero() && k.Answered.After(released) {
				recoveries = append(recoveries, k.Answered.Sub(released))
				released = time.Time{}
				recovered <- struct{}{}
			}
		}, func(code int, at time.Time) {
			select {
			case answers <- answer{code, at}:
			default: // full: the lock phase below waits for the next ones
			}
		})
	}()

	time.Sleep(500 * time.Millisecond)
	briefFrom := time.Now()
	holds := briefLocks(t, s.WalletDB, 10)
	briefTo := time.Now()
	var longestHold time.Duration
	if len(holds) > 0 {
		longestHold = slices.Max(holds)
	}

	var firstLocked time.Time
	const refusalsWhileLocked = 8 // 503s answered while the lock is held before it is released
	for round := range 2 {
		lockedAt := time.Now()
		release := holdWriteLock(t, s.WalletDB)
		if round == 0 {
			firstLocked = lockedAt
		}
		refusals := 0
		for refusals < refusalsWhileLocked {
			select {
			case a := <-answers:
				if a.code == 503 && a.at.After(lockedAt) {
					refusals++
				}
			case <-time.After(time.Minute):
				t.Errorf("lock %d: %d commands answered 503 in a minute while another process held the write lock: the writer waits on the lock", round+1, refusals)
				refusals = refusalsWhileLocked
			}
		}
		release()
		mu.Lock()
		released = time.Now() // answers from here on were committed after the lock's release
		mu.Unlock()
		select {
		case <-recovered:
		case <-time.After(time.Minute):
			t.Fatalf("lock %d: no command acknowledged in a minute after the write lock was released", round+1)
		}
	}
	close(stop)
	outs := <-done
	stopReaders()

	db := walletDB(t, s)
	totals, f := checkKeyed(t, db, outs)
	checkWallets(t, s, totals)
	verify(t, s)
	stacktest.WaitReady(t, s.WriterURL)
	codes := map[int]int{}
	var slowest time.Duration
	var refused []time.Duration // request to 503
	briefRefused := 0
	for _, k := range outs {
		for i, c := range k.Codes[:len(k.Codes)-1] {
			codes[c]++
			if c != 503 {
				t.Errorf("%s %s: answered %d before its outcome (%v); want 503", k.Kind, k.Wallet, c, k.Codes)
				continue
			}
			refused = append(refused, k.Tries[i].Took)
			// Refused before the long lock was first taken: only the brief locks can have
			// caused it (one sent at the end of the brief locks may meet the long lock).
			if sent := k.Tries[i].Sent; sent.After(briefFrom) && sent.Add(k.Tries[i].Took).Before(firstLocked) {
				briefRefused++
			}
		}
		slowest = max(slowest, k.Slowest)
	}
	switch {
	case longestHold >= sqlite.CommitBusyTimeout*3/4:
		t.Logf("a brief write lock was held %s (a busy machine): not checking for 503s beside them", longestHold.Round(time.Millisecond))
	case briefRefused > 0:
		t.Errorf("%d commands answered 503 while another connection took the write lock for at most %s at a time", briefRefused, longestHold.Round(time.Millisecond))
	}
	if codes[503] == 0 {
		t.Error("no command was answered 503 while another process held the write lock")
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("FIGURES contention: brief write locks %d in %s (longest %s), 503s meanwhile %d; write lock held twice until %d commands were refused, beside a reader loop; %s; answers while locked %v; request to 503 %s; slowest answer %s; lock released to first commit %s",
		len(holds), briefTo.Sub(briefFrom).Round(time.Millisecond), longestHold.Round(time.Millisecond), briefRefused, refusalsWhileLocked, f, codes, spread(refused), slowest.Round(time.Millisecond), durations(recoveries))
}
