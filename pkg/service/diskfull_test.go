package service_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/ksuid"
)

// smallVolume mounts a tmpfs of sizeMiB at a temp dir and returns it; unmounted when the
// test ends. It skips the test, saying why, where mounting is not allowed (not root).
func smallVolume(t *testing.T, sizeMiB int) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+strconv.Itoa(sizeMiB)+"m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (needs root; the disk-full test runs where it can): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file in dir until the volume is full.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill %s: %v", dir, err)
			}
			return path
		}
	}
}

// TestDiskFull runs the writer (a process) on a 16 MiB volume, fills the volume, and
// requires: commands answer 503 store_unavailable fast (never 500), the writer logs the
// cause, reads go on, none of the refused commands is in the log; once space returns,
// commands succeed again without a restart and the refused ones, retried with their
// keys, get their real outcome. Then the volume is read-only when the writer starts: it
// refuses to run with a clear log line (or answers 503), reads go on, and it runs again
// once the volume is writable.
func TestDiskFull(t *testing.T) {
	vol := smallVolume(t, 16)
	s, w, _, _ := processStack(t, filepath.Join(vol, "wallet_writer", "datastore.db"))
	wallets := newWallets(10)
	var outs []keyedOutcome
	keyed := func(o op, key string) keyedOutcome { // one attempt
		k := sendKeyed(s.URL, o, key, 0, nil)
		return k
	}
	newest := map[string]int64{}
	for i := range 50 {
		k := keyed(op{Wallet: wallets[i%10], Kind: "credit", Cents: 1_00}, ksuid.New().String())
		if k.Code != 200 {
			t.Fatalf("credit before the disk is full: %d %v", k.Code, k.Err)
		}
		newest[k.Wallet] = k.Version
		outs = append(outs, k)
	}

	filler := fill(t, vol)
	var refused []keyedOutcome
	var slowest time.Duration
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; len(refused) < 20 && time.Now().Before(deadline); i++ {
		k := keyed(op{Wallet: wallets[i%10], Kind: "credit", Cents: 1_00}, ksuid.New().String())
		switch {
		case k.Code == 200: // the WAL still had room
			newest[k.Wallet] = k.Version
			outs = append(outs, k)
		case k.Code == 503 && k.ErrType == "store_unavailable":
			refused = append(refused, k)
			slowest = max(slowest, k.Latency)
		default:
			t.Fatalf("credit on a full disk: %d %s %v", k.Code, k.ErrType, k.Err)
		}
	}
	if len(refused) < 20 {
		t.Fatalf("only %d commands refused in 20s on a full disk", len(refused))
	}
	if slowest > 2*time.Second {
		t.Errorf("a 503 took %s on a full disk", slowest)
	}
	if logs := w.Logs(); !strings.Contains(logs, "commit failed") || !strings.Contains(logs, "full") {
		t.Errorf("the writer's log does not say the disk is full:\n%s", tail(logs, 2000))
	}
	for _, id := range wallets { // reads go on
		if r := must(t, "GET", walletURL(s, id), ""); r.Code != 200 || r.version() != newest[id] {
			t.Errorf("GET %s on a full disk: %s, want version %d", id, r, newest[id])
		}
	}
	db := walletDB(t, s)
	for _, k := range refused {
		if n := count(t, db, `SELECT count(*) FROM event WHERE idempotency_key = ?`, k.Key); n != 0 {
			t.Errorf("a command answered 503 on a full disk is in the log %d times", n)
		}
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	freed := time.Now()
	var recovered time.Duration
	for _, k := range refused { // the refused commands, retried with their keys
		k2 := sendKeyed(s.URL, k.op, k.Key, 10*time.Second, nil)
		if recovered == 0 && k2.Code == 200 {
			recovered = time.Since(freed)
		}
		outs = append(outs, k2)
	}

	// A read-only volume when the writer starts.
	stopping := time.Now()
	w.Stop()
	t.Logf("graceful writer stop took %s", time.Since(stopping).Round(time.Millisecond))
	db.Close() // nothing may hold a file open for writing on it
	if out, err := exec.Command("mount", "-o", "remount,ro", vol).CombinedOutput(); err != nil {
		t.Fatalf("remount read-only: %v: %s", err, out)
	}
	before := len(w.Logs())
	w.StartNoWait()
	exited := w.Exited(5 * time.Second)
	k := keyed(op{Wallet: wallets[0], Kind: "credit", Cents: 1_00}, ksuid.New().String())
	if k.Code != 503 {
		t.Errorf("credit with the writer's volume read-only: %d %s %v, want 503", k.Code, k.ErrType, k.Err)
	}
	roLog := w.Logs()[before:]
	if !strings.Contains(roLog, "read-only file system") {
		t.Errorf("the writer's log does not say the volume is read-only:\n%s", tail(roLog, 2000))
	}
	for _, id := range wallets {
		if r := must(t, "GET", walletURL(s, id), ""); r.Code != 200 {
			t.Errorf("GET %s with the volume read-only: %s", id, r)
		}
	}
	refused = append(refused, k)
	if out, err := exec.Command("mount", "-o", "remount,rw", vol).CombinedOutput(); err != nil {
		t.Fatalf("remount read-write: %v: %s", err, out)
	}
	rw := time.Now()
	if exited {
		w.Kill()
		w.Start()
	}
	k2 := sendKeyed(s.URL, k.op, k.Key, 10*time.Second, nil)
	outs = append(outs, k2)
	writable := time.Since(rw)

	totals, f := checkKeyed(t, walletDB(t, s), outs)
	checkWallets(t, s, totals)
	verify(t, s)
	t.Logf("FIGURES disk full: %d commands refused 503 on a full disk (slowest %s), none in the log; first commit %s after space returned, no restart; read-only volume at start: writer exited %v, commands 503, reads 200; writable again to a commit %s (restart included); %s",
		len(refused)-1, slowest.Round(time.Millisecond), recovered.Round(time.Millisecond), exited, writable.Round(time.Millisecond), f)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
