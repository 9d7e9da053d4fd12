package gateway

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"
)

// pool is the http.RoundTripper of one route: it sends each request to the route's
// upstreams in turn (round-robin) and moves a request on to the next upstream when that
// is safe: always when the connection could not be made and nothing of the body was read,
// and for a request without side effects (GET, HEAD, OPTIONS without a body) also when
// the upstream broke off or answered 503. An upstream that refused a connection is
// skipped for downFor (a passive health check), unless every upstream is.
type pool struct {
	targets   []*target
	next      atomic.Uint64
	transport http.RoundTripper
	downFor   time.Duration
}

type target struct {
	url       *url.URL
	downUntil atomic.Int64 // unix nanoseconds
}

func newPool(upstreams []*url.URL, transport http.RoundTripper, downFor time.Duration) *pool {
	p := &pool{transport: transport, downFor: downFor}
	for _, u := range upstreams {
		p.targets = append(p.targets, &target{url: u})
	}
	return p
}

// order returns the targets to try, starting with the next in turn, those marked down
// last.
func (p *pool) order() []*target {
	n := len(p.targets)
	start := int((p.next.Add(1) - 1) % uint64(n))
	now := time.Now().UnixNano()
	up := make([]*target, 0, n)
	var down []*target
	for i := range n {
		t := p.targets[(start+i)%n]
		if t.downUntil.Load() > now {
			down = append(down, t)
		} else {
			up = append(up, t)
		}
	}
	return append(up, down...)
}

func (p *pool) RoundTrip(req *http.Request) (*http.Response, error) {
	body := &guardedBody{r: req.Body}
	hasBody := req.Body != nil && req.Body != http.NoBody
	safe := !hasBody && (req.Method == http.MethodGet || req.Method == http.MethodHead || req.Method == http.MethodOptions)
	targets := p.order()
	var err error
	for i, t := range targets {
		out := *req
		u := *req.URL
		u.Scheme, u.Host = t.url.Scheme, t.url.Host
		out.URL = &u
		if hasBody {
			out.Body = body
		}
		var resp *http.Response
		resp, err = p.transport.RoundTrip(&out)
		last := i == len(targets)-1
		if err == nil {
			if resp.StatusCode == http.StatusServiceUnavailable && safe && !last {
				io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) //nolint:errcheck // dropped anyway
				resp.Body.Close()
				continue
			}
			return resp, nil
		}
		refused := isDialError(err)
		if refused {
			t.downUntil.Store(time.Now().Add(p.downFor).UnixNano())
		}
		if req.Context().Err() != nil || !(safe || refused && !body.touched.Load()) {
			break
		}
	}
	return nil, err
}

// isDialError reports whether err says no connection was made (nothing was sent).
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// guardedBody is the client's request body shared by the attempts: the transport closes
// a request's body when the attempt fails, so Close does nothing here (the server closes
// the original), and touched says whether an attempt read from it (then no other may).
type guardedBody struct {
	r       io.ReadCloser
	touched atomic.Bool
}

func (b *guardedBody) Read(p []byte) (int, error) {
	b.touched.Store(true)
	return b.r.Read(p)
}

func (b *guardedBody) Close() error { return nil }
