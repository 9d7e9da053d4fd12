package event

import "testing"

func TestEncodeID(t *testing.T) {
	for id, want := range map[string]string{
		"28skwt5B8zTrs6AqBWrSgCHLcRL": "28skwt5B8zTrs6AqBWrSgCHLcRL", // a KSUID: as is
		"myapp:res-1_a":               "myapp:res-1_a",
		"x.events":                    "x%2Eevents",
		"..":                          "%2E%2E",
		"a%2Eb":                       "a%252Eb",
	} {
		got := EncodeID(id)
		if got != want {
			t.Errorf("EncodeID(%q) = %q, want %q", id, got, want)
		}
		back, err := DecodeID(got)
		if err != nil || back != id {
			t.Errorf("DecodeID(%q) = %q, %v", got, back, err)
		}
	}
	for _, bad := range []string{"a%2", "a%zz", "a%2e"} {
		if _, err := DecodeID(bad); err == nil {
			t.Errorf("DecodeID(%q): no error", bad)
		}
	}
}

// Two ids never share a stream, an events key (stream + ".events", pkg/readmodel/redis)
// or a subject token: lock "x.events" is not lock "x"'s events.
func TestStreamsNeverCollide(t *testing.T) {
	ids := []string{"x", "x.events", "x.", ".x", "x%2Eevents", "x%252Eevents", "x:events", "x-events"}
	seen := map[string]string{}
	for _, id := range ids {
		s := Stream("lock", id)
		for _, key := range []string{s, s + ".events", Subject(s)} {
			if other, ok := seen[key]; ok {
				t.Fatalf("ids %q and %q share %q", other, id, key)
			}
			seen[key] = id
		}
		if n := countDots(Subject(s)); n != 2 {
			t.Fatalf("subject %q of %q has %d dots, want 2 (events.lock.<one token>)", Subject(s), id, n)
		}
	}
}

func countDots(s string) int {
	n := 0
	for i := range len(s) {
		if s[i] == '.' {
			n++
		}
	}
	return n
}
