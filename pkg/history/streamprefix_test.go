package history

import (
	"testing"

	"uneventful.dev/uneventful/pkg/event"
)

// Every stream a domain writes is a well-formed ?stream= prefix: a KSUID's and a lock
// name's, whose characters its stream encodes (event.EncodeID).
func TestStreamPrefixTakesEncodedIDs(t *testing.T) {
	for _, s := range []string{event.Stream("wallet", "28skwt5B8zTrs6AqBWrSgCHLcRL"), event.Stream("lock", "x.events"),
		event.Stream("lock", "myapp:res-1_a"), "lock.", "lock.x%2E"} {
		if !streamPrefix.MatchString(s) {
			t.Errorf("%q refused", s)
		}
	}
	for _, s := range []string{"lock.x y", "Lock.x", "lock.x/y"} {
		if streamPrefix.MatchString(s) {
			t.Errorf("%q taken", s)
		}
	}
}
