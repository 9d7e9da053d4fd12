// Package writer is the write path of a domain: it takes commands over NATS
// request/reply, decides them against in-memory state, appends many commands to the
// event and state logs in one SQLite transaction (group commit), then updates the Redis
// read model, replies, and lets the outbox publish the events.
//
// One Writer owns the entities of its partitions: all decisions happen on one goroutine,
// so no two commands of an entity ever race.
package writer

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"uneventful.dev/uneventful/pkg/aggregate"
	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/eventstore/sqlite"
	"uneventful.dev/uneventful/pkg/failure"
	"uneventful.dev/uneventful/pkg/outbox"
	"uneventful.dev/uneventful/pkg/readmodel/redis"
)

// Config tunes a Writer. The zero value is valid.
type Config struct {
	Partitions       int   // partitions entities hash to; default command.DefaultPartitions
	Owned            []int // partitions this writer serves; default all
	MaxBatch         int   // commands per transaction at most; default 512
	QueueSize        int   // commands waiting at most before shedding; default 8192
	IdempotencyCache int   // recent idempotency keys kept in memory; default 100,000
	// EntityCache is how many entities are kept in memory at most between batches; the
	// least recently used are evicted and loaded again from the state log when next
	// used. Entities with a pending timer, or pinned by their domain (aggregate.Pinner),
	// are kept beside them and not counted. Default DefaultEntityCache.
	EntityCache int
}

func (c Config) withDefaults() Config {
	if c.Partitions <= 0 {
		c.Partitions = command.DefaultPartitions
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 512
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 8192
	}
	if c.IdempotencyCache <= 0 {
		c.IdempotencyCache = 100_000
	}
	if c.EntityCache <= 0 {
		c.EntityCache = DefaultEntityCache
	}
	return c
}

// Writer is the write path of one domain. Create it with New and start it with Run.
type Writer[S any] struct {
	domain aggregate.Domain[S]
	name   string
	cfg    Config
	store  *sqlite.Store
	proj   *redis.Projection
	nc     *nats.Conn
	pub    *outbox.Publisher
	api    *serviceAPI // the NATS service API ($SRV.*, micro.go)
	log    *slog.Logger
	up     *event.Upcasters // the domain's, set by Run

	intake    chan *pending
	committed chan []*pending

	sched  func(S) []aggregate.Timer // the domain's aggregate.Scheduler, or nil
	pinned func(S) bool              // the domain's aggregate.Pinner, or nil

	// owned by the commit loop
	tm           timers
	entities     *entityCache[S]
	keys         *keyCache
	persistedSeq int64

	subscribed atomic.Bool

	rb rebuild // owned by the after-commit loop

	mu          sync.Mutex
	unprojected map[string]redis.Update // read model updates Redis refused, retried later
}

// pending is one request travelling through the writer.
type pending struct {
	req    command.Request
	in     *inbound // the message it came in; nil for none to answer
	idx    int      // its place in that message
	stream string
	row    *sqlite.Row
	timer  *sqlite.Timer // for a timer's firing: the timer (no one to answer)
	update *redis.Update // for a load: the read model to restore
	msgs   []outbox.Message
	reply  []byte
}

// New returns a writer of domain d over its store, read model, NATS connection and outbox.
func New[S any](d aggregate.Domain[S], store *sqlite.Store, proj *redis.Projection, nc *nats.Conn, pub *outbox.Publisher, cfg Config, log *slog.Logger) *Writer[S] {
	cfg = cfg.withDefaults()
	sched, pinned := schedulerOf(d)
	return &Writer[S]{
		domain: d, name: d.Name(), cfg: cfg, store: store, proj: proj, nc: nc, pub: pub, log: log, sched: sched, pinned: pinned,
		intake:      make(chan *pending, cfg.QueueSize),
		committed:   make(chan []*pending, 4),
		entities:    newEntityCache[S](cfg.EntityCache),
		keys:        newKeyCache(cfg.IdempotencyCache),
		unprojected: make(map[string]redis.Update),
	}
}

// Run serves requests until ctx is done, then stops taking requests, finishes the ones
// it took, and returns.
func (w *Writer[S]) Run(ctx context.Context) error {
	var err error
	if w.up, err = event.NewUpcasters(w.domain); err != nil {
		return err
	}
	if err := w.loadTimers(ctx); err != nil {
		return err
	}
	subs, err := w.subscribe()
	if err != nil {
		return err
	}
	w.subscribed.Store(true)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); w.afterCommitLoop(ctx) }()
	stop := make(chan struct{})
	go func() {
		<-ctx.Done()
		w.subscribed.Store(false)
		w.drain(subs)
		w.api.stop()
		close(stop)
	}()
	w.commitLoop(stop)
	close(w.committed)
	wg.Wait()
	return nil
}

// Ready reports whether the writer is taking requests: for /readyz.
func (w *Writer[S]) Ready(context.Context) error {
	if !w.subscribed.Load() {
		return failure.New(failure.Unavailable, "not_subscribed", "the writer is not taking requests")
	}
	return nil
}

// commitLoop takes batches of requests and due timers off the intake and the timer queue
// and commits each in one transaction, until stop is closed and the intake is empty.
func (w *Writer[S]) commitLoop(stop <-chan struct{}) {
	for {
		var batch []*pending // a new slice each time: the after-commit loop owns the previous one
		w.armClock()
		select {
		case p := <-w.intake:
			batch = append(batch, p)
		case <-w.tm.clock.C:
		case <-stop:
			select {
			case p := <-w.intake:
				batch = append(batch, p)
			default:
				w.persistCursor()
				return
			}
		}
		batch = append(batch, w.dueTimers(time.Now(), w.cfg.MaxBatch-len(batch))...)
	fill:
		for len(batch) < w.cfg.MaxBatch {
			select {
			case p := <-w.intake:
				batch = append(batch, p)
			default:
				break fill
			}
		}
		if len(batch) == 0 {
			continue
		}
		w.committed <- w.process(batch)
	}
}

// persistCursor writes the outbox cursor on shutdown so a restart resends less.
func (w *Writer[S]) persistCursor() {
	if w.pub == nil {
		return
	}
	if seq := w.pub.Published(); seq > w.persistedSeq {
		if err := w.store.Append(context.Background(), nil, nil, seq); err != nil {
			w.log.Warn("persist outbox cursor", "err", err)
		}
	}
}
