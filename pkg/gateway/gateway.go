// Package gateway is the HTTP entry of a stack run as local processes (contract C2): one
// listener that sends each path prefix (/wallet/, /history, /tracker/, ...) to its
// upstream servers, and answers everything it decides itself as a C3 JSON error, as the
// servers do: 404 no route, 400 a path it refuses, 413 a body over the limit, 503 (with
// Retry-After) no upstream reachable, 504 an upstream that did not answer in time.
// Responses stream through unbuffered (Server-Sent Events reach the client at once), and
// no timeout of the gateway cuts a long stream.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"time"

	"uneventful.dev/uneventful/pkg/failure"
	"uneventful.dev/uneventful/pkg/httpapi"
)

// Config configures a Gateway. Zero values take the defaults noted.
type Config struct {
	Routes        []Route
	MaxBody       int64         // largest request body passed on; default httpapi.MaxBody (1 MiB)
	HeaderTimeout time.Duration // how long an upstream may take to start its answer; default 30s
	DownFor       time.Duration // how long an upstream that refused a connection is skipped; default 5s
	Log           *slog.Logger  // default slog.Default()
}

func (c Config) withDefaults() Config {
	if c.MaxBody == 0 {
		c.MaxBody = httpapi.MaxBody
	}
	if c.HeaderTimeout == 0 {
		c.HeaderTimeout = 30 * time.Second
	}
	if c.DownFor == 0 {
		c.DownFor = 5 * time.Second
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return c
}

// Validate reports the first thing wrong with the configuration.
func (c Config) Validate() error {
	if len(c.Routes) == 0 {
		return errors.New("no route")
	}
	seen := map[string]bool{}
	for _, rt := range c.Routes {
		if err := rt.validate(); err != nil {
			return err
		}
		if seen[rt.Prefix] {
			return fmt.Errorf("route prefix %s appears twice", rt.Prefix)
		}
		seen[rt.Prefix] = true
	}
	if c.MaxBody < 0 || c.HeaderTimeout < 0 || c.DownFor < 0 {
		return errors.New("MaxBody, HeaderTimeout and DownFor must not be negative")
	}
	return nil
}

// ownPaths are answered by the gateway itself, never routed.
var ownPaths = map[string]struct{}{"/healthz": {}, "/readyz": {}}

// Gateway is the http.Handler of the HTTP entry. It is safe for concurrent use.
type Gateway struct {
	cfg    Config
	routes table
	health http.Handler
}

type proxyRoute struct {
	Route
	proxy *httputil.ReverseProxy
}

// New returns a Gateway for cfg, or the error Validate reports.
func New(cfg Config) (*Gateway, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	transport := &http.Transport{
		Proxy:                 nil, // never through an HTTP_PROXY: the upstreams are local
		DialContext:           (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: cfg.HeaderTimeout,
		ForceAttemptHTTP2:     false,
	}
	g := &Gateway{cfg: cfg}
	routes := make([]*proxyRoute, 0, len(cfg.Routes))
	checks := map[string]httpapi.Check{}
	for _, rt := range cfg.Routes {
		routes = append(routes, &proxyRoute{Route: rt, proxy: &httputil.ReverseProxy{
			Rewrite:      rewrite,
			Transport:    newPool(rt.Upstreams, transport, cfg.DownFor),
			ErrorHandler: g.proxyError,
			ErrorLog:     slog.NewLogLogger(cfg.Log.Handler(), slog.LevelDebug),
		}})
		for _, u := range rt.Upstreams {
			checks[rt.Prefix+" "+u.String()] = readyCheck(transport, strings.TrimSuffix(u.String(), "/"))
		}
	}
	g.routes = newTable(routes)
	health := httpapi.NewRouter()
	httpapi.MountHealth(health, checks)
	g.health = health
	return g, nil
}

// rewrite keeps the client's path, query and Host; the pool sets the upstream's address.
func rewrite(pr *httputil.ProxyRequest) {
	pr.Out.Host = pr.In.Host
	pr.SetXForwarded()
}

// ServeHTTP answers /healthz and /readyz itself, refuses a bad path or a body over the
// limit, and sends every other request to its route's upstreams.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, own := ownPaths[r.URL.Path]; own {
		g.health.ServeHTTP(w, r)
		return
	}
	if err := checkPath(r.URL); err != nil {
		httpapi.WriteError(w, err)
		return
	}
	rt := g.routes.lookup(r.URL.Path)
	if rt == nil {
		httpapi.NotFound(w, r)
		return
	}
	if r.ContentLength > g.cfg.MaxBody {
		// Answered without reading the body; the connection closes after the answer.
		w.Header().Set("Connection", "close")
		httpapi.WriteError(w, tooLarge(g.cfg.MaxBody))
		return
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = http.MaxBytesReader(w, r.Body, g.cfg.MaxBody)
	}
	rt.proxy.ServeHTTP(w, r)
}

func tooLarge(limit int64) error {
	return failure.Newf(failure.TooLarge, "body_too_large", "body must be at most %d bytes", limit)
}

// proxyError answers a request no upstream answered.
func (g *Gateway) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	var tooBig *http.MaxBytesError
	var nerr net.Error
	switch {
	case errors.As(err, &tooBig):
		httpapi.WriteError(w, tooLarge(tooBig.Limit))
	case r.Context().Err() != nil:
		// The client went away: nobody reads an answer.
	case isDialError(err):
		httpapi.WriteError(w, failure.Newf(failure.Unavailable, "upstream_unavailable",
			"no server for %s is reachable; nothing was sent, retry later", r.URL.Path))
	case errors.As(err, &nerr) && nerr.Timeout():
		httpapi.WriteError(w, failure.Newf(failure.Timeout, "upstream_timeout",
			"the server for %s did not answer in time; the outcome is unknown: retry with the same Idempotency-Key", r.URL.Path))
	case r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions:
		g.cfg.Log.Warn("upstream failed", "path", r.URL.Path, "err", err)
		httpapi.WriteError(w, failure.Newf(failure.Unavailable, "upstream_unavailable",
			"the server for %s failed to answer; retry later", r.URL.Path))
	default:
		g.cfg.Log.Warn("upstream failed", "path", r.URL.Path, "err", err)
		httpapi.WriteError(w, failure.Newf(failure.Timeout, "upstream_failed",
			"the server for %s broke off; the outcome is unknown: retry with the same Idempotency-Key", r.URL.Path))
	}
}

// readyCheck asks an upstream's /readyz.
func readyCheck(rt http.RoundTripper, base string) httpapi.Check {
	client := &http.Client{Transport: rt}
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("readyz answered %d", resp.StatusCode)
		}
		return nil
	}
}
