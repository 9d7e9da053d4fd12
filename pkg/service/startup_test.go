package service_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// exited is how a service process that could not start ended.
type exited struct {
	code   int
	took   time.Duration
	errors []string // its log lines at level ERROR
	stderr string
}

// runToExit runs bin with env added to the test's environment and waits up to 20s for
// it to exit by itself (a loaded machine may take a few seconds to start a process).
func runToExit(t *testing.T, bin string, args []string, env ...string) exited {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill() //nolint:errcheck
		<-done
		t.Fatalf("%s %v did not exit within 20s; stderr:\n%s", filepath.Base(bin), env, stderr.String())
	}
	e := exited{code: cmd.ProcessState.ExitCode(), took: time.Since(began), stderr: stderr.String()}
	for _, l := range strings.Split(e.stderr, "\n") {
		if strings.Contains(l, `"level":"ERROR"`) {
			e.errors = append(e.errors, l)
		}
	}
	return e
}

// check fails unless the process exited with code and exactly one error line
// containing every one of want.
func (e exited) check(t *testing.T, what string, code int, want ...string) {
	t.Helper()
	if e.code != code {
		t.Errorf("%s: exit code %d, want %d; stderr:\n%s", what, e.code, code, e.stderr)
	}
	if len(e.errors) != 1 {
		t.Errorf("%s: %d error lines, want 1; stderr:\n%s", what, len(e.errors), e.stderr)
		return
	}
	for _, w := range want {
		if !strings.Contains(e.errors[0], w) {
			t.Errorf("%s: the error line does not say %q: %s", what, w, e.errors[0])
		}
	}
	t.Logf("%s: exit %d after %s: %s", what, e.code, e.took.Round(time.Millisecond), e.errors[0])
}

// TestStartupFailuresAreLoud starts each service binary in a way it cannot start and
// checks that it exits non-zero by itself, with one error line saying why: a taken port
// (HTTP and profiler), an invalid value (named by its variable), an unreadable outbox
// cursor, unexpected arguments. Each within seconds (what it took is logged).
func TestStartupFailuresAreLoud(t *testing.T) {
	s := stacktest.StartParts(t)
	bins := stacktest.Build(t, writerPkg, serverPkg, historyPkg, queueDomainPkg)
	queues := filepath.Join(t.TempDir(), "relay.yaml")
	if err := os.WriteFile(queues, []byte(relayConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenAddr := taken.Addr().String()
	dir := t.TempDir()
	parts := func(more ...string) []string {
		return append([]string{"NATS_URL=" + s.NATS.ClientURL(), "REDIS_ADDR=" + s.RedisAddr, "HTTP_ADDR=127.0.0.1:0"}, more...)
	}
	histEnv := func(more ...string) []string {
		return parts(append(more, "HISTORY_DB="+filepath.Join(dir, "history.db"))...)
	}
	writerEnv := func(more ...string) []string {
		return parts(append(more, "WALLET_DB="+filepath.Join(dir, "wallet.db"))...)
	}

	tests := []struct {
		name string
		bin  string
		args []string
		env  []string
		code int
		want []string
	}{
		{"history writer, port taken", historyPkg, nil, histEnv("HTTP_ADDR=" + takenAddr), 1, []string{"HTTP_ADDR", takenAddr, "address already in use"}},
		{"writer, port taken", writerPkg, nil, writerEnv("HTTP_ADDR=" + takenAddr), 1, []string{"HTTP_ADDR", takenAddr}},
		{"server, port taken", serverPkg, nil, parts("HTTP_ADDR=" + takenAddr), 1, []string{"HTTP_ADDR", takenAddr}},
		{"history writer, profiler port taken", historyPkg, nil, histEnv("PPROF_ADDR=" + takenAddr), 1, []string{"PPROF_ADDR", takenAddr}},
		{"server, PARTITIONS=abc", serverPkg, nil, parts("PARTITIONS=abc"), 2, []string{"PARTITIONS", "abc", "not an integer"}},
		{"server, COMMAND_TIMEOUT=5", serverPkg, nil, parts("COMMAND_TIMEOUT=5"), 2, []string{"COMMAND_TIMEOUT", "unit"}},
		{"writer, PARTITIONS=0 and MAX_BATCH=x", writerPkg, nil, writerEnv("PARTITIONS=0", "MAX_BATCH=x"), 2, []string{"PARTITIONS", "MAX_BATCH"}},
		{"history writer, LOG_LEVEL=loud", historyPkg, nil, histEnv("LOG_LEVEL=loud"), 2, []string{"LOG_LEVEL"}},
		{"server, HTTP_PORT=http", serverPkg, nil, parts("HTTP_ADDR=", "HTTP_PORT=http"), 2, []string{"HTTP_PORT"}},
		{"writer, unknown argument", writerPkg, []string{"verfy"}, writerEnv(), 2, []string{"verfy"}},
		{"queue domain, health port taken", queueDomainPkg, []string{"-config", queues, "-nats", s.NATS.ClientURL(), "-http", takenAddr}, nil, 1, []string{"health", takenAddr, "address already in use"}},
		{"writer, outbox cursor unreadable", writerPkg, nil, parts("WALLET_DB=" + noCursor(t)), 1, []string{"outbox"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runToExit(t, bins[tt.bin], tt.args, tt.env...).check(t, tt.name, tt.code, tt.want...)
		})
	}
}

// noCursor returns a writer database whose outbox cursor is gone: a writer on it must
// exit, saying so, instead of running ready without publishing anything.
func noCursor(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "datastore.db")
	store, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	store.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DELETE FROM outbox`); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReadyzNamesEveryPart checks that each service's /readyz reports every part it
// needs, the writer's outbox among them.
func TestReadyzNamesEveryPart(t *testing.T) {
	s := stacktest.Start(t)
	for _, tt := range []struct {
		url   string
		parts []string
	}{
		{s.WriterURL, []string{"nats", "redis", "writer", "outbox"}},
		{s.URL, []string{"nats", "redis"}},
		{s.HistoryURL, []string{"nats", "sqlite"}},
	} {
		resp, err := http.Get(tt.url + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]string
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s/readyz: %d %v", tt.url, resp.StatusCode, err)
		}
		for _, p := range tt.parts {
			if got[p] != "ok" {
				t.Errorf("%s/readyz = %v, want %s ok", tt.url, got, p)
			}
		}
	}
}

// TestWriterVerifySubcommand runs `wallet_writer verify` as the README does, finding the
// database through DATA_DIR as the writer does: it replays the log and prints ok.
func TestWriterVerifySubcommand(t *testing.T) {
	s := stacktest.Start(t)
	bins := stacktest.Build(t, writerPkg)
	id := newWallets(1)[0]
	for range 3 {
		resp, err := http.Post(s.URL+"/wallet/"+id+"/credit", "", strings.NewReader(`{"amount": 5}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("credit: %d", resp.StatusCode)
		}
	}
	s.StopWriter()
	cmd := exec.Command(bins[writerPkg], "verify")
	cmd.Env = append(os.Environ(), "DATA_DIR="+filepath.Dir(filepath.Dir(s.WalletDB)), "WALLET_DB=")
	out, err := cmd.Output()
	var rep struct {
		OK     bool  `json:"ok"`
		Events int64 `json:"events"`
	}
	if jerr := json.Unmarshal(out, &rep); err != nil || jerr != nil || !rep.OK || rep.Events != 3 {
		t.Fatalf("wallet_writer verify: %v %v %+v\n%s", err, jerr, rep, out)
	}
}
