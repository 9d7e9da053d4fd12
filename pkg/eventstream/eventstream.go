// Package eventstream sets up the JetStream stream every domain's events go to
// (event.StreamName, subjects event.StreamSubjects): the writers' outboxes publish to it,
// the history and the queues consume it.
package eventstream

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"uneventful.dev/uneventful/pkg/event"
)

// Ensure creates the JetStream stream every domain publishes to, if it does not
// exist yet. An existing stream is left as it is: updating it on every start races with
// consumers being created on it.
func Ensure(ctx context.Context, js jetstream.JetStream) error {
	if _, err := js.Stream(ctx, event.StreamName); err == nil {
		return nil
	} else if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return err
	}
	_, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name:       event.StreamName,
		Subjects:   event.StreamSubjects,
		Storage:    jetstream.FileStorage,
		Retention:  jetstream.LimitsPolicy,
		Duplicates: 2 * time.Minute,
	})
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return nil // created meanwhile by another service
	}
	return err
}
