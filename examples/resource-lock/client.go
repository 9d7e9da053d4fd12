package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// grant is an acquire's answer (C10).
type grant struct {
	Name    string    `json:"name"`
	Holder  string    `json:"holder"`
	Token   int64     `json:"token"`
	Expires time.Time `json:"expires"`
}

// apiError is a C3 error body.
type apiError struct {
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

var client = &http.Client{Timeout: 40 * time.Second}

// post sends a command and decodes a 200 answer into out; another status is an error
// naming its type.
func post(url, cmd, body string, out any) (errType string, err error) {
	resp, err := client.Post(url+"/lock/"+lockName+"/"+cmd, "application/json", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		var e apiError
		json.Unmarshal(b, &e) //nolint:errcheck // the status says enough
		return e.Error.Type, fmt.Errorf("%s: %d %s", cmd, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if out == nil {
		return "", nil
	}
	return "", json.Unmarshal(b, out)
}

// lockState is GET /lock/{name}.
type lockState struct {
	Version int64   `json:"version"`
	Holder  *string `json:"holder"`
	Waiters []struct {
		Holder string `json:"holder"`
	} `json:"waiters"`
}

func getState(url string) (lockState, error) {
	var s lockState
	resp, err := client.Get(url + "/lock/" + lockName)
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		var e apiError
		if json.Unmarshal(b, &e) == nil && resp.StatusCode == http.StatusNotFound && e.Error.Type == "not_found" {
			return s, nil // never taken
		}
		return s, fmt.Errorf("GET /lock/%s: %d %s", lockName, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return s, json.NewDecoder(resp.Body).Decode(&s)
}
