package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/queue"
	"uneventful.dev/uneventful/pkg/queuedomain"
	"uneventful.dev/uneventful/pkg/stacktest"
)

func startExample(t *testing.T, name string, leafPort int, peers ...string) *queuedomain.Domain {
	t.Helper()
	cfg, err := queue.LoadConfig("../../examples/multiple-domain/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, _ := stacktest.QueueDomain(t, queuedomain.Config{Queues: cfg, Embed: queuedomain.Embed{Port: -1, StoreDir: t.TempDir(), LeafPort: leafPort, LeafPeers: peers}})
	return d
}

func cli(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out)
	return out.String(), err
}

// listed runs a listing until check accepts its output. A listing prints the answers that
// come within its wait (300ms): one that comes later (a loaded machine) is missing from it.
func listed(t *testing.T, check func(string) bool, args ...string) {
	t.Helper()
	stacktest.Eventually(t, 10*time.Second, func() error {
		if out, err := cli(t, "", args...); !check(out) {
			return stacktest.Errorf("%s (%v):\n%s", strings.Join(args, " "), err, out)
		}
		return nil
	})
}

// The CLI against casual's example: listings with the seed's columns, enqueue printing
// the id (with a correlation id the messages listing shows), messages, restore, dequeue,
// the example check.
func TestCLIOnTheExample(t *testing.T) {
	a := startExample(t, "A", -1)
	startExample(t, "B", 0, a.LeafURL())
	url := a.ClientURL()
	stacktest.Eventually(t, 10*time.Second, func() error {
		out, err := cli(t, "", "queue", "list", "--nats", url)
		if err != nil || !strings.Contains(out, "\nb1 ") {
			return stacktest.Errorf("%v: %s", err, out)
		}
		return nil
	})
	header := regexp.MustCompile(`(?m)^name +group +rc +rd +count +size +avg +EQ +DQ +UC +last$`)
	if out, _ := cli(t, "", "queue", "list", "--nats", url); !header.MatchString(out) {
		t.Fatalf("queue list header:\n%s", out)
	}
	listed(t, func(out string) bool {
		return regexp.MustCompile(`(?m)^alias +group +source +target +reply +delay +CI +I +commits +rollbacks +last$`).MatchString(out) &&
			regexp.MustCompile(`(?m)^b1 +forward-B +b1 +echo +b2 +0\.000000 +1 +1 +0 +0 +-$`).MatchString(out)
	}, "forward-service", "list", "--nats", url)
	listed(t, regexp.MustCompile(`(?m)^b2 +forward-B +b2 +a1 +0\.000000 +1 +1 +0 +0 +-$`).MatchString, "forward-queue", "list", "--nats", url)
	if _, err := cli(t, "", "example", "check", "multiple-domain", "--nats", url); err == nil {
		t.Fatal("example check passed before the enqueue")
	}
	out, err := cli(t, "test\n", "queue", "enqueue", "b1", "--correlation-id", "casual-1", "--nats", url)
	if err != nil || !regexp.MustCompile(`^[0-9A-Za-z]{27}\n$`).MatchString(out) {
		t.Fatalf("enqueue: %q, %v", out, err)
	}
	stacktest.Eventually(t, 10*time.Second, func() error {
		_, err := cli(t, "", "example", "check", "multiple-domain", "--nats", url)
		return err
	})
	if _, err := cli(t, "", "example", "check", "multiple-domain", "-correlation-id", "casual-1", "--nats", url); err != nil {
		t.Fatalf("the parked message lost its correlation id: %v", err)
	}
	if _, err := cli(t, "", "example", "check", "multiple-domain", "-correlation-id", "other", "--nats", url); err == nil {
		t.Fatal("the example check passed with another correlation id")
	}
	listed(t, func(out string) bool {
		return regexp.MustCompile(`(?m)^a1 +A +0 +0\.000000 +0 +0 +0 +1 +1 +0 +\d{4}-`).MatchString(out) &&
			regexp.MustCompile(`(?m)^a1\.error +A +0 +0\.000000 +1 +5 +5 +1 +0 +0 +\d{4}-`).MatchString(out) && !strings.Contains(out, "b1")
	}, "queue", "list", "--domain", "A", "--nats", url)
	listed(t, func(out string) bool {
		return regexp.MustCompile(`(?m)^echo +A +1 +1 +0 `).MatchString(out) && regexp.MustCompile(`(?m)^rollback +A +1 +1 +1 `).MatchString(out)
	}, "service", "list", "--nats", url)
	listed(t, func(out string) bool {
		return regexp.MustCompile(`(?m)^A +B +\d+ +in `).MatchString(out) && regexp.MustCompile(`(?m)^B +A +\d+ +out `).MatchString(out)
	}, "domain", "connections", "--nats", url)
	if out, _ := cli(t, "", "queue", "messages", "a1.error", "--nats", url); !regexp.MustCompile(`(?m)^[0-9A-Za-z]{27} +available +5 +1 +- +- .* casual-1$`).MatchString(out) {
		t.Fatalf("messages:\n%s", out)
	}
	if out, err := cli(t, "", "queue", "dequeue", "a1.error", "--nats", url); err != nil || out != "test\n" {
		t.Fatalf("dequeue: %q, %v", out, err)
	}
	if out, err := cli(t, "", "queue", "restore", "a1", "--nats", url); err != nil || out != "0 restored\n" {
		t.Fatalf("restore of an empty error queue: %q, %v", out, err)
	}
	if _, err := cli(t, "", "queue", "enqueue", "--nats", url); err == nil {
		t.Fatal("enqueue without a queue name succeeded")
	}
}
