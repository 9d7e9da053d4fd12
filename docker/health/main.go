// Command health is the container health check of the stack's images, which have no shell:
// it GETs each URL given (default http://127.0.0.1:${HEALTH_PORT:-80}/readyz) and exits 0
// only when every one answers 2xx within 2 seconds.
//
//	health [URL...]
package main

import (
	"fmt"
	"net/http"
	"os"
	"time"
)

func main() {
	urls := os.Args[1:]
	if len(urls) == 0 {
		port := os.Getenv("HEALTH_PORT")
		if port == "" {
			port = "80"
		}
		urls = []string{"http://127.0.0.1:" + port + "/readyz"}
	}
	client := &http.Client{Timeout: 2 * time.Second}
	for _, u := range urls {
		resp, err := client.Get(u)
		if err != nil {
			fmt.Fprintln(os.Stderr, "health:", err)
			os.Exit(1)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			fmt.Fprintf(os.Stderr, "health: %s: %s\n", u, resp.Status)
			os.Exit(1)
		}
	}
}
