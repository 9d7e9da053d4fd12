package event

import "testing"

func TestDocVersion(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want int64
	}{
		{"document", `{"id":"a","version":3,"balance":"5.00"}`, 3},
		{"multi-digit", `{"id":"a","version":1234567}`, 1234567},
		{"version last", `{"id":"a","version":42}`, 42},
		{"event envelope", `{"id":"e","stream":"wallet.a","version":7,"type":"credited","data":{"amount":"1.00"}}`, 7},
		{"first occurrence wins", `{"version":2,"data":{"version":9}}`, 2},
		{"missing", `{"id":"a","balance":"5.00"}`, 0},
		{"empty", ``, 0},
		{"not a number", `{"version":"3"}`, 0},
		{"zero", `{"version":0}`, 0},
		{"cut short", `{"version":`, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := DocVersion([]byte(tc.doc)); got != tc.want {
				t.Fatalf("DocVersion(%s) = %d, want %d", tc.doc, got, tc.want)
			}
			if got := DocVersion(tc.doc); got != tc.want {
				t.Fatalf("DocVersion(%q) = %d, want %d", tc.doc, got, tc.want)
			}
		})
	}
}
