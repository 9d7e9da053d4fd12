package writerservice

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"uneventful.dev/uneventful/pkg/aggregate"
	"uneventful.dev/uneventful/pkg/command"
	"uneventful.dev/uneventful/pkg/service"
	"uneventful.dev/uneventful/pkg/writer"
)

// Main runs domain d's writer, its health on 127.0.0.1:healthPort by default (Configure
// says what it reads); the whole of a services/<domain>_writer/main.go is
//
//	func main() { os.Exit(writerservice.Main(wallet.Domain{}, 8082, os.Args[1:], os.Getenv)) }
//
// With the argument "verify" it replays the event log against the state log instead,
// prints the report as JSON on stdout and exits 0 if they are equal, 1 if not, 2 if it
// could not run. Exit statuses otherwise as service.Run.
func Main[S any](d aggregate.Domain[S], healthPort int, args []string, getenv func(string) string) int {
	name := d.Name() + "_writer"
	env := service.NewEnv(getenv)
	cfg := Configure(env, d.Name(), healthPort)
	switch {
	case len(args) == 1 && args[0] == "verify":
		if err := env.Err(); err != nil {
			fmt.Fprintln(os.Stderr, "verify: configuration:", err)
			return 2
		}
		return verify(cfg.DBPath, d)
	case len(args) > 0:
		return service.Usage(cfg.Log, name, args, "[verify]")
	}
	return service.Run(name, env, cfg.Log, func(ctx context.Context) error { return Run(ctx, cfg, d) })
}

// Configure reads the configuration of domain's writer: Common with HTTP_ADDR (health)
// defaulting to LocalAddr(healthPort), <DOMAIN>_DB (default
// $DATA_DIR/<domain>_writer/datastore.db, DATA_DIR default ./data), PARTITIONS (16),
// MAX_BATCH (512) and ENTITY_CACHE (entities kept in memory, 100,000).
func Configure(e *service.Env, domain string, healthPort int) Config {
	return Config{
		Common: e.Common(e.LocalAddr(healthPort)),
		DBPath: e.String(DBVariable(domain), DataPath(e.String("DATA_DIR", "data"), domain)),
		Writer: writer.Config{
			Partitions:  e.Int("PARTITIONS", command.DefaultPartitions, 1),
			MaxBatch:    e.Int("MAX_BATCH", 512, 1),
			EntityCache: e.Int("ENTITY_CACHE", writer.DefaultEntityCache, 1),
		},
	}
}

// DBVariable is the variable naming domain's writer database: WALLET_DB for "wallet".
func DBVariable(domain string) string { return strings.ToUpper(domain) + "_DB" }

// DataPath is domain's writer database under dataDir: <dataDir>/<domain>_writer/datastore.db.
func DataPath(dataDir, domain string) string {
	return filepath.Join(dataDir, domain+"_writer", "datastore.db")
}
