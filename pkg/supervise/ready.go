package supervise

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// Check says whether a service is ready (nil) or why not.
type Check func(ctx context.Context) error

// HTTP is a Check that url answers GET with 200 within two seconds.
func HTTP(url string) Check {
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: status %d", url, resp.StatusCode)
		}
		return nil
	}
}

// ErrExited says the process exited while it was awaited.
var ErrExited = errors.New("exited")

// readyPoll is how often WaitReady checks.
const readyPoll = 100 * time.Millisecond

// WaitReady runs check until it passes. It fails with ErrExited (wrapping the exit
// status of a child) once the process is gone, or with the check's last error when ctx
// ends first.
func (p *Proc) WaitReady(ctx context.Context, check Check) error {
	tick := time.NewTicker(readyPoll)
	defer tick.Stop()
	for {
		err := check(ctx)
		if err == nil {
			return nil
		}
		if !p.Running() {
			if p.exitErr != nil {
				return fmt.Errorf("%w: %w", ErrExited, p.exitErr)
			}
			return ErrExited
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w", err)
		case <-tick.C:
		case <-p.done: // nil (blocks forever) for a process found from its pid file
		}
	}
}

// RedisPing is a Check that the Redis server at addr (host:port) answers PING.
func RedisPing(addr string) Check {
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		defer conn.Close()
		deadline, _ := ctx.Deadline()
		conn.SetDeadline(deadline) //nolint:errcheck // a failed set shows as a failed read
		if _, err := conn.Write([]byte("PING\r\n")); err != nil {
			return err
		}
		reply, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil {
			return err
		}
		if reply != "+PONG\r\n" {
			return fmt.Errorf("redis at %s answered %q to PING", addr, strings.TrimSpace(reply))
		}
		return nil
	}
}
