package httpapi

import (
	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/readmodel/redis"
)

// The stack's parts fit the interfaces Entities declares.
var (
	_ ReadModel = (*redis.Projection)(nil)
	_ Sender    = (*command.Client)(nil)
)
