package stacktest

import (
	"context"

	"uneventful.dev/uneventful/pkg/service"
)

// RunService starts a service of any domain in-process on a fresh :0 listener with the
// stack's NATS and Redis, and returns its base URL and a stop that cancels it and waits
// for it to return (also run when the test ends; a second call is a no-op).
func (s *Stack) RunService(name string, f func(context.Context, service.Common) error) (url string, stop func()) {
	url, stopOnce := s.start(name, f)
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			stopOnce()
		}
	}
	s.t.Cleanup(stop)
	return url, stop
}
