package microapi_test

import (
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"uneventful.dev/uneventful/pkg/failure"
	"uneventful.dev/uneventful/pkg/microapi"
)

// Every failure kind survives the trip through the micro error headers.
func TestErrorHeadersRoundTrip(t *testing.T) {
	kinds := []failure.Kind{failure.Invalid, failure.NotFound, failure.Conflict, failure.Rejected, failure.PreconditionFailed,
		failure.TooLarge, failure.Unavailable, failure.Timeout, failure.Internal}
	for _, k := range kinds {
		t.Run(string(k), func(t *testing.T) {
			h := nats.Header{}
			microapi.SetError(h, failure.New(k, "some_type", "what: happened"))
			got := microapi.ErrorFrom(h)
			if got == nil || got.Kind != k || got.Type != "some_type" || got.Message != "what: happened" {
				t.Fatalf("%s came back as %+v (headers %v)", k, got, h)
			}
		})
	}
	if microapi.ErrorFrom(nats.Header{}) != nil {
		t.Fatal("no headers, yet an error")
	}
	// Another service's plain description, without a code: a refusal.
	h := nats.Header{}
	h.Set(micro.ErrorHeader, "it went wrong")
	if got := microapi.ErrorFrom(h); got.Kind != failure.Rejected || got.Type != "service_error" || got.Message != "it went wrong" {
		t.Fatalf("plain description: %+v", got)
	}
	h.Set(micro.ErrorCodeHeader, "502")
	if got := microapi.ErrorFrom(h); got.Kind != failure.Internal {
		t.Fatalf("code 502: %+v, want internal", got)
	}
}
