package service_test

import (
	"context"
	"os/exec"
	"slices"
	"strings"
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
// for 20ms, then leaves it free for 50ms, over and over for d, and returns how long each
// hold really lasted (a busy machine stretches them). A round whose BEGIN does not get
// the lock within 500ms from the busy writer is skipped.
func briefLocks(t *testing.T, path string, d time.Duration) []time.Duration {
	t.Helper()
	db, err := sqlite.OpenDB(path, false, sqlite.Options{BusyTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var holds []time.Duration
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
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

// TestSQLiteContention: while a keyed load runs, another process reads the writer's
// file in a loop, each time holding a read transaction (the seed's sqlite3 shell loop).
// First, for 2s, another connection takes the write lock over and over for 20ms at a
// time (as a checkpoint or a short write would): no command is answered 503. Then twice
// another process holds the write lock (BEGIN IMMEDIATE) for 3s: commands are answered
// 503 fast (each within 1s, the target being 500ms: twice sqlite.CommitBusyTimeout plus
// the trip), never 504 or 500; the writer commits again by itself within 2s of the
// lock's release; every command ends with its real outcome, exactly once in the log.
func TestSQLiteContention(t *testing.T) {
	s := stacktest.Start(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	stopReaders := sqlite3Shell(t, `while :; do printf 'BEGIN;\nSELECT count(*) FROM event;\nSELECT count(*) FROM state;\n.shell sleep 0.2\nCOMMIT;\n' | sqlite3 '`+s.WalletDB+`' >/dev/null 2>&1; done`)

	wallets := newWallets(20)
	var mu sync.Mutex
	var released time.Time
	var recoveries []time.Duration // lock released to the first command acknowledged after it
	stop := make(chan struct{})
	done := make(chan []keyedOutcome)
	go func() {
		done <- runKeyedLoad(func() string { return s.URL }, wallets, 8, seed, stop, func(k keyedOutcome) {
			mu.Lock()
			defer mu.Unlock()
			if k.Code == 200 && !released.IsZero() && k.Answered.After(released) {
				recoveries = append(recoveries, k.Answered.Sub(released))
				released = time.Time{}
			}
		})
	}()

	time.Sleep(500 * time.Millisecond)
	briefFrom := time.Now()
	holds := briefLocks(t, s.WalletDB, 2*time.Second)
	briefTo := time.Now()
	var longestHold time.Duration
	if len(holds) > 0 {
		longestHold = slices.Max(holds)
	}

	for range 2 {
		time.Sleep(time.Second)
		lock := exec.Command("sqlite3", s.WalletDB)
		lock.Stdin = strings.NewReader(".timeout 5000\nBEGIN IMMEDIATE;\n.shell sleep 3\nCOMMIT;\n")
		if out, err := lock.CombinedOutput(); err != nil {
			t.Fatalf("sqlite3 BEGIN IMMEDIATE: %v: %s", err, out)
		}
		mu.Lock()
		released = time.Now()
		mu.Unlock()
	}
	time.Sleep(time.Second)
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
			if sent := k.Tries[i].Sent; sent.After(briefFrom) && sent.Before(briefTo) {
				briefRefused++
			}
		}
		slowest = max(slowest, k.Slowest)
	}
	switch {
	case len(holds) < 10:
		t.Errorf("only %d brief write locks were taken beside the load", len(holds))
	case longestHold >= sqlite.CommitBusyTimeout*3/4:
		t.Logf("a brief write lock was held %s (a busy machine): not checking for 503s beside them", longestHold.Round(time.Millisecond))
	case briefRefused > 0:
		t.Errorf("%d commands answered 503 while another connection took the write lock for at most %s at a time", briefRefused, longestHold.Round(time.Millisecond))
	}
	if codes[503] == 0 {
		t.Error("no command was answered 503 while another process held the write lock")
	}
	for _, d := range refused {
		if d > time.Second {
			t.Errorf("a 503 took %s: want it within 1s (target 500ms) while the lock is held", d.Round(time.Millisecond))
		}
	}
	if slowest > 2*time.Second {
		t.Errorf("an answer took %s: the writer waited on the lock instead of answering 503", slowest)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(recoveries) != 2 {
		t.Fatalf("commits resumed after %d of 2 lock releases", len(recoveries))
	}
	for _, r := range recoveries {
		if r > 2*time.Second {
			t.Errorf("first commit %s after the lock was released", r)
		}
	}
	t.Logf("FIGURES contention: brief write locks %d in 2s (longest %s), 503s meanwhile %d; write lock held 2 x 3s beside a reader loop; %s; answers while locked %v; request to 503 %s; slowest answer %s; lock released to first commit %s",
		len(holds), longestHold.Round(time.Millisecond), briefRefused, f, codes, spread(refused), slowest.Round(time.Millisecond), durations(recoveries))
}
