package supervise

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary is also the program these tests supervise: with SUPERVISE_HELPER set
// it runs the helper named there instead of the tests.
func TestMain(m *testing.M) {
	if mode := os.Getenv("SUPERVISE_HELPER"); mode != "" {
		helper(mode, os.Args[1:])
		return
	}
	os.Exit(m.Run())
}

func helper(mode string, args []string) {
	switch mode {
	case "print": // prints its argument, then waits for a signal
		fmt.Println(args[0])
		select {}
	case "ignore-term": // ignores SIGTERM, says so, then waits
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("ignoring TERM")
		select {}
	case "serve": // answers GET /readyz on args[0]
		http.HandleFunc("/readyz", func(http.ResponseWriter, *http.Request) {})
		fmt.Println(http.ListenAndServe(args[0], nil))
		os.Exit(1)
	case "fail": // exits 3 at once
		os.Exit(3)
	}
}

// program is this test binary's name as the system knows its processes.
var program = filepath.Base(os.Args[0])

func spec(t *testing.T, mode string, args ...string) Spec {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return Spec{Path: exe, Args: args, Env: append(os.Environ(), "SUPERVISE_HELPER="+mode)}
}

func start(t *testing.T, s Spec) *Proc {
	t.Helper()
	p, err := Start(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Kill() }) //nolint:errcheck
	return p
}

// eventually polls f until it returns nil; the deadline only catches a hang.
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func logSays(t *testing.T, path, want string) {
	t.Helper()
	eventually(t, path, func() error {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !strings.Contains(string(b), want) {
			return fmt.Errorf("has %q, want %q", b, want)
		}
		return nil
	})
}

func TestStartDetachedWithPIDFileAndLogRotation(t *testing.T) {
	dir := t.TempDir()
	log, pidFile := filepath.Join(dir, "logs", "svc.log"), filepath.Join(dir, "svc.pid")
	s := spec(t, "print", "first run")
	s.Log, s.PIDFile, s.Detach = log, pidFile, true
	p := start(t, s)
	logSays(t, log, "first run")
	if b, _ := os.ReadFile(pidFile); strings.TrimSpace(string(b)) != strconv.Itoa(p.PID) {
		t.Fatalf("pid file holds %q, want %d", b, p.PID)
	}
	sid, err := session(p.PID)
	if err != nil {
		t.Fatal(err)
	}
	if sid != p.PID {
		t.Fatalf("detached process is in session %d, want its own (%d)", sid, p.PID)
	}
	if killed, err := p.Stop(10 * time.Second); killed || err != nil {
		t.Fatalf("Stop: killed %v, err %v; want a stop by SIGTERM", killed, err)
	}
	if p.Running() {
		t.Fatal("running after Stop")
	}
	if _, err := os.Stat(pidFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("pid file after Stop: %v, want it removed", err)
	}

	s.Args = []string{"second run"}
	p = start(t, s)
	logSays(t, log, "second run")
	logSays(t, log+".1", "first run")
	if b, _ := os.ReadFile(log); strings.Contains(string(b), "first run") {
		t.Fatalf("the new log holds the previous run's output: %q", b)
	}
	if _, err := p.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestAttachedSharesOurSession(t *testing.T) {
	p := start(t, spec(t, "print", "x"))
	sid, err := session(p.PID)
	if err != nil {
		t.Fatal(err)
	}
	if own, _ := session(os.Getpid()); sid != own {
		t.Fatalf("attached process is in session %d, want ours (%d)", sid, own)
	}
}

func TestStopKillsAProcessIgnoringTERM(t *testing.T) {
	s := spec(t, "ignore-term")
	s.Log = filepath.Join(t.TempDir(), "svc.log")
	p := start(t, s)
	logSays(t, s.Log, "ignoring TERM")
	killed, err := p.Stop(300 * time.Millisecond)
	if !killed || err != nil {
		t.Fatalf("Stop: killed %v, err %v; want SIGKILL after the grace period", killed, err)
	}
	<-p.Done()
	var exit interface{ Sys() any }
	if !errors.As(p.ExitErr(), &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("exit: %v, want killed by SIGKILL", p.ExitErr())
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestWaitReady(t *testing.T) {
	addr := freeAddr(t)
	p := start(t, spec(t, "serve", addr))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.WaitReady(ctx, HTTP("http://"+addr+"/readyz")); err != nil {
		t.Fatal(err)
	}
	if err := HTTP("http://" + addr + "/nothing")(ctx); err == nil {
		t.Fatal("a 404 passed the HTTP check")
	}
}

func TestWaitReadyNoticesTheExit(t *testing.T) {
	p := start(t, spec(t, "fail"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	never := func(context.Context) error { return errors.New("not yet") }
	err := p.WaitReady(ctx, never)
	if !errors.Is(err, ErrExited) || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("WaitReady: %v, want ErrExited with exit status 3", err)
	}
	if ctx.Err() != nil {
		t.Fatal("WaitReady waited for its deadline instead of noticing the exit")
	}
}

// TestStopsAProcessFoundFromItsPIDFile stops a process that is not our child: sh starts
// sleep in the background, writes its pid and exits, leaving sleep to init.
func TestStopsAProcessFoundFromItsPIDFile(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "sleep.pid")
	sh := start(t, Spec{Path: "/bin/sh", Args: []string{"-c", `sleep 600 & echo $! >"$0"`, pidFile}})
	<-sh.Done()
	t.Cleanup(func() { // should the test fail before stopping it
		if p, err := Find(pidFile, "sleep"); err == nil {
			p.Kill() //nolint:errcheck
		}
	})
	// sh's background child may not have executed sleep yet (it is still sh until then).
	var p *Proc
	eventually(t, "Find of the background sleep", func() (err error) {
		p, err = Find(pidFile, "sleep")
		return err
	})
	if p.Done() != nil {
		t.Fatal("a found process has a Done channel")
	}
	if killed, err := p.Stop(10 * time.Second); killed || err != nil {
		t.Fatalf("Stop: killed %v, err %v; want a stop by SIGTERM", killed, err)
	}
	if name, alive := inspect(p.PID); alive && name == "sleep" {
		t.Fatalf("sleep (pid %d) still running", p.PID)
	}
	if _, err := os.Stat(pidFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("pid file after Stop: %v, want it removed", err)
	}
}

func TestFindTrustsOnlyALiveProcessOfTheProgram(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	gone := start(t, spec(t, "fail"))
	<-gone.Done()
	cases := map[string]string{
		"missing":                    filepath.Join(dir, "none.pid"),
		"garbage":                    write("garbage.pid", "12ab\n"),
		"a pid that is gone":         write("gone.pid", strconv.Itoa(gone.PID)),
		"a pid reused by a program":  write("reused.pid", strconv.Itoa(os.Getpid())),
		"a pid of a zombie or worse": write("zero.pid", "0"),
	}
	for what, path := range cases {
		if p, err := Find(path, "sleep"); !errors.Is(err, ErrNotRunning) {
			t.Errorf("%s: Find = %v, %v; want ErrNotRunning", what, p, err)
		}
	}
	// Our own pid runs this test binary: Find accepts it for that program only.
	self := write("self.pid", strconv.Itoa(os.Getpid())+"\n")
	if _, err := Find(self, program); err != nil {
		t.Fatalf("Find of a live process of the program: %v", err)
	}
	// A pid file written before the process it names started (a file left by a process
	// long gone whose pid a later run of the same program got) names another process.
	if err := os.Chtimes(self, time.Now(), time.Now().Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if p, err := Find(self, program); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Find of a pid file older than its process: %v, %v; want ErrNotRunning", p, err)
	}
}

func TestFindSeesAZombieAsGone(t *testing.T) {
	// A child not yet reaped is a zombie: start one outside Start so nobody waits for it.
	exe, _ := os.Executable()
	pid, err := syscall.ForkExec(exe, []string{exe}, &syscall.ProcAttr{Env: append(os.Environ(), "SUPERVISE_HELPER=fail")})
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Wait4(pid, nil, 0, nil) //nolint:errcheck // reaps it at the end
	pidFile := filepath.Join(t.TempDir(), "z.pid")
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the child to exit", func() error {
		if _, alive := inspect(pid); alive {
			return errors.New("still alive")
		}
		return nil
	})
	if _, err := Find(pidFile, program); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Find of a zombie: %v, want ErrNotRunning", err)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
		t.Fatalf("want the zombie still there while checked: %v", err)
	}
}

// session returns pid's session id (field 6 of /proc/<pid>/stat).
func session(pid int) (int, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return strconv.Atoi(fields[3]) // state ppid pgrp session
}

func TestRedisPing(t *testing.T) {
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	s := Spec{Path: "redis-server", Args: []string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"}}
	path, err := exec.LookPath(s.Path)
	if err != nil {
		t.Fatalf("redis-server: %v", err)
	}
	s.Path = path
	p := start(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.WaitReady(ctx, RedisPing(addr)); err != nil {
		t.Fatal(err)
	}
	if err := RedisPing(freeAddr(t))(ctx); err == nil {
		t.Fatal("RedisPing passed on a port nothing listens on")
	}
}
