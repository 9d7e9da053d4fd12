package service_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"uneventful.dev/uneventful/domains/wallet"
	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
	"uneventful.dev/uneventful/pkg/service"
	"uneventful.dev/uneventful/pkg/service/writerservice"
)

// session is the wallet domain under another name: a writer of another domain.
type session struct{ wallet.Domain }

func (session) Name() string { return "session" }

// TestWriterRefusesAnotherDomainsFile: a writer pointed at a file another domain's writer
// made (a copied default path) refuses it at start, saying so, instead of failing every
// command with version_conflict.
func TestWriterRefusesAnotherDomainsFile(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	path := filepath.Join(t.TempDir(), "wallet_writer", "datastore.db")
	store, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.ClaimDomain(ctx, "wallet"); err != nil {
		t.Fatal(err)
	}
	store.Close()

	// NATS and Redis addresses nobody serves: the refusal comes before any connection
	err = writerservice.Run(ctx, writerservice.Config{Common: service.Common{NATSURL: "nats://127.0.0.1:1", RedisAddr: "127.0.0.1:1"},
		DBPath: path}, session{})
	if !errors.Is(err, sqlite.ErrOtherDomain) {
		t.Fatalf("RunWriter of session on a wallet file: %v, want ErrOtherDomain", err)
	}
	if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, `"wallet"`) || !strings.Contains(msg, `"session"`) {
		t.Fatalf("the refusal %q does not name the file and both domains", msg)
	}
}
