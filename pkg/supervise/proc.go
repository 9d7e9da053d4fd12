package supervise

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Proc is a running (or once running) process: a child started by Start, or one found
// from its pid file by Find.
type Proc struct {
	PID     int
	Program string // the process name it runs (the program's base name)
	PIDFile string // "" if none

	cmd     *exec.Cmd     // nil when found from a pid file
	done    chan struct{} // closed once the child has exited and been reaped
	exitErr error
}

// ErrNotRunning says a pid file names no live process of the expected program.
var ErrNotRunning = errors.New("not running")

// Find returns the process of pidFile if that pid is a live process running program; it
// returns ErrNotRunning when the file is missing, holds no pid, or names a process that
// is gone, a zombie, another program or one started after the file was written (a stale
// file whose pid was reused).
func Find(pidFile, program string) (*Proc, error) {
	b, err := os.ReadFile(pidFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotRunning
	}
	if err != nil {
		return nil, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return nil, ErrNotRunning
	}
	p := &Proc{PID: pid, Program: program, PIDFile: pidFile}
	if !p.Running() {
		return nil, ErrNotRunning
	}
	// A process started after its pid file was written is not the one it names: the pid
	// was reused (after a reboot, or by another run of the same program).
	if fi, err := os.Stat(pidFile); err == nil && startedAfter(pid, fi.ModTime().Add(startSlack)) {
		return nil, ErrNotRunning
	}
	return p, nil
}

// startSlack covers the coarseness of a process's start time (the boot time in whole
// seconds, the start in clock ticks).
const startSlack = 2 * time.Second

// startedAfter reports whether pid's process started after t; false where that cannot
// be told (no /proc).
func startedAfter(pid int, t time.Time) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(stat)
	closing := strings.LastIndexByte(s, ')')
	if closing < 0 || len(s) < closing+2 {
		return false
	}
	fields := strings.Fields(s[closing+2:]) // from field 3 (state); 22 is the start time
	if len(fields) < 20 {
		return false
	}
	ticks, err1 := strconv.ParseInt(fields[19], 10, 64)
	boot, err2 := bootTime()
	if err1 != nil || err2 != nil {
		return false
	}
	const ticksPerSecond = 100 // USER_HZ, 100 on every Linux the stack runs on
	started := boot.Add(time.Duration(ticks) * time.Second / ticksPerSecond)
	return started.After(t)
}

// bootTime is when the machine booted (/proc/stat's btime).
func bootTime() (time.Time, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return time.Unix(n, 0), err
		}
	}
	return time.Time{}, errors.New("no btime in /proc/stat")
}

// Running reports whether the process is alive: for a child, that it has not exited; for
// a process found from its pid file, that its pid is a live (not zombie) process still
// running Program.
func (p *Proc) Running() bool {
	if p.done != nil {
		select {
		case <-p.done:
			return false
		default:
			return true
		}
	}
	name, alive := inspect(p.PID)
	return alive && name == processName(p.Program)
}

// Done is closed once a child has exited; nil for a process found from its pid file.
func (p *Proc) Done() <-chan struct{} { return p.done }

// ExitErr is how a child exited (nil: status 0); valid once Done is closed.
func (p *Proc) ExitErr() error { return p.exitErr }

// processName is what Linux keeps as a process's name: at most 15 bytes.
func processName(program string) string {
	if len(program) > 15 {
		return program[:15]
	}
	return program
}

// inspect returns pid's process name and whether it is alive (exists, not a zombie).
func inspect(pid int) (name string, alive bool) {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if errors.Is(err, os.ErrNotExist) {
		if _, err := os.Stat("/proc/self/stat"); err == nil {
			return "", false // Linux: no such process
		}
		return inspectPS(pid)
	}
	if err != nil {
		return "", false
	}
	// "pid (name) state ...": the name may hold spaces and parentheses.
	s := string(stat)
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < open || len(s) < closing+3 {
		return "", false
	}
	return s[open+1 : closing], s[closing+2] != 'Z'
}

// inspectPS is inspect where there is no /proc (macOS): ps's state and command name.
func inspectPS(pid int) (name string, alive bool) {
	out, err := exec.Command("ps", "-o", "stat=,comm=", "-p", strconv.Itoa(pid)).Output()
	if err != nil {
		return "", false
	}
	stat, comm, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	comm = strings.TrimSpace(comm)
	if i := strings.LastIndexByte(comm, '/'); i >= 0 {
		comm = comm[i+1:]
	}
	return processName(comm), !strings.HasPrefix(stat, "Z")
}

// signal sends sig if the process is still the one this Proc means; a process that is
// gone (or whose pid now runs another program) is not signalled.
func (p *Proc) signal(sig syscall.Signal) {
	if !p.Running() {
		return
	}
	if p.cmd != nil {
		p.cmd.Process.Signal(sig) //nolint:errcheck // it may have exited just now
		return
	}
	syscall.Kill(p.PID, sig) //nolint:errcheck // it may have exited just now
}

// poll is how often a process found from its pid file is looked at while waiting.
const poll = 50 * time.Millisecond

// wait waits up to d for the process to be gone and reports whether it is.
func (p *Proc) wait(d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	if p.done != nil {
		select {
		case <-p.done:
			return true
		case <-timer.C:
			return false
		}
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for p.Running() {
		select {
		case <-tick.C:
		case <-timer.C:
			return !p.Running()
		}
	}
	return true
}

// killWait is how long a process may take to be gone after SIGKILL before Stop and Kill
// report it (a process stuck in the kernel).
const killWait = 30 * time.Second

// Stop sends SIGTERM, waits up to grace for the process to exit, sends SIGKILL if it has
// not, and waits until it is gone. killed says SIGKILL was needed. The pid file is
// removed first, so that whoever watches it sees a stop that was asked for, not a crash;
// it is written back if the process outlives SIGKILL. A process already gone is only
// cleaned up after.
func (p *Proc) Stop(grace time.Duration) (killed bool, err error) {
	p.removePIDFile()
	p.signal(syscall.SIGTERM)
	if !p.wait(grace) {
		killed = true
		if err = p.Kill(); err != nil && p.PIDFile != "" {
			os.WriteFile(p.PIDFile, []byte(strconv.Itoa(p.PID)+"\n"), 0o644) //nolint:errcheck // err says more
		}
	}
	return killed, err
}

// Kill sends SIGKILL and waits until the process is gone (it keeps the pid file, as a
// crash would).
func (p *Proc) Kill() error {
	p.signal(syscall.SIGKILL)
	if !p.wait(killWait) {
		return fmt.Errorf("%s (pid %d) still running %s after SIGKILL", p.Program, p.PID, killWait)
	}
	return nil
}

func (p *Proc) removePIDFile() {
	if p.PIDFile == "" {
		return
	}
	// Only our own: a newer start may have replaced it.
	if b, err := os.ReadFile(p.PIDFile); err == nil && strings.TrimSpace(string(b)) == strconv.Itoa(p.PID) {
		os.Remove(p.PIDFile) //nolint:errcheck // best effort: Find ignores a stale file
	}
}
