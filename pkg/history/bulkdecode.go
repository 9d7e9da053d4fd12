package history

// Decoding the lines of GET /history/bulk: strictly (DecodeEntry) or fast (BulkDecoder).

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"time"

	"uneventful.dev/uneventful/pkg/event"
)

// DecodeEntry decodes one line of GET /history/bulk with event.Decode, upcasting through
// up (nil: as served, which the history already upcast with its own). An envelope that
// cannot be decoded is an error, with the entry's position in the Entry returned.
func DecodeEntry(line []byte, up *event.Upcasters) (Entry, error) {
	var d BulkDecoder
	return d.decode(line, up, false)
}

// BulkDecoder decodes lines of GET /history/bulk as DecodeEntry does, with the same
// results, but faster: the history wrote them (with json.Marshal's rules, data valid
// JSON when stored), so it reads them as event.DecodeLog reads a log it wrote, and their
// time with a parser for the one layout the history writes (time.RFC3339Nano in UTC),
// falling back to event.Decode for anything else. A BulkDecoder reuses its buffers:
// an Entry's Data is valid until the next call. Not safe for concurrent use.
type BulkDecoder struct {
	// Shared: the Entry's strings share the decoder's buffer too (event.DecodeLogShared),
	// valid until the next call, as its Data: for a reader that copies what it keeps.
	Shared bool
	arr    []byte           // [envelope]: DecodeLog reads arrays
	envs   []event.Envelope // DecodeLog's result, reused
}

// Decode is DecodeEntry of line, read as BulkDecoder says.
func (d *BulkDecoder) Decode(line []byte, up *event.Upcasters) (Entry, error) {
	return d.decode(line, up, true)
}

func (d *BulkDecoder) decode(line []byte, up *event.Upcasters, fast bool) (Entry, error) {
	const prefix = `{"position":`
	if !bytes.HasPrefix(line, []byte(prefix)) {
		return Entry{}, errors.New("history: bulk line without a position")
	}
	rest := line[len(prefix):]
	i := bytes.IndexByte(rest, ',')
	if i <= 0 {
		return Entry{}, errors.New("history: bulk line without an envelope")
	}
	pos, ok := parsePosition(rest[:i])
	if !ok { // as strconv reads it (a sign, say), or not at all
		p, err := strconv.ParseInt(string(rest[:i]), 10, 64)
		if err != nil || p <= 0 {
			return Entry{}, fmt.Errorf("history: bulk line with position %q", rest[:i])
		}
		pos = p
	}
	env := rest[i:] // ,"id":...}
	if fast {
		if e, ok := d.decodeLog(env, up); ok {
			return Entry{Position: pos, Envelope: e}, nil
		}
	}
	env[0] = '{' // the line is ours: reuse it
	e, err := event.Decode(env, up)
	env[0] = ','
	if err != nil {
		return Entry{Position: pos}, fmt.Errorf("%w at position %d: %v", errBadEnvelope, pos, err)
	}
	return Entry{Position: pos, Envelope: e}, nil
}

// decodeLog reads env (`,"id":...}`) with event.DecodeLog and its time with parseTime;
// false if either cannot (event.Decode then says what is wrong, or reads it).
func (d *BulkDecoder) decodeLog(env []byte, up *event.Upcasters) (event.Envelope, bool) {
	d.arr = append(d.arr[:0], '[', '{')
	d.arr = append(d.arr, env[1:]...)
	d.arr = append(d.arr, ']')
	var err error
	if d.Shared {
		d.envs, err = event.DecodeLogShared(d.envs[:0], d.arr, up)
	} else {
		d.envs, err = event.DecodeLog(d.envs[:0], d.arr, up)
	}
	if err != nil || len(d.envs) != 1 {
		return event.Envelope{}, false
	}
	e := d.envs[0]
	if e.Time.IsZero() { // DecodeLog's own scan does not read the time
		// The history writes "time" after "data" and the ids, so the last such key is
		// the envelope's own; if not, the time does not parse and event.Decode reads it.
		const key = `,"time":"`
		k := bytes.LastIndex(env, []byte(key))
		if k < 0 {
			return event.Envelope{}, false
		}
		v := env[k+len(key):]
		q := bytes.IndexByte(v, '"')
		if q < 0 || !bytes.HasPrefix(v[q+1:], []byte("}")) && !bytes.HasPrefix(v[q+1:], []byte(`,"schema":`)) {
			return event.Envelope{}, false
		}
		t, ok := parseTime(v[:q])
		if !ok {
			return event.Envelope{}, false
		}
		e.Time = t
	}
	return e, true
}

// parsePosition reads a positive decimal integer.
func parsePosition(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, n > 0
}

// parseTime reads the layout the history writes its times in, UTC time.RFC3339Nano
// ("2006-01-02T15:04:05.999999999Z"), as time.Time's UnmarshalJSON would; anything else
// goes to UnmarshalJSON (false if it refuses it).
func parseTime(b []byte) (time.Time, bool) {
	if t, ok := parseUTC(b); ok {
		return t, true
	}
	var t time.Time
	q := make([]byte, 0, len(b)+2)
	q = append(append(append(q, '"'), b...), '"')
	return t, t.UnmarshalJSON(q) == nil
}

func parseUTC(b []byte) (time.Time, bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' || b[len(b)-1] != 'Z' {
		return time.Time{}, false
	}
	num := func(b []byte) (int, bool) {
		n := 0
		for _, c := range b {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(b[0:4])
	month, ok2 := num(b[5:7])
	day, ok3 := num(b[8:10])
	hour, ok4 := num(b[11:13])
	minute, ok5 := num(b[14:16])
	sec, ok6 := num(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || day > 28 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false // the end of a month, among others, goes the long way
	}
	nsec := 0
	if frac := b[19 : len(b)-1]; len(frac) > 0 {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			return time.Time{}, false
		}
		n, ok := num(frac[1:])
		if !ok {
			return time.Time{}, false
		}
		for range 10 - len(frac) {
			n *= 10
		}
		nsec = n
	} else if len(b) != 20 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC), true
}
