package service_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// TestHistory: the events of two wallets written concurrently appear in the history once
// each, with gapless positions and each wallet's versions in order; paging with after and
// limit returns the same; restarts of the writer, an outbox that resends everything, and
// a duplicate published straight to JetStream add nothing twice.
func TestHistory(t *testing.T) {
	s := stacktest.Start(t)
	db := walletDB(t, s)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	a, b := newWallet(), newWallet()
	totals := checkOutcomes(t, runOps(s, randomOps(rng, []string{a, b}, 80, 0.7, 10_00), 8))
	if t.Failed() {
		t.FailNow()
	}
	want := map[string]int64{a: totals[a].Accepted, b: totals[b].Accepted}
	n := int(want[a] + want[b])
	all := waitHistory(t, s, n)
	checkHistoryStreams(t, all, want)
	checkHistoryIsEventLog(t, db, all)

	t.Run("paging", func(t *testing.T) {
		for _, limit := range []int{1, 7, n, 1000} {
			var got []historyEntry
			var after int64
			for pages := 0; ; pages++ {
				p, err := historyPageAt(s, after, limit)
				if err != nil {
					t.Fatal(err)
				}
				if p.Newest != int64(n) {
					t.Fatalf("limit %d after %d: newest %d, want %d", limit, after, p.Newest, n)
				}
				if len(p.Events) > limit {
					t.Fatalf("limit %d: page of %d", limit, len(p.Events))
				}
				if len(p.Events) == 0 {
					if p.Next != after {
						t.Fatalf("empty page after %d: next %d", after, p.Next)
					}
					break
				}
				if p.Events[0].Position != after+1 || p.Next != p.Events[len(p.Events)-1].Position {
					t.Fatalf("limit %d after %d: positions %d.., next %d", limit, after, p.Events[0].Position, p.Next)
				}
				got = append(got, p.Events...)
				after = p.Next
				if pages > n {
					t.Fatal("paging does not end")
				}
			}
			if len(got) != len(all) {
				t.Fatalf("limit %d: %d events paged, %d in the history", limit, len(got), len(all))
			}
			for i := range got {
				if got[i] != all[i] {
					t.Fatalf("limit %d: event %d is %+v, want %+v", limit, i, got[i], all[i])
				}
			}
		}
		p, err := historyPageAt(s, int64(n)+100, 10)
		if err != nil || len(p.Events) != 0 || p.Newest != int64(n) || p.Next != int64(n)+100 {
			t.Fatalf("after beyond the newest: %+v %v", p, err)
		}
	})

	// A plain restart.
	restartWriter(t, s)
	credit(t, s, a, 1)
	want[a]++
	n++
	checkHistoryStreams(t, waitHistory(t, s, n), want)

	// A writer that lost its outbox cursor (as after a crash before it was saved)
	// publishes every event again: JetStream and the history must drop them all.
	s.StopWriter()
	rw, err := sqlite.OpenDB(s.WalletDB, false, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rw.Exec(`UPDATE outbox SET published_seq = 0`); err != nil {
		t.Fatal(err)
	}
	rw.Close()
	s.StartWriter()
	t.Cleanup(s.StopWriter)
	stacktest.WaitReady(t, s.WriterURL)
	credit(t, s, b, 1) // published after the resent ones: once it is in, they were handled
	want[b]++
	n++
	checkHistoryStreams(t, waitHistory(t, s, n), want)

	// The same event again under another JetStream message id: the history keeps it once.
	nc, err := nats.Connect(s.NATS.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	var dup []byte
	if err := db.QueryRow(`SELECT json_extract(events, '$[0]') FROM event WHERE stream = ? AND version = 1`, "wallet."+a).Scan(&dup); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(context.Background(), event.Subject("wallet."+a), dup, jetstream.WithMsgID(newWallet())); err != nil {
		t.Fatal(err)
	}
	credit(t, s, a, 1)
	want[a]++
	n++
	all = waitHistory(t, s, n)
	checkHistoryStreams(t, all, want)
	checkHistoryIsEventLog(t, db, all)

	// The resend did happen: the cursor, saved with the last commit, is past the row
	// written after the reset, so the publisher went through every row from 0 again.
	var cursor, bSeq int64
	if err := db.QueryRow(`SELECT published_seq FROM outbox`).Scan(&cursor); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT max(seq) FROM event WHERE stream = ?`, "wallet."+b).Scan(&bSeq); err != nil {
		t.Fatal(err)
	}
	if cursor < bSeq {
		t.Errorf("outbox cursor %d, want at least %d", cursor, bSeq)
	}
	// JetStream kept each event once (plus the duplicate sent under another message id).
	str, err := js.Stream(context.Background(), event.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := str.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != uint64(n)+1 {
		t.Errorf("JetStream holds %d messages, want %d", info.State.Msgs, n+1)
	}
}

// checkHistoryIsEventLog requires that the history holds exactly the events of the
// writer's accepted rows, in the log's order.
func checkHistoryIsEventLog(t testing.TB, db *sql.DB, all []historyEntry) {
	t.Helper()
	rows, err := db.Query(`SELECT events FROM event WHERE outcome = 'accepted' ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			t.Fatal(err)
		}
		var evs []struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal([]byte(raw), &evs); err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			ids = append(ids, e.ID)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(ids) != len(all) {
		t.Fatalf("the event log holds %d events, the history %d", len(ids), len(all))
	}
	for i := range ids {
		if all[i].ID != ids[i] {
			t.Fatalf("history position %d is event %s, the log's %d-th event is %s", all[i].Position, all[i].ID, i+1, ids[i])
		}
	}
}
