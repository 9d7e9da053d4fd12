package writer

// Cached returns how many entities w holds in memory. Not safe while w runs.
func (w *Writer[S]) Cached() int { return w.entities.len() }
