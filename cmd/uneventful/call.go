package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"

	"uneventful.dev/uneventful/pkg/bus"
	"uneventful.dev/uneventful/pkg/failure"
)

// Exit statuses of `uneventful call` (and 1, 2 of every command).
const (
	exitError    = 1 // the infrastructure's error: unavailable, timeout (outcome unknown), internal
	exitUsage    = 2
	exitFailure  = 3 // the target refused the command (insufficient_funds, version_mismatch, ...)
	exitNotFound = 4 // nobody serves the target, or it knows no such entity or command
)

// callCmd sends one command through the command bus (pkg/bus) and prints the reply, or
// the failure as {"error": {"kind", "type", "message"}}:
//
//	uneventful call wallet.credit <id> '{"amount": 5}'   an entity's command: its new state
//	uneventful call service.echo '"hi"' [-command C]     a named service
//
// Flags: -timeout (default 5s), -key (idempotency key), -if-version N.
func callCmd(e *env, fs *flag.FlagSet, args []string) error {
	timeout := fs.Duration("timeout", bus.DefaultTimeout, "how long to wait for the reply")
	key := fs.String("key", "", "idempotency key: a retry with it changes nothing")
	ifVersion := fs.Int64("if-version", -1, "apply only at this entity version (0: not yet written)")
	cmdName := fs.String("command", "", "the command's name, for a service")
	rest, err := e.connect(fs, args)
	if err != nil {
		return err
	}
	defer e.nc.Close()
	target, command, payload, err := callArgs(rest, *cmdName)
	if err != nil {
		return err
	}
	var opts []bus.CallOption
	if *key != "" {
		opts = append(opts, bus.Key(*key))
	}
	if *ifVersion >= 0 {
		opts = append(opts, bus.IfVersion(*ifVersion))
	}
	b := bus.New(e.nc, bus.Options{Timeout: *timeout})
	reply, err := b.Call(e.ctx, target, command, payload, opts...)
	if err != nil {
		var f *bus.Failure
		if errors.As(err, &f) {
			out, _ := json.Marshal(map[string]any{"error": map[string]any{"kind": f.Kind, "type": f.Type, "message": f.Message}})
			fmt.Fprintln(e.stdout, string(out))
		}
		return &callError{err: err}
	}
	_, err = fmt.Fprintln(e.stdout, string(reply))
	return err
}

// callArgs reads "<domain>.<command> <id> [payload]" or "service.<name> [payload]".
func callArgs(args []string, serviceCommand string) (target, command string, payload []byte, err error) {
	usage := fmt.Errorf(`call wants "<domain>.<command> <id> [json]" or "service.<name> [json]": %w`, errUsage)
	if len(args) == 0 {
		return "", "", nil, usage
	}
	head, tail, ok := strings.Cut(args[0], ".")
	if !ok || head == "" || tail == "" {
		return "", "", nil, usage
	}
	if head+"." == bus.ServicePrefix {
		if len(args) > 2 {
			return "", "", nil, usage
		}
		if len(args) == 2 {
			payload = []byte(args[1])
		}
		return args[0], serviceCommand, payload, nil
	}
	if len(args) < 2 || len(args) > 3 {
		return "", "", nil, usage
	}
	if len(args) == 3 {
		payload = []byte(args[2])
	}
	return head + "." + args[1], tail, payload, nil
}

// callError is a call's error with its exit status.
type callError struct{ err error }

func (c *callError) Error() string { return c.err.Error() }
func (c *callError) Unwrap() error { return c.err }

// ExitCode is the exit status of a call that failed with c.
func (c *callError) ExitCode() int {
	switch {
	case errors.Is(c.err, bus.ErrNoResponders), errors.Is(c.err, failure.NotFound), bus.FailureType(c.err) == "unknown_command":
		return exitNotFound
	case bus.IsFailure(c.err):
		return exitFailure
	case errors.Is(c.err, bus.ErrInvalidTarget):
		return exitUsage
	default:
		return exitError
	}
}

// exitCode is the process's exit status for run's error.
func exitCode(err error) int {
	var c interface{ ExitCode() int }
	switch {
	case err == nil:
		return 0
	case errors.As(err, &c):
		return c.ExitCode()
	case errors.Is(err, errUsage):
		return exitUsage
	default:
		return exitError
	}
}
