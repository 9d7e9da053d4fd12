package sqlite_test

import (
	"context"
	"fmt"
	"testing"

	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
)

// TestLatestStatesPages: pages of newest states, in stream order, resume after the last
// stream of the previous page and together hold every stream once at its newest version.
func TestLatestStatesPages(t *testing.T) {
	s, _ := openStore(t)
	var rows []sqlite.Row
	var states []sqlite.State
	for i := range 7 {
		for v := int64(1); v <= int64(i%3+1); v++ {
			rows = append(rows, accepted(fmt.Sprintf("wallet.%02d", i), v, ""))
			states = append(states, state(fmt.Sprintf("wallet.%02d", i), v))
		}
	}
	mustAppend(t, s, rows, states, 0)
	var got []string
	after := ""
	for page := 0; page < 10; page++ {
		sts, err := s.LatestStates(context.Background(), after, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(sts) > 3 {
			t.Fatalf("page of %d with limit 3", len(sts))
		}
		for _, st := range sts {
			got = append(got, fmt.Sprintf("%s@%d %s", st.Stream, st.Version, st.State))
			after = st.Stream
		}
		if len(sts) < 3 {
			break
		}
	}
	if len(got) != 7 {
		t.Fatalf("%d states, want 7: %v", len(got), got)
	}
	for i, g := range got {
		v := i%3 + 1
		if want := fmt.Sprintf(`wallet.%02d@%d {"version":%d}`, i, v, v); g != want {
			t.Errorf("state %d = %s, want %s", i, g, want)
		}
	}
}
