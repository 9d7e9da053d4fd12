package stacktest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
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
type Process struct {
	Name string
	Bin  string
	Args []string
	Env  []string // added to the stack's NATS_URL, REDIS_ADDR and HTTP_ADDR
	URL  string   // http://127.0.0.1:<port>

	t    testing.TB
	addr string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
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

// Start starts the process and waits until its /readyz answers 200.
func (p *Process) Start() {
	p.t.Helper()
	p.StartNoWait()
	WaitReady(p.t, p.URL)
}

// StartNoWait starts the process and returns at once.
func (p *Process) StartNoWait() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	cmd := exec.Command(p.Bin, p.Args...)
	cmd.Env = append(os.Environ(), p.Env...)
	cmd.Stderr = lockedWriter{&p.mu, &p.logs}
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("start %s: %v", p.Name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }() //nolint:errcheck // killed on purpose
	p.cmd, p.done = cmd, done
}

// Kill sends SIGKILL and waits for the process to be gone. A no-op if it is not running.
func (p *Process) Kill() { p.signal(syscall.SIGKILL) }

// Stop sends SIGTERM (a graceful stop) and waits for the process to exit.
func (p *Process) Stop() { p.signal(syscall.SIGTERM) }

func (p *Process) signal(sig syscall.Signal) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(sig) //nolint:errcheck // it may have exited already
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill() //nolint:errcheck
		<-done
		p.t.Errorf("%s did not exit within 30s of %v", p.Name, sig)
	}
}

// Exited waits up to d for the process to exit by itself and reports whether it did.
func (p *Process) Exited(d time.Duration) bool {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done == nil {
		return true
	}
	select {
	case <-done:
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
