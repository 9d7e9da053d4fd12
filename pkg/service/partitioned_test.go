package service_test

import (
	"path/filepath"
	"sync"
	"testing"

	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
	"uneventful.dev/uneventful/pkg/stacktest"
	"uneventful.dev/uneventful/pkg/writer"
)

// Two writers own half the partitions each (writer.Config.Owned), each with its own
// SQLite file. No writer takes the all subject, so the server sends each command to its
// wallet's partition: every credit is answered 200, applied once, and stored only in the
// file of the writer owning that partition.
func TestPartitionedWriters(t *testing.T) {
	var even, odd []int
	for p := range command.DefaultPartitions {
		if p%2 == 0 {
			even = append(even, p)
		} else {
			odd = append(odd, p)
		}
	}
	s := stacktest.StartParts(t)
	s.Writer = writer.Config{Owned: even}
	s.StartServices()
	oddDB := filepath.Join(t.TempDir(), "odd.db")
	s.StartOtherWriter(oddDB, writer.Config{Owned: odd})

	wallets := make([]string, 40)
	for i := range wallets {
		wallets[i] = newWallet()
	}
	const credits = 3
	var wg sync.WaitGroup
	for _, id := range wallets {
		for range credits {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := send("POST", walletURL(s, id, "credit"), amountBody(100))
				if err != nil || r.Code != 200 {
					t.Errorf("credit %s: %v %v", id, r, err)
				}
			}()
		}
	}
	wg.Wait()

	evenDB := walletDB(t, s)
	oddRO, err := sqlite.OpenDB(oddDB, true, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer oddRO.Close()
	for _, id := range wallets {
		if r := must(t, "GET", walletURL(s, id, "balance"), ""); r.balance() != credits*100 {
			t.Errorf("%s: balance %s, want %s", id, r, fmtCents(credits*100))
		}
		owner, other := evenDB, oddRO
		if command.Partition(id, command.DefaultPartitions)%2 == 1 {
			owner, other = oddRO, evenDB
		}
		const rows = `SELECT count(*) FROM event WHERE stream = ? AND outcome = 'accepted'`
		if n := count(t, owner, rows, "wallet."+id); n != credits {
			t.Errorf("%s: %d accepted rows in its partition's writer, want %d", id, n, credits)
		}
		if n := count(t, other, `SELECT count(*) FROM event WHERE stream = ?`, "wallet."+id); n != 0 {
			t.Errorf("%s: %d rows in the writer of the other partitions", id, n)
		}
	}
}
