package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkHop measures what the gateway's hop costs: the same GET of a small JSON
// answer sent to the upstream directly and through the gateway, one request at a time
// (latency) and from many goroutines (throughput; client, gateway and upstream share the
// machine's cores). BENCHMARKS.md, "HTTP entry".
//
//	go test -run x -bench Hop -benchtime 20000x ./pkg/gateway/
func BenchmarkHop(b *testing.B) {
	answer := []byte(`{"id":"28skwt5B8zTrs6AqBWrSgCHLcRL","version":3,"balance":"15.00"}` + "\n")
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer) //nolint:errcheck // benchmark
	}))
	defer up.Close()
	rs, err := ParseRoutes("/wallet/=" + up.URL)
	if err != nil {
		b.Fatal(err)
	}
	g, err := New(Config{Routes: rs})
	if err != nil {
		b.Fatal(err)
	}
	gw := httptest.NewServer(g)
	defer gw.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	get := func(b *testing.B, url string) bool { // Error, not Fatal: also called off b's goroutine
		resp, err := client.Get(url)
		if err != nil {
			b.Error(err)
			return false
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || n != int64(len(answer)) {
			b.Errorf("status %d, %d bytes", resp.StatusCode, n)
			return false
		}
		return true
	}
	path := "/wallet/28skwt5B8zTrs6AqBWrSgCHLcRL/balance"
	for _, target := range []struct{ name, base string }{{"direct", up.URL}, {"gateway", gw.URL}} {
		b.Run("serial/"+target.name, func(b *testing.B) {
			for b.Loop() {
				if !get(b, target.base+path) {
					return
				}
			}
		})
		b.Run("parallel/"+target.name, func(b *testing.B) {
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() && get(b, target.base+path) {
				}
			})
		})
	}
}
