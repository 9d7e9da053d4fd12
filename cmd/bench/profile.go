package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// pprofPorts are the profiler ports the services get with -profile.
var pprofPorts = map[string]string{"wallet_writer": "18091", "history_writer": "18092", "wallet_server": "18093"}

// profileServices saves a CPU profile of each Go service, taken over d, into dir as
// <service><suffix>.pprof. It returns at once; wait on the result for the files.
func profileServices(dir, suffix string, d time.Duration) *sync.WaitGroup {
	var wg sync.WaitGroup
	for name, port := range pprofPorts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			url := fmt.Sprintf("http://127.0.0.1:%s/debug/pprof/profile?seconds=%d", port, int(d.Seconds()))
			if err := save(url, filepath.Join(dir, name+suffix+".pprof"), d+10*time.Second); err != nil {
				logf("profile %s: %v", name, err)
			}
		}()
	}
	return &wg
}

func save(url, path string, timeout time.Duration) error {
	c := http.Client{Timeout: timeout}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
