// Command queue_domain runs one domain's queues, forwards and example services from its
// YAML configuration, connected to NATS or embedding the domain's own NATS server.
//
//	queue_domain -config examples/multiple-domain/A.yaml -store data/A -port 4301 -leaf-port 7301
//	queue_domain -config examples/multiple-domain/B.yaml -store data/B -port 4302 -leaf-peer nats-leaf://127.0.0.1:7301
//	queue_domain -config domain.yaml -nats nats://127.0.0.1:4222     (an existing server)
//	queue_domain -config domain.yaml -role owner       (and elsewhere -role forwards)
//
// -role forwards runs the domain's forwarders alone, against an owner (-role owner)
// running in another process, so they can be scaled, or killed, apart from it. With
// -http (default HTTP_ADDR) it serves /healthz and /readyz; an address it cannot bind
// stops it at start (exit 1). NATS_URL is the default of -nats.
package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"uneventful.dev/uneventful/pkg/httpapi"
	"uneventful.dev/uneventful/pkg/queue"
	"uneventful.dev/uneventful/pkg/queuedomain"
)

func main() {
	var cfg queuedomain.Config
	var path, peers, httpAddr string
	flag.StringVar(&path, "config", "", "the domain's YAML configuration (required)")
	flag.StringVar(&cfg.Role, "role", queuedomain.RoleAll, "what to run: all, owner (no forwards) or forwards (only the forwards)")
	flag.StringVar(&httpAddr, "http", os.Getenv("HTTP_ADDR"), "serve /healthz and /readyz here (empty: none)")
	flag.StringVar(&cfg.NATSURL, "nats", os.Getenv("NATS_URL"), "NATS server to use; empty embeds one (then -store is required)")
	flag.StringVar(&cfg.Embed.Host, "host", "127.0.0.1", "embedded server: bind address")
	flag.IntVar(&cfg.Embed.Port, "port", -1, "embedded server: client port (-1 picks one)")
	flag.StringVar(&cfg.Embed.StoreDir, "store", "", "embedded server: JetStream directory")
	flag.IntVar(&cfg.Embed.LeafPort, "leaf-port", 0, "embedded server: accept other domains' leafnodes on this port")
	flag.StringVar(&peers, "leaf-peer", "", "embedded server: comma-separated leafnode URLs of domains to join")
	flag.Parse()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if peers != "" {
		cfg.Embed.LeafPeers = strings.Split(peers, ",")
	}
	qc, err := queue.LoadConfig(path)
	if err != nil {
		log.Error("queue_domain: configuration", "path", path, "err", err)
		os.Exit(2)
	}
	cfg.Queues = qc
	var health net.Listener
	if httpAddr != "" { // bound first: a taken address fails the start, not later
		if health, err = net.Listen("tcp", httpAddr); err != nil {
			log.Error("queue_domain failed to start: health server", "addr", httpAddr, "err", err)
			os.Exit(1)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	d, err := queuedomain.Start(cfg, log)
	if err != nil {
		log.Error("queue_domain failed to start", "err", err)
		os.Exit(1)
	}
	defer d.Close()
	if health != nil {
		go serveHealth(ctx, health, d, log)
	}
	log.Info("queue domain running", "domain", qc.Domain, "role", cfg.Role, "nats", d.ClientURL(), "leaf", d.LeafURL())
	if err := d.Run(ctx); err != nil {
		log.Error("queue_domain failed", "err", err)
		d.Close()
		os.Exit(1) //nolint:gocritic // closed above
	}
}

// serveHealth serves /healthz and /readyz (the domain serves its role) on ln until ctx
// is done.
func serveHealth(ctx context.Context, ln net.Listener, d *queuedomain.Domain, log *slog.Logger) {
	r := httpapi.NewRouter()
	httpapi.MountHealth(r, map[string]httpapi.Check{"domain": d.Ready})
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close() //nolint:errcheck
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Error("queue_domain: health server", "addr", ln.Addr().String(), "err", err)
	}
}
