package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// stack is the wallet stack as separate local processes, as ./run.sh runs it, on ports
// of its own so that it never collides with a running stack.
type stack struct {
	bin, data string
	procs     map[string]*exec.Cmd
	env       []string
	httpURL   string
	writerURL string
	profile   bool // services serve pprof (see pprofPorts)
}

const (
	benchNATSPort  = "14222"
	benchRedisPort = "16379"
	benchHTTPPort  = "18080"
)

func newStack(dir string) (*stack, error) {
	s := &stack{bin: filepath.Join(dir, "bin"), data: filepath.Join(dir, "data"), procs: map[string]*exec.Cmd{},
		httpURL: "http://127.0.0.1:" + benchHTTPPort, writerURL: "http://127.0.0.1:18082"}
	build := exec.Command("go", "build", "-o", s.bin+"/", "./services/...")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	s.env = append(os.Environ(), "NATS_URL=nats://127.0.0.1:"+benchNATSPort, "REDIS_ADDR=127.0.0.1:"+benchRedisPort,
		"DATA_DIR="+s.data, "LOG_LEVEL=warn")
	return s, nil
}

func (s *stack) start(name string, path string, env ...string) error {
	cmd := exec.Command(path)
	if name == "redis" {
		cmd = exec.Command(path, "--port", benchRedisPort, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", s.data)
	}
	cmd.Env = append(append([]string{}, s.env...), env...)
	logf, err := os.Create(filepath.Join(s.data, name+".log"))
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	s.procs[name] = cmd
	return nil
}

func (s *stack) up() error {
	if err := os.MkdirAll(s.data, 0o755); err != nil {
		return err
	}
	redis, err := exec.LookPath("redis-server")
	if err != nil {
		return fmt.Errorf("redis-server not found: apt-get install redis-server")
	}
	steps := []struct{ name, path, ready string }{
		{"redis", redis, ""},
		{"message_broker", s.bin + "/message_broker", "http://127.0.0.1:18222/healthz"},
		{"wallet_writer", s.bin + "/wallet_writer", s.writerURL + "/readyz"},
		{"history_writer", s.bin + "/history_writer", "http://127.0.0.1:18081/readyz"},
		{"wallet_server", s.bin + "/wallet_server", s.httpURL + "/readyz"},
	}
	for _, st := range steps {
		if err := s.start(st.name, st.path, s.envOf(st.name)...); err != nil {
			return err
		}
		if st.ready != "" {
			if err := waitReady(st.ready, 30*time.Second); err != nil {
				return fmt.Errorf("%s: %w (see %s/%s.log)", st.name, err, s.data, st.name)
			}
		} else {
			time.Sleep(300 * time.Millisecond)
		}
	}
	return nil
}

func (s *stack) envOf(name string) []string {
	var env []string
	if s.profile {
		if port, ok := pprofPorts[name]; ok {
			env = append(env, "PPROF_ADDR=127.0.0.1:"+port)
		}
	}
	return append(env, s.ownEnv(name)...)
}

func (s *stack) ownEnv(name string) []string {
	switch name {
	case "message_broker":
		return []string{"NATS_PORT=" + benchNATSPort, "NATS_HTTP_PORT=18222", "NATS_STORE_DIR=" + filepath.Join(s.data, "nats")}
	case "wallet_writer":
		return []string{"HTTP_ADDR=127.0.0.1:18082"}
	case "history_writer":
		return []string{"HTTP_ADDR=127.0.0.1:18081"}
	case "wallet_server":
		return []string{"HTTP_ADDR=127.0.0.1:" + benchHTTPPort}
	}
	return nil
}

// stop sends SIGTERM to one process and waits for it.
func (s *stack) stop(name string) {
	cmd := s.procs[name]
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }() //nolint:errcheck
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill() //nolint:errcheck
		<-done
	}
	delete(s.procs, name)
}

func (s *stack) down() {
	for _, n := range []string{"wallet_server", "history_writer", "wallet_writer", "message_broker", "redis"} {
		s.stop(n)
	}
}

func waitReady(url string, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %s", url, d)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitHistoryIdle waits until the history writer has caught up: its newest position
// stays the same for half a second. It returns how long that took.
func waitHistoryIdle(max time.Duration) (time.Duration, error) {
	start := time.Now()
	last, same := int64(-1), 0
	for time.Since(start) < max {
		resp, err := http.Get("http://127.0.0.1:18081/history?after=0&limit=1")
		if err == nil {
			var page struct {
				Newest int64 `json:"newest"`
			}
			err = json.NewDecoder(resp.Body).Decode(&page)
			resp.Body.Close()
			if err == nil {
				if page.Newest == last {
					if same++; same >= 2 {
						return time.Since(start), nil
					}
				} else {
					last, same = page.Newest, 0
				}
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	return 0, fmt.Errorf("history writer still busy after %s", max)
}
