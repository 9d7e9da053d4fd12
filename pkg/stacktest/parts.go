// Package stacktest starts the real parts of an uneventful stack inside a test: an
// embedded NATS server with JetStream, a real redis-server, and the wallet services on
// :0 ports with SQLite files in a temp dir. Tests fail (never skip) when a part is missing.
package stacktest

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	goredis "github.com/redis/go-redis/v9"

	"uneventful.dev/uneventful/pkg/natsembed"
)

// NATS starts an embedded NATS server with JetStream on a random port.
func NATS(t testing.TB) *server.Server {
	t.Helper()
	return natsAt(t, -1, t.TempDir())
}

// Connect connects to s; the connection is closed when the test ends.
func Connect(t testing.TB, s *server.Server) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// natsAt starts an embedded NATS server with JetStream on port (-1: random) storing its
// streams in dir; it is shut down when the test ends.
func natsAt(t testing.TB, port int, dir string) *server.Server {
	t.Helper()
	s, err := natsembed.Start(&server.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir}, nil, 0)
	if err != nil {
		t.Fatalf("nats: %v", err)
	}
	t.Cleanup(func() { natsembed.Stop(s) })
	return s
}

// Redis starts a redis-server from PATH on a free port and returns its address.
func Redis(t testing.TB) string {
	t.Helper()
	port := FreePort(t)
	redisAt(t, port)
	return "127.0.0.1:" + strconv.Itoa(port)
}

// redisAt starts a redis-server without persistence on port and waits until it answers;
// it is killed when the test ends.
func redisAt(t testing.TB, port int) *exec.Cmd {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("redis-server is not on PATH: install it (apt-get install redis-server) or run ./test.sh, which does")
	}
	cmd := exec.Command(path, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatalf("redis-server: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() }) //nolint:errcheck
	addr := "127.0.0.1:" + strconv.Itoa(port)
	rdb := goredis.NewClient(&goredis.Options{Addr: addr})
	defer rdb.Close()
	Eventually(t, 10*time.Second, func() error { return rdb.Ping(context.Background()).Err() })
	return cmd
}

// FreePort returns a TCP port free on 127.0.0.1 right now.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Listen returns a listener on a random port of 127.0.0.1.
func Listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// Eventually calls f until it returns nil, failing the test with f's last error after d.
func Eventually(t testing.TB, d time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not true after %s: %v", d, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Errorf is fmt.Errorf, for Eventually callbacks.
var Errorf = fmt.Errorf
