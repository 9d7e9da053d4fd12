package writer

import (
	"encoding/json"
	"testing"

	"uneventful.dev/uneventful/domains/wallet"
	"uneventful.dev/uneventful/pkg/failure"
)

func TestDocument(t *testing.T) {
	tests := []struct {
		name    string
		id      string
		version int64
		state   any
		want    string // "" when refused
	}{
		{"wallet", "28skwt5B8zTrs6AqBWrSgCHLcRL", 3, wallet.State{Balance: 500}, `{"id":"28skwt5B8zTrs6AqBWrSgCHLcRL","version":3,"balance":"5.00"}`},
		{"zero wallet", "a", 0, wallet.State{}, `{"id":"a","version":0,"balance":"0.00"}`},
		{"empty object", "a", 7, struct{}{}, `{"id":"a","version":7}`},
		{"empty map", "a", 1, map[string]int{}, `{"id":"a","version":1}`},
		{"several fields", "a", 12, map[string]int{"x": 1, "y": 2}, `{"id":"a","version":12,"x":1,"y":2}`},
		{"id is JSON-escaped", `a"b\c`, 1, struct{}{}, `{"id":"a\"b\\c","version":1}`},
		{"large version", "a", 9_007_199_254_740_993, struct{}{}, `{"id":"a","version":9007199254740993}`},
		{"number state", "a", 1, 5, ""},
		{"string state", "a", 1, "x", ""},
		{"array state", "a", 1, []int{1}, ""},
		{"nil state", "a", 1, nil, ""},
		{"nil pointer state", "a", 1, (*wallet.State)(nil), ""},
		{"unmarshalable state", "a", 1, map[string]any{"c": make(chan int)}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := document(tc.id, tc.version, tc.state)
			if tc.want == "" {
				if fe := failure.From(err); err == nil || fe.Kind != failure.Internal || fe.Type != "bad_state" {
					t.Fatalf("document = %s, %v; want internal/bad_state", got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("document: %v", err)
			}
			if string(got) != tc.want {
				t.Fatalf("document = %s\nwant       %s", got, tc.want)
			}
			if !json.Valid(got) {
				t.Fatalf("document %s is not valid JSON", got)
			}
		})
	}
}
