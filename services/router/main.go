// Command router is a PLACEHOLDER for the local-mode HTTP entry that branch h-entry
// writes (take that one when merging): it proxies each request to the first URL of the
// longest matching prefix of ROUTES ("PREFIX=URL[,URL...] ..."), on HTTP_ADDR, and
// answers /healthz and /readyz itself.
package main

import (
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"sort"
	"strings"
)

type route struct {
	prefix string
	proxy  *httputil.ReverseProxy
}

func main() {
	var routes []route
	for _, r := range strings.Fields(os.Getenv("ROUTES")) {
		prefix, urls, ok := strings.Cut(r, "=")
		u, err := url.Parse(strings.Split(urls, ",")[0])
		if !ok || err != nil {
			log.Fatalf("router: bad route %q", r)
		}
		routes = append(routes, route{prefix, httputil.NewSingleHostReverseProxy(u)})
	}
	sort.Slice(routes, func(i, j int) bool { return len(routes[i].prefix) > len(routes[j].prefix) })
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			w.Write([]byte("{}")) //nolint:errcheck
			return
		}
		for _, rt := range routes {
			if strings.HasPrefix(r.URL.Path, rt.prefix) {
				rt.proxy.ServeHTTP(w, r)
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"error":{"type":"not_found","message":"no route"}}`)) //nolint:errcheck
	})
	log.Fatal(http.ListenAndServe(os.Getenv("HTTP_ADDR"), h))
}
