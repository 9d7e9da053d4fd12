package writer

import (
	"fmt"
	"testing"
)

func TestKeyCacheEvictsOldestFirst(t *testing.T) {
	tests := []struct {
		name     string
		capacity int
		puts     []string
		present  []string
		absent   []string
	}{
		{"under capacity", 3, []string{"a", "b"}, []string{"a", "b"}, []string{"c"}},
		{"at capacity", 3, []string{"a", "b", "c"}, []string{"a", "b", "c"}, nil},
		{"one over", 3, []string{"a", "b", "c", "d"}, []string{"b", "c", "d"}, []string{"a"}},
		{"wraps around", 3, []string{"a", "b", "c", "d", "e", "f", "g"}, []string{"e", "f", "g"}, []string{"a", "b", "c", "d"}},
		{"re-put does not take a slot", 3, []string{"a", "b", "a", "a", "c"}, []string{"a", "b", "c"}, nil},
		{"re-put does not refresh age", 3, []string{"a", "b", "c", "a", "d"}, []string{"b", "c", "d"}, []string{"a"}},
		{"capacity one", 1, []string{"a", "b", "c"}, []string{"c"}, []string{"a", "b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newKeyCache(tc.capacity)
			for i, k := range tc.puts {
				c.put(k, keyed{command: "credit", data: fmt.Sprint(i), result: []byte(k)})
			}
			for _, k := range tc.present {
				if v, ok := c.get(k); !ok || string(v.result) != k {
					t.Errorf("get(%q) = %+v, %v; want present", k, v, ok)
				}
			}
			for _, k := range tc.absent {
				if _, ok := c.get(k); ok {
					t.Errorf("get(%q) present; want evicted", k)
				}
			}
			if len(c.results) > tc.capacity {
				t.Errorf("holds %d results, capacity %d", len(c.results), tc.capacity)
			}
		})
	}
}

func TestKeyCachePutUpdatesValue(t *testing.T) {
	c := newKeyCache(2)
	c.put("a", keyed{command: "credit", data: "1", result: []byte("first")})
	c.put("a", keyed{command: "debit", data: "2", result: []byte("second")})
	v, ok := c.get("a")
	if !ok || v.command != "debit" || v.data != "2" || string(v.result) != "second" {
		t.Fatalf("get = %+v, %v; want the second value", v, ok)
	}
}

func TestKeyCacheStaysBounded(t *testing.T) {
	const capacity = 100
	c := newKeyCache(capacity)
	for i := 0; i < 10_000; i++ {
		c.put(fmt.Sprint(i), keyed{})
	}
	if len(c.results) != capacity || len(c.order) != capacity {
		t.Fatalf("results %d, order %d; want %d", len(c.results), len(c.order), capacity)
	}
	for i := 10_000 - capacity; i < 10_000; i++ {
		if _, ok := c.get(fmt.Sprint(i)); !ok {
			t.Fatalf("recent key %d evicted", i)
		}
	}
}
