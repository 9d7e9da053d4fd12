package queue

import (
	"fmt"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ErrorSuffix names the error queue every queue X gets: X.error.
const ErrorSuffix = ".error"

// Config is one domain's queue configuration, as read from its YAML file.
type Config struct {
	Domain  string        `yaml:"domain"`
	Queues  []QueueConfig `yaml:"queues"`
	Forward struct {
		Services []ForwardServiceConfig `yaml:"services"`
		Queues   []ForwardQueueConfig   `yaml:"queues"`
	} `yaml:"forward"`
	// Services names the built-in example services the domain advertises (echo, rollback).
	Services []string `yaml:"services"`
	// Notify turns committed domain events into queue messages (see Notifier).
	Notify []NotifyConfig `yaml:"notify"`
}

// NotifyConfig enqueues every committed event of Type in the streams of domain Stream
// (e.g. wallet's "debited") to Queue, in any connected domain.
type NotifyConfig struct {
	Stream string `yaml:"stream"`
	Type   string `yaml:"type"`
	Queue  string `yaml:"queue"`
}

// QueueConfig is one queue. Its error queue (Name + ".error") is created with it.
type QueueConfig struct {
	Name  string `yaml:"name"`
	Retry struct {
		Count int      `yaml:"count"` // rollbacks tolerated before the message moves to the error queue
		Delay Duration `yaml:"delay"` // a rolled-back message is not dequeued again before this
	} `yaml:"retry"`
	Disable struct {
		Enqueue bool `yaml:"enqueue"`
		Dequeue bool `yaml:"dequeue"`
	} `yaml:"disable"`
}

// ForwardServiceConfig moves messages from Source to a service, the reply to Reply.Queue.
type ForwardServiceConfig struct {
	Alias     string `yaml:"alias"`
	Source    string `yaml:"source"`
	Instances int    `yaml:"instances"`
	Target    struct {
		Service string `yaml:"service"`
		// Command, "<domain>.<command>" (e.g. wallet.credit), calls a domain command
		// instead: the message's properties name the entity, its payload is the
		// command's data, its id the idempotency key.
		Command string   `yaml:"command"`
		Timeout Duration `yaml:"timeout"`
	} `yaml:"target"`
	Reply struct {
		Queue string   `yaml:"queue"`
		Delay Duration `yaml:"delay"`
	} `yaml:"reply"`
	// Lease is how long a dequeued message stays with its forwarder: one that dies
	// mid-flow holds it this long before the owner rolls it back. Default
	// target.timeout + 30s; it must outlast target.timeout.
	Lease Duration `yaml:"lease"`
}

// ForwardQueueConfig moves messages from Source to Target.Queue, in any domain.
type ForwardQueueConfig struct {
	Alias     string `yaml:"alias"`
	Source    string `yaml:"source"`
	Instances int    `yaml:"instances"`
	Target    struct {
		Queue string   `yaml:"queue"`
		Delay Duration `yaml:"delay"`
	} `yaml:"target"`
	// Lease is how long a dequeued message stays with its forwarder before the owner
	// rolls it back (the forwarder is presumed dead). Default 35s, at least 1s.
	Lease Duration `yaml:"lease"`
}

// ForwardQueueTimeout bounds a forward-queue's enqueue to its target.
const ForwardQueueTimeout = 5 * time.Second

// Duration is a time.Duration written as "1.5s" in YAML.
type Duration time.Duration

// UnmarshalYAML reads "250ms", "2s", or a number of seconds.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if v, err := time.ParseDuration(n.Value); err == nil {
		*d = Duration(v)
		return nil
	}
	var secs float64
	if err := n.Decode(&secs); err != nil {
		return fmt.Errorf("duration %q: want e.g. 500ms or 2s", n.Value)
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}

// LoadConfig reads and validates a domain's YAML configuration file.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	return ParseConfig(b)
}

// ParseConfig parses and validates YAML configuration, applying defaults.
func ParseConfig(b []byte) (Config, error) {
	var c Config
	if err := yaml.Unmarshal(b, &c); err != nil {
		return Config{}, err
	}
	c.applyDefaults()
	return c, c.Validate()
}

func (c *Config) applyDefaults() {
	for i := range c.Forward.Services {
		f := &c.Forward.Services[i]
		if f.Alias == "" {
			f.Alias = f.Source
		}
		if f.Instances == 0 {
			f.Instances = 1
		}
		if f.Target.Timeout == 0 {
			f.Target.Timeout = Duration(5 * time.Second)
		}
		if f.Lease == 0 {
			f.Lease = f.Target.Timeout + Duration(30*time.Second)
		}
	}
	for i := range c.Forward.Queues {
		f := &c.Forward.Queues[i]
		if f.Alias == "" {
			f.Alias = f.Source
		}
		if f.Instances == 0 {
			f.Instances = 1
		}
		if f.Lease == 0 {
			f.Lease = Duration(ForwardQueueTimeout + 30*time.Second)
		}
	}
}

// Validate reports the first problem: names missing, duplicated or not usable in a
// NATS subject, negative retries, forwards without a source or target.
func (c Config) Validate() error {
	if err := validName("domain", c.Domain); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, q := range c.Queues {
		if err := validName("queue", q.Name); err != nil {
			return err
		}
		if strings.HasSuffix(q.Name, ErrorSuffix) {
			return fmt.Errorf("queue %q: names ending in %s are the error queues, created with their queue", q.Name, ErrorSuffix)
		}
		if seen[q.Name] {
			return fmt.Errorf("queue %q configured twice", q.Name)
		}
		seen[q.Name] = true
		if q.Retry.Count < 0 || q.Retry.Delay < 0 {
			return fmt.Errorf("queue %q: retry count and delay must not be negative", q.Name)
		}
	}
	for _, n := range c.Notify {
		if err := validName("notify stream", n.Stream); err != nil {
			return err
		}
		if n.Type == "" || n.Queue == "" {
			return fmt.Errorf("notify %s: type and queue are required", n.Stream)
		}
	}
	for _, f := range c.Forward.Services {
		if f.Source == "" || (f.Target.Service == "") == (f.Target.Command == "") || f.Instances < 0 {
			return fmt.Errorf("forward-service %q: source and one of target.service or target.command are required, instances >= 0", f.Alias)
		}
		if d, cmd, ok := strings.Cut(f.Target.Command, "."); f.Target.Command != "" && (!ok || d == "" || cmd == "") {
			return fmt.Errorf("forward-service %q: target.command %q: want <domain>.<command>", f.Alias, f.Target.Command)
		}
		if f.Lease != 0 && f.Lease <= f.Target.Timeout {
			return fmt.Errorf("forward-service %q: lease %s must outlast target.timeout %s", f.Alias, time.Duration(f.Lease), time.Duration(f.Target.Timeout))
		}
	}
	for _, f := range c.Forward.Queues {
		if f.Source == "" || f.Target.Queue == "" || f.Instances < 0 {
			return fmt.Errorf("forward-queue %q: source and target.queue are required, instances >= 0", f.Alias)
		}
		if f.Lease != 0 && f.Lease < Duration(time.Second) {
			return fmt.Errorf("forward-queue %q: lease %s: want at least 1s", f.Alias, time.Duration(f.Lease))
		}
	}
	return nil
}

func validName(what, name string) error {
	if name == "" {
		return fmt.Errorf("%s name is empty", what)
	}
	if strings.ContainsAny(name, " \t\r\n*>") || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
		return fmt.Errorf("%s name %q: no spaces, '*', '>' or empty dot-separated parts", what, name)
	}
	return nil
}
