package history

// The history writer's intake as a whole: one copier per JetStream domain (consumer.go),
// started together, and their readiness.

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Copy copies the EVENTS stream of each of its JetStream domains into a store: the
// history writer's intake. Make it with NewCopy, run it with Run.
type Copy struct {
	copiers []*copier
}

// NewCopy returns the copy of the EVENTS stream of each JetStream domain in domains into
// store, in batches of up to maxBatch events per transaction, acknowledging a batch only
// once it is committed. No domain: the stream of the domain nc's server is in. A domain
// nc's server is not in is reached through the leafnodes (its server's JetStream API,
// $JS.<domain>.API). Each stream has its own durable consumer and cursor, so a restart
// resumes each where it stopped; within a stream the history keeps the stream's order,
// across streams the order in which their batches were stored. A domain named twice is
// an error.
func NewCopy(nc *nats.Conn, store *Store, log *slog.Logger, domains ...string) (*Copy, error) {
	if len(domains) == 0 {
		domains = []string{""}
	}
	c := &Copy{copiers: make([]*copier, len(domains))}
	for i, d := range domains {
		if slices.Contains(domains[:i], d) {
			return nil, fmt.Errorf("history: JetStream domain %q named twice", d)
		}
		js, err := jetStream(nc, d)
		if err != nil {
			return nil, err
		}
		l := log
		if d != "" {
			l = log.With("js_domain", d)
		}
		c.copiers[i] = &copier{domain: d, js: js, nc: nc, store: store, log: l}
	}
	return c, nil
}

// Run copies until ctx is done.
func (c *Copy) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, cp := range c.copiers {
		wg.Go(func() { cp.loop(ctx) })
	}
	wg.Wait()
}

// Ready is nil once every domain's consumer has been made (for /readyz); until then it
// names the domains not yet copied: a domain that does not exist or cannot be reached
// (a misspelled HISTORY_JS_DOMAINS) stays named.
func (c *Copy) Ready(context.Context) error {
	var waiting []string
	for _, cp := range c.copiers {
		if !cp.copying.Load() {
			name := cp.domain
			if name == "" {
				name = "this server's"
			}
			waiting = append(waiting, name)
		}
	}
	if len(waiting) > 0 {
		return fmt.Errorf("not yet copying the events of JetStream domain(s) %s", strings.Join(waiting, ", "))
	}
	return nil
}

// Consume is NewCopy, then Run until ctx is done: for a caller that needs no readiness.
func Consume(ctx context.Context, nc *nats.Conn, store *Store, log *slog.Logger, domains ...string) error {
	c, err := NewCopy(nc, store, log, domains...)
	if err != nil {
		return err
	}
	c.Run(ctx)
	return nil
}

// jetStream is the JetStream API of domain ("": that of nc's server).
func jetStream(nc *nats.Conn, domain string) (jetstream.JetStream, error) {
	if domain == "" {
		return jetstream.New(nc)
	}
	return jetstream.NewWithDomain(nc, domain)
}
