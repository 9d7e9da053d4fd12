package session_test

import (
	"encoding/json"
	"strconv"
	"testing"

	"uneventful.dev/uneventful/domains/session"
	"uneventful.dev/uneventful/pkg/aggregate"
	"uneventful.dev/uneventful/pkg/failure"
)

// run applies commands (type, body pairs) in order as the writer does and returns the
// state, its version and the first refusal (nil if none; the commands after it are not run).
func run(t *testing.T, cmds ...string) (session.State, int64, error) {
	t.Helper()
	d := session.Domain{}
	var s session.State
	var v int64
	for i := 0; i+1 < len(cmds); i += 2 {
		cmd, err := d.ParseCommand(cmds[i], []byte(cmds[i+1]))
		if err != nil {
			t.Fatalf("ParseCommand(%s, %s): %v", cmds[i], cmds[i+1], err)
		}
		events, err := d.Decide(s, v, cmd)
		if err != nil {
			return s, v, err
		}
		for _, e := range events {
			if s, err = d.Evolve(s, e); err != nil {
				t.Fatalf("Evolve(%s %s): %v", e.Type, e.Data, err)
			}
			v++
		}
	}
	return s, v, nil
}

func stateJSON(t *testing.T, s session.State) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDecideUpdates(t *testing.T) {
	tests := []struct {
		name string
		cmds []string
		want string
		v    int64
	}{
		{"zero state", nil, `{"attributes":{}}`, 0},
		{"one update, several keys", []string{"update", `{"namespace":"ns","attributes":{"a":"1","b":"2"}}`},
			`{"attributes":{"ns":{"a":{"value":"1","frozen":false},"b":{"value":"2","frozen":false}}}}`, 1},
		{"empty value removes a key", []string{"update", `{"namespace":"ns","attributes":{"a":"1","b":"2"}}`, "update", `{"namespace":"ns","attributes":{"a":""}}`},
			`{"attributes":{"ns":{"b":{"value":"2","frozen":false}}}}`, 2},
		{"the last key removed drops the namespace", []string{"update", `{"namespace":"ns","attributes":{"a":"1"}}`, "update", `{"namespace":"ns","attributes":{"a":""}}`},
			`{"attributes":{}}`, 2},
		{"namespaces apart", []string{"update", `{"namespace":"x","attributes":{"a":"1"}}`, "update", `{"namespace":"y","attributes":{"a":"2"}}`},
			`{"attributes":{"x":{"a":{"value":"1","frozen":false}},"y":{"a":{"value":"2","frozen":false}}}}`, 2},
		{"a no-op update still raises the revision", []string{"update", `{"namespace":"ns","attributes":{"a":"1"}}`, "update", `{"namespace":"ns","attributes":{"a":"1"}}`},
			`{"attributes":{"ns":{"a":{"value":"1","frozen":false}}}}`, 2},
		{"freeze while setting", []string{"update", `{"namespace":"ns","attributes":{"a":"1"},"freeze":["a"]}`},
			`{"attributes":{"ns":{"a":{"value":"1","frozen":true}}}}`, 1},
		{"freeze an existing value", []string{"update", `{"namespace":"ns","attributes":{"a":"1"}}`, "update", `{"namespace":"ns","freeze":["a"]}`},
			`{"attributes":{"ns":{"a":{"value":"1","frozen":true}}}}`, 2},
		{"freeze an absent key: frozen empty", []string{"update", `{"namespace":"ns","freeze":["a"]}`},
			`{"attributes":{"ns":{"a":{"value":"","frozen":true}}}}`, 1},
		{"setting a frozen attribute to its value is no change", []string{"update", `{"namespace":"ns","attributes":{"a":"1"},"freeze":["a"]}`, "update", `{"namespace":"ns","attributes":{"a":"1"},"freeze":["a"]}`},
			`{"attributes":{"ns":{"a":{"value":"1","frozen":true}}}}`, 2},
		{"clear keeps frozen empty ones", []string{"update", `{"namespace":"ns","attributes":{"a":"1","b":"2"},"freeze":["c"]}`, "clear", `{"namespace":"ns"}`},
			`{"attributes":{"ns":{"c":{"value":"","frozen":true}}}}`, 2},
		{"clear of another namespace", []string{"update", `{"namespace":"x","attributes":{"a":"1"},"freeze":["a"]}`, "clear", `{"namespace":"y"}`},
			`{"attributes":{"x":{"a":{"value":"1","frozen":true}}}}`, 2},
		{"clear on a new session", []string{"clear", `{"namespace":"ns"}`}, `{"attributes":{}}`, 1},
		{"destroy", []string{"update", `{"namespace":"ns","attributes":{"a":"1"}}`, "destroy", `{}`}, `{"destroyed":true}`, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, v, err := run(t, tc.cmds...)
			if err != nil {
				t.Fatal(err)
			}
			if got := stateJSON(t, s); got != tc.want || v != tc.v {
				t.Fatalf("state %s at %d, want %s at %d", got, v, tc.want, tc.v)
			}
			var back session.State // the state log round trip
			if err := json.Unmarshal([]byte(tc.want), &back); err != nil || stateJSON(t, back) != tc.want {
				t.Fatalf("%s does not round-trip: %s, %v", tc.want, stateJSON(t, back), err)
			}
			if (session.Domain{}).Ended(s) != (tc.want == `{"destroyed":true}`) {
				t.Fatalf("Ended(%s) = %v", tc.want, (session.Domain{}).Ended(s))
			}
		})
	}
}

func TestDecideRefuses(t *testing.T) {
	frozen := []string{"update", `{"namespace":"ns","attributes":{"a":"1","b":"2"},"freeze":["a"]}`}
	tests := []struct {
		name string
		cmds []string
		kind failure.Kind
		typ  string
	}{
		{"change a frozen attribute", append(frozen[:2:2], "update", `{"namespace":"ns","attributes":{"a":"9"}}`), failure.Rejected, "frozen_attribute"},
		{"remove a frozen attribute", append(frozen[:2:2], "update", `{"namespace":"ns","attributes":{"a":""}}`), failure.Rejected, "frozen_attribute"},
		{"a frozen one spoils the whole update", append(frozen[:2:2], "update", `{"namespace":"ns","attributes":{"a":"9","b":"3"}}`), failure.Rejected, "frozen_attribute"},
		{"a frozen empty one never gets a value", []string{"update", `{"namespace":"ns","freeze":["a"]}`, "update", `{"namespace":"ns","attributes":{"a":"1"}}`}, failure.Rejected, "frozen_attribute"},
		{"clear a namespace holding a frozen non-empty one", append(frozen[:2:2], "clear", `{"namespace":"ns"}`), failure.Rejected, "frozen_attribute"},
		{"destroy a session never written", []string{"destroy", `{}`}, failure.NotFound, "not_found"},
		{"update a destroyed session", []string{"update", `{"namespace":"ns","attributes":{"a":"1"}}`, "destroy", ``, "update", `{"namespace":"ns","attributes":{"a":"2"}}`}, failure.NotFound, "not_found"},
		{"clear a destroyed session", []string{"update", `{"namespace":"ns","attributes":{"a":"1"}}`, "destroy", ``, "clear", `{"namespace":"ns"}`}, failure.NotFound, "not_found"},
		{"destroy twice", []string{"update", `{"namespace":"ns","attributes":{"a":"1"}}`, "destroy", ``, "destroy", ``}, failure.NotFound, "not_found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, v, _ := run(t, tc.cmds[:len(tc.cmds)-2]...)
			s, v2, err := run(t, tc.cmds...)
			fe := failure.From(err)
			if err == nil || fe.Kind != tc.kind || fe.Type != tc.typ {
				t.Fatalf("got %v, want %s %s", err, tc.kind, tc.typ)
			}
			if stateJSON(t, s) != stateJSON(t, before) || v2 != v {
				t.Fatalf("a refused command changed the state: %s at %d, was %s at %d", stateJSON(t, s), v2, stateJSON(t, before), v)
			}
		})
	}
}

// TestAttributesPerSession: a session holds MaxAttributes attributes across its
// namespaces, one more is 400; removing one makes room again; a frozen empty one counts.
func TestAttributesPerSession(t *testing.T) {
	var cmds []string
	for i := range session.MaxAttributes / 2 {
		for _, ns := range []string{"x", "y"} {
			cmds = append(cmds, "update", `{"namespace":"`+ns+`","attributes":{"k`+strconv.Itoa(i)+`":"v"}}`)
		}
	}
	full, v, err := run(t, cmds...)
	if err != nil || v != session.MaxAttributes {
		t.Fatalf("filling a session: %v at %d", err, v)
	}
	_, _, err = run(t, append(cmds, "update", `{"namespace":"z","attributes":{"extra":"v"}}`)...)
	if fe := failure.From(err); fe == nil || fe.Kind != failure.Invalid || fe.Type != "too_many_attributes" {
		t.Fatalf("one attribute too many: %v, want invalid too_many_attributes", err)
	}
	_, _, err = run(t, append(cmds, "update", `{"namespace":"z","freeze":["extra"]}`)...)
	if failure.From(err) == nil {
		t.Fatal("a frozen empty attribute over the limit was accepted")
	}
	if _, _, err = run(t, append(cmds, "update", `{"namespace":"x","attributes":{"k0":"","extra":"v"}}`)...); err != nil {
		t.Fatalf("remove one, add one in one update: %v", err)
	}
	if _, _, err = run(t, append(cmds, "update", `{"namespace":"x","attributes":{"k0":"changed"}}`)...); err != nil {
		t.Fatalf("changing a value of a full session: %v", err)
	}
	if len(full.Attributes["x"])+len(full.Attributes["y"]) != session.MaxAttributes {
		t.Fatalf("full session holds %d attributes", len(full.Attributes["x"])+len(full.Attributes["y"]))
	}
}

// TestEvolveLeavesItsInputAlone: the writer keeps the state before a batch to restore it
// when the commit fails, so Evolve must not change the maps of the state it is given.
func TestEvolveLeavesItsInputAlone(t *testing.T) {
	s, _, err := run(t, "update", `{"namespace":"ns","attributes":{"a":"1"}}`)
	if err != nil {
		t.Fatal(err)
	}
	before := stateJSON(t, s)
	d := session.Domain{}
	for _, e := range []aggregate.Event{
		{Type: session.EventUpdated, Data: json.RawMessage(`{"namespace":"ns","attributes":{"a":{"value":"","frozen":false},"b":{"value":"2","frozen":true}}}`)},
		{Type: session.EventCleared, Data: json.RawMessage(`{"namespace":"ns"}`)},
		{Type: session.EventDestroyed, Data: json.RawMessage(`{}`)},
	} {
		if _, err := d.Evolve(s, e); err != nil {
			t.Fatal(err)
		}
		if got := stateJSON(t, s); got != before {
			t.Fatalf("Evolve(%s) changed its input: %s, was %s", e.Type, got, before)
		}
	}
}

func TestEvolveRefusesCorruptEvents(t *testing.T) {
	d := session.Domain{}
	for _, e := range []aggregate.Event{
		{Type: "renamed", Data: json.RawMessage(`{}`)},
		{Type: session.EventUpdated, Data: json.RawMessage(`[1]`)},
		{Type: session.EventCleared, Data: json.RawMessage(`"ns"`)},
	} {
		if _, err := d.Evolve(session.State{}, e); failure.KindOf(err) != failure.Internal {
			t.Errorf("Evolve(%s %s) = %v, want internal", e.Type, e.Data, err)
		}
	}
}

func TestLifecycleHooks(t *testing.T) {
	d := session.Domain{}
	if !aggregate.RequiresVersion(d) || !aggregate.CanEnd[session.State](d) || aggregate.RequiresVersion(struct{}{}) {
		t.Fatal("the session domain must require versions and end")
	}
	if !aggregate.Ended[session.State](d, session.State{Destroyed: true}) || aggregate.Ended[session.State](d, session.State{}) {
		t.Fatal("Ended does not follow Destroyed")
	}
}
