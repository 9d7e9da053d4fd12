//go:build compose

package service_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"uneventful.dev/uneventful/pkg/stacktest"
)

// composeStack is the stack under Docker Compose that the compose faults tests drive: its
// own project (FAULTS_PROJECT, default uneventful_faults), its own credentials in the
// environment (never .env), its ports published on FAULTS_BIND_ADDR (default 127.0.0.2),
// and docker/faults.compose.yml over docker-compose.yml (the writer's volume a tmpfs).
type composeStack struct {
	root    string   // the repository
	compose []string // the compose command: UNEVENTFUL_COMPOSE, else docker compose, else docker-compose
	env     []string // the environment of every compose and script call
	project string
	bind    string
	URL     string // the router, e.g. http://127.0.0.2:80
	volume  string // the writer's data volume
	writer  string // the writer's container id (no fault restarts it)
	redis   *goredis.Client
	api     *stacktest.Stack // URL and HistoryURL: the router, for pkg/service's checks
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// startCompose starts the stack as ./pull.sh, ./build.sh and ./run_in_background.sh do
// (scripts/compose.sh: images pulled or stand-ins built, ours built from this checkout),
// waits until every container is healthy, and removes the project's containers, volumes
// and the images it built when the test ends (E2E_KEEP_IMAGES=1 keeps the images;
// E2E_KEEP_STACK=1 keeps a failed run's stack). It skips the test where no Docker engine
// answers.
func startCompose(t *testing.T) *composeStack {
	t.Helper()
	if err := exec.Command("timeout", "10", "docker", "info").Run(); err != nil {
		t.Skipf("skipped: no Docker engine answers 'docker info' (the compose faults are tested where one does): %v", err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cs := &composeStack{root: root, project: envOr("FAULTS_PROJECT", "uneventful_faults"), bind: envOr("FAULTS_BIND_ADDR", "127.0.0.2")}
	if c := os.Getenv("UNEVENTFUL_COMPOSE"); c != "" {
		cs.compose = strings.Fields(c)
	} else if exec.Command("docker", "compose", "version").Run() == nil {
		cs.compose = []string{"docker", "compose"}
	} else if _, err := exec.LookPath("docker-compose"); err == nil {
		cs.compose = []string{"docker-compose"}
	} else {
		t.Skip("skipped: a Docker engine answers but neither 'docker compose' nor 'docker-compose' is installed (./test.sh sets UNEVENTFUL_COMPOSE to the Compose it pins)")
	}
	httpPort := envOr("FAULTS_HTTP_PORT", "80")
	for _, p := range []string{httpPort, "4222", "8222", "6379", "8081"} {
		if c, err := net.DialTimeout("tcp", net.JoinHostPort(cs.bind, p), time.Second); err == nil {
			c.Close()
			t.Fatalf("something answers on %s:%s (FAULTS_BIND_ADDR and FAULTS_HTTP_PORT choose others)", cs.bind, p)
		}
	}
	files := "docker-compose.yml:docker/faults.compose.yml"
	if extra := os.Getenv("FAULTS_COMPOSE_EXTRA"); extra != "" {
		files += ":" + extra // e.g. other image names, so a shared engine's uneventful/* tags are left alone
	}
	creds := []string{"NATS_USER=uneventful", "NATS_PASSWORD=" + randomHex(t, 24), "REDIS_PASSWORD=" + randomHex(t, 24)}
	envFile := filepath.Join(t.TempDir(), "env") // what compose_env would write to .env
	if err := os.WriteFile(envFile, []byte(strings.Join(creds, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cs.env = append(os.Environ(), creds...)
	cs.env = append(cs.env, "COMPOSE_PROJECT_NAME="+cs.project, "COMPOSE_FILE="+files, "BIND_ADDR="+cs.bind,
		"HTTP_PORT="+httpPort, "COMPOSE_ENV_FILE="+envFile, "UNEVENTFUL_COMPOSE="+strings.Join(cs.compose, " "))
	cs.URL = "http://" + net.JoinHostPort(cs.bind, httpPort)
	cs.volume = cs.project + "_wallet_writer_data"
	cs.api = &stacktest.Stack{URL: cs.URL, HistoryURL: cs.URL}

	imagesBefore := cs.images(t)
	cs.run(t, time.Minute, "down", "-v", "--remove-orphans") // what an earlier run left
	t.Cleanup(func() { cs.cleanup(t, imagesBefore) })
	began := time.Now()
	out, err := cs.script("compose_up && compose_wait_ready")
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "stand-in") || strings.Contains(line, "pulled") {
			t.Log(line)
		}
	}
	if err != nil {
		t.Fatalf("compose up (project %s): %v\n%s", cs.project, err, tail(out, 6000))
	}
	if typ := cs.docker(t, "volume", "inspect", "-f", `{{index .Options "type"}}`, cs.volume); typ != "tmpfs" {
		t.Fatalf("the writer's volume %s is %q, not a tmpfs", cs.volume, typ)
	}
	t.Logf("every container healthy %s after compose up; the writer's volume is a tmpfs of %s; compose: %s",
		time.Since(began).Round(time.Second), cs.docker(t, "volume", "inspect", "-f", `{{index .Options "o"}}`, cs.volume), strings.Join(cs.compose, " "))
	cs.writer = cs.run(t, time.Minute, "ps", "-q", "wallet_writer_service")
	if cs.writer == "" {
		t.Fatal("compose ps shows no wallet_writer_service container")
	}
	cs.redis = goredis.NewClient(&goredis.Options{Addr: net.JoinHostPort(cs.bind, "6379"), Password: strings.TrimPrefix(creds[2], "REDIS_PASSWORD=")})
	t.Cleanup(func() { cs.redis.Close() })
	return cs
}

// script runs shell code after sourcing scripts/stack.sh, with the stack's environment
// and its credentials file in place of .env; it returns stdout and stderr together.
func (cs *composeStack) script(code string) (string, error) {
	cmd := exec.Command("bash", "-c", `source scripts/stack.sh; STACK_ME=compose-faults; COMPOSE_ENV=$COMPOSE_ENV_FILE; `+code)
	cmd.Dir, cmd.Env = cs.root, cs.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// run runs a compose command, bounded by d, and returns its trimmed stdout; it fails the
// test if the command fails.
func (cs *composeStack) run(t testing.TB, d time.Duration, args ...string) string {
	t.Helper()
	out, err := cs.composeRun(d, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", strings.Join(cs.compose, " "), strings.Join(args, " "), err, tail(out, 4000))
	}
	return out
}

// docker runs a docker command, bounded by two minutes, and returns its trimmed stdout;
// it fails the test if the command fails.
func (cs *composeStack) docker(t testing.TB, args ...string) string {
	t.Helper()
	out, err := cs.command(2*time.Minute, "docker", args...)
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, tail(out, 4000))
	}
	return out
}

// composeRun runs a compose command, bounded by d (command).
func (cs *composeStack) composeRun(d time.Duration, args ...string) (string, error) {
	return cs.command(d, cs.compose[0], append(cs.compose[1:len(cs.compose):len(cs.compose)], args...)...)
}

// command runs a command in the repository with the stack's environment, bounded by d,
// and returns its trimmed stdout (with stderr after it if it fails).
func (cs *composeStack) command(d time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Dir, cmd.Env, cmd.Stderr = cs.root, cs.env, &stderr
	out, err := cmd.Output()
	if err != nil {
		return strings.TrimSpace(string(out) + "\n" + stderr.String()), err
	}
	return strings.TrimSpace(string(out)), nil
}

func (cs *composeStack) images(t testing.TB) map[string]bool {
	ids := map[string]bool{}
	for _, id := range strings.Fields(cs.docker(t, "images", "-q", "--no-trunc")) {
		ids[id] = true
	}
	return ids
}

// cleanup reports a failed run's containers and removes the project's containers,
// volumes and the images the test built.
func (cs *composeStack) cleanup(t *testing.T, imagesBefore map[string]bool) {
	if t.Failed() {
		if out, err := cs.script(`compose_report`); err == nil || out != "" {
			t.Logf("the stack at the failure:\n%s", tail(out, 12000))
		}
		if os.Getenv("E2E_KEEP_STACK") == "1" {
			t.Logf("E2E_KEEP_STACK=1: the stack is left for a look (COMPOSE_PROJECT_NAME=%s COMPOSE_FILE=docker-compose.yml:docker/faults.compose.yml %s down -v removes it)",
				cs.project, strings.Join(cs.compose, " "))
			return
		}
	}
	if out, err := cs.composeRun(2*time.Minute, "down", "-v", "--remove-orphans"); err != nil {
		t.Errorf("compose down: %v\n%s", err, tail(out, 4000))
	}
	if os.Getenv("E2E_KEEP_IMAGES") == "1" {
		return
	}
	var made []string
	for id := range cs.images(t) {
		if !imagesBefore[id] {
			made = append(made, id)
		}
	}
	sort.Strings(made)
	for _, id := range made {
		cs.command(time.Minute, "docker", "rmi", "-f", id) //nolint:errcheck // an image in use by another project stays
	}
	if len(made) > 0 {
		t.Logf("removed the %d images this test built", len(made))
	}
}

// waitReady waits until every container of the project is running and healthy
// (scripts/compose.sh's compose_wait_ready, bounded by COMPOSE_READY_TIMEOUT).
func (cs *composeStack) waitReady(t testing.TB) {
	t.Helper()
	if out, err := cs.script("compose_wait_ready"); err != nil {
		t.Fatalf("the stack is not healthy again: %v\n%s", err, tail(out, 6000))
	}
}

// restart restarts a service (compose restart: stop, then start), bounded by 90 s. It
// returns when the new process started, per the engine, and how long the command took.
func (cs *composeStack) restart(t testing.TB, service string) (up time.Time, took time.Duration) {
	t.Helper()
	began := time.Now()
	cs.run(t, 90*time.Second, "restart", service)
	took = time.Since(began)
	id := cs.run(t, time.Minute, "ps", "-q", service)
	started := cs.docker(t, "inspect", "-f", "{{.State.StartedAt}}", id)
	up, err := time.Parse(time.RFC3339Nano, started)
	if err != nil {
		t.Fatalf("StartedAt of %s: %v", service, err)
	}
	t.Logf("%s restarted (compose restart took %s; the new process started %s after it was issued)",
		service, took.Round(time.Millisecond), up.Sub(began).Round(time.Millisecond))
	return up, took
}
