package queue_test

import (
	"strings"
	"testing"
	"time"

	"uneventful.dev/uneventful/pkg/queue"
)

func TestParseConfig(t *testing.T) {
	cfg, err := queue.ParseConfig([]byte(`
domain: B
queues:
  - name: b1
    retry: {count: 2, delay: 1.5s}
  - name: b2
    retry: {delay: 3}
forward:
  services:
    - {source: b1, target: {service: echo}, reply: {queue: b2}}
  queues:
    - {alias: move, source: b2, instances: 4, target: {queue: a1, delay: 250ms}}
`))
	if err != nil {
		t.Fatal(err)
	}
	q := cfg.Queues[0]
	if q.Retry.Count != 2 || time.Duration(q.Retry.Delay) != 1500*time.Millisecond || time.Duration(cfg.Queues[1].Retry.Delay) != 3*time.Second {
		t.Fatalf("queues: %+v", cfg.Queues)
	}
	fs := cfg.Forward.Services[0]
	if fs.Alias != "b1" || fs.Instances != 1 || time.Duration(fs.Target.Timeout) != 5*time.Second || time.Duration(fs.Lease) != 35*time.Second {
		t.Fatalf("forward-service defaults: %+v", fs)
	}
	if fq := cfg.Forward.Queues[0]; fq.Alias != "move" || fq.Instances != 4 || time.Duration(fq.Target.Delay) != 250*time.Millisecond || time.Duration(fq.Lease) != 35*time.Second {
		t.Fatalf("forward-queue: %+v", fq)
	}
}

func TestParseConfigRejects(t *testing.T) {
	for name, yaml := range map[string]string{
		"no domain":          `queues: [{name: a}]`,
		"error queue named":  "domain: A\nqueues: [{name: a.error}]",
		"twice":              "domain: A\nqueues: [{name: a}, {name: a}]",
		"wildcard":           "domain: A\nqueues: [{name: 'a.*'}]",
		"space":              "domain: A\nqueues: [{name: 'a b'}]",
		"negative retry":     "domain: A\nqueues: [{name: a, retry: {count: -1}}]",
		"bad delay":          "domain: A\nqueues: [{name: a, retry: {delay: soon}}]",
		"forward no target":  "domain: A\nforward: {services: [{source: a}]}",
		"forward-queue bare": "domain: A\nforward: {queues: [{source: a}]}",
		"notify no queue":    "domain: A\nnotify: [{stream: wallet, type: debited}]",
		"lease within call":  "domain: A\nforward: {services: [{source: a, target: {service: s, timeout: 2s}, lease: 2s}]}",
		"lease too short":    "domain: A\nforward: {queues: [{source: a, target: {queue: b}, lease: 100ms}]}",
	} {
		if _, err := queue.ParseConfig([]byte(yaml)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add("domain: A\nqueues: [{name: a1, retry: {count: 1, delay: 1s}}]\nforward: {queues: [{source: a1, target: {queue: b}}]}")
	f.Add("domain: B\nqueues: [{name: 'x.y'}]")
	f.Fuzz(func(t *testing.T, yaml string) {
		cfg, err := queue.ParseConfig([]byte(yaml))
		if err != nil {
			return
		}
		for _, q := range cfg.Queues {
			if q.Name == "" || strings.ContainsAny(q.Name, " *>") || strings.HasSuffix(q.Name, queue.ErrorSuffix) || q.Retry.Count < 0 {
				t.Fatalf("accepted queue %+v", q)
			}
		}
	})
}

func TestParseConfigLease(t *testing.T) {
	cfg, err := queue.ParseConfig([]byte("domain: A\nforward:\n  services: [{source: a, target: {service: s, timeout: 1s}, lease: 3s}]\n  queues: [{source: a, target: {queue: b}, lease: 2s}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if l := time.Duration(cfg.Forward.Services[0].Lease); l != 3*time.Second {
		t.Fatalf("forward-service lease %s", l)
	}
	if l := time.Duration(cfg.Forward.Queues[0].Lease); l != 2*time.Second {
		t.Fatalf("forward-queue lease %s", l)
	}
}
