// Package supervise runs local programs as supervised processes: it starts one (in a
// session of its own when detached, its output in a log file whose previous run's is
// kept as <log>.1, its pid in a pid file), waits until it is ready (an HTTP URL answering
// 200 or any check function) while noticing that it exited, finds it again from its pid
// file in a later command, and stops it: SIGTERM, SIGKILL after a grace period, then
// waiting until it is gone.
//
// A pid file is trusted only while its pid is a live process running the expected
// program (the name Linux keeps for it, cut to 15 characters): a stale file whose pid
// was reused by another program is never signalled. A process started by this program
// is its child and is reaped as soon as it exits; one found from a pid file is watched
// through /proc (ps elsewhere), where a zombie counts as gone.
//
// It is the one supervisor of local processes: `uneventful local` (scripts/local.sh),
// cmd/bench's stack and pkg/stacktest's Process run on it. What stays in bash is what
// needs the shell: installing tools, the build, the start lock and following the logs.
package supervise

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
)

// Spec is a program to start.
type Spec struct {
	Path string   // the program; its base name is the process name checked later
	Args []string // arguments after the program's name
	Env  []string // the whole environment (nil: this process's)
	Dir  string   // working directory ("": this process's)

	// Log is the file that gets the program's stdout and stderr; an existing one is
	// first renamed to Log+".1". Empty: Stdout and Stderr are used instead.
	Log            string
	Stdout, Stderr io.Writer // nil: discarded

	PIDFile string // written once started, removed by Stop ("": none)

	// Detach starts the program in a session of its own: a Ctrl-C or a hangup of this
	// program's terminal does not reach it and it outlives this program. Without it
	// the program shares this one's process group (a Ctrl-C stops both).
	Detach bool
}

// Start starts s and returns its process once the program has been executed. On a
// failure nothing is left running and no pid file is written.
func Start(s Spec) (*Proc, error) {
	cmd := exec.Command(s.Path, s.Args...)
	cmd.Env, cmd.Dir = s.Env, s.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: s.Detach}
	if s.Log != "" {
		f, err := openLog(s.Log)
		if err != nil {
			return nil, err
		}
		defer f.Close() // the child has its own copy
		cmd.Stdout, cmd.Stderr = f, f
	} else {
		cmd.Stdout, cmd.Stderr = s.Stdout, s.Stderr
	}
	if s.PIDFile != "" {
		if err := os.Remove(s.PIDFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", s.Path, err)
	}
	p := &Proc{PID: cmd.Process.Pid, Program: filepath.Base(s.Path), PIDFile: s.PIDFile,
		cmd: cmd, done: make(chan struct{})}
	go func() {
		p.exitErr = cmd.Wait() // reaps it: a child never lingers as a zombie
		close(p.done)
	}()
	if s.PIDFile != "" {
		if err := os.WriteFile(s.PIDFile, []byte(strconv.Itoa(p.PID)+"\n"), 0o644); err != nil {
			p.Kill() //nolint:errcheck // the write's error is the one to report
			return nil, fmt.Errorf("pid file: %w", err)
		}
	}
	return p, nil
}

// openLog rotates path to path.1 and opens a new, empty path.
func openLog(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if err := os.Rename(path, path+".1"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("rotate log: %w", err)
	}
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
}
