package stacktest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/supervise"
)

// Build builds main packages (import paths, e.g.
// "uneventful.dev/uneventful/services/wallet_writer") into a temp dir in one go and
// returns each binary's path by package.
func Build(t testing.TB, pkgs ...string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", append([]string{"build", "-o", dir + "/"}, pkgs...)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %v: %v\n%s", pkgs, err, out)
	}
	bins := make(map[string]string, len(pkgs))
	for _, p := range pkgs {
		bins[p] = filepath.Join(dir, filepath.Base(p))
	}
	return bins
}

// Process is a service running as an OS process on a fixed HTTP address, so it can be
// killed (SIGKILL) and started again at the same URL. Its stderr (the JSON log) is kept.
// It runs on pkg/supervise, in the test's process group.
type Process struct {
	Name string
	Bin  string
	Args []string
	Env  []string // added to the stack's NATS_URL, REDIS_ADDR and HTTP_ADDR
	URL  string   // http://127.0.0.1:<port>

	t    testing.TB
	addr string
	mu   sync.Mutex
	proc *supervise.Proc
	logs bytes.Buffer
}

// Process returns a service process of bin on a free port, with the stack's NATS and
// Redis; it is not started yet. It is killed when the test ends.
func (s *Stack) Process(name, bin string, env ...string) *Process {
	s.t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(FreePort(s.t))
	p := &Process{Name: name, Bin: bin, URL: "http://" + addr, t: s.t, addr: addr,
		Env: append([]string{"NATS_URL=" + s.NATS.ClientURL(), "REDIS_ADDR=" + s.RedisAddr, "HTTP_ADDR=" + addr, "LOG_LEVEL=info"}, env...)}
	s.t.Cleanup(p.Kill)
	return p
}

// Start starts the process and waits until its /readyz answers 200; it fails the test
// at once if the process exits first.
func (p *Process) Start() {
	p.t.Helper()
	p.StartNoWait()
	p.mu.Lock()
	proc := p.proc
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := proc.WaitReady(ctx, supervise.HTTP(p.URL+"/readyz")); err != nil {
		p.t.Fatalf("%s: %v\n%s", p.Name, err, p.Logs())
	}
}

// StartNoWait starts the process and returns at once.
func (p *Process) StartNoWait() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	proc, err := supervise.Start(supervise.Spec{Path: p.Bin, Args: p.Args, Env: append(os.Environ(), p.Env...),
		Stderr: lockedWriter{&p.mu, &p.logs}})
	if err != nil {
		p.t.Fatalf("start %s: %v", p.Name, err)
	}
	p.proc = proc
}

// Kill sends SIGKILL and waits for the process to be gone. A no-op if it is not running.
func (p *Process) Kill() { p.stop(0) }

// Stop sends SIGTERM (a graceful stop) and waits for the process to exit; it fails the
// test if that takes over 30s (then the process is killed).
func (p *Process) Stop() { p.stop(30 * time.Second) }

func (p *Process) stop(grace time.Duration) {
	p.mu.Lock()
	proc := p.proc
	p.proc = nil
	p.mu.Unlock()
	if proc == nil {
		return
	}
	var killed bool
	var err error
	if grace == 0 {
		err = proc.Kill()
	} else {
		killed, err = proc.Stop(grace)
	}
	if err != nil {
		p.t.Errorf("%s: %v", p.Name, err)
	}
	if killed {
		p.t.Errorf("%s did not exit within %s of SIGTERM", p.Name, grace)
	}
}

// Exited waits up to d for the process to exit by itself and reports whether it did.
func (p *Process) Exited(d time.Duration) bool {
	p.mu.Lock()
	proc := p.proc
	p.mu.Unlock()
	if proc == nil {
		return true
	}
	select {
	case <-proc.Done():
		return true
	case <-time.After(d):
		return false
	}
}

// Logs returns what the process wrote to stderr so far (all its runs).
func (p *Process) Logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(b)
}
