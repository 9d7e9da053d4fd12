package redis

import "testing"

func TestDocVersion(t *testing.T) {
	for doc, want := range map[string]int64{
		`{"id":"x","version":12,"balance":"1.00"}`: 12,
		`{"version":7}`: 7,
		`{"id":"x"}`:    0,
		``:              0,
		`{"version":`:   0,
	} {
		if got := DocVersion(doc); got != want {
			t.Errorf("DocVersion(%s) = %d, want %d", doc, got, want)
		}
	}
}
