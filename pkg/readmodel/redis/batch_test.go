package redis_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"uneventful.dev/uneventful/pkg/failure"
	"uneventful.dev/uneventful/pkg/readmodel/redis"
	"uneventful.dev/uneventful/pkg/stacktest"
)

type result struct {
	doc string
	ok  bool
	err error
}

// getAsync starts a Get on b and returns where its result will be.
func getAsync(b redis.Batcher, ctx context.Context, key string) <-chan result {
	out := make(chan result, 1)
	go func() {
		d, ok, err := b.Get(ctx, key)
		out <- result{string(d), ok, err}
	}()
	return out
}

// queueInOrder queues Gets of keys on b, one after the other, and returns their results.
func queueInOrder(t *testing.T, b redis.Batcher, ctxs []context.Context, keys []string) []<-chan result {
	t.Helper()
	var out []<-chan result
	for i, k := range keys {
		out = append(out, getAsync(b, ctxs[i], k))
		stacktest.Eventually(t, 5*time.Second, func() error {
			if n := b.Queued(); n != i+1 {
				return fmt.Errorf("%d Gets queued, want %d", n, i+1)
			}
			return nil
		})
	}
	return out
}

func wait(t *testing.T, c <-chan result) result {
	t.Helper()
	select {
	case r := <-c:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("a Get did not return")
		return result{}
	}
}

// TestBatchOutlivesACallerWhoHangsUp: one MGET serves several callers; the first one
// hanging up (its context cancelled) fails no one else's read, and returns at once.
func TestBatchOutlivesACallerWhoHangsUp(t *testing.T) {
	p, rdb := newProjection(t)
	ctx := context.Background()
	for _, k := range []string{"wallet.a", "wallet.b", "wallet.c"} {
		if err := rdb.Set(ctx, k, k+"-doc", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	keys := []string{"wallet.a", "wallet.b", "wallet.c"}

	t.Run("cancelled before the batch went", func(t *testing.T) {
		b := redis.NewBatcher(p, 1)
		defer b.Close()
		first, cancel := context.WithCancel(ctx)
		results := queueInOrder(t, b, []context.Context{first, ctx, ctx}, keys)
		cancel()
		if r := wait(t, results[0]); !errors.Is(r.err, context.Canceled) {
			t.Fatalf("the caller who hung up got %+v, want context.Canceled", r)
		}
		b.Start() // one loop: a, b and c are one batch, a first
		for i, c := range results[1:] {
			if r := wait(t, c); r.err != nil || !r.ok || r.doc != keys[i+1]+"-doc" {
				t.Fatalf("%s: %+v, want its document", keys[i+1], r)
			}
		}
	})

	t.Run("cancelled during the MGET", func(t *testing.T) {
		g := newGate(t, rdb.Options().Addr)
		gated := goredis.NewClient(&goredis.Options{Addr: g.addr()})
		defer gated.Close()
		b := redis.NewBatcher(redis.New(gated), 1)
		defer b.Close()
		g.hold()
		first, cancel := context.WithCancel(ctx)
		results := queueInOrder(t, b, []context.Context{first, ctx, ctx}, keys)
		b.Start()
		stacktest.Eventually(t, 5*time.Second, func() error { // the loop took all three; its MGET waits at the gate
			if n, held := b.Queued(), g.heldBytes(); n != 0 || held == 0 {
				return fmt.Errorf("%d Gets still queued, %d bytes held", n, held)
			}
			return nil
		})
		cancel()
		if r := wait(t, results[0]); !errors.Is(r.err, context.Canceled) { // while the MGET still waits
			t.Fatalf("the caller who hung up got %+v, want context.Canceled", r)
		}
		g.release()
		for i, c := range results[1:] {
			if r := wait(t, c); r.err != nil || !r.ok || r.doc != keys[i+1]+"-doc" {
				t.Fatalf("%s: %+v, want its document", keys[i+1], r)
			}
		}
	})
}

// gate is a TCP proxy to Redis that can hold what clients send: while held, commands
// wait at the gate (the MGET is in flight, Redis has not seen it).
type gate struct {
	ln      net.Listener
	mu      sync.Mutex
	cond    *sync.Cond
	held    bool
	waiting int // bytes read from clients while held
}

func newGate(t *testing.T, target string) *gate {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{ln: ln}
	g.cond = sync.NewCond(&g.mu)
	t.Cleanup(func() { g.release(); ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			t.Cleanup(func() { c.Close(); s.Close() })
			go io.Copy(c, s) //nolint:errcheck // ends with the connection
			go g.forward(s, c)
		}
	}()
	return g
}

func (g *gate) forward(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			g.mu.Lock()
			if g.held {
				g.waiting += n
			}
			for g.held {
				g.cond.Wait()
			}
			g.mu.Unlock()
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (g *gate) addr() string { return g.ln.Addr().String() }

func (g *gate) hold() { g.mu.Lock(); g.held = true; g.mu.Unlock() }

func (g *gate) release() {
	g.mu.Lock()
	g.held = false
	g.cond.Broadcast()
	g.mu.Unlock()
}

func (g *gate) heldBytes() int { g.mu.Lock(); defer g.mu.Unlock(); return g.waiting }

// loops counts the goroutines running the batcher's loops.
func loops() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "(*getBatcher).loop(")
}

// TestCloseStopsTheBatcher: Close stops the goroutines that batch Gets; a Get after Close
// fails at once.
func TestCloseStopsTheBatcher(t *testing.T) {
	p, rdb := newProjection(t)
	ctx := context.Background()
	before := loops()
	if err := rdb.Set(ctx, "wallet.a", "doc", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if d, ok, err := p.Get(ctx, "wallet.a"); err != nil || !ok || string(d) != "doc" {
		t.Fatalf("Get: %q %v %v", d, ok, err)
	}
	if n := loops() - before; n != 4 {
		t.Fatalf("%d loops run, want 4", n)
	}
	p.Close()
	stacktest.Eventually(t, 5*time.Second, func() error {
		if n := loops() - before; n != 0 {
			return fmt.Errorf("%d loops still run after Close", n)
		}
		return nil
	})
	if _, _, err := p.Get(ctx, "wallet.a"); !errors.Is(err, failure.Unavailable) {
		t.Fatalf("Get after Close: %v, want unavailable", err)
	}
	p.Close() // twice is harmless
}
