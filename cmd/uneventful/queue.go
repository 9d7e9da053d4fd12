package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"uneventful.dev/uneventful/pkg/queue"
)

func queueList(e *env, fs *flag.FlagSet, args []string) error {
	domain := fs.String("domain", "", "only this domain's queues")
	if _, err := e.connect(fs, args); err != nil {
		return err
	}
	defer e.nc.Close()
	qs, err := queue.NewClient(e.nc).Queues(e.ctx, e.wait)
	if err != nil {
		return err
	}
	w := table(e.stdout, "name", "group", "rc", "rd", "count", "size", "avg", "EQ", "DQ", "UC", "last")
	for _, q := range qs {
		if *domain != "" && q.Group != *domain {
			continue
		}
		row(w, q.Name, q.Group, q.RetryCount, seconds(q.RetryDelay), q.Count, q.Size, q.Avg(), q.Enqueued, q.Dequeued, q.Uncommitted, stamp(q.Last))
	}
	return w.Flush()
}

func queueMessages(e *env, fs *flag.FlagSet, args []string) error {
	name, err := oneQueue(e, fs, args)
	if err != nil {
		return err
	}
	defer e.nc.Close()
	ms, err := queue.NewClient(e.nc).Browse(e.ctx, name)
	if err != nil {
		return err
	}
	w := table(e.stdout, "id", "state", "size", "redelivered", "type", "reply", "available", "time", "correlation")
	for _, m := range ms {
		row(w, m.ID, m.State, len(m.Payload), m.Redelivered, dash(m.Type), dash(m.Reply), stamp(m.Available), stamp(m.Time), dash(m.CorrelationID))
	}
	return w.Flush()
}

func queueEnqueue(e *env, fs *flag.FlagSet, args []string) error {
	typ := fs.String("type", "", "payload type")
	props := fs.String("properties", "", "message properties (selectable on dequeue)")
	reply := fs.String("reply", "", "reply queue")
	delay := fs.Duration("delay", 0, "not available before now + delay")
	correlation := fs.String("correlation-id", "", "the work item the message belongs to (default: the message id)")
	name, err := oneQueue(e, fs, args)
	if err != nil {
		return err
	}
	defer e.nc.Close()
	payload, err := io.ReadAll(e.stdin)
	if err != nil {
		return err
	}
	id, err := queue.NewClient(e.nc).Enqueue(e.ctx, name, queue.Message{Type: *typ, Payload: payload, Properties: *props, Reply: *reply}, queue.EnqueueOptions{Delay: *delay, CorrelationID: *correlation})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(e.stdout, id)
	return err
}

func queueDequeue(e *env, fs *flag.FlagSet, args []string) error {
	var sel queue.Select
	fs.StringVar(&sel.ID, "id", "", "dequeue this message")
	fs.StringVar(&sel.Properties, "properties", "", "dequeue the first message with these properties")
	fs.DurationVar(&sel.Wait, "block", 0, "wait up to this long for a message")
	name, err := oneQueue(e, fs, args)
	if err != nil {
		return err
	}
	defer e.nc.Close()
	c := queue.NewClient(e.nc)
	d, err := c.Dequeue(e.ctx, name, sel)
	if errors.Is(err, queue.ErrNoMessage) {
		return nil // nothing to print, as an empty queue
	}
	if err != nil {
		return err
	}
	if _, err := e.stdout.Write(d.Payload); err != nil {
		c.Rollback(e.ctx, d) //nolint:errcheck // the payload did not reach anyone
		return err
	}
	return c.Commit(e.ctx, d)
}

func queueRestore(e *env, fs *flag.FlagSet, args []string) error {
	return counted(e, fs, args, (*queue.Client).Restore, "restored")
}

func queueClear(e *env, fs *flag.FlagSet, args []string) error {
	return counted(e, fs, args, (*queue.Client).Clear, "removed")
}

func queueRemove(e *env, fs *flag.FlagSet, args []string) error {
	rest, err := e.connect(fs, args)
	if err != nil {
		return err
	}
	defer e.nc.Close()
	if len(rest) < 2 {
		return fmt.Errorf("remove <queue> <id>...: %w", errUsage)
	}
	n, err := queue.NewClient(e.nc).Remove(e.ctx, rest[0], rest[1:]...)
	if err == nil {
		_, err = fmt.Fprintf(e.stdout, "%d removed\n", n)
	}
	return err
}

func counted(e *env, fs *flag.FlagSet, args []string, op func(*queue.Client, context.Context, string) (int, error), what string) error {
	name, err := oneQueue(e, fs, args)
	if err != nil {
		return err
	}
	defer e.nc.Close()
	n, err := op(queue.NewClient(e.nc), e.ctx, name)
	if err == nil {
		_, err = fmt.Fprintf(e.stdout, "%d %s\n", n, what)
	}
	return err
}

func oneQueue(e *env, fs *flag.FlagSet, args []string) (string, error) {
	rest, err := e.connect(fs, args)
	if err != nil {
		return "", err
	}
	if len(rest) != 1 {
		e.nc.Close()
		return "", fmt.Errorf("%s wants exactly one queue name: %w", fs.Name(), errUsage)
	}
	return rest[0], nil
}

func table(out io.Writer, cols ...any) *tabwriter.Writer {
	w := tabwriter.NewWriter(out, 0, 0, 1, ' ', 0)
	row(w, cols...)
	dashes := make([]any, len(cols))
	for i, c := range cols {
		dashes[i] = dashLine(len(fmt.Sprint(c)))
	}
	row(w, dashes...)
	return w
}

func dashLine(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '-'
	}
	return string(b)
}

func row(w io.Writer, cols ...any) {
	for i, c := range cols {
		if i > 0 {
			fmt.Fprint(w, "\t")
		}
		fmt.Fprint(w, c)
	}
	fmt.Fprintln(w)
}

func seconds(s float64) string { return fmt.Sprintf("%.6f", s) }

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02T15:04:05.000000Z07:00")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
