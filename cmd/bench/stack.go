package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"uneventful.dev/uneventful/pkg/supervise"
)

// stack is the wallet stack as separate local processes, as ./run.sh runs it, on ports
// of its own so that it never collides with a running stack.
type stack struct {
	bin, data string
	procs     map[string]*supervise.Proc
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
	s := &stack{bin: filepath.Join(dir, "bin"), data: filepath.Join(dir, "data"), procs: map[string]*supervise.Proc{},
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

// start starts name's program (redis: redis-server on the benchmark's Redis port) with the
// stack's environment and env, its output in data/<name>.log; it does not wait.
func (s *stack) start(name string, path string, env ...string) error {
	var args []string
	if name == "redis" {
		args = s.redisArgs(benchRedisPort)
	}
	p, err := supervise.Start(supervise.Spec{Path: path, Args: args, Env: append(append([]string{}, s.env...), env...),
		Log: filepath.Join(s.data, name+".log")})
	if err != nil {
		return err
	}
	s.procs[name] = p
	return nil
}

func (s *stack) redisArgs(port string) []string {
	return []string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", s.data}
}

// waitReady waits until name passes check, failing at once if it exits.
func (s *stack) waitReady(name string, check supervise.Check) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.procs[name].WaitReady(ctx, check); err != nil {
		return fmt.Errorf("%s: %w (see %s/%s.log)", name, err, s.data, name)
	}
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
	steps := []struct {
		name, path string
		ready      supervise.Check
	}{
		{"redis", redis, supervise.RedisPing("127.0.0.1:" + benchRedisPort)},
		{"message_broker", s.bin + "/message_broker", supervise.HTTP("http://127.0.0.1:18222/healthz")},
		{"wallet_writer", s.bin + "/wallet_writer", supervise.HTTP(s.writerURL + "/readyz")},
		{"history_writer", s.bin + "/history_writer", supervise.HTTP("http://127.0.0.1:18081/readyz")},
		{"wallet_server", s.bin + "/wallet_server", supervise.HTTP(s.httpURL + "/readyz")},
	}
	for _, st := range steps {
		if err := s.start(st.name, st.path, s.envOf(st.name)...); err != nil {
			return err
		}
		if err := s.waitReady(st.name, st.ready); err != nil {
			return err
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

// stop sends SIGTERM to one process and waits for it (SIGKILL after 20s).
func (s *stack) stop(name string) {
	if p := s.procs[name]; p != nil {
		p.Stop(20 * time.Second) //nolint:errcheck // a process stuck after SIGKILL: nothing more to do
		delete(s.procs, name)
	}
}

func (s *stack) down() {
	for _, n := range []string{"wallet_server", "history_writer", "wallet_writer", "message_broker", "redis"} {
		s.stop(n)
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
