package tracker

import (
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"regexp"
	"time"

	"github.com/go-chi/chi/v5"

	"uneventful.dev/uneventful/pkg/failure"
	"uneventful.dev/uneventful/pkg/httpapi"
	"uneventful.dev/uneventful/pkg/sse"
)

//go:embed web
var web embed.FS

// Parameters of the page and of GET /tracker/api/items.
var (
	domainParam = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)
	queueParam  = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,200}$`)
	searchParam = regexp.MustCompile(`^[\x21-\x7e]{1,200}$`)
)

// params are the filters of a request, read from its query.
type params struct {
	Filter
	State string
}

// readParams reads state, domain, queue, q and limit; anything else, or a bad value, is
// an Invalid failure.
func readParams(r *http.Request) (params, error) {
	q := r.URL.Query()
	for name := range q {
		switch name {
		case "state", "domain", "queue", "q", "limit":
		default:
			return params{}, failure.Newf(failure.Invalid, "unknown_parameter", "unknown parameter %q: want state, domain, queue, q or limit", name)
		}
		if len(q[name]) > 1 {
			return params{}, failure.Newf(failure.Invalid, "invalid_"+name, "%s given more than once", name)
		}
	}
	p := params{State: q.Get("state")}
	switch p.State {
	case "":
		p.State = InFlight
	case InFlight, Completed:
	default:
		return p, failure.New(failure.Invalid, "invalid_state", "state must be in_flight or completed")
	}
	p.Status = p.State
	if v, ok := q["domain"]; ok && !domainParam.MatchString(v[0]) {
		return p, failure.New(failure.Invalid, "invalid_domain", "domain must be a domain name (a letter, then letters, digits or _; at most 64)")
	}
	if v, ok := q["queue"]; ok && !queueParam.MatchString(v[0]) {
		return p, failure.New(failure.Invalid, "invalid_queue", "queue must be a queue name (letters, digits and _.:-; 1 to 200)")
	}
	if v, ok := q["q"]; ok && !searchParam.MatchString(v[0]) {
		return p, failure.New(failure.Invalid, "invalid_q", "q must be an id: 1 to 200 printable characters without spaces")
	}
	p.Domain, p.Queue, p.Search = q.Get("domain"), q.Get("queue"), q.Get("q")
	limit, err := httpapi.QueryInt(r, "limit", 100, 1, 1000)
	if err != nil {
		return p, err
	}
	p.Limit = int(limit)
	return p, nil
}

// itemsPage is the answer of GET /tracker/api/items.
type itemsPage struct {
	State    string `json:"state"`
	Total    int    `json:"total"`    // items matching, of which Items holds the newest Limit
	Position int64  `json:"position"` // the newest history entry the model holds
	Items    []Item `json:"items"`
}

// Mount adds the tracker's routes to r: GET /tracker/ (the page, its script and style),
// GET /tracker/api/items, GET /tracker/api/counters and GET /tracker/api/events (the
// page's live updates: one SSE event "item" per changed item). The API answers 503
// replaying until the replay is done; bad parameters are C3 errors (an HTML page for the
// page's own).
func (t *Tracker) Mount(r chi.Router) {
	static, _ := fs.Sub(web, "web")
	files := http.StripPrefix("/tracker/", http.FileServerFS(static))
	page := template.Must(template.ParseFS(web, "web/index.html"))
	r.Get("/tracker", func(w http.ResponseWriter, req *http.Request) {
		http.Redirect(w, req, "/tracker/", http.StatusMovedPermanently)
	})
	r.Get("/tracker/", func(w http.ResponseWriter, req *http.Request) {
		if _, err := readParams(req); err != nil {
			writePageError(w, err)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		page.Execute(w, nil) //nolint:errcheck // the client went away
	})
	r.Get("/tracker/app.js", files.ServeHTTP)
	r.Get("/tracker/style.css", files.ServeHTTP)
	r.Route("/tracker/api", func(r chi.Router) {
		r.Use(t.whenReady)
		r.Get("/items", func(w http.ResponseWriter, req *http.Request) {
			p, err := readParams(req)
			if err != nil {
				httpapi.WriteError(w, err)
				return
			}
			items, total, pos := t.Items(p.Filter)
			now := t.o.Now()
			for i := range items {
				items[i].AgeMS = age(items[i], now).Milliseconds()
			}
			httpapi.WriteJSON(w, http.StatusOK, itemsPage{State: p.State, Total: total, Position: pos, Items: items})
		})
		r.Get("/counters", func(w http.ResponseWriter, req *http.Request) {
			if len(req.URL.RawQuery) > 0 {
				httpapi.WriteError(w, failure.New(failure.Invalid, "unknown_parameter", "counters take no parameters"))
				return
			}
			httpapi.WriteJSON(w, http.StatusOK, t.Counters())
		})
		r.Get("/events", func(w http.ResponseWriter, req *http.Request) {
			if len(req.URL.RawQuery) > 0 {
				httpapi.WriteError(w, failure.New(failure.Invalid, "unknown_parameter", "the stream takes no parameters: it sends every changed item"))
				return
			}
			t.stream(w, req)
		})
	})
}

// age is how long an item has been in flight, or how long it took.
func age(it Item, now time.Time) time.Duration {
	if it.Status == Completed {
		return it.Completed.Sub(it.Started)
	}
	return now.Sub(it.Started)
}

func (t *Tracker) whenReady(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !t.Ready() {
			httpapi.WriteError(w, failure.New(failure.Unavailable, "replaying", "the tracker is still reading the history"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// stream sends every item the live history changes, as it changes, until the client
// goes away or falls too far behind (it reconnects and reloads its lists).
func (t *Tracker) stream(w http.ResponseWriter, r *http.Request) {
	updates, cancel := t.hub.subscribe() // before the headers: nothing after them is missed
	defer cancel()
	st, err := sse.Start(w, r)
	if err != nil {
		return
	}
	defer st.Close()
	keepalive := time.NewTicker(sse.Keepalive)
	defer keepalive.Stop()
	for {
		select {
		case <-st.Context().Done():
			return
		case u, ok := <-updates:
			if !ok {
				return
			}
			st.Event(u.position, "item", u.data)
			for more := true; more; { // send what else is waiting in the same write
				select {
				case u, ok = <-updates:
					if !ok {
						st.Flush() //nolint:errcheck // ending anyway
						return
					}
					st.Event(u.position, "item", u.data)
				default:
					more = false
				}
			}
			if st.Flush() != nil {
				return
			}
		case <-keepalive.C:
			if st.Keepalive() != nil {
				return
			}
		}
	}
}

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tracker: bad request</title><link rel="stylesheet" href="/tracker/style.css"></head>
<body><main><h1>Bad request</h1><p role="alert">{{.Message}} <code>({{.Type}})</code></p>
<p><a href="/tracker/">Open the tracker without filters</a></p></main></body></html>
`))

// writePageError answers a bad page parameter with an HTML page (the API answers JSON).
func writePageError(w http.ResponseWriter, err error) {
	fe := failure.From(err)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(httpapi.Status(fe.Kind))
	errorPage.Execute(w, fe) //nolint:errcheck // the client went away
}
