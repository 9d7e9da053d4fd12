package sqlite_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/ksuid"

	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
)

// BenchmarkAppendSpread appends commands the way the writer does under a spread load:
// batches of 64 accepted credits over 1,000 wallets, one state row per wallet per batch,
// with rows the size the wallet writes. One op is one command.
//
//	go test -run x -bench AppendSpread -benchtime 50000x ./pkg/eventstore/sqlite/
func BenchmarkAppendSpread(b *testing.B) {
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	streams := make([]string, 1000)
	for i := range streams {
		streams[i] = "wallet." + ksuid.New().String()
	}
	versions := make(map[string]int64, len(streams))
	const batch = 64
	now := time.Now()
	cpu := processCPU()
	b.ResetTimer()
	for done := 0; done < b.N; done += batch {
		n := min(batch, b.N-done)
		rows := make([]sqlite.Row, 0, n)
		newest := make(map[string]int64, n)
		for i := range n {
			stream := streams[(done+i)*7919%len(streams)]
			versions[stream]++
			v := versions[stream]
			newest[stream] = v
			rows = append(rows, walletRow(stream, v, now))
		}
		states := make([]sqlite.State, 0, len(newest))
		for stream, v := range newest {
			states = append(states, sqlite.State{Stream: stream, Version: v, State: walletDoc(stream, v), Time: now})
		}
		if err := s.Append(context.Background(), rows, states, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((processCPU()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// processCPU is the CPU time (user + system) this process has used: the wall time of an
// op is mostly the wait for fsync, its CPU time is what the other services compete for.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru) //nolint:errcheck // cannot fail for RUSAGE_SELF
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// walletRow is an accepted credit with an envelope and reply of the wallet's sizes.
func walletRow(stream string, v int64, now time.Time) sqlite.Row {
	id, cmd := ksuid.New().String(), ksuid.New().String()
	ev := fmt.Sprintf(`[{"id":%q,"stream":%q,"version":%d,"type":"credited","data":{"amount":"5.00"},"command_id":%q,"causation_id":%q,"time":%q}]`,
		id, stream, v, cmd, cmd, now.Format(time.RFC3339Nano))
	return sqlite.Row{Stream: stream, Version: v, CommandID: cmd, Command: "credit", Data: json.RawMessage(`{"amount":"5.00"}`),
		Outcome: sqlite.Accepted, Events: json.RawMessage(ev), Result: json.RawMessage(`{"version":` + fmt.Sprint(v) + `,"state":` + string(walletDoc(stream, v)) + `}`), Time: now}
}

func walletDoc(stream string, v int64) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"id":%q,"version":%d,"balance":"%d.00"}`, stream[len("wallet."):], v, v*5))
}
