package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"uneventful.dev/uneventful/pkg/supervise"
)

// localUp starts every service of config/domains (or those named) not yet running, in
// order, and waits for each to be ready; it prints the services it started. On a failure
// it says why and leaves what it started running, with its pid files, for local down.
func localUp(e *env, fs *flag.FlagSet, args []string) error {
	var readyTimeout time.Duration
	s, named, err := localFlags(fs, args, func(fs *flag.FlagSet) {
		fs.DurationVar(&readyTimeout, "ready-timeout", 30*time.Second, "how long a service may take to be ready")
	})
	if err != nil {
		return err
	}
	ctx, cancel := signalContext(e.ctx)
	defer cancel()
	for _, dir := range []string{"run", "logs", "redis", "nats"} {
		if err := os.MkdirAll(filepath.Join(s.dataDir(), dir), 0o755); err != nil {
			return s.said(err)
		}
	}
	if os.Geteuid() != 0 && s.httpPort < 1024 {
		s.say("warning: port %d usually needs root; if the router cannot bind it, run with HTTP_PORT=8080", s.httpPort)
	}
	svcs, err := s.chosen(named)
	if err != nil {
		return err
	}
	for _, svc := range svcs {
		started, err := s.up(ctx, svc, readyTimeout)
		if err != nil {
			return err // said by up
		}
		if started {
			fmt.Fprintln(e.stdout, svc)
		}
	}
	return nil
}

// up makes svc run and be ready, starting it unless it runs already; started says it did.
func (s *localStack) up(ctx context.Context, svc string, readyTimeout time.Duration) (started bool, err error) {
	sp, err := s.spec(svc)
	if err != nil {
		return false, s.said(err)
	}
	if svc != "redis" {
		if fi, err := os.Stat(sp.path); err != nil || fi.Mode()&0o111 == 0 {
			s.say("%s is missing: run ./build.sh", s.rel(sp.path))
			return false, errSaid
		}
	}
	if p, err := supervise.Find(s.pidFile(svc), program(svc)); err == nil {
		s.say("%s already running (pid %d)", svc, p.PID)
		return false, s.waitReady(ctx, svc, p, sp.ready, readyTimeout, true)
	}
	if svc == "redis" && sp.ready(ctx) == nil {
		s.say("redis: reusing the server already answering on 127.0.0.1:6379 (not managed by this stack)")
		return false, nil
	}
	for _, port := range sp.ports {
		if portBusy(sp.host, port) {
			s.say("cannot start %s: port %d is already in use by a process this stack did not start", svc, port)
			if svc == "router" {
				s.say("(choose another HTTP entry port with HTTP_PORT=8080)")
			}
			return false, errSaid
		}
	}
	p, err := supervise.Start(supervise.Spec{Path: sp.path, Args: sp.args, Env: append(os.Environ(), sp.env...),
		Log: s.logFile(svc), PIDFile: s.pidFile(svc), Detach: true})
	if err != nil {
		s.say("cannot start %s: %v", svc, err)
		return false, errSaid
	}
	s.say("started %s (pid %d, log %s)", svc, p.PID, s.rel(s.logFile(svc)))
	return true, s.waitReady(ctx, svc, p, sp.ready, readyTimeout, false)
}

// waitReady waits until svc passes its readiness check; on a failure it prints the tail
// of the service's log.
func (s *localStack) waitReady(ctx context.Context, svc string, p *supervise.Proc, ready supervise.Check,
	timeout time.Duration, quiet bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := p.WaitReady(ctx, ready)
	switch {
	case err == nil:
		if !quiet {
			s.say("%s ready", svc)
		}
		return nil
	case errors.Is(err, supervise.ErrExited):
		s.say("%s exited during startup; last lines of %s:", svc, s.rel(s.logFile(svc)))
	case ctx.Err() == context.Canceled:
		s.say("interrupted while %s was starting", svc)
		return errSaid
	default:
		s.say("%s not ready after %s; last lines of %s:", svc, timeout, s.rel(s.logFile(svc)))
	}
	tail(s.logFile(svc), 20)
	return errSaid
}

// localDown stops every service with a live pid file (or those named), in reverse start
// order, first those config/domains no longer names; it removes stale pid files.
func localDown(_ *env, fs *flag.FlagSet, args []string) error {
	var report bool
	var grace time.Duration
	s, named, err := localFlags(fs, args, func(fs *flag.FlagSet) {
		fs.BoolVar(&report, "report", false, `say "no local stack running" when nothing was stopped`)
		fs.DurationVar(&grace, "stop-timeout", 15*time.Second, "how long a service may take to exit after SIGTERM (then SIGKILL)")
	})
	if err != nil {
		return err
	}
	svcs := named
	if len(svcs) == 0 {
		svcs = s.known()
	}
	// A stop removes a service's pid file before it signals it: interrupted then, it
	// would leave a service running that no pid file names. So a stop, once begun, ends.
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM)
	defer signal.Reset(syscall.SIGINT, syscall.SIGTERM)
	stopped, failed := 0, false
	for _, svc := range slices.Backward(svcs) {
		p, err := supervise.Find(s.pidFile(svc), program(svc))
		if err != nil {
			os.Remove(s.pidFile(svc)) //nolint:errcheck // a stale or missing one
			continue
		}
		s.say("stopping %s (pid %d)", svc, p.PID)
		killed, err := p.Stop(grace)
		if killed {
			s.say("%s was still running %s after SIGTERM; sent SIGKILL", svc, grace)
		}
		if err != nil {
			s.say("%v", err)
			failed = true
		}
		stopped++
	}
	if stopped == 0 && report {
		s.say("no local stack running")
	}
	if failed {
		return errSaid
	}
	return nil
}

// localWatch returns once a pid file of the services named is removed (./run.sh down
// stopped the stack), and fails once one of them exits by itself.
func localWatch(_ *env, fs *flag.FlagSet, args []string) error {
	s, svcs, err := localFlags(fs, args, nil)
	if err != nil {
		return err
	}
	if len(svcs) == 0 {
		return errUsage
	}
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		for _, svc := range svcs {
			_, err := supervise.Find(s.pidFile(svc), program(svc))
			if err == nil {
				continue
			}
			// A stop removes the pid file before it signals: a file still there names a crash.
			if _, err := os.Stat(s.pidFile(svc)); errors.Is(err, os.ErrNotExist) {
				s.say("the stack was stopped (./run.sh down)")
				return nil
			}
			s.say("%s exited unexpectedly (log: %s); stopping the stack", svc, s.rel(s.logFile(svc)))
			return errSaid
		}
	}
	return nil
}
