//go:build compose

package service_test

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/stacktest"
)

// The writer's container of the compose stack: its database, its log, its volume.

var sqlLine = regexp.MustCompile(`(?m)^ *n = (\d+)$`)

// count runs a query returning one column n on the writer's database, in its container,
// with the image's read-only sqlite3.
func (cs *composeStack) count(t testing.TB, query string) int {
	t.Helper()
	out := cs.docker(t, "exec", cs.writer, "sqlite3", "data/wallet_writer/datastore.db", "-line", query)
	m := sqlLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("%s: no n in %q", query, out)
	}
	var n int
	fmt.Sscan(m[1], &n) //nolint:errcheck // \d+
	return n
}

// copyDB copies the writer's database (with its WAL) out of its container and opens the
// copy read-only; the load must be over, so that the copy is of a database at rest.
func (cs *composeStack) copyDB(t testing.TB) *stacktest.Stack {
	t.Helper()
	dir := t.TempDir()
	cs.docker(t, "cp", cs.writer+":/data/wallet_writer/.", dir)
	return &stacktest.Stack{URL: cs.URL, HistoryURL: cs.URL, WalletDB: filepath.Join(dir, "datastore.db")}
}

// logs returns what a container wrote, stdout and stderr (the services log to stderr).
func (cs *composeStack) logs(t testing.TB, id string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "logs", id).CombinedOutput()
	if err != nil {
		t.Fatalf("docker logs %s: %v\n%s", id, err, tail(string(out), 4000))
	}
	return string(out)
}

// verifyReplay runs `wallet_writer verify` in the writer's container: the event log
// replays to the state log.
func (cs *composeStack) verifyReplay(t testing.TB) {
	t.Helper()
	out, err := cs.command(time.Minute, "docker", "exec", cs.writer, "wallet_writer", "verify")
	if err != nil {
		t.Fatalf("wallet_writer verify: %v\n%s", err, tail(out, 4000))
	}
}

// onVolume runs a shell command as the writer's user in a container of the Redis image
// with the writer's volume at /data, and returns its output.
func (cs *composeStack) onVolume(t testing.TB, sh string) string {
	t.Helper()
	return cs.docker(t, "run", "--rm", "--user", "10001:10001", "--entrypoint", "sh", "-v", cs.volume+":/data", "redis:7.4-alpine", "-c", sh)
}
