package bus

// OnAsyncDone has f called whenever a CallAsync of b has ended (its handler returned,
// or the outcome was dropped).
func OnAsyncDone(b *Bus, f func()) { b.asyncDone = f }
