package session_test

import (
	"strconv"
	"strings"
	"testing"

	"uneventful.dev/uneventful/domains/session"
	"uneventful.dev/uneventful/pkg/failure"
)

func TestParseCommandCanonical(t *testing.T) {
	tests := []struct{ typ, body, want string }{
		{"update", `{"namespace":"ns","attributes":{"b":"2","a":"1"}}`, `{"namespace":"ns","attributes":{"a":"1","b":"2"}}`},
		{"update", ` {"freeze":["k","a","k"],"namespace":"a.b:c-d_e","attributes":{"k":""}} `, `{"namespace":"a.b:c-d_e","attributes":{"k":""},"freeze":["a","k"]}`},
		{"update", `{"namespace":"ns","freeze":["k"]}`, `{"namespace":"ns","freeze":["k"]}`},
		{"update", `{"namespace":"ns","attributes":{"k":"v"},"freeze":[]}`, `{"namespace":"ns","attributes":{"k":"v"}}`},
		{"clear", `{"namespace":"ns"}`, `{"namespace":"ns"}`},
		{"destroy", `{}`, `{}`},
		{"destroy", ``, `{}`},
		{"destroy", " \n", `{}`},
	}
	for _, tc := range tests {
		cmd, err := session.Domain{}.ParseCommand(tc.typ, []byte(tc.body))
		if err != nil {
			t.Errorf("ParseCommand(%s, %s): %v", tc.typ, tc.body, err)
			continue
		}
		if cmd.Type != tc.typ || string(cmd.Data) != tc.want {
			t.Errorf("ParseCommand(%s, %s) = %s %s, want %s", tc.typ, tc.body, cmd.Type, cmd.Data, tc.want)
		}
	}
}

func TestParseCommandRefuses(t *testing.T) {
	long := strings.Repeat("a", session.MaxNameLength+1)
	var many strings.Builder
	many.WriteString(`{"namespace":"ns","attributes":{`)
	for i := range session.MaxAttributes + 1 {
		if i > 0 {
			many.WriteString(",")
		}
		many.WriteString(`"k` + strconv.Itoa(i) + `":"v"`)
	}
	many.WriteString(`}}`)
	tests := []struct{ name, typ, body, want string }{
		{"unknown command", "rename", `{}`, "unknown_command"},
		{"empty update", "update", ``, "invalid_json"},
		{"not an object", "update", `[]`, "invalid_json"},
		{"null", "update", `null`, "invalid_json"},
		{"form encoding", "update", `namespace=ns`, "invalid_json"},
		{"unknown field", "update", `{"namespace":"ns","attributes":{"k":"v"},"ttl":5}`, "unknown_field"},
		{"no namespace", "update", `{"attributes":{"k":"v"}}`, "invalid_namespace"},
		{"namespace not a string", "update", `{"namespace":5,"attributes":{"k":"v"}}`, "invalid_namespace"},
		{"empty namespace", "update", `{"namespace":"","attributes":{"k":"v"}}`, "invalid_namespace"},
		{"namespace with a space", "update", `{"namespace":"a b","attributes":{"k":"v"}}`, "invalid_namespace"},
		{"namespace with a slash", "clear", `{"namespace":"a/b"}`, "invalid_namespace"},
		{"namespace unicode", "clear", `{"namespace":"é"}`, "invalid_namespace"},
		{"namespace too long", "clear", `{"namespace":"` + long + `"}`, "invalid_namespace"},
		{"reserved namespace", "update", `{"namespace":"_sys","attributes":{"k":"v"}}`, "reserved_namespace"},
		{"reserved namespace, clear", "clear", `{"namespace":"_"}`, "reserved_namespace"},
		{"attributes not an object", "update", `{"namespace":"ns","attributes":["k"]}`, "invalid_attributes"},
		{"value not a string", "update", `{"namespace":"ns","attributes":{"k":5}}`, "invalid_attributes"},
		{"value null", "update", `{"namespace":"ns","attributes":{"k":null}}`, "invalid_attributes"},
		{"bad key", "update", `{"namespace":"ns","attributes":{"a b":"v"}}`, "invalid_key"},
		{"empty key", "update", `{"namespace":"ns","attributes":{"":"v"}}`, "invalid_key"},
		{"key too long", "update", `{"namespace":"ns","attributes":{"` + long + `":"v"}}`, "invalid_key"},
		{"value too large", "update", `{"namespace":"ns","attributes":{"k":"` + strings.Repeat("v", session.MaxValueBytes+1) + `"}}`, "value_too_large"},
		{"freeze not a list", "update", `{"namespace":"ns","freeze":"k"}`, "invalid_freeze"},
		{"freeze bad key", "update", `{"namespace":"ns","freeze":["a/b"]}`, "invalid_key"},
		{"nothing to update", "update", `{"namespace":"ns"}`, "invalid_body"},
		{"nothing to update, empty parts", "update", `{"namespace":"ns","attributes":{},"freeze":[]}`, "invalid_body"},
		{"too many attributes", "update", many.String(), "too_many_attributes"},
		{"clear unknown field", "clear", `{"namespace":"ns","force":true}`, "unknown_field"},
		{"destroy unknown field", "destroy", `{"now":true}`, "unknown_field"},
		{"destroy not an object", "destroy", `[]`, "invalid_json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := session.Domain{}.ParseCommand(tc.typ, []byte(tc.body))
			fe := failure.From(err)
			if err == nil || fe.Kind != failure.Invalid || fe.Type != tc.want {
				t.Fatalf("ParseCommand(%s, %.80s) = %v, want invalid %s", tc.typ, tc.body, err, tc.want)
			}
		})
	}
}
