package command

import "testing"

// A lane sends at once when nothing is on its way, and beside a message on its way only
// once the waiting requests are at least half as many as that message's.
func TestLaneRoom(t *testing.T) {
	tests := []struct {
		name              string
		inFlight, out, in int // messages on their way, their requests, requests waiting
		want              bool
	}{
		{"idle", 0, 0, 1, true},
		{"one alone on its way", 1, 1, 1, true},
		{"fewer than half of 20", 1, 20, 9, false},
		{"half of 20", 1, 20, 10, true},
		{"more than 20", 1, 20, 30, true},
		{"both slots taken", laneMaxInFlight, 40, 100, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := &lane{inFlight: tc.inFlight, out: tc.out, waiting: make([]*call, tc.in)}
			if got := l.room(); got != tc.want {
				t.Fatalf("room with %d on their way (%d requests), %d waiting: %v, want %v", tc.inFlight, tc.out, tc.in, got, tc.want)
			}
		})
	}
}
