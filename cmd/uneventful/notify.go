package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"uneventful.dev/uneventful/pkg/sse"
)

const notifyUsage = `notify <session-id> <namespace> <type> [<payload JSON>]
  notify many <namespace> <type> <constraint JSON> [<payload JSON>]
  notify listen <session-id>`

// notifyCmd sends notifications to sessions and listens for them, through the HTTP entry
// (-url): to one session (POST /session/{id}/notify), to every session matching a
// constraint (POST /notify; the constraint's JSON form is pkg/notify's), or prints a
// session's notifications as they come (GET /session/{id}/notifications), one a line:
// type, tab, the notification as JSON. Notifications are ephemeral: listen prints only
// those sent while it is connected (it reconnects after a second when the stream ends).
func notifyCmd(e *env, fs *flag.FlagSet, args []string) error {
	base := entryURL(fs)
	rest, err := parseAnywhere(fs, args)
	if err != nil {
		return err
	}
	usage := fmt.Errorf("usage: uneventful %s: %w", notifyUsage, errUsage)
	sub := ""
	if len(rest) > 0 {
		sub = rest[0]
	}
	switch {
	case sub == "listen" && len(rest) == 2:
		return notifyListen(e, strings.TrimRight(*base, "/"), rest[1])
	case sub == "many" && (len(rest) == 4 || len(rest) == 5):
		body := fmt.Sprintf(`{"namespace":%s,"type":%s,"constraint":%s,"payload":%s}`, quote(rest[1]), quote(rest[2]), rest[3], payloadArg(rest, 4))
		return notifyPost(e, strings.TrimRight(*base, "/")+"/notify", body)
	case sub != "listen" && sub != "many" && (len(rest) == 3 || len(rest) == 4):
		body := fmt.Sprintf(`{"namespace":%s,"type":%s,"payload":%s}`, quote(rest[1]), quote(rest[2]), payloadArg(rest, 3))
		return notifyPost(e, strings.TrimRight(*base, "/")+"/session/"+url.PathEscape(sub)+"/notify", body)
	}
	return usage
}

// entryURL adds the -url flag: the HTTP entry, default http://localhost:$HTTP_PORT.
func entryURL(fs *flag.FlagSet) *string {
	port := os.Getenv("HTTP_PORT")
	if port == "" {
		port = "80"
	}
	return fs.String("url", "http://localhost:"+port, "the HTTP entry")
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// payloadArg is the argument at i, else null. The server checks it is JSON.
func payloadArg(args []string, i int) string {
	if len(args) > i {
		return args[i]
	}
	return "null"
}

// notifyPost posts body and prints the answer: {"id","sessions"}, or the error as an error.
func notifyPost(e *env, u, body string) error {
	resp, err := http.Post(u, "application/json", strings.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s: %s", u, resp.Status, bytes.TrimSpace(b))
	}
	_, err = e.stdout.Write(b)
	return err
}

// notifyListen prints session id's notifications until interrupted.
func notifyListen(e *env, base, id string) error {
	u := base + "/session/" + url.PathEscape(id) + "/notifications"
	for {
		err := listenOnce(e, u)
		if errors.Is(err, sse.ErrRefused) || e.ctx.Err() != nil {
			return err
		}
		select {
		case <-e.ctx.Done():
			return e.ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func listenOnce(e *env, u string) error {
	req, err := http.NewRequestWithContext(e.ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", sse.ErrRefused, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		err := fmt.Errorf("GET %s: %s: %s", u, resp.Status, bytes.TrimSpace(b))
		if resp.StatusCode < 500 {
			err = fmt.Errorf("%w: %v", sse.ErrRefused, err)
		}
		return err
	}
	return sse.Read(resp.Body, func(ev sse.Event) error {
		_, err := fmt.Fprintf(e.stdout, "%s\t%s\n", ev.Type, ev.Data)
		return err
	})
}
