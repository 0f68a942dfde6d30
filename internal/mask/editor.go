package mask

import "github.com/otelaudit/otelaudit/auditconv"

// editor builds a masked copy of src lazily: nothing is allocated until the
// first replacement. Replacements must come in increasing order.
//
// In place, the copy is written over src itself for as long as it stays
// behind the input still to be read: the walkers read forward, and look
// back at most one byte before the end of the last replacement, so every
// write must end before that byte. A replacement that would reach it
// moves the rest of the work to a fresh buffer.
type editor struct {
	src     []byte
	out     []byte
	last    int // src[:last] is already in out
	count   int
	inPlace bool
	scratch []byte // the replacement being built, made on first use
	found   bool   // mask was called, even for a value it left alone
}

func (e *editor) replace(start, end int, with []byte) {
	if start < e.last {
		return // overlaps an earlier replacement, which already covers it
	}
	if e.out == nil {
		if e.inPlace {
			e.out = e.src[:0]
		} else {
			e.out = make([]byte, 0, len(e.src)+16)
		}
	}
	if e.inPlace && len(e.out)+start-e.last+len(with) >= end {
		out := make([]byte, len(e.out), len(e.src)+16+len(with))
		copy(out, e.out)
		e.out, e.inPlace = out, false
	}
	e.out = append(e.out, e.src[e.last:start]...)
	e.out = append(e.out, with...)
	e.last = end
	e.count++
}

// quoting says how a replacement is written where it lands.
type quoting int

const (
	raw        quoting = iota // as it is
	jsonValue                 // a JSON string literal, quotes included
	jsonInside                // escaped for the inside of a JSON string
)

// mask replaces src[start:end] with the masker's replacement for value.
func (e *editor) mask(m *Masker, start, end int, value []byte, card bool, q quoting) {
	e.found = true
	if m.alreadyMasked(value) {
		return // masked before (at the source, or by an earlier stage): not again, not counted
	}
	if m.fixed[q] != nil && (!card || m.mode != ModePartial) {
		e.replace(start, end, m.fixed[q])
		return
	}
	if e.scratch == nil {
		e.scratch = make([]byte, 0, 96)
	}
	e.scratch = m.appendReplacement(e.scratch[:0], value, card)
	with := e.scratch
	switch q {
	case jsonValue:
		with = auditconv.AppendJSONString(e.scratch[len(e.scratch):], e.scratch)
	case jsonInside:
		with = auditconv.AppendJSONString(e.scratch[len(e.scratch):], e.scratch)
		with = with[1 : len(with)-1]
	}
	e.replace(start, end, with)
}

func (e *editor) result() ([]byte, int) {
	if e.out == nil {
		return e.src, 0
	}
	return append(e.out, e.src[e.last:]...), e.count
}
