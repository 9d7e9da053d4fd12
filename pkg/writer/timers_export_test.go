package writer

// Holds reports whether the writer holds the entity of stream in memory.
func (w *Writer[S]) Holds(stream string) bool { return w.entities.peek(stream) != nil }
