package sqlite_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
)

func TestClaimDomain(t *testing.T) {
	ctx := context.Background()
	s, path := openStore(t)
	if err := s.ClaimDomain(ctx, "wallet"); err != nil {
		t.Fatalf("claim a new file: %v", err)
	}
	mustAppend(t, s, []sqlite.Row{accepted("wallet.a", 1, "")}, nil, 0)
	if err := s.ClaimDomain(ctx, "wallet"); err != nil {
		t.Fatalf("claim again: %v", err)
	}
	s.Close()

	s2, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if d, err := s2.Domain(ctx); err != nil || d != "wallet" {
		t.Fatalf("Domain after reopen = %q, %v", d, err)
	}
	err = s2.ClaimDomain(ctx, "session")
	if !errors.Is(err, sqlite.ErrOtherDomain) {
		t.Fatalf("a session writer on a wallet file: %v, want ErrOtherDomain", err)
	}
	for _, want := range []string{path, `domain "wallet"`, `not "session"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if d, _ := s2.Domain(ctx); d != "wallet" {
		t.Fatalf("a refused claim changed the record to %q", d)
	}
}

// TestClaimDomainOfAnUnrecordedFile: a file made before domains were recorded is claimed
// by the domain its entities belong to and refused by any other.
func TestClaimDomainOfAnUnrecordedFile(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	mustAppend(t, s, []sqlite.Row{accepted("wallet.a", 1, "")}, nil, 0)
	if err := s.ClaimDomain(ctx, "lock"); !errors.Is(err, sqlite.ErrOtherDomain) || !strings.Contains(err.Error(), "wallet.a") {
		t.Fatalf("a lock writer on an unrecorded wallet file: %v, want ErrOtherDomain naming wallet.a", err)
	}
	if d, _ := s.Domain(ctx); d != "" {
		t.Fatalf("a refused claim recorded %q", d)
	}
	// "walle" is not "wallet": the prefix is the domain and its dot
	if err := s.ClaimDomain(ctx, "walle"); !errors.Is(err, sqlite.ErrOtherDomain) {
		t.Fatalf("claim by a prefix of the domain: %v", err)
	}
	if err := s.ClaimDomain(ctx, "wallet"); err != nil {
		t.Fatalf("claim by its own domain: %v", err)
	}
	if d, _ := s.Domain(ctx); d != "wallet" {
		t.Fatalf("Domain = %q, want wallet", d)
	}
}
