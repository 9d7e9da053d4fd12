package writerservice

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"uneventful.dev/uneventful/pkg/aggregate"
	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
	"uneventful.dev/uneventful/pkg/writer"
)

// verify replays the event log in dbPath through d against the state log and prints the
// report as JSON. Exit status: 0 all equal, 1 mismatches, 2 could not run.
func verify[S any](dbPath string, d aggregate.Domain[S]) int {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, dbPath, sqlite.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "verify:", err)
		return 2
	}
	defer store.Close()
	rep, err := writer.Verify(ctx, store, d)
	if err != nil {
		fmt.Fprintln(os.Stderr, "verify:", err)
		return 2
	}
	out, _ := json.MarshalIndent(struct {
		writer.Report
		OK          bool    `json:"ok"`
		EventsPerS  float64 `json:"events_per_second"`
		DurationSec float64 `json:"duration_seconds"`
	}{rep, rep.OK(), float64(rep.Events) / rep.Duration.Seconds(), rep.Duration.Seconds()}, "", "  ")
	fmt.Println(string(out))
	if !rep.OK() {
		return 1
	}
	return 0
}
