package main

import (
	"flag"
	"fmt"

	"github.com/segmentio/ksuid"
)

// ksuidNew prints a new KSUID: an entity id (any KSUID is one), for
// W=$(uneventful ksuid). It needs no NATS server.
func ksuidNew(e *env, fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errUsage
	}
	_, err := fmt.Fprintln(e.stdout, ksuid.New().String())
	return err
}
