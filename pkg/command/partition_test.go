package command

import (
	"fmt"
	"testing"
)

func TestPartitionStableAndInRange(t *testing.T) {
	tests := []struct {
		name string
		n    int
	}{
		{"one", 1},
		{"two", 2},
		{"default", DefaultPartitions},
		{"prime", 17},
		{"many", 1000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			used := map[int]bool{}
			for i := 0; i < 5000; i++ {
				id := fmt.Sprintf("entity-%d", i)
				p := Partition(id, tc.n)
				if p < 0 || p >= tc.n {
					t.Fatalf("Partition(%q, %d) = %d: out of range", id, tc.n, p)
				}
				if again := Partition(id, tc.n); again != p {
					t.Fatalf("Partition(%q, %d) = %d then %d", id, tc.n, p, again)
				}
				used[p] = true
			}
			if min := min(tc.n, 16); len(used) < min {
				t.Fatalf("5000 ids use only %d of %d partitions", len(used), tc.n)
			}
		})
	}
}

// The mapping is a wire contract between servers and writers of different builds: pin it.
func TestPartitionIsPinned(t *testing.T) {
	tests := []struct {
		id   string
		n    int
		want int
	}{
		{"", 16, 5}, // FNV-1a offset basis 0x811c9dc5
		{"a", 16, 12},
		{"a", 1, 0},
		{"a", 1000, 0xe40c292c % 1000}, // FNV-1a("a") = 0xe40c292c
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q mod %d", tc.id, tc.n), func(t *testing.T) {
			if got := Partition(tc.id, tc.n); got != tc.want {
				t.Fatalf("Partition(%q, %d) = %d, want %d", tc.id, tc.n, got, tc.want)
			}
		})
	}
	if got, want := Subject(KindCommand, "wallet", "a", 16), "command.wallet.12"; got != want {
		t.Fatalf("Subject = %q, want %q", got, want)
	}
	if got, want := Subject(KindLoad, "wallet", "", 16), "load.wallet.5"; got != want {
		t.Fatalf("Subject = %q, want %q", got, want)
	}
}
