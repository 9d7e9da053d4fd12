package writer

import (
	"context"
	"encoding/json"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"uneventful.dev/uneventful/domains/wallet"
	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
)

// Size of the store BenchmarkVerify replays: accepted commands of one event each, over
// benchWallets wallets, appended benchBatch commands per transaction.
const (
	benchEvents  = 1_000_000
	benchWallets = 1000
	benchBatch   = 1000
)

// BenchmarkVerify replays a store of 1,000,000 events over 1,000 wallets, filled the way
// the writer fills it under a spread load (each batch has one command of every wallet,
// so one state row per command). The store is built once per run (about a minute); one op
// is one Verify of the whole log.
//
//	go test -run x -bench Verify -benchtime 3x ./pkg/writer/
func BenchmarkVerify(b *testing.B) {
	l := newLedger(b)
	fillBench(l)
	b.Run("events=1M", func(b *testing.B) {
		var replayed int64
		var took float64
		for b.Loop() {
			rep, err := Verify[wallet.State](context.Background(), l.store, wallet.Domain{})
			if err != nil || !rep.OK() || rep.Events != benchEvents || rep.Streams != benchWallets {
				b.Fatalf("Verify = %+v, %v; want OK, %d events of %d streams", rep, err, benchEvents, benchWallets)
			}
			replayed += rep.Events
			took += rep.Duration.Seconds()
		}
		b.ReportMetric(float64(replayed)/took, "events/s")
	})
	b.Run("raw-read", func(b *testing.B) {
		var rows int64
		var took float64
		for b.Loop() {
			start := time.Now()
			n, err := rawRead(context.Background(), l.store)
			if err != nil || n != benchEvents {
				b.Fatalf("rawRead = %d, %v; want %d rows", n, err, benchEvents)
			}
			rows += n
			took += time.Since(start).Seconds()
		}
		b.ReportMetric(float64(rows)/took, "events/s")
	})
}

// rawRead is the ceiling of Verify: it reads the rows Verify reads, in the same chunks on
// as many connections at once, and only counts them and their bytes.
func rawRead(ctx context.Context, store *sqlite.Store) (int64, error) {
	last, err := store.MaxSeq(ctx)
	if err != nil {
		return 0, err
	}
	readers := int64(runtime.GOMAXPROCS(0))
	var rows, size atomic.Int64
	errs := make(chan error, readers)
	for r := range readers {
		go func() {
			lr, err := store.NewLogReader(ctx)
			if err != nil {
				errs <- err
				return
			}
			defer lr.Close()
			var n, bytes int64
			for c := r; c*replayChunk < last; c += readers {
				err = lr.ForEachAccepted(ctx, c*replayChunk, min((c+1)*replayChunk, last), func(_ int64, stream []byte, _ int64, events []byte) error {
					n, bytes = n+1, bytes+int64(len(stream)+len(events))
					return nil
				})
				if err != nil {
					break
				}
			}
			rows.Add(n)
			size.Add(bytes)
			errs <- err
		}()
	}
	for range readers {
		if e := <-errs; e != nil {
			err = e
		}
	}
	return rows.Load(), err
}

// fillBench appends benchEvents commands to l: credits of 5.00 and, every fourth command
// of a wallet, a debit of 1.25, each row with a reply like the writer's.
func fillBench(l *ledger) {
	ids := make([]string, benchWallets)
	for i := range ids {
		ids[i] = event.NewID()
	}
	for done := 0; done < benchEvents; done += benchBatch {
		rows := make([]sqlite.Row, 0, benchBatch)
		states := make([]sqlite.State, 0, benchBatch)
		for i := done; i < done+benchBatch; i++ {
			cmd, amount := "credit", `"5.00"`
			if i/benchWallets%4 == 3 {
				cmd, amount = "debit", `"1.25"`
			}
			row, st := l.decide(ids[i*7919%benchWallets], cmd, amount)
			row.Result, _ = json.Marshal(command.Reply{Version: st.Version, State: st.State})
			rows, states = append(rows, row), append(states, *st)
		}
		l.appendRaw(rows, states)
	}
}
