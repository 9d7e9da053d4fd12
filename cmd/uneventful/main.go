// Command uneventful looks into and acts on the queues, forwards, services and domain
// connections of every domain reachable from one NATS server.
//
//	uneventful queue list                     queues: name group rc rd count size avg EQ DQ UC last
//	uneventful queue messages <queue>         its messages, without consuming them
//	echo test | uneventful queue enqueue b1   prints the message id (-correlation-id: its work item's id)
//	uneventful queue dequeue <queue>          prints the payload (dequeued and committed)
//	uneventful queue restore <queue>          moves <queue>.error back to <queue>
//	uneventful queue clear <queue>            removes every message not dequeued
//	uneventful queue remove <queue> <id>...   removes those messages
//	uneventful forward-service list
//	uneventful forward-queue list
//	uneventful service list                   services with call counts and timings
//	uneventful domain connections             leafnode connections between domains
//	uneventful ksuid                          a new KSUID: an entity id (W=$(uneventful ksuid))
//	uneventful events watch wallet.<id>       one entity's events, live (also: wallet., queue., none: all)
//	uneventful call wallet.credit <id> '{"amount": 5}'   a command through the bus (call.go: exit statuses)
//	uneventful notify <session> <ns> <type> [payload]   a notification to a session (also: many, listen)
//	uneventful local up|down|status [svc...]   the stack as local processes (local.go; ./run.sh runs it)
//
// Every command but ksuid, events watch and notify (-url, default http://localhost:$HTTP_PORT)
// takes -nats (default $NATS_URL, else nats://127.0.0.1:4222).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

const usage = `usage: uneventful <command> [flags] [args]

  queue list | messages <queue> | enqueue <queue> | dequeue <queue>
        | restore <queue> | clear <queue> | remove <queue> <id>...
  forward-service list
  forward-queue list
  service list
  domain connections
  events watch [<domain>.<id> | <prefix>.] [-after N|end] [-url http://localhost:$HTTP_PORT]
  notify <session-id> <namespace> <type> [<payload JSON>] [-url ...]
  notify many <namespace> <type> <constraint JSON> [<payload JSON>] [-url ...]
  notify listen <session-id> [-url ...]   (notifications are ephemeral: only while listening)
  example check multiple-domain   (exit status: is the outcome casual's?)
  ksuid                           a new KSUID (an entity id); needs no NATS server
  call <domain>.<command> <id> [json] | service.<name> [json] [-command C]
        [-timeout 5s] [-key K] [-if-version N]
        prints the reply, or the failure as {"error": ...}; exit status 0 reply,
        1 error (unavailable, timeout, internal), 2 usage, 3 failure (refused),
        4 not found (nobody serves the target, unknown entity or command)
  local up | down [-report] | status [<svc>...] | services | ports [<svc>...] | watch <svc>...
        the stack as local processes (what ./run.sh runs; -root DIR, default .)

Flags of every command: -nats URL (default $NATS_URL or nats://127.0.0.1:4222),
-wait D (how long listings collect the domains' answers, default 300ms).
`

// env is what a command runs with.
type env struct {
	nc     *nats.Conn
	ctx    context.Context
	wait   time.Duration
	stdin  io.Reader
	stdout io.Writer
}

type command func(e *env, fs *flag.FlagSet, args []string) error

var commands = map[string]command{
	"queue list":           queueList,
	"queue messages":       queueMessages,
	"queue enqueue":        queueEnqueue,
	"queue dequeue":        queueDequeue,
	"queue restore":        queueRestore,
	"queue clear":          queueClear,
	"queue remove":         queueRemove,
	"forward-service list": forwardServiceList,
	"forward-queue list":   forwardQueueList,
	"service list":         serviceList,
	"domain connections":   domainConnections,
	"example check":        exampleCheck,
	"ksuid":                ksuidNew,
	"events watch":         eventsWatch,
	"call":                 callCmd,
	"notify":               notifyCmd,
	"local up":             localUp,
	"local down":           localDown,
	"local status":         localStatus,
	"local services":       localServices,
	"local ports":          localPorts,
	"local watch":          localWatch,
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout); err != nil {
		if !errors.Is(err, errSaid) { // local.go: a failure already explained
			fmt.Fprintln(os.Stderr, "uneventful:", err)
		}
		os.Exit(exitCode(err)) // call.go: 1 error, 2 usage; call: 3 failure, 4 not found
	}
}

var errUsage = errors.New("see uneventful -h")

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	cmd, name, args := lookup(args)
	if cmd == nil {
		fmt.Fprint(os.Stderr, usage)
		if name == "" {
			return errUsage
		}
		return fmt.Errorf("unknown command %q: %w", name, errUsage)
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	url := os.Getenv("NATS_URL")
	if url == "" {
		url = nats.DefaultURL
	}
	fs.StringVar(&url, "nats", url, "NATS server URL")
	e := &env{ctx: ctx, stdin: stdin, stdout: stdout}
	fs.DurationVar(&e.wait, "wait", 300*time.Millisecond, "how long listings wait for the domains' answers")
	// Flags come after the command; parsing is left to the command, which may add its own.
	return cmd(e, fs, args)
}

// lookup finds the command args name, in one word (ksuid) or two (queue list), and
// returns it with its name and the arguments after the name; cmd is nil if none fits.
func lookup(args []string) (cmd command, name string, rest []string) {
	for n := 1; n <= min(2, len(args)); n++ {
		name = strings.Join(args[:n], " ")
		if cmd, ok := commands[name]; ok {
			return cmd, name, args[n:]
		}
	}
	return nil, name, nil
}

// connect parses the flags and connects; every command calls it first.
func (e *env) connect(fs *flag.FlagSet, args []string) ([]string, error) {
	// Flags may come before, between or after the arguments.
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, errUsage
		}
		if fs.NArg() == 0 {
			break
		}
		rest, args = append(rest, fs.Arg(0)), fs.Args()[1:]
	}
	url := fs.Lookup("nats").Value.String()
	nc, err := nats.Connect(url, nats.Name("uneventful-cli"))
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", url, err)
	}
	e.nc = nc
	return rest, nil
}
