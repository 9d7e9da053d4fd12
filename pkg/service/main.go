package service

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"uneventful.dev/uneventful/pkg/aggregate"
)

// The whole main of each kind of service: a services/*/main.go is
//
//	func main() { os.Exit(service.WriterMain(wallet.Domain{}, 8082, os.Args[1:], os.Getenv)) }
//
// Each reads its configuration through getenv, logs JSON lines on stderr (and makes that
// logger the process's default), runs until SIGINT or SIGTERM and returns the exit
// status: 0 after a signal, 1 if the service failed or could not start, 2 for a bad
// configuration or arguments. A failure is one error line in the log.

// WriterMain runs domain d's writer, its health on 127.0.0.1:healthPort by default
// (Env.Writer says what it reads). With the argument "verify" it replays the event log
// against the state log instead, prints the report as JSON on stdout and exits 0 if they
// are equal, 1 if not, 2 if it could not run.
func WriterMain[S any](d aggregate.Domain[S], healthPort int, args []string, getenv func(string) string) int {
	name := d.Name() + "_writer"
	env := NewEnv(getenv)
	cfg := env.Writer(d.Name(), healthPort)
	switch {
	case len(args) == 1 && args[0] == "verify":
		if err := env.Err(); err != nil {
			fmt.Fprintln(os.Stderr, "verify: configuration:", err)
			return 2
		}
		return verify(cfg.DBPath, d)
	case len(args) > 0:
		return usage(cfg.Log, name, args, "[verify]")
	}
	return run(name, env, cfg.Log, func(ctx context.Context) error { return RunWriter(ctx, cfg, d) })
}

// ServerMain runs domain d's HTTP server (Env.Server says what it reads).
func ServerMain(d API, args []string, getenv func(string) string) int {
	name := d.Name() + "_server"
	env := NewEnv(getenv)
	cfg := env.Server()
	if len(args) > 0 {
		return usage(cfg.Log, name, args, "")
	}
	return run(name, env, cfg.Log, func(ctx context.Context) error { return RunServer(ctx, cfg, d) })
}

// HistoryMain runs the history writer (Env.History says what it reads).
func HistoryMain(args []string, getenv func(string) string) int {
	env := NewEnv(getenv)
	cfg := env.History()
	if len(args) > 0 {
		return usage(cfg.Log, "history_writer", args, "")
	}
	return run("history_writer", env, cfg.Log, func(ctx context.Context) error { return RunHistory(ctx, cfg) })
}

func usage(log *slog.Logger, name string, args []string, want string) int {
	log.Error(name+": unexpected arguments", "args", strings.Join(args, " "), "usage", strings.TrimSpace(name+" "+want))
	return 2
}

// run checks the configuration read into env, then runs f until a signal.
func run(name string, env *Env, log *slog.Logger, f func(context.Context) error) int {
	log = log.With("service", name)
	if err := env.Err(); err != nil {
		log.Error(name+": invalid configuration", "err", err.Error())
		return 2
	}
	slog.SetDefault(log)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second signal ends the process at once
	}()
	if err := f(ctx); err != nil {
		log.Error(name+" failed", "err", err.Error())
		return 1
	}
	return 0
}
