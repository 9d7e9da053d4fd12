package httpapi

import (
	"net/http/httptest"
	"strings"
	"testing"

	"uneventful.dev/uneventful/pkg/failure"
)

func TestFencingHeader(t *testing.T) {
	long := strings.Repeat("a", 200)
	tests := []struct {
		name    string
		headers []string
		lock    string
		token   int64
	}{
		{"absent", nil, "", 0},
		{"plain", []string{"myapp.resource=7"}, "myapp.resource", 7},
		{"every allowed character", []string{"A-z_0.9:x=1"}, "A-z_0.9:x", 1},
		{"spaces around", []string{"  lock=12 "}, "lock", 12},
		{"200 characters", []string{long + "=3"}, long, 3},
		{"201 characters", []string{long + "a=3"}, "", -1},
		{"no token", []string{"lock"}, "", -1},
		{"empty token", []string{"lock="}, "", -1},
		{"empty name", []string{"=5"}, "", -1},
		{"zero", []string{"lock=0"}, "", -1},
		{"negative", []string{"lock=-1"}, "", -1},
		{"plus sign", []string{"lock=+5"}, "", -1},
		{"not a number", []string{"lock=abc"}, "", -1},
		{"decimal", []string{"lock=1.5"}, "", -1},
		{"overflow", []string{"lock=99999999999999999999"}, "", -1},
		{"slash in name", []string{"a/b=1"}, "", -1},
		{"space in name", []string{"a b=1"}, "", -1},
		{"two headers", []string{"a=1", "b=2"}, "", -1},
		{"two in one", []string{"a=1,b=2"}, "", -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/x", nil)
			for _, h := range tc.headers {
				r.Header.Add("Fencing-Token", h)
			}
			got, err := fencing(r)
			if tc.token < 0 {
				if fe := failure.From(err); err == nil || fe.Kind != failure.Invalid || fe.Type != "invalid_fencing_token" {
					t.Fatalf("fencing = %v, %v; want invalid_fencing_token", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.token == 0 && got != nil || tc.token > 0 && (len(got) != 1 || got[tc.lock] != tc.token) {
				t.Fatalf("fencing = %v; want %s=%d", got, tc.lock, tc.token)
			}
		})
	}
}
