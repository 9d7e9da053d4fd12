package natsembed

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/nats-io/nats-server/v2/server"
)

const levelTrace = slog.LevelDebug - 4

// natsLogger writes the NATS server's log through slog. A fatal message is
// logged as an error and remembered (not exited on), so start can fail
// cleanly.
type natsLogger struct {
	logger *slog.Logger

	mu       sync.Mutex
	fatalMsg string
	failed   bool
}

var _ server.Logger = (*natsLogger)(nil)

func newNATSLogger(logger *slog.Logger) *natsLogger { return &natsLogger{logger: logger} }

func (l *natsLogger) log(level slog.Level, format string, v []any) string {
	msg := fmt.Sprintf(format, v...)
	l.logger.Log(context.Background(), level, msg)
	return msg
}

func (l *natsLogger) Noticef(format string, v ...any) { l.log(slog.LevelInfo, format, v) }
func (l *natsLogger) Warnf(format string, v ...any)   { l.log(slog.LevelWarn, format, v) }
func (l *natsLogger) Errorf(format string, v ...any)  { l.log(slog.LevelError, format, v) }
func (l *natsLogger) Debugf(format string, v ...any)  { l.log(slog.LevelDebug, format, v) }
func (l *natsLogger) Tracef(format string, v ...any)  { l.log(levelTrace, format, v) }

func (l *natsLogger) Fatalf(format string, v ...any) {
	msg := l.log(slog.LevelError, format, v)
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.failed {
		l.failed, l.fatalMsg = true, msg
	}
}

// fatal returns the first fatal message, if any.
func (l *natsLogger) fatal() (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fatalMsg, l.failed
}
