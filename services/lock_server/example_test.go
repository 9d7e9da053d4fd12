package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The resource-lock example (./run.sh example resource-lock) against a lock stack: it
// exits 0 only if its own checks of the timeline pass.
func TestResourceLockExample(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the 15 s demo")
	}
	s := startLock(t)
	bin := "uneventful.dev/uneventful/examples/resource-lock"
	out, err := exec.Command(stacktestBuild(t, bin), "-url", s.url).CombinedOutput()
	if err != nil {
		t.Fatalf("resource-lock: %v\n%s", err, out)
	}
	for _, want := range []string{"w1 SIGKILLed while holding token 4", "w2 granted token 5", "ok: no two holders overlapped"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
	t.Logf("%s", out)
}
