package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"uneventful.dev/uneventful/pkg/supervise"
)

// localStack is the stack as local processes (contract C1's embedded mode), laid out
// under a checkout: config/domains names the domains, bin/ holds the programs, data/ the
// data, data/run/<svc>.pid the pids and data/logs/<svc>.log the output.
type localStack struct {
	root     string
	me       string // the prefix of messages: the script the user ran
	httpPort int
	bind     string // BIND_ADDR: where what users reach binds ("": the defaults)
	domains  []string
}

func (s *localStack) path(elem ...string) string {
	return filepath.Join(append([]string{s.root}, elem...)...)
}
func (s *localStack) dataDir() string           { return s.path("data") }
func (s *localStack) pidFile(svc string) string { return s.path("data", "run", svc+".pid") }
func (s *localStack) logFile(svc string) string { return s.path("data", "logs", svc+".log") }
func (s *localStack) rel(path string) string    { return strings.TrimPrefix(path, s.root+"/") }
func (s *localStack) say(format string, a ...any) {
	fmt.Fprintf(os.Stderr, s.me+": "+format+"\n", a...)
}

// said says err and returns errSaid.
func (s *localStack) said(err error) error {
	s.say("%v", err)
	return errSaid
}

var domainName = regexp.MustCompile(`^[a-z][a-z0-9]*$`)

// loadDomains reads config/domains (one name a line, # comments) as scripts/domains.sh
// does, naming a bad entry.
func (s *localStack) loadDomains() error {
	file := s.path("config", "domains")
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("%s is missing", s.rel(file))
	}
	s.domains = nil
	for _, line := range strings.Split(string(b), "\n") {
		name, _, _ := strings.Cut(line, "#")
		name = strings.Join(strings.Fields(name), "")
		if name == "" {
			continue
		}
		if !domainName.MatchString(name) {
			return fmt.Errorf("%s: domain %q: want lower-case letters and digits, starting with a letter", s.rel(file), name)
		}
		if name == "history" || !isDir(s.path("services", name+"_server")) || !isDir(s.path("services", name+"_writer")) {
			return fmt.Errorf("%s: domain %q: want services/%s_server and services/%s_writer (and not the name history)",
				s.rel(file), name, name, name)
		}
		s.domains = append(s.domains, name)
	}
	if len(s.domains) == 0 {
		return fmt.Errorf("%s names no domain", s.rel(file))
	}
	return nil
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// queues is the path of domain d's queue configuration, "" when it has none (then it
// runs no queue side).
func (s *localStack) queues(d string) string {
	f := s.path("config", d+".queues.yaml")
	if _, err := os.Stat(f); err != nil {
		return ""
	}
	return f
}

// services are the services in start order (stop order is the reverse): the brokers,
// the history writer, each domain's writer, server and queue side, the tracker, then
// the HTTP entry.
func (s *localStack) services() []string {
	svcs := []string{"redis", "message_broker", "history_writer"}
	for _, d := range s.domains {
		svcs = append(svcs, d+"_writer", d+"_server")
		if s.queues(d) != "" {
			svcs = append(svcs, d+"_queue", d+"_queue_forwards")
		}
	}
	return append(svcs, "tracker", "router")
}

// domainPort is the 127.0.0.1 port of domain d's role: each domain at index i of
// config/domains has four from 8090 + 10*i (server, writer, queue owner, forwarders).
func (s *localStack) domainPort(d, role string) (int, bool) {
	offset := map[string]int{"server": 0, "writer": 1, "queue": 2, "forwards": 3}[role]
	for i, name := range s.domains {
		if name == d {
			return 8090 + 10*i + offset, true
		}
	}
	return 0, false
}

// program is the program svc runs, which its pid file's process must be running.
func program(svc string) string {
	switch {
	case svc == "redis":
		return "redis-server"
	case strings.HasSuffix(svc, "_queue"), strings.HasSuffix(svc, "_queue_forwards"):
		return "queue_domain"
	}
	return svc
}

// host is where the services reach each other and the scripts reach them: BIND_ADDR when
// it names one address, else 127.0.0.1.
func (s *localStack) host() string {
	switch s.bind {
	case "", "0.0.0.0", "::", "[::]":
		return "127.0.0.1"
	}
	return s.bind
}

// routes is the HTTP entry's ROUTES: each domain's prefix to its server, /notify to the
// session's, /history to the history writer and /tracker/ to the tracker.
func (s *localStack) routes() string {
	var r []string
	for _, d := range s.domains {
		port, _ := s.domainPort(d, "server")
		r = append(r, fmt.Sprintf("/%s/=http://127.0.0.1:%d", d, port))
	}
	if port, ok := s.domainPort("session", "server"); ok { // notifications by constraint (pkg/notify)
		r = append(r, fmt.Sprintf("/notify=http://127.0.0.1:%d", port))
	}
	return strings.Join(append(r, "/history=http://"+s.host()+":8081", "/tracker/=http://127.0.0.1:8083"), " ")
}

// svcSpec is how one service runs: its program, arguments and environment (added to
// this process's), the ports it binds on host, and its readiness check.
type svcSpec struct {
	path  string
	args  []string
	env   []string
	ports []int
	host  string
	ready supervise.Check
}

// spec says how svc runs. What users reach (NATS, Redis, the history) binds BIND_ADDR
// (default 127.0.0.1), the HTTP entry BIND_ADDR (default every address), the rest
// 127.0.0.1.
func (s *localStack) spec(svc string) (svcSpec, error) {
	bind, host, bin := s.bind, s.host(), s.path("bin")
	if bind == "" {
		bind = "127.0.0.1"
	}
	common := []string{"NATS_URL=nats://" + host + ":4222", "REDIS_ADDR=" + host + ":6379", "DATA_DIR=" + s.dataDir()}
	local := func(port int, path string, args []string, env ...string) svcSpec {
		return svcSpec{path: path, args: args, env: env, ports: []int{port}, host: "127.0.0.1",
			ready: supervise.HTTP(fmt.Sprintf("http://127.0.0.1:%d/readyz", port))}
	}
	switch {
	case svc == "redis":
		return svcSpec{path: "redis-server", args: []string{"--port", "6379", "--bind", bind, "--save", "", "--appendonly", "no",
			"--dir", filepath.Join(s.dataDir(), "redis"), "--maxmemory-policy", "noeviction"},
			ports: []int{6379}, host: host, ready: supervise.RedisPing(host + ":6379")}, nil
	case svc == "message_broker":
		return svcSpec{path: filepath.Join(bin, svc), env: []string{"NATS_HOST=" + bind, "NATS_PORT=4222", "NATS_HTTP_PORT=8222",
			"NATS_STORE_DIR=" + filepath.Join(s.dataDir(), "nats")},
			ports: []int{4222, 8222}, host: host, ready: supervise.HTTP("http://" + host + ":8222/healthz")}, nil
	case svc == "history_writer":
		return svcSpec{path: filepath.Join(bin, svc), env: append(common, "HTTP_ADDR="+bind+":8081"),
			ports: []int{8081}, host: host, ready: supervise.HTTP("http://" + host + ":8081/readyz")}, nil
	case svc == "tracker":
		return local(8083, filepath.Join(bin, svc), nil, "HISTORY_URL=http://"+host+":8081", "HTTP_ADDR=127.0.0.1:8083"), nil
	case svc == "router":
		return svcSpec{path: filepath.Join(bin, svc), env: []string{"HTTP_ADDR=" + s.bind + ":" + strconv.Itoa(s.httpPort), "ROUTES=" + s.routes()},
			ports: []int{s.httpPort}, host: host, ready: supervise.HTTP(fmt.Sprintf("http://%s:%d/readyz", host, s.httpPort))}, nil
	case strings.HasSuffix(svc, "_queue_forwards"), strings.HasSuffix(svc, "_queue"):
		d, role, owner := strings.TrimSuffix(svc, "_queue_forwards"), "forwards", "forwards"
		if !strings.HasSuffix(svc, "_queue_forwards") {
			d, role, owner = strings.TrimSuffix(svc, "_queue"), "queue", "owner"
		}
		port, ok := s.domainPort(d, role)
		if !ok || s.queues(d) == "" {
			break
		}
		return local(port, filepath.Join(bin, "queue_domain"), []string{"-config", s.queues(d), "-role", owner,
			"-http", "127.0.0.1:" + strconv.Itoa(port)}, common...), nil
	case strings.HasSuffix(svc, "_writer"), strings.HasSuffix(svc, "_server"):
		i := strings.LastIndexByte(svc, '_')
		port, ok := s.domainPort(svc[:i], svc[i+1:])
		if !ok {
			break
		}
		return local(port, filepath.Join(bin, svc), nil, append(common, "HTTP_ADDR=127.0.0.1:"+strconv.Itoa(port))...), nil
	}
	return svcSpec{}, fmt.Errorf("unknown service %s", svc)
}
