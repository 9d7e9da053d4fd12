package session_test

import (
	"encoding/json"
	"testing"

	"uneventful.dev/uneventful/domains/session"
	"uneventful.dev/uneventful/pkg/failure"
)

// FuzzParseCommand: ParseCommand never panics, refuses only with kind Invalid, and an
// accepted command is in canonical form: parsing it again gives it back.
func FuzzParseCommand(f *testing.F) {
	f.Add("update", `{"namespace":"ns","attributes":{"k":"v"},"freeze":["k"]}`)
	f.Add("update", `{"namespace":"a.b:c-d_e","attributes":{"k":""}}`)
	f.Add("update", `{"namespace":"ns","freeze":["b","a","b"]}`)
	f.Add("update", `{"namespace":"_ns","attributes":{"k":"v"}}`)
	f.Add("update", `{"namespace":"ns","attributes":{"k":null}}`)
	f.Add("update", `{"namespace":"ns","attributes":{"k":"v"},"x":1}`)
	f.Add("update", `{"namespace":"ns"}`)
	f.Add("clear", `{"namespace":"ns"}`)
	f.Add("clear", `{"namespace":"n s"}`)
	f.Add("destroy", `{}`)
	f.Add("destroy", ``)
	f.Add("destroy", `null`)
	f.Add("rename", `{}`)
	f.Fuzz(func(t *testing.T, typ, body string) {
		d := session.Domain{}
		cmd, err := d.ParseCommand(typ, []byte(body))
		if err != nil {
			if k := failure.KindOf(err); k != failure.Invalid {
				t.Fatalf("ParseCommand(%q, %q): kind %q, want invalid", typ, body, k)
			}
			return
		}
		if cmd.Type != typ {
			t.Fatalf("ParseCommand(%q, ...) made a %q", typ, cmd.Type)
		}
		again, err := d.ParseCommand(cmd.Type, cmd.Data)
		if err != nil || string(again.Data) != string(cmd.Data) {
			t.Fatalf("canonical form is not a fixed point: %s -> %s, %v", cmd.Data, again.Data, err)
		}
	})
}

// FuzzDecide runs a sequence of commands read from the input on one session and checks
// C9's rules after each: a refused command changes nothing; a frozen attribute never
// changes; a destroyed session refuses everything with not_found; the session never holds
// more than MaxAttributes; the state round-trips through JSON; replaying the events from
// the zero state gives the same state.
func FuzzDecide(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{3, 3, 3, 1, 1, 9, 9, 2, 5})
	f.Add([]byte{10, 20, 30, 40, 50, 60, 70, 80, 90, 255})
	keys := []string{"a", "b", "c"}
	namespaces := []string{"x", "y"}
	values := []string{"", "1", "2"}
	f.Fuzz(func(t *testing.T, ops []byte) {
		d := session.Domain{}
		var s session.State
		var v int64
		var log []string // JSON of every accepted event, to replay
		replay := session.State{}
		for i := 0; i+1 < len(ops) && i < 200; i += 2 {
			op, arg := ops[i], ops[i+1]
			ns := namespaces[int(arg)%len(namespaces)]
			k := keys[int(arg>>1)%len(keys)]
			var typ, body string
			switch op % 8 {
			case 0, 1, 2:
				typ, body = "update", `{"namespace":"`+ns+`","attributes":{"`+k+`":"`+values[int(op>>3)%len(values)]+`"}}`
			case 3:
				typ, body = "update", `{"namespace":"`+ns+`","attributes":{"`+k+`":"`+values[int(op>>3)%len(values)]+`"},"freeze":["`+k+`"]}`
			case 4:
				typ, body = "update", `{"namespace":"`+ns+`","freeze":["`+k+`"]}`
			case 5, 6:
				typ, body = "clear", `{"namespace":"`+ns+`"}`
			case 7:
				if op>>3%4 != 0 { // destroy rarely
					continue
				}
				typ, body = "destroy", `{}`
			}
			cmd, err := d.ParseCommand(typ, []byte(body))
			if err != nil {
				t.Fatalf("ParseCommand(%s, %s): %v", typ, body, err)
			}
			before := stateJSON(t, s)
			events, err := d.Decide(s, v, cmd)
			if err != nil {
				fe := failure.From(err)
				switch {
				case s.Destroyed || v == 0 && typ == "destroy":
					if fe.Type != "not_found" {
						t.Fatalf("%s %s on %s: %v, want not_found", typ, body, before, err)
					}
				case fe.Type != "frozen_attribute" && fe.Type != "too_many_attributes":
					t.Fatalf("%s %s on %s: unexpected %v", typ, body, before, err)
				}
				continue
			}
			if s.Destroyed {
				t.Fatalf("%s accepted on a destroyed session", typ)
			}
			next := s
			for _, e := range events {
				if next, err = d.Evolve(next, e); err != nil {
					t.Fatalf("Evolve(%s %s): %v", e.Type, e.Data, err)
				}
				if replay, err = d.Evolve(replay, e); err != nil {
					t.Fatal(err)
				}
				log = append(log, e.Type)
				v++
			}
			if stateJSON(t, s) != before {
				t.Fatalf("Evolve changed its input state")
			}
			for name, attrs := range s.Attributes {
				for key, a := range attrs {
					if !a.Frozen {
						continue
					}
					if got, ok := next.Attributes[name][key]; !next.Destroyed && (!ok || got != a) {
						t.Fatalf("frozen %s.%s = %+v changed to %+v by %s %s", name, key, a, got, typ, body)
					}
				}
			}
			s = next
			n := 0
			for _, attrs := range s.Attributes {
				n += len(attrs)
			}
			if n > session.MaxAttributes {
				t.Fatalf("%d attributes", n)
			}
			var back session.State
			if err := json.Unmarshal([]byte(stateJSON(t, s)), &back); err != nil || stateJSON(t, back) != stateJSON(t, s) {
				t.Fatalf("state %s does not round-trip: %s, %v", stateJSON(t, s), stateJSON(t, back), err)
			}
			if stateJSON(t, replay) != stateJSON(t, s) {
				t.Fatalf("replay of %v gives %s, want %s", log, stateJSON(t, replay), stateJSON(t, s))
			}
		}
	})
}
