package history_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"uneventful.dev/uneventful/pkg/event"
	"uneventful.dev/uneventful/pkg/eventstream"
	"uneventful.dev/uneventful/pkg/history"
	"uneventful.dev/uneventful/pkg/natsembed"
	"uneventful.dev/uneventful/pkg/stacktest"
)

// TestConsumeAfterACrashBetweenFetchAndAck: a history writer stored e1..e2, fetched e3
// and e4, and died before acknowledging them. The next one must store e3 and e4 too (in
// order, before e5..), not fetch past them and acknowledge them with its first AckAll.
func TestConsumeAfterACrashBetweenFetchAndAck(t *testing.T) {
	ctx := context.Background()
	ns := stacktest.NATS(t)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := eventstream.Ensure(ctx, js); err != nil {
		t.Fatal(err)
	}
	publishEvs(t, js, 1, 10)
	store := openHistory(t)
	if _, err := store.Append(ctx, evs(1, 2)); err != nil {
		t.Fatal(err)
	}
	// The dead writer's consumer: e1..e2 acknowledged, e3..e4 delivered, not acknowledged.
	cons, err := js.CreateOrUpdateConsumer(ctx, event.StreamName, jetstream.ConsumerConfig{Durable: history.ConsumerName,
		AckPolicy: jetstream.AckAllPolicy, AckWait: 30 * time.Second, MaxAckPending: 20000})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(4)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []jetstream.Msg
	for m := range batch.Messages() {
		msgs = append(msgs, m)
	}
	if len(msgs) != 4 {
		t.Fatalf("fetched %d, want 4", len(msgs))
	}
	if err := msgs[1].DoubleAck(ctx); err != nil {
		t.Fatal(err)
	}
	publishEvs(t, js, 11, 12)

	// Twice: the second start finds the consumer the first one recreated.
	for run, last := range []int{12, 13} {
		if run == 1 {
			publishEvs(t, js, 13, 13)
		}
		stop := consume(t, nc, store)
		waitEvs(t, store, last, 10*time.Second)
		stop()
	}
}

// TestConsumeWhenADeliveryIsLost: messages delivered by the consumer but never received
// (a pull answered on a connection that then broke) must come again, in order, and not
// be acknowledged unstored by the next batch's AckAll. Here another pull on the
// history's consumer takes some messages and drops them: to JetStream they are
// delivered and unacknowledged, as those of a lost answer are.
func TestConsumeWhenADeliveryIsLost(t *testing.T) {
	ctx := context.Background()
	nc := stacktest.Connect(t, stacktest.NATS(t))
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := eventstream.Ensure(ctx, js); err != nil {
		t.Fatal(err)
	}
	store := openHistory(t)
	publishEvs(t, js, 1, 10)
	defer consume(t, nc, store)()
	waitEvs(t, store, 10, 10*time.Second)

	cons, err := js.Consumer(ctx, event.StreamName, history.ConsumerName)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(4, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	lost := make(chan []string, 1)
	go func() {
		var ids []string
		for m := range batch.Messages() { // dropped, never acknowledged
			var e event.Envelope
			json.Unmarshal(m.Data(), &e) //nolint:errcheck
			ids = append(ids, e.ID)
		}
		lost <- ids
	}()
	// The server hands new messages to the waiting pulls in turn: publish until the other
	// pull is answered (or its consumer is made again), then some more.
	last := 10
	var ids []string
	for answered := false; !answered; {
		last++
		publishEvs(t, js, last, last)
		select {
		case ids = <-lost:
			answered = true
		case <-time.After(20 * time.Millisecond):
		}
	}
	if len(ids) == 0 {
		t.Fatal("the other pull got nothing: nothing was lost, the test proves nothing")
	}
	publishEvs(t, js, last+1, last+5)
	last += 5
	t.Logf("lost %v, published e1..e%d", ids, last)
	waitEvs(t, store, last, 10*time.Second)
}

// TestConsumeAcrossNATSRestarts: events published while the NATS server is restarted
// (same port, same JetStream storage) twice all reach the history, once, in order.
func TestConsumeAcrossNATSRestarts(t *testing.T) {
	// The first server picks its port and binds it at once (a port found free and bound
	// later can be taken meanwhile); the restarts bind the same one again.
	dir := t.TempDir()
	srv := natsAt(t, -1, dir)
	port := srv.Addr().(*net.TCPAddr).Port
	connect := func() *nats.Conn {
		nc, err := nats.Connect(srv.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	nc, pub := connect(), connect()
	js, err := jetstream.New(pub)
	if err != nil {
		t.Fatal(err)
	}
	if err := eventstream.Ensure(context.Background(), js); err != nil {
		t.Fatal(err)
	}
	store := openHistory(t)
	defer consume(t, nc, store)()

	// The publisher retries each event until JetStream has it, as the outbox does.
	stop, published := make(chan struct{}), make(chan int)
	go func() {
		i := 0
		for {
			select {
			case <-stop:
				published <- i
				return
			default:
			}
			e := evs(i+1, i+1)[0]
			b, _ := json.Marshal(e)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_, err := js.PublishMsg(ctx, &nats.Msg{Subject: event.Subject(e.Stream), Data: b, Header: nats.Header{nats.MsgIdHdr: []string{e.ID}}})
			cancel()
			if err == nil {
				i++
			}
			time.Sleep(time.Millisecond)
		}
	}()
	for range 2 {
		time.Sleep(300 * time.Millisecond)
		srv.Shutdown()
		srv.WaitForShutdown()
		time.Sleep(100 * time.Millisecond)
		srv = natsAt(t, port, dir)
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	last := <-published
	t.Logf("published e1..e%d", last)
	waitEvs(t, store, last, 20*time.Second)
}

// natsAt starts a NATS server with JetStream on port, storing in dir, until the test ends.
func natsAt(t *testing.T, port int, dir string) *server.Server {
	t.Helper()
	s, err := natsembed.Start(&server.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { natsembed.Stop(s) })
	return s
}

// publishEvs publishes e<from>..e<to> to the events stream, as the outbox does.
func publishEvs(t *testing.T, js jetstream.JetStream, from, to int) {
	t.Helper()
	publish(t, js, evs(from, to))
}

// publish publishes es to the events stream, as the outbox does.
func publish(t *testing.T, js jetstream.JetStream, es []event.Envelope) {
	t.Helper()
	for _, e := range es {
		b, _ := json.Marshal(e)
		if _, err := js.PublishMsg(context.Background(), &nats.Msg{Subject: event.Subject(e.Stream), Data: b, Header: nats.Header{nats.MsgIdHdr: []string{e.ID}}}); err != nil {
			t.Fatal(err)
		}
	}
}

// consume runs Consume of domains until the returned stop is called.
func consume(t *testing.T, nc *nats.Conn, store *history.Store, domains ...string) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- history.Consume(ctx, nc, store, slog.New(slog.NewTextHandler(testLog{t}, nil)), domains...)
	}()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// testLog writes a log into the test's.
type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}

// waitEvs waits until the history holds exactly e1..e<last>, in order.
func waitEvs(t *testing.T, store *history.Store, last int, d time.Duration) {
	t.Helper()
	var want []string
	for i := 1; i <= last; i++ {
		want = append(want, fmt.Sprintf("e%d", i))
	}
	stacktest.Eventually(t, d, func() error {
		got, _, err := store.After(context.Background(), 0, last+1)
		if err != nil {
			return err
		}
		var ids []string
		for _, e := range got {
			ids = append(ids, e.ID)
		}
		if fmt.Sprint(ids) != fmt.Sprint(want) {
			return fmt.Errorf("history holds %v, want %v", ids, want)
		}
		return nil
	})
}
