package stacktest

import (
	"context"
	"path/filepath"

	"uneventful.dev/uneventful/pkg/service"
	"uneventful.dev/uneventful/pkg/service/writerservice"
)

// Domain is one more domain running in a stack: its writer and its server.
type Domain struct {
	URL       string // the domain's server, e.g. http://127.0.0.1:41235
	WriterURL string // its writer's health endpoints
	DB        string // its writer's SQLite file
}

// StartDomain starts domain d's writer (on a database of its own) and server in-process
// beside the stack's, as the stack runs every domain of config/domains, and returns them
// once both are ready. They are stopped when the test ends.
func StartDomain[S any](s *Stack, d service.Served[S]) Domain {
	s.t.Helper()
	name := d.Name()
	dom := Domain{DB: filepath.Join(s.t.TempDir(), name+"_writer", "datastore.db")}
	dom.WriterURL = s.run(name+"_writer", func(ctx context.Context, c service.Common) error {
		return writerservice.Run(ctx, writerservice.Config{Common: c, DBPath: dom.DB}, d)
	})
	dom.URL = s.run(name+"_server", func(ctx context.Context, c service.Common) error {
		return service.RunServer(ctx, service.ServerConfig{Common: c}, d)
	})
	WaitReady(s.t, dom.WriterURL)
	WaitReady(s.t, dom.URL)
	return dom
}
