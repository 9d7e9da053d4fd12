// Command router is the HTTP entry of the stack run as local processes (contract C2): it
// sends each path prefix to that domain's servers and answers its own errors in C3 JSON
// (pkg/gateway). Under Docker Compose nginx plays this part (docker/router/nginx.conf).
//
// Environment: HTTP_ADDR (default :${HTTP_PORT:-80}), LOG_LEVEL, and ROUTES, space-
// separated PREFIX=URL[,URL...] items; the longest prefix wins, several URLs are balanced
// round-robin:
//
//	ROUTES="/wallet/=http://127.0.0.1:8090,http://127.0.0.1:8091 /history=http://127.0.0.1:8081"
package main

import (
	"context"
	"net"
	"os"
	"os/signal"
	"syscall"

	"uneventful.dev/uneventful/pkg/gateway"
	"uneventful.dev/uneventful/pkg/service"
)

func main() {
	env := service.NewEnv(os.Getenv)
	common := env.Common(":" + env.String("HTTP_PORT", "80"))
	log := common.Log.With("service", "router")
	if err := env.Err(); err != nil {
		log.Error("router: invalid configuration", "err", err.Error())
		os.Exit(2)
	}
	routes, err := gateway.ParseRoutes(os.Getenv("ROUTES"))
	var g *gateway.Gateway
	if err == nil {
		g, err = gateway.New(gateway.Config{Routes: routes, Log: log})
	}
	if err != nil {
		log.Error("router: bad ROUTES (want PREFIX=URL[,URL...] items separated by spaces)", "err", err)
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", common.HTTPAddr)
	if err != nil {
		log.Error("router: cannot listen", "addr", common.HTTPAddr, "err", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	log.Info("listening", "addr", ln.Addr().String(), "routes", os.Getenv("ROUTES"))
	if err := gateway.Serve(ctx, ln, g); err != nil {
		log.Error("router failed", "err", err)
		os.Exit(1)
	}
}
