package event

// DocVersion returns the first "version":N of a JSON document (a state document or an
// envelope) without decoding it all; 0 if it has none or N is not a plain non-negative
// integer. The read model's apply script reads a document's version the same way.
func DocVersion[T string | []byte](doc T) int64 {
	const field = `"version":`
	for i := 0; i+len(field) <= len(doc); i++ {
		if string(doc[i:i+len(field)]) != field {
			continue
		}
		var v int64
		for _, c := range []byte(doc[i+len(field):]) {
			if c < '0' || c > '9' {
				break
			}
			v = v*10 + int64(c-'0')
		}
		return v
	}
	return 0
}
