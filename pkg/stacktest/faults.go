package stacktest

import (
	"time"
)

// RestartNATS shuts the NATS server down and starts it again on the same port with the
// same JetStream storage, as a restarted broker would be. It returns how long NATS was away.
func (s *Stack) RestartNATS(down time.Duration) time.Duration {
	s.t.Helper()
	began := time.Now()
	s.NATS.Shutdown()
	s.NATS.WaitForShutdown()
	time.Sleep(down)
	s.NATS = natsAt(s.t, s.natsPort, s.natsDir)
	return time.Since(began)
}

// RestartRedis kills redis-server (SIGKILL) and starts an empty one on the same port, as a
// Redis restarted without persistence would be.
func (s *Stack) RestartRedis(down time.Duration) {
	s.t.Helper()
	s.redisCmd.Process.Kill() //nolint:errcheck
	s.redisCmd.Wait()         //nolint:errcheck
	time.Sleep(down)
	s.redisCmd = redisAt(s.t, s.redisPort)
}
