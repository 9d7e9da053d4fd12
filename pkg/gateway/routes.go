package gateway

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// Route sends the requests whose path falls under Prefix to Upstreams, balanced
// round-robin. A prefix ending in "/" covers every path below it ("/wallet/" covers
// "/wallet/<id>/balance"); any other prefix covers itself and the paths below it
// ("/history" covers "/history" and "/history/events", not "/historyx").
type Route struct {
	Prefix    string
	Upstreams []*url.URL
}

// ParseRoutes reads routes written as space-separated PREFIX=URL[,URL...] items, e.g.
// "/wallet/=http://127.0.0.1:8090,http://127.0.0.1:8091 /history=http://127.0.0.1:8081".
// An upstream URL is http or https with a host and nothing after it but an optional "/".
func ParseRoutes(s string) ([]Route, error) {
	var routes []Route
	for _, item := range strings.Fields(s) {
		prefix, urls, ok := strings.Cut(item, "=")
		if !ok || urls == "" {
			return nil, fmt.Errorf("route %q: want PREFIX=URL[,URL...]", item)
		}
		rt := Route{Prefix: prefix}
		for _, raw := range strings.Split(urls, ",") {
			u, err := url.Parse(raw)
			if err != nil {
				return nil, fmt.Errorf("route %q: %w", item, err)
			}
			rt.Upstreams = append(rt.Upstreams, u)
		}
		routes = append(routes, rt)
	}
	return routes, nil
}

func (rt Route) validate() error {
	if !strings.HasPrefix(rt.Prefix, "/") || strings.ContainsAny(rt.Prefix, "?#% \t") {
		return fmt.Errorf("route prefix %q: want an absolute path such as /wallet/", rt.Prefix)
	}
	if _, own := ownPaths[strings.TrimSuffix(rt.Prefix, "/")]; own {
		return fmt.Errorf("route prefix %q: the router answers %s itself", rt.Prefix, rt.Prefix)
	}
	if len(rt.Upstreams) == 0 {
		return fmt.Errorf("route %s: no upstream URL", rt.Prefix)
	}
	for _, u := range rt.Upstreams {
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return fmt.Errorf("route %s: upstream %q: want http://host:port", rt.Prefix, u)
		}
	}
	return nil
}

// covers reports whether path falls under the route's prefix.
func (rt Route) covers(path string) bool {
	if !strings.HasPrefix(path, rt.Prefix) {
		return false
	}
	return strings.HasSuffix(rt.Prefix, "/") || len(path) == len(rt.Prefix) || path[len(rt.Prefix)] == '/'
}

// table finds the route of a path: the longest prefix that covers it.
type table []*proxyRoute

func newTable(routes []*proxyRoute) table {
	t := table(routes)
	sort.SliceStable(t, func(i, j int) bool { return len(t[i].Prefix) > len(t[j].Prefix) })
	return t
}

func (t table) lookup(path string) *proxyRoute {
	for _, r := range t {
		if r.covers(path) {
			return r
		}
	}
	return nil
}
