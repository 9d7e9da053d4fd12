package service

import (
	"context"
	"log/slog"
	"os/signal"
	"strings"
	"syscall"
)

// The whole main of each kind of service: a services/*/main.go is one line, e.g.
//
//	func main() { os.Exit(service.ServerMain(wallet.Domain{}, os.Args[1:], os.Getenv)) }
//	func main() { os.Exit(writerservice.Main(wallet.Domain{}, 8082, os.Args[1:], os.Getenv)) }
//
// Each reads its configuration through getenv, logs JSON lines on stderr (and makes that
// logger the process's default), runs until SIGINT or SIGTERM and returns the exit
// status: 0 after a signal, 1 if the service failed or could not start, 2 for a bad
// configuration or arguments. A failure is one error line in the log.

// ServerMain runs domain d's HTTP server (Env.Server says what it reads), with the
// routes opts add (extend.go).
func ServerMain[S any](d Served[S], args []string, getenv func(string) string, opts ...ServerOption) int {
	name := d.Name() + "_server"
	env := NewEnv(getenv)
	cfg := env.Server()
	if len(args) > 0 {
		return Usage(cfg.Log, name, args, "")
	}
	return Run(name, env, cfg.Log, func(ctx context.Context) error { return RunServer(ctx, cfg, d, opts...) })
}

// Usage logs that a service was given arguments it does not take, and returns 2.
func Usage(log *slog.Logger, name string, args []string, want string) int {
	log.Error(name+": unexpected arguments", "args", strings.Join(args, " "), "usage", strings.TrimSpace(name+" "+want))
	return 2
}

// Run checks the configuration read into env, makes log the process's default, then
// runs f until SIGINT or SIGTERM and returns the exit status (see above).
func Run(name string, env *Env, log *slog.Logger, f func(context.Context) error) int {
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
