package main

import (
	"flag"
	"fmt"
	"net/url"
	"strings"

	"uneventful.dev/uneventful/pkg/sse"
)

// eventsWatch prints events live, as `nats sub` would: those of one entity
// (wallet.<id>: the domain's server, through the HTTP entry; --after a version) or of
// every stream under a prefix (wallet., queue.; none: everything; the history, --after
// a global position). It follows until interrupted, resuming across lost connections.
func eventsWatch(e *env, fs *flag.FlagSet, args []string) error {
	base := entryURL(fs)
	after := fs.String("after", "", `start after this position (a version for one entity, a global position for a prefix), or "end" for new events only`)
	rest, err := parseAnywhere(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 1 {
		return fmt.Errorf("events watch takes one stream or prefix: %w", errUsage)
	}
	target := ""
	if len(rest) == 1 {
		target = rest[0]
	}
	u := watchURL(strings.TrimRight(*base, "/"), target)
	q := url.Values{}
	if *after != "" {
		q.Set("after", *after)
	}
	if strings.Contains(u, "?") && len(q) > 0 {
		u += "&" + q.Encode()
	} else if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var f sse.Follower
	return f.Follow(e.ctx, u, 0, func(ev sse.Event) error {
		_, err := fmt.Fprintf(e.stdout, "%d\t%s\t%s\n", ev.ID, ev.Type, ev.Data)
		return err
	})
}

// watchURL is the stream of target: "<domain>.<id>" is one entity's, a prefix (ending
// with a dot, or a bare domain) or nothing the history's.
func watchURL(base, target string) string {
	domain, id, dotted := strings.Cut(target, ".")
	switch {
	case target == "":
		return base + "/history/events"
	case !dotted:
		return base + "/history/events?stream=" + url.QueryEscape(target+".")
	case id == "" || strings.HasSuffix(id, "."):
		return base + "/history/events?stream=" + url.QueryEscape(target)
	default:
		return base + "/" + url.PathEscape(domain) + "/" + url.PathEscape(id) + "/events"
	}
}

// parseAnywhere parses flags that may come before, between or after the arguments.
func parseAnywhere(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, errUsage
		}
		if fs.NArg() == 0 {
			return rest, nil
		}
		rest, args = append(rest, fs.Arg(0)), fs.Args()[1:]
	}
}
