package httpapi

import (
	"net/http/httptest"
	"testing"

	"uneventful.dev/uneventful/pkg/failure"
)

func TestQueryInt(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  int64
		ok    bool
	}{
		{"absent gives default", "", 100, true},
		{"empty gives default", "?limit=", 100, true},
		{"other param ignored", "?after=5", 100, true},
		{"in range", "?limit=50", 50, true},
		{"min", "?limit=1", 1, true},
		{"max", "?limit=1000", 1000, true},
		{"plus sign", "?limit=%2B7", 7, true},
		{"below min", "?limit=0", 0, false},
		{"above max", "?limit=1001", 0, false},
		{"negative", "?limit=-1", 0, false},
		{"not a number", "?limit=abc", 0, false},
		{"decimal", "?limit=1.5", 0, false},
		{"exponent", "?limit=1e2", 0, false},
		{"spaces", "?limit=%205", 0, false},
		{"overflow", "?limit=99999999999999999999", 0, false},
		{"first of repeated wins", "?limit=3&limit=abc", 3, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/x"+tc.query, nil)
			got, err := QueryInt(r, "limit", 100, 1, 1000)
			if !tc.ok {
				fe := failure.From(err)
				if err == nil || fe.Kind != failure.Invalid || fe.Type != "invalid_limit" || fe.Message != "limit must be an integer from 1 to 1000" {
					t.Fatalf("QueryInt = %d, %v; want invalid_limit", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("QueryInt = %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}

func TestIfMatch(t *testing.T) {
	tests := []struct {
		name   string
		header string
		want   int64 // -1: no precondition
		ok     bool
	}{
		{"absent", "", -1, true},
		{"blank", "   ", -1, true},
		{"quoted", `"3"`, 3, true},
		{"bare", `3`, 3, true},
		{"weak", `W/"3"`, 3, true},
		{"surrounding spaces", `  "12" `, 12, true},
		{"zero: must not exist", `"0"`, 0, true},
		{"large", `"9223372036854775807"`, 9223372036854775807, true},
		{"negative", `"-1"`, 0, false},
		{"star", `*`, 0, false},
		{"list", `"3", "4"`, 0, false},
		{"not a number", `"abc"`, 0, false},
		{"overflow", `"9223372036854775808"`, 0, false},
		{"lowercase weak", `w/"3"`, 0, false},
		{"decimal", `"3.0"`, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/x", nil)
			if tc.header != "" {
				r.Header.Set("If-Match", tc.header)
			}
			got, err := ifMatch(r)
			if !tc.ok {
				if fe := failure.From(err); err == nil || fe.Kind != failure.Invalid || fe.Type != "invalid_if_match" {
					t.Fatalf("ifMatch(%q) = %v, %v; want invalid_if_match", tc.header, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ifMatch(%q): %v", tc.header, err)
			}
			if tc.want < 0 {
				if got != nil {
					t.Fatalf("ifMatch(%q) = %d, want no precondition", tc.header, *got)
				}
				return
			}
			if got == nil || *got != tc.want {
				t.Fatalf("ifMatch(%q) = %v, want %d", tc.header, got, tc.want)
			}
		})
	}
}

func TestIdempotencyKey(t *testing.T) {
	long := make([]byte, 256)
	for i := range long {
		long[i] = 'k'
	}
	tests := []struct {
		name   string
		header string
		ok     bool
	}{
		{"absent", "", true},
		{"printable", "order-42_A~!", true},
		{"max length", string(long[:255]), true},
		{"too long", string(long), false},
		{"inner space", "a b", false},
		{"tab", "a\tb", false},
		{"non-ASCII", "clé", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/x", nil)
			r.Header["Idempotency-Key"] = []string{tc.header}
			got, err := idempotencyKey(r)
			if tc.ok != (err == nil) || (tc.ok && got != tc.header) {
				t.Fatalf("idempotencyKey(%q) = %q, %v; want ok=%v", tc.header, got, err, tc.ok)
			}
			if !tc.ok && failure.From(err).Type != "invalid_idempotency_key" {
				t.Fatalf("error type %q", failure.From(err).Type)
			}
		})
	}
}
