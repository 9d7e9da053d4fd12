package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"uneventful.dev/uneventful/domains/wallet"
	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
	"uneventful.dev/uneventful/pkg/service/writerservice"
	"uneventful.dev/uneventful/pkg/writer"
)

// verify replays the event log against the state log and prints the report as JSON.
// Exit status: 0 all equal, 1 mismatches, 2 could not run.
func verify(ctx context.Context, cfg writerservice.Config) int {
	store, err := sqlite.Open(ctx, cfg.DBPath, sqlite.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "verify:", err)
		return 2
	}
	defer store.Close()
	rep, err := writer.Verify(ctx, store, wallet.Domain{})
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
