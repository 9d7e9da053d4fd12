package notify

import (
	"encoding/json"
	"strings"
	"testing"

	"uneventful.dev/uneventful/pkg/failure"
)

// TestMatch: each operator against attributes, in the notification's namespace and,
// through Within, in another; an absent key is empty.
func TestMatch(t *testing.T) {
	a := Attributes{
		"app":  {"tier": {Value: "gold"}, "blank": {Value: ""}, "room": {Value: "7", Frozen: true}},
		"auth": {"role": {Value: "admin"}},
	}
	tests := []struct {
		name string
		c    Constraint
		want bool
	}{
		{"none", None, true},
		{"equal", Equal("tier", "gold"), true},
		{"equal other value", Equal("tier", "silver"), false},
		{"equal absent key", Equal("nope", "gold"), false},
		{"equal absent is empty", Equal("nope", ""), true},
		{"equal in another namespace is not read", Equal("role", "admin"), false},
		{"not_equal", NotEqual("tier", "silver"), true},
		{"not_equal same", NotEqual("tier", "gold"), false},
		{"not_equal absent", NotEqual("nope", "x"), true},
		{"empty absent", Empty("nope"), true},
		{"empty blank", Empty("blank"), true},
		{"empty set", Empty("tier"), false},
		{"not_empty set", NotEmpty("tier"), true},
		{"not_empty absent", NotEmpty("nope"), false},
		{"not_empty blank", NotEmpty("blank"), false},
		{"in", In("tier", "silver", "gold"), true},
		{"in other", In("tier", "silver", "bronze"), false},
		{"in absent with empty", In("nope", "x", ""), true},
		{"not", Not(Equal("tier", "gold")), false},
		{"not not", Not(Not(Equal("tier", "gold"))), true},
		{"and all", And(Equal("tier", "gold"), Equal("room", "7")), true},
		{"and one false", And(Equal("tier", "gold"), Equal("room", "8")), false},
		{"or one", Or(Equal("tier", "x"), Equal("room", "7")), true},
		{"or none", Or(Equal("tier", "x"), Equal("room", "8")), false},
		{"within", Within("auth", Equal("role", "admin")), true},
		{"within all terms", Within("auth", Equal("role", "admin"), NotEmpty("role")), true},
		{"within one false", Within("auth", Equal("role", "admin"), Empty("role")), false},
		{"within does not read the outer namespace", Within("auth", Equal("tier", "gold")), false},
		{"within absent namespace", Within("other", Empty("tier")), true},
		{"and with within", And(Equal("tier", "gold"), Within("auth", Equal("role", "admin"))), true},
		{"zero value matches nothing", Constraint{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.Match(a, "app"); got != tt.want {
				t.Fatalf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestConstraintJSON: every operator survives a round trip through its JSON form, whose
// shape is the documented one.
func TestConstraintJSON(t *testing.T) {
	c := Or(None, Equal("a", "1"), NotEqual("b", ""), Empty("c"), NotEmpty("d"), In("e", "x", "y"),
		Not(Equal("f", "2")), And(Equal("g", "3"), Within("auth:v1", Equal("role", "admin"))))
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"op":"or","terms":[{"op":"none"},{"op":"equal","key":"a","value":"1"},{"op":"not_equal","key":"b","value":""},` +
		`{"op":"empty","key":"c"},{"op":"not_empty","key":"d"},{"op":"in","key":"e","values":["x","y"]},` +
		`{"op":"not","term":{"op":"equal","key":"f","value":"2"}},` +
		`{"op":"and","terms":[{"op":"equal","key":"g","value":"3"},{"op":"within","namespace":"auth:v1","terms":[{"op":"equal","key":"role","value":"admin"}]}]}]}`
	if string(b) != want {
		t.Fatalf("JSON:\n got %s\nwant %s", b, want)
	}
	back, err := ParseConstraint(b)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(back)
	if string(again) != want {
		t.Fatalf("round trip:\n got %s\nwant %s", again, want)
	}
	if _, err := json.Marshal(Constraint{}); err == nil {
		t.Fatal("the zero Constraint marshalled")
	}
}

// TestConstraintJSONInvalid: each broken constraint is an invalid_constraint failure
// whose message names the problem and where it is.
func TestConstraintJSONInvalid(t *testing.T) {
	deep := `{"op":"equal","key":"k","value":"v"}`
	for range MaxDepth {
		deep = `{"op":"not","term":` + deep + `}`
	}
	many := make([]string, MaxNodes)
	for i := range many {
		many[i] = `{"op":"empty","key":"k"}`
	}
	tests := []struct{ name, json, want string }{
		{"not an object", `"equal"`, "constraint: want a JSON object"},
		{"null", `null`, "constraint: want a JSON object"},
		{"array", `[]`, "constraint: want a JSON object"},
		{"op missing", `{"key":"k"}`, `constraint: "op" is missing`},
		{"unknown op", `{"op":"like","key":"k"}`, `constraint: unknown op "like"`},
		{"op not a string", `{"op":5}`, `constraint: "op" must be a string, found a number`},
		{"unknown field", `{"op":"empty","key":"k","flag":true}`, `constraint: unknown field "flag"`},
		{"equal without value", `{"op":"equal","key":"k"}`, `constraint: equal needs "value"`},
		{"equal value null", `{"op":"equal","key":"k","value":null}`, `constraint: equal needs "value"`},
		{"equal value a number", `{"op":"equal","key":"k","value":5}`, `constraint: "value" must be a string, found a number`},
		{"equal without key", `{"op":"equal","value":"v"}`, `constraint: equal needs "key"`},
		{"empty key", `{"op":"not_equal","key":"","value":"v"}`, "constraint: not_equal needs a non-empty key"},
		{"empty with a value", `{"op":"empty","key":"k","value":"v"}`, `constraint: empty takes no "value" (it takes "key")`},
		{"none with a key", `{"op":"none","key":"k"}`, `constraint: none takes no "key" (it takes nothing else)`},
		{"in without values", `{"op":"in","key":"k","values":[]}`, "constraint: in needs at least one value"},
		{"in values not strings", `{"op":"in","key":"k","values":[1]}`, `constraint: "values" must be an array of strings, found a number`},
		{"in values not an array", `{"op":"in","key":"k","values":"a"}`, `constraint: "values" must be an array of strings, found a string`},
		{"not without term", `{"op":"not"}`, `constraint: not needs "term"`},
		{"not with terms", `{"op":"not","term":{"op":"none"},"terms":[]}`, `constraint: not takes no "terms" (it takes "term")`},
		{"and empty", `{"op":"and","terms":[]}`, "constraint: and needs at least one term"},
		{"or terms not an array", `{"op":"or","terms":{}}`, `constraint: "terms" must be an array of constraints, found an object`},
		{"bad term, named by place", `{"op":"or","terms":[{"op":"none"},{"op":"and","terms":[{"op":"equal","key":"k"}]}]}`, `constraint.terms[1].terms[0]: equal needs "value"`},
		{"bad term of not", `{"op":"not","term":{"op":"empty"}}`, `constraint.term: empty needs "key"`},
		{"within bad namespace", `{"op":"within","namespace":"a b","terms":[{"op":"none"}]}`, `constraint: namespace "a b" must be`},
		{"within reserved namespace", `{"op":"within","namespace":"_sys","terms":[{"op":"none"}]}`, "a leading _ is reserved"},
		{"within without terms", `{"op":"within","namespace":"ns","terms":[]}`, "constraint: within needs at least one term"},
		{"too deep", deep, "nested deeper than 16 levels"},
		{"too many", `{"op":"or","terms":[` + strings.Join(many, ",") + `]}`, "more than 512 operators and values"},
		{"bad JSON", `{"op":"none"`, "constraint: unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConstraint([]byte(tt.json))
			if err == nil {
				t.Fatal("accepted")
			}
			fe := failure.From(err)
			if fe.Kind != failure.Invalid || fe.Type != "invalid_constraint" || !strings.Contains(fe.Message, tt.want) {
				t.Fatalf("got %s %s %q, want invalid invalid_constraint containing %q", fe.Kind, fe.Type, fe.Message, tt.want)
			}
		})
	}
}

// TestConstraintValidate: constraints built in Go obey the same rules.
func TestConstraintValidate(t *testing.T) {
	for name, c := range map[string]Constraint{
		"zero": {}, "equal without key": Equal("", "v"), "in without values": In("k"),
		"and empty": And(), "or empty": Or(), "within empty": Within("ns"), "within bad": Within("", None),
		"nested bad": Or(None, Not(Empty(""))),
	} {
		if err := c.Validate(); !errorIs(err, ErrInvalidConstraint) {
			t.Errorf("%s: Validate = %v, want ErrInvalidConstraint", name, err)
		}
	}
	if err := And(Equal("k", ""), In("k", ""), Within("ns", None)).Validate(); err != nil {
		t.Fatalf("valid constraint: %v", err)
	}
}
