// Package queuedomain runs one domain's queue side: the owner of its queues, its
// forwards and the example services it advertises, over NATS; optionally it embeds the
// domain's own NATS server (its own JetStream domain), joined to other domains by a
// leafnode, so an example runs two domains with two processes.
package queuedomain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"uneventful.dev/uneventful/pkg/forward"
	"uneventful.dev/uneventful/pkg/natsconn"
	"uneventful.dev/uneventful/pkg/natsembed"
	"uneventful.dev/uneventful/pkg/queue"
)

// DomainsListSubject is answered by every running domain with its connections.
const DomainsListSubject = "uneventful.domains.list"

// Config is what a domain process runs.
type Config struct {
	Queues queue.Config // the domain's YAML configuration
	// NATSURL is the server to connect to. Empty: embed a server as Embed says.
	NATSURL string
	Embed   Embed
	// Role is what this process runs: RoleAll (the default), RoleOwner or RoleForwards,
	// so the forwarders can run (and be scaled, and die) apart from the owner.
	Role string
}

// Roles of a domain process.
const (
	RoleAll      = "all"      // owner, notifications, example services and forwards
	RoleOwner    = "owner"    // everything but the forwards
	RoleForwards = "forwards" // the forwards only, against an owner running elsewhere
)

func (c Config) runs(role string) bool { return c.Role == "" || c.Role == RoleAll || c.Role == role }

// Embed configures the domain's embedded NATS server.
type Embed struct {
	Host      string   // default 127.0.0.1
	Port      int      // client port; -1 picks one
	StoreDir  string   // JetStream storage
	LeafPort  int      // accept leafnode connections from other domains on this port (0: none)
	LeafPeers []string // leafnode URLs of other domains to connect to, e.g. nats-leaf://127.0.0.1:7422
}

// Validate reports the first problem.
func (c Config) Validate() error {
	if err := c.Queues.Validate(); err != nil {
		return err
	}
	if c.NATSURL == "" && c.Embed.StoreDir == "" {
		return errors.New("no NATS URL and no store directory for an embedded server")
	}
	if c.Role != "" && c.Role != RoleAll && c.Role != RoleOwner && c.Role != RoleForwards {
		return fmt.Errorf("role %q: want %s, %s or %s", c.Role, RoleAll, RoleOwner, RoleForwards)
	}
	return nil
}

// Domain is a running domain.
type Domain struct {
	cfg      Config
	log      *slog.Logger
	srv      *server.Server
	srvOpts  *server.Options
	nc       *nats.Conn
	forwards *forward.Forwards
	services []*forward.Service
	ready    atomic.Bool // serving its role
}

// Connection is one line of the domain connection listing.
type Connection struct {
	Domain string `json:"domain"` // the domain listing it
	Name   string `json:"name"`   // the connected domain (its server name)
	ID     uint64 `json:"id"`
	Bound  string `json:"bound"` // "in" (it connected to us) or "out"
	Peer   string `json:"peer"`
	RTT    string `json:"rtt"`
	In     int64  `json:"in_msgs"`
	Out    int64  `json:"out_msgs"`
}

// Start starts the embedded server (if any) and connects; Run serves.
func Start(cfg Config, log *slog.Logger) (*Domain, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := &Domain{cfg: cfg, log: log}
	url := cfg.NATSURL
	if url == "" {
		srv, opts, err := embed(cfg.Queues.Domain, cfg.Embed)
		if err != nil {
			return nil, err
		}
		d.srv, d.srvOpts, url = srv, opts, srv.ClientURL()
	}
	nc, err := natsconn.Connect(url, "queue-domain-"+cfg.Queues.Domain, log)
	if err != nil {
		d.Close()
		return nil, err
	}
	d.nc = nc
	return d, nil
}

// ClientURL is the URL clients of this domain connect to.
func (d *Domain) ClientURL() string { return d.nc.ConnectedUrl() }

// LeafURL is where other domains connect their leafnodes ("" when not accepting).
func (d *Domain) LeafURL() string {
	if d.srv == nil || d.cfg.Embed.LeafPort == 0 {
		return ""
	}
	o := d.srvOpts.LeafNode
	return fmt.Sprintf("nats-leaf://%s:%d", o.Host, o.Port) // the server sets a picked port here
}

// Forwards returns the domain's forwards (for their statistics).
func (d *Domain) Forwards() *forward.Forwards { return d.forwards }

// Ready reports whether the domain serves its role and is connected to NATS: for /readyz.
func (d *Domain) Ready(context.Context) error {
	if !d.ready.Load() {
		return errors.New("not serving yet")
	}
	if !d.nc.IsConnected() {
		return errors.New("not connected to NATS")
	}
	return nil
}

// Run serves the domain until ctx is done: queues, forwards, services, listings (those
// of its role).
func (d *Domain) Run(ctx context.Context) error {
	d.forwards = forward.New(d.cfg.Queues, d.nc, d.log)
	if !d.cfg.runs(RoleOwner) {
		d.ready.Store(true)
		defer d.ready.Store(false)
		return d.forwards.Run(ctx)
	}
	owner, err := queue.NewOwner(d.cfg.Queues, d.nc, d.log)
	if err != nil {
		return err
	}
	for _, name := range d.cfg.Queues.Services {
		h, ok := forward.Examples[name]
		if !ok {
			return fmt.Errorf("no example service %q (have echo, rollback)", name)
		}
		s, err := forward.Serve(d.nc, d.cfg.Queues.Domain, name, h)
		if err != nil {
			return err
		}
		d.services = append(d.services, s)
	}
	sub, err := d.nc.Subscribe(DomainsListSubject, func(m *nats.Msg) {
		b, _ := json.Marshal(d.Connections())
		m.Respond(b) //nolint:errcheck
	})
	if err != nil {
		return err
	}
	defer sub.Unsubscribe() //nolint:errcheck
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var ownerErr error
	wg.Go(func() {
		ownerErr = owner.Run(ctx)
		cancel()
	})
	wg.Go(func() {
		select { // forwards and notifications start once the domain's queues are served
		case <-owner.Ready():
		case <-ctx.Done():
			return
		}
		d.ready.Store(true)
		wg.Go(func() { queue.NewNotifier(d.cfg.Queues, d.nc, d.log).Run(ctx) }) //nolint:errcheck // returns nil
		if d.cfg.runs(RoleForwards) {
			d.forwards.Run(ctx) //nolint:errcheck // returns nil
		}
	})
	wg.Wait()
	d.ready.Store(false)
	return ownerErr
}

// Connections lists the domain's leafnode connections to other domains.
func (d *Domain) Connections() []Connection {
	out := []Connection{}
	if d.srv == nil {
		return out
	}
	lz, err := d.srv.Leafz(nil)
	if err != nil {
		return out
	}
	for _, l := range lz.Leafs {
		bound := "in" // accepted: the other domain connected to us
		if l.IsSpoke {
			bound = "out" // we are the spoke: we connected out
		}
		out = append(out, Connection{Domain: d.cfg.Queues.Domain, Name: l.Name, ID: l.ID, Bound: bound,
			Peer: fmt.Sprintf("%s:%d", l.IP, l.Port), RTT: l.RTT, In: l.InMsgs, Out: l.OutMsgs})
	}
	return out
}

// Close stops the services, the connection and the embedded server.
func (d *Domain) Close() {
	for _, s := range d.services {
		s.Stop()
	}
	if d.nc != nil {
		d.nc.Drain() //nolint:errcheck
		for d.nc.IsDraining() {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if d.srv != nil {
		d.srv.Shutdown()
		d.srv.WaitForShutdown()
	}
}

// embed starts the domain's NATS server: server name and JetStream domain are the
// domain's name; the event subjects stay inside the domain (each domain's EVENTS
// stream holds its own events), everything else is shared over the leafnodes.
func embed(domain string, e Embed) (*server.Server, *server.Options, error) {
	host := e.Host
	if host == "" {
		host = "127.0.0.1"
	}
	port := e.Port
	if port == 0 {
		port = -1
	}
	// SyncAlways: an acknowledged queue operation survives a power failure, as under the
	// stack's broker (docs/reliability.md).
	opts := &server.Options{ServerName: domain, Host: host, Port: port, JetStream: true, JetStreamDomain: domain,
		StoreDir: e.StoreDir, SyncAlways: true}
	if e.LeafPort != 0 {
		opts.LeafNode.Host, opts.LeafNode.Port = host, e.LeafPort
	}
	for _, peer := range e.LeafPeers {
		u, err := url.Parse(peer)
		if err != nil {
			return nil, nil, fmt.Errorf("leafnode peer %q: %w", peer, err)
		}
		opts.LeafNode.Remotes = append(opts.LeafNode.Remotes, &server.RemoteLeafOpts{URLs: []*url.URL{u},
			DenyImports: localSubjects, DenyExports: localSubjects})
	}
	srv, err := natsembed.Start(opts, nil, 0)
	if err != nil {
		return nil, nil, err
	}
	return srv, opts, nil
}

// localSubjects never cross a leafnode: each domain's event stream is its own.
var localSubjects = []string{"events.>"}
