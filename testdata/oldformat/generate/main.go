// Command generate writes the old-format fixture of testdata/oldformat: a wallet
// writer's event log (wallet.db) and a history (history.db, made by the history's first
// migration only, as a history writer built before schema versions left it), holding
// wallet events in every format the wallet ever stored (domains/wallet/upcast.go).
// Run from the repository's root; it replaces both files:
//
//	go run ./testdata/oldformat/generate
//
// Everything in them is fixed (ids, times), so a new run gives the same rows.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"testing/fstest"
	"time"

	"github.com/segmentio/ksuid"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
	"uneventful.dev/uneventful/pkg/sqlitedb"
)

const dir = "testdata/oldformat"

// The wallets: A holds events of every format, B one of version 1 only.
var (
	walletA = id(1)
	walletB = id(2)
	start   = time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
)

// stored is one event as it was stored: its type, schema field (0: none) and data.
type stored struct {
	wallet, typ string
	schema      int
	data        string
	balance     string // the wallet's balance after it, as the state log holds it
}

var events = []stored{
	{walletA, "credited", 0, `{"amount_cents":1000,"balance_cents":1000}`, "10.00"}, // version 1, before versions were recorded
	{walletA, "debited", 1, `{"amount_cents":250,"balance_cents":750}`, "7.50"},     // version 1, recorded
	{walletB, "credited", 0, `{"amount_cents":500,"balance_cents":500}`, "5.00"},
	{walletA, "credited", 0, `{"amount":"0.25","balance":"7.75"}`, "7.75"},   // today's form, stored before versions
	{walletA, "credited", 2, `{"amount":"2.25","balance":"10.00"}`, "10.00"}, // version 2
}

func main() {
	ctx := context.Background()
	envs := envelopes()
	if err := writeLog(ctx, filepath.Join(dir, "wallet.db"), envs); err != nil {
		log.Fatal(err)
	}
	if err := writeHistory(ctx, filepath.Join(dir, "history.db"), envs); err != nil {
		log.Fatal(err)
	}
}

// id returns a fixed KSUID, the n-th of the fixture.
func id(n int) string {
	var payload [16]byte
	payload[15] = byte(n)
	k, err := ksuid.FromParts(start, payload[:])
	if err != nil {
		panic(err)
	}
	return k.String()
}

func envelopes() []event.Envelope {
	version := map[string]int64{}
	var envs []event.Envelope
	for i, s := range events {
		version[s.wallet]++
		envs = append(envs, event.Envelope{ID: id(100 + i), Stream: event.Stream("wallet", s.wallet), Version: version[s.wallet],
			Type: s.typ, Schema: s.schema, Data: json.RawMessage(s.data), CommandID: id(200 + i),
			CausationID: id(200 + i), Time: start.Add(time.Duration(i) * time.Minute)})
	}
	return envs
}

// writeLog writes the event log of one command per event, each with the state after it.
func writeLog(ctx context.Context, path string, envs []event.Envelope) error {
	removeDB(path)
	store, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.ClaimDomain(ctx, "wallet"); err != nil {
		return err
	}
	for i, e := range envs {
		s := events[i]
		command := "credit"
		if s.typ == "debited" {
			command = "debit"
		}
		var amount struct {
			Cents  *int64 `json:"amount_cents"`
			Amount string `json:"amount"`
		}
		json.Unmarshal(e.Data, &amount) //nolint:errcheck // fixed above
		if amount.Cents != nil {
			amount.Amount = fmt.Sprintf("%d.%02d", *amount.Cents/100, *amount.Cents%100)
		}
		doc := fmt.Sprintf(`{"id":%q,"version":%d,"balance":%q}`, s.wallet, e.Version, s.balance)
		evs, _ := json.Marshal([]event.Envelope{e})
		row := sqlite.Row{Stream: e.Stream, Version: e.Version, CommandID: e.CommandID, Command: command,
			Data: json.RawMessage(fmt.Sprintf(`{"amount":%q}`, amount.Amount)), Outcome: sqlite.Accepted, Events: evs,
			Result: json.RawMessage(fmt.Sprintf(`{"version":%d,"state":%s}`, e.Version, doc)), Time: e.Time}
		st := sqlite.State{Stream: e.Stream, Version: e.Version, State: json.RawMessage(doc), Time: e.Time}
		if err := store.Append(ctx, []sqlite.Row{row}, []sqlite.State{st}, 0); err != nil {
			return err
		}
	}
	return nil
}

// writeHistory writes the history as the history's first migration made it, before the
// schema column: every event, with its data as it came.
func writeHistory(ctx context.Context, path string, envs []event.Envelope) error {
	removeDB(path)
	first, err := os.ReadFile("pkg/history/migrations/0001_init.sql")
	if err != nil {
		return err
	}
	db, err := sqlitedb.Open(path, false, sqlitedb.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := sqlitedb.Migrate(ctx, db, fstest.MapFS{"migrations/0001_init.sql": {Data: first}}); err != nil {
		return err
	}
	for _, e := range envs {
		if _, err := db.ExecContext(ctx, `INSERT INTO history (recorded, event_id, stream, version, type, data, command_id, correlation_id, causation_id, time)
			VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)`, e.Time.Add(time.Second).Format(time.RFC3339Nano), e.ID, e.Stream, e.Version, e.Type,
			string(e.Data), e.CommandID, e.CausationID, e.Time.Format(time.RFC3339Nano)); err != nil {
			return err
		}
	}
	_, err = db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

// removeDB removes a SQLite file and its WAL.
func removeDB(path string) {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		os.Remove(p) //nolint:errcheck // may not exist
	}
}
