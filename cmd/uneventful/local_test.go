package main

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"uneventful.dev/uneventful/pkg/supervise"
)

// checkout lays out a checkout with config/domains and the given domains' service
// directories; wallet gets a queue configuration.
func checkout(t *testing.T, domains string, services ...string) string {
	t.Helper()
	root := t.TempDir()
	write := func(path, content string) {
		t.Helper()
		path = filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("config/domains", domains)
	write("config/wallet.queues.yaml", "queues: []\n")
	for _, svc := range services {
		write("services/"+svc+"/main.go", "package main\n")
	}
	return root
}

func TestLocalServicesAndPortsFromConfigDomains(t *testing.T) {
	root := checkout(t, "# the stack\nwallet\n  lock # locks\n", "wallet_server", "wallet_writer", "lock_server", "lock_writer")
	out, err := cli(t, "", "local", "services", "-root", root)
	if err != nil {
		t.Fatal(err)
	}
	want := "redis message_broker history_writer wallet_writer wallet_server wallet_queue wallet_queue_forwards " +
		"lock_writer lock_server tracker router"
	if got := strings.Join(strings.Fields(out), " "); got != want {
		t.Fatalf("local services:\n got %s\nwant %s", got, want)
	}
	t.Setenv("HTTP_PORT", "18080")
	for svc, want := range map[string]string{"lock_server": "8100", "wallet_queue_forwards": "8093", "router": "18080",
		"message_broker": "4222 8222"} {
		out, err := cli(t, "", "local", "ports", svc, "-root", root)
		if got := strings.Join(strings.Fields(out), " "); err != nil || got != want {
			t.Errorf("local ports %s: %q, %v; want %s", svc, got, err, want)
		}
	}
	if _, err := cli(t, "", "local", "ports", "nothing_server", "-root", root); !errors.Is(err, errSaid) {
		t.Fatalf("local ports of an unknown service: %v, want a failure", err)
	}
}

func TestLocalDomainsNameTheBadEntry(t *testing.T) {
	for domains, want := range map[string]string{
		"Wallet\n":   `domain "Wallet": want lower-case letters and digits`,
		"history\n":  `domain "history": want services/history_server`,
		"missing\n":  `domain "missing": want services/missing_server and services/missing_writer`,
		"# none\n\n": "config/domains names no domain",
	} {
		s := &localStack{root: checkout(t, domains, "wallet_server", "wallet_writer")}
		if err := s.loadDomains(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("config/domains %q: %v, want %q", domains, err, want)
		}
	}
}

// TestLocalStatusAndDown runs copies of sleep as a domain's writer and as a service that
// config/domains no longer names, beside a stale pid file whose pid runs another program.
func TestLocalStatusAndDown(t *testing.T) {
	root := checkout(t, "wallet\n", "wallet_server", "wallet_writer")
	sleep, err := os.ReadFile("/bin/sleep")
	if err != nil {
		t.Fatal(err)
	}
	s := &localStack{root: root}
	start := func(svc string) *supervise.Proc {
		t.Helper()
		bin := filepath.Join(root, "bin", svc)
		if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bin, sleep, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(s.pidFile(svc)), 0o755); err != nil {
			t.Fatal(err)
		}
		p, err := supervise.Start(supervise.Spec{Path: bin, Args: []string{"600"}, PIDFile: s.pidFile(svc), Detach: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Kill() }) //nolint:errcheck
		return p
	}
	writer, old := start("wallet_writer"), start("old_server")
	stale := s.pidFile("wallet_server") // the test binary's pid: not wallet_server
	if err := os.WriteFile(stale, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	out, err := cli(t, "", "local", "status", "-root", root)
	if exitCode(err) != 3 {
		t.Fatalf("local status with stopped services: %v (exit %d), want exit 3", err, exitCode(err))
	}
	for _, line := range []string{
		"wallet_writer running " + strconv.Itoa(writer.PID) + " wallet_writer",
		"wallet_server stopped - wallet_server",
		"wallet_queue stopped - queue_domain",
		"old_server running " + strconv.Itoa(old.PID) + " old_server",
	} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("local status lacks %q:\n%s", line, out)
		}
	}
	if out, err := cli(t, "", "local", "status", "wallet_writer", "-root", root); err != nil || !strings.HasPrefix(out, "wallet_writer running") {
		t.Fatalf("local status wallet_writer: %q, %v", out, err)
	}

	if _, err := cli(t, "", "local", "down", "-root", root); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*supervise.Proc{writer, old} {
		<-p.Done() // stopped: a hang fails the test by its timeout
	}
	// Had down signalled the stale file's pid (this test's), SIGTERM would have ended the test.
	files, _ := filepath.Glob(s.pidFile("*"))
	if len(files) != 0 {
		t.Fatalf("pid files left after down: %v", files)
	}
}
