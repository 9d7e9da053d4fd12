package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"uneventful.dev/uneventful/pkg/supervise"
)

// The local stack's commands (scripts/local.sh runs them for ./run.sh and
// ./run_in_background.sh): each takes -root (the checkout, default $STACK_ROOT, else .)
// and reads HTTP_PORT
// (default 80), BIND_ADDR and STACK_ME (the prefix of its messages) from the environment.
// Messages go to stderr, results to stdout.
//
//	local up [svc...]       starts every service not running, in order, waiting for each to
//	                        be ready; prints the services it started
//	local down [svc...]     stops the running ones in reverse order (-report: says when none)
//	local status [svc...]   "<svc> running|stopped <pid|-> <program>" a line; exit 3 if any is stopped
//	local services          the services of config/domains, in start order
//	local ports [svc...]    the ports they bind, one a line
//	local watch svc...      returns once a pid file is removed (./run.sh down), or fails
//	                        once a service exits

// errSaid is a failure already explained on stderr; main adds nothing to it.
var errSaid = errors.New("failed")

// exitStopped is local status's exit status when a service is not running.
type exitStopped struct{}

func (exitStopped) Error() string     { return errSaid.Error() }
func (exitStopped) ExitCode() int     { return 3 }
func (exitStopped) Is(err error) bool { return err == errSaid }

// localFlags parses the local commands' flags, which may come anywhere, and returns the
// stack and the other arguments.
func localFlags(fs *flag.FlagSet, args []string, extra func(*flag.FlagSet)) (*localStack, []string, error) {
	root := fs.String("root", cmp.Or(os.Getenv("STACK_ROOT"), "."), "the checkout: config/domains, bin/, data/")
	if extra != nil {
		extra(fs)
	}
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, nil, errUsage
		}
		if fs.NArg() == 0 {
			break
		}
		rest, args = append(rest, fs.Arg(0)), fs.Args()[1:]
	}
	abs, err := filepath.Abs(*root)
	if err != nil {
		return nil, nil, err
	}
	s := &localStack{root: abs, me: os.Getenv("STACK_ME"), bind: os.Getenv("BIND_ADDR"), httpPort: 80}
	if s.me == "" {
		s.me = "uneventful"
	}
	if p := os.Getenv("HTTP_PORT"); p != "" {
		if s.httpPort, err = strconv.Atoi(p); err != nil || s.httpPort < 1 || s.httpPort > 65535 {
			return nil, nil, fmt.Errorf("HTTP_PORT=%s is not a port number", p)
		}
	}
	return s, rest, nil
}

// chosen reads config/domains and returns its services, or the named ones (each must be
// one of them); it says what is wrong.
func (s *localStack) chosen(named []string) ([]string, error) {
	if err := s.loadDomains(); err != nil {
		return nil, s.said(err)
	}
	all := s.services()
	for _, n := range named {
		if !slices.Contains(all, n) {
			return nil, s.said(fmt.Errorf("unknown service %s (config/domains' stack: %s)", n, strings.Join(all, " ")))
		}
	}
	if len(named) > 0 {
		return named, nil
	}
	return all, nil
}

func localServices(e *env, fs *flag.FlagSet, args []string) error {
	s, _, err := localFlags(fs, args, nil)
	if err != nil {
		return err
	}
	svcs, err := s.chosen(nil)
	if err != nil {
		return err
	}
	for _, svc := range svcs {
		fmt.Fprintln(e.stdout, svc)
	}
	return nil
}

func localPorts(e *env, fs *flag.FlagSet, args []string) error {
	s, named, err := localFlags(fs, args, nil)
	if err != nil {
		return err
	}
	svcs, err := s.chosen(named)
	if err != nil {
		return err
	}
	for _, svc := range svcs {
		sp, err := s.spec(svc)
		if err != nil {
			return s.said(err)
		}
		for _, p := range sp.ports {
			fmt.Fprintln(e.stdout, p)
		}
	}
	return nil
}

// localStatus prints each service's state. Without names it covers config/domains'
// services and any other with a pid file; it works on a broken config/domains too.
func localStatus(e *env, fs *flag.FlagSet, args []string) error {
	s, named, err := localFlags(fs, args, nil)
	if err != nil {
		return err
	}
	svcs := named
	if len(svcs) == 0 {
		svcs = s.known()
	}
	stopped := false
	for _, svc := range svcs {
		if p, err := supervise.Find(s.pidFile(svc), program(svc)); err == nil {
			fmt.Fprintf(e.stdout, "%s running %d %s\n", svc, p.PID, program(svc))
		} else {
			stopped = true
			fmt.Fprintf(e.stdout, "%s stopped - %s\n", svc, program(svc))
		}
	}
	if stopped {
		return exitStopped{}
	}
	return nil
}

// known is config/domains' services (none if it cannot be read) after those with a pid
// file that it no longer names: the order in which stopping them in reverse stops those
// first.
func (s *localStack) known() []string {
	var svcs []string
	if s.loadDomains() == nil {
		svcs = s.services()
	}
	files, _ := filepath.Glob(s.pidFile("*"))
	var gone []string
	for _, f := range files {
		if svc := strings.TrimSuffix(filepath.Base(f), ".pid"); !slices.Contains(svcs, svc) {
			gone = append(gone, svc)
		}
	}
	return append(svcs, gone...)
}

// signalContext is ctx, cancelled on SIGINT or SIGTERM: a start that is interrupted stops
// waiting and leaves the pid files of what it started for the stop that follows.
func signalContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
}

// portBusy says something listens on host:port.
func portBusy(host string, port int) bool {
	conn, err := net.DialTimeout("tcp", net.JoinHostPort(host, strconv.Itoa(port)), 2*time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// tail prints the last n lines of path to stderr.
func tail(path string, n int) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		if lines = append(lines, sc.Text()); len(lines) > n {
			lines = lines[1:]
		}
	}
	for _, l := range lines {
		fmt.Fprintln(os.Stderr, l)
	}
}
