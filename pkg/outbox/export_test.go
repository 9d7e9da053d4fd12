package outbox

// LogReads is how often the publisher read the log instead of a handed-over batch.
func (p *Publisher) LogReads() int64 { return p.logReads.Load() }
