package lock

import (
	"testing"

	"uneventful.dev/uneventful/pkg/failure"
)

func TestParseCommandRefuses(t *testing.T) {
	for _, c := range []struct{ name, typ, body, want string }{
		{"ttl 0s", CmdAcquire, `{"holder":"w1","ttl":"0s"}`, "invalid_ttl"},
		{"ttl -1s", CmdAcquire, `{"holder":"w1","ttl":"-1s"}`, "invalid_ttl"},
		{"ttl 100y", CmdAcquire, `{"holder":"w1","ttl":"100y"}`, "invalid_ttl"},
		{"ttl abc", CmdAcquire, `{"holder":"w1","ttl":"abc"}`, "invalid_ttl"},
		{"ttl over the max", CmdAcquire, `{"holder":"w1","ttl":"25h"}`, "invalid_ttl"},
		{"ttl a number", CmdAcquire, `{"holder":"w1","ttl":10}`, "invalid_ttl"},
		{"no ttl", CmdAcquire, `{"holder":"w1"}`, "missing_ttl"},
		{"no holder", CmdAcquire, `{"ttl":"1s"}`, "missing_holder"},
		{"bad holder", CmdAcquire, `{"holder":"w 1","ttl":"1s"}`, "invalid_holder"},
		{"empty holder", CmdAcquire, `{"holder":"","ttl":"1s"}`, "invalid_holder"},
		{"unknown field", CmdAcquire, `{"holder":"w1","ttl":"1s","x":1}`, "unknown_field"},
		{"wait not a bool", CmdAcquire, `{"holder":"w1","ttl":"1s","wait":"yes"}`, "invalid_wait"},
		{"timeout too long", CmdAcquire, `{"holder":"w1","ttl":"1s","wait":true,"timeout":"26s"}`, "invalid_timeout"},
		{"token a string", CmdRelease, `{"holder":"w1","token":"1"}`, "invalid_token"},
		{"token a fraction", CmdRelease, `{"holder":"w1","token":1.5}`, "invalid_token"},
		{"token 0", CmdRelease, `{"holder":"w1","token":0}`, "invalid_token"},
		{"token huge", CmdRelease, `{"holder":"w1","token":1e30}`, "invalid_token"},
		{"no token", CmdRenew, `{"holder":"w1","ttl":"1s"}`, "missing_token"},
		{"release with ttl", CmdRelease, `{"holder":"w1","token":1,"ttl":"1s"}`, "unknown_field"},
		{"not an object", CmdAcquire, `[1]`, "invalid_json"},
		{"form encoding", CmdAcquire, `holder=w1`, "invalid_json"},
		{"empty", CmdAcquire, ``, "invalid_json"},
		{"timer command", CmdExpire, `{"token":1}`, "unknown_command"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Domain{}.ParseCommand(c.typ, []byte(c.body))
			fe := failure.From(err)
			if err == nil || fe.Kind != failure.Invalid || fe.Type != c.want {
				t.Fatalf("got %v, want invalid %s", err, c.want)
			}
		})
	}
}

func TestParseCommandCanonical(t *testing.T) {
	cmd, err := Domain{}.ParseCommand(CmdAcquire, []byte(` {"wait":false,"ttl":"1m0s","holder":"w1","timeout":"3s"} `))
	if err != nil || string(cmd.Data) != `{"holder":"w1","ttl":"1m0s"}` {
		t.Fatalf("%s %v", cmd.Data, err)
	}
	cmd, err = Domain{}.ParseCommand(CmdAcquire, []byte(`{"holder":"w1","ttl":"90s","wait":true}`))
	if err != nil || string(cmd.Data) != `{"holder":"w1","ttl":"1m30s","wait":true}` {
		t.Fatalf("%s %v", cmd.Data, err)
	}
}

func TestCheckID(t *testing.T) {
	for _, ok := range []string{"myapp.resource", "x.events", "a:b-c_d", "A", string(make200('a'))} {
		if err := (Domain{}).CheckID(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a b", "a/b", "a*", "a>", "é", string(make200('a')) + "a"} {
		if err := (Domain{}).CheckID(bad); failure.KindOf(err) != failure.Invalid {
			t.Errorf("%q: %v, want invalid", bad, err)
		}
	}
}

func make200(c byte) []byte {
	b := make([]byte, 200)
	for i := range b {
		b[i] = c
	}
	return b
}
