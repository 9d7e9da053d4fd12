package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"sort"
	"time"

	multipledomain "uneventful.dev/uneventful/examples/multiple-domain"
	"uneventful.dev/uneventful/pkg/forward"
	"uneventful.dev/uneventful/pkg/queue"
	"uneventful.dev/uneventful/pkg/queuedomain"
)

func forwards(e *env, fs *flag.FlagSet, args []string, kind string) ([]forward.Info, error) {
	if _, err := e.connect(fs, args); err != nil {
		return nil, err
	}
	defer e.nc.Close()
	var out []forward.Info
	err := queue.Gather(e.ctx, e.nc, forward.ListSubject, e.wait, func(b []byte) error {
		var is []forward.Info
		if err := json.Unmarshal(b, &is); err != nil {
			return err
		}
		for _, i := range is {
			if i.Kind == kind {
				out = append(out, i)
			}
		}
		return nil
	})
	return out, err
}

func forwardServiceList(e *env, fs *flag.FlagSet, args []string) error {
	is, err := forwards(e, fs, args, "service")
	if err != nil {
		return err
	}
	w := table(e.stdout, "alias", "group", "source", "target", "reply", "delay", "CI", "I", "commits", "rollbacks", "last")
	for _, i := range is {
		delay := "-"
		if i.Reply != "" {
			delay = seconds(i.Delay)
		}
		row(w, i.Alias, i.Group, i.Source, i.Target, dash(i.Reply), delay, i.CI, i.I, i.Commits, i.Rollbacks, stamp(i.Last))
	}
	return w.Flush()
}

func forwardQueueList(e *env, fs *flag.FlagSet, args []string) error {
	is, err := forwards(e, fs, args, "queue")
	if err != nil {
		return err
	}
	w := table(e.stdout, "alias", "group", "source", "target", "delay", "CI", "I", "commits", "rollbacks", "last")
	for _, i := range is {
		row(w, i.Alias, i.Group, i.Source, i.Target, seconds(i.Delay), i.CI, i.I, i.Commits, i.Rollbacks, stamp(i.Last))
	}
	return w.Flush()
}

func serviceList(e *env, fs *flag.FlagSet, args []string) error {
	if _, err := e.connect(fs, args); err != nil {
		return err
	}
	defer e.nc.Close()
	var ss []forward.ServiceInfo
	err := queue.Gather(e.ctx, e.nc, forward.ServicesListSubject, e.wait, func(b []byte) error {
		var s forward.ServiceInfo
		err := json.Unmarshal(b, &s)
		ss = append(ss, s)
		return err
	})
	if err != nil {
		return err
	}
	sort.Slice(ss, func(i, j int) bool { return ss[i].Group+" "+ss[i].Name < ss[j].Group+" "+ss[j].Name })
	// One line per instance: I is 1 on each (instances of a name share its calls).
	w := table(e.stdout, "name", "group", "I", "C", "errors", "AT", "min", "max", "last")
	for _, s := range ss {
		row(w, s.Name, s.Group, 1, s.Calls, s.Errors, secs(s.Avg()), secs(s.Min), secs(s.Max), stamp(s.Last))
	}
	return w.Flush()
}

func domainConnections(e *env, fs *flag.FlagSet, args []string) error {
	if _, err := e.connect(fs, args); err != nil {
		return err
	}
	defer e.nc.Close()
	w := table(e.stdout, "domain", "name", "id", "bound", "peer", "rtt", "in", "out")
	err := queue.Gather(e.ctx, e.nc, queuedomain.DomainsListSubject, e.wait, func(b []byte) error {
		var cs []queuedomain.Connection
		if err := json.Unmarshal(b, &cs); err != nil {
			return err
		}
		for _, c := range cs {
			row(w, c.Domain, c.Name, c.ID, c.Bound, c.Peer, c.RTT, c.In, c.Out)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return w.Flush()
}

func secs(d time.Duration) string { return seconds(d.Seconds()) }

// exampleCheck exits non-zero unless the listing is the outcome of casual's
// multiple-domain example (used by scripts/example.sh; the Go test checks the same).
func exampleCheck(e *env, fs *flag.FlagSet, args []string) error {
	correlation := fs.String("correlation-id", "", "also check that the message in a1.error kept this correlation id")
	rest, err := e.connect(fs, args)
	if err != nil {
		return err
	}
	defer e.nc.Close()
	if len(rest) != 1 || rest[0] != "multiple-domain" {
		return fmt.Errorf("example check multiple-domain: %w", errUsage)
	}
	l, err := queuedomain.List(e.ctx, e.nc, e.wait)
	if err != nil {
		return err
	}
	if err := multipledomain.Check(l); err != nil {
		return err
	}
	if *correlation != "" {
		parked, err := queue.NewClient(e.nc).Browse(e.ctx, "a1.error")
		if err != nil {
			return err
		}
		if err := multipledomain.CheckCorrelation(parked, *correlation); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintln(e.stdout, "multiple-domain: the outcome is casual's")
	return err
}
