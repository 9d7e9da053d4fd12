package command

import "uneventful.dev/uneventful/pkg/failure"

// ErrNoWriter matches (errors.Is) the failure of a request that no writer received
// (NATS: no responders, answered at once): nothing was applied.
var ErrNoWriter = failure.New(failure.Unavailable, noWriter, "no writer is serving this entity; retry later")
