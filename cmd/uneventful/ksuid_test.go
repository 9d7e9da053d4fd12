package main

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/segmentio/ksuid"
)

func TestKSUIDPrintsANewEntityID(t *testing.T) {
	entityID := regexp.MustCompile(`^[0-9A-Za-z]{27}$`) // what the HTTP API accepts
	seen := map[string]bool{}
	for range 3 {
		out, err := cli(t, "", "ksuid")
		if err != nil {
			t.Fatalf("uneventful ksuid: %v", err)
		}
		id := strings.TrimSuffix(out, "\n")
		if !entityID.MatchString(id) || strings.Contains(id, "\n") {
			t.Fatalf("uneventful ksuid printed %q: want one KSUID and a newline", out)
		}
		if _, err := ksuid.Parse(id); err != nil {
			t.Fatalf("%q: %v", id, err)
		}
		if seen[id] {
			t.Fatalf("%q printed twice", id)
		}
		seen[id] = true
	}
	if _, err := cli(t, "", "ksuid", "extra"); !errors.Is(err, errUsage) {
		t.Fatalf("uneventful ksuid extra: err %v, want a usage error", err)
	}
}

func TestUnknownCommandsAreUsageErrors(t *testing.T) {
	for _, args := range [][]string{nil, {"queue"}, {"queue", "frobnicate"}, {"ksuidx"}} {
		if _, err := cli(t, "", args...); !errors.Is(err, errUsage) {
			t.Errorf("uneventful %v: err %v, want a usage error", args, err)
		}
	}
}
