package storeexporter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"time"

	"github.com/otelaudit/otelaudit/store"
)

// The row codec writes store.Records as the persistent queue holds them:
// every field in the order of appendRecord, strings and byte slices
// length-prefixed (uvarint), integers as varints, floats as their IEEE
// bits. Maps, slices and byte slices carry their length plus one, 0 for
// nil, so that a record reads back exactly as it was queued (Normalize
// tells a nil binary body from an empty one). Attribute values are a tag
// byte, then the value.

// Tags of attribute values: the types pcommon.Value.AsRaw returns.
const (
	tagNil byte = iota
	tagString
	tagInt
	tagDouble
	tagFalse
	tagTrue
	tagBytes
	tagSlice
	tagMap
)

// errRowsCorrupt is what a queued request that does not parse returns.
var errRowsCorrupt = errors.New("queue encoding: corrupt queued rows")

// appendRows appends records to b. A record whose resource is the very
// map of the record before it (logconv shares one per resource) refers to
// it instead of repeating it, and reads back sharing it too.
func appendRows(b []byte, records []store.Record) ([]byte, error) {
	b = binary.AppendUvarint(b, uint64(len(records)))
	var err error
	for i := range records {
		shared := i > 0 && sameMap(records[i].Resource, records[i-1].Resource)
		if b, err = appendRecord(b, &records[i], shared); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// sameMap reports whether a and b are the same map, not equal ones.
func sameMap(a, b map[string]any) bool {
	return a != nil && reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// Markers before a record's resource.
const (
	ownResource    byte = 0 // the resource follows
	sharedResource byte = 1 // the resource of the record before
)

// appendRecord appends r; sharedRes writes a reference to the resource of
// the record before instead of r's.
func appendRecord(b []byte, r *store.Record, sharedRes bool) ([]byte, error) {
	b = appendString(b, r.ID)
	b = appendTime(b, r.Timestamp)
	b = appendTime(b, r.ObservedTimestamp)
	b = appendString(b, r.EventName)
	b = binary.AppendVarint(b, int64(r.SeverityNumber))
	for _, s := range [...]string{r.SeverityText, r.ServiceName, r.ScopeName, r.Operation, r.TraceID, r.SpanID,
		r.Method, r.Scheme, r.Host, r.Path, r.Route, r.Query} {
		b = appendString(b, s)
	}
	b = binary.AppendVarint(b, int64(r.Status))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(r.DurationMS))
	for _, s := range [...]string{r.UserID, r.SessionID, r.ClientAddress, r.UserAgent} {
		b = appendString(b, s)
	}
	b = appendHeaders(b, r.RequestHeaders)
	b = appendString(b, r.RequestBody)
	b = appendBytes(b, r.RequestBodyBinary)
	b = binary.AppendVarint(b, r.RequestBodySize)
	b = appendHeaders(b, r.ResponseHeaders)
	b = appendString(b, r.ResponseBody)
	b = appendBytes(b, r.ResponseBodyBinary)
	b = binary.AppendVarint(b, r.ResponseBodySize)
	var flags byte
	if r.RequestBodyTruncated {
		flags |= 1
	}
	if r.ResponseBodyTruncated {
		flags |= 2
	}
	b = append(b, flags)
	b = appendString(b, r.ErrorType)
	var err error
	if b, err = appendValue(b, r.LogBody); err != nil {
		return nil, fmt.Errorf("record %s: body: %w", r.ID, err)
	}
	if b, err = appendMap(b, r.Attributes); err != nil {
		return nil, fmt.Errorf("record %s: attributes: %w", r.ID, err)
	}
	if sharedRes {
		return append(b, sharedResource), nil
	}
	if b, err = appendMap(append(b, ownResource), r.Resource); err != nil {
		return nil, fmt.Errorf("record %s: resource: %w", r.ID, err)
	}
	return b, nil
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// appendLen appends the length of a map or slice that may be nil.
func appendLen(b []byte, n int, isNil bool) []byte {
	if isNil {
		return append(b, 0)
	}
	return binary.AppendUvarint(b, uint64(n)+1)
}

func appendBytes(b, v []byte) []byte {
	return append(appendLen(b, len(v), v == nil), v...)
}

// appendTime appends the zero time as one byte, any other as seconds and
// nanoseconds since the epoch (records hold UTC times).
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	b = append(b, 1)
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

func appendHeaders(b []byte, h map[string][]string) []byte {
	b = appendLen(b, len(h), h == nil)
	for k, vals := range h {
		b = appendString(b, k)
		b = appendLen(b, len(vals), vals == nil)
		for _, v := range vals {
			b = appendString(b, v)
		}
	}
	return b
}

func appendMap(b []byte, m map[string]any) ([]byte, error) {
	b = appendLen(b, len(m), m == nil)
	var err error
	for k, v := range m {
		b = appendString(b, k)
		if b, err = appendValue(b, v); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func appendValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, tagNil), nil
	case string:
		return appendString(append(b, tagString), v), nil
	case int64:
		return binary.AppendVarint(append(b, tagInt), v), nil
	case float64:
		return binary.LittleEndian.AppendUint64(append(b, tagDouble), math.Float64bits(v)), nil
	case bool:
		if v {
			return append(b, tagTrue), nil
		}
		return append(b, tagFalse), nil
	case []byte:
		return appendBytes(append(b, tagBytes), v), nil
	case []any:
		b = appendLen(append(b, tagSlice), len(v), v == nil)
		var err error
		for _, e := range v {
			if b, err = appendValue(b, e); err != nil {
				return nil, err
			}
		}
		return b, nil
	case map[string]any:
		return appendMap(append(b, tagMap), v)
	}
	return nil, fmt.Errorf("queue encoding: a value of type %T cannot be queued", v)
}

// rowReader reads what appendRows wrote. Its strings are substrings of s,
// not copies: the decoded records share the one string of the request.
// The first error sticks; reads after it return zero values.
type rowReader struct {
	s   string
	off int
	err error
	// slab is where header values are cut from, a few hundred at a
	// time instead of one slice each.
	slab []string
}

func (r *rowReader) fail() {
	if r.err == nil {
		r.err = fmt.Errorf("%w at byte %d of %d", errRowsCorrupt, r.off, len(r.s))
	}
	r.off = len(r.s)
}

func (r *rowReader) uvarint() uint64 {
	var v uint64
	for shift := 0; shift < 64; shift += 7 {
		if r.off >= len(r.s) {
			break
		}
		c := r.s[r.off]
		r.off++
		if c < 0x80 {
			if shift == 63 && c > 1 {
				break
			}
			return v | uint64(c)<<shift
		}
		v |= uint64(c&0x7f) << shift
	}
	r.fail()
	return 0
}

func (r *rowReader) varint() int64 {
	u := r.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

func (r *rowReader) byte() byte {
	if r.off >= len(r.s) {
		r.fail()
		return 0
	}
	c := r.s[r.off]
	r.off++
	return c
}

func (r *rowReader) float() float64 {
	if len(r.s)-r.off < 8 {
		r.fail()
		return 0
	}
	var u uint64
	for i := 7; i >= 0; i-- {
		u = u<<8 | uint64(r.s[r.off+i])
	}
	r.off += 8
	return math.Float64frombits(u)
}

// size reads a length and checks that at least min bytes per element
// remain for it.
func (r *rowReader) size(min int) int {
	n := r.uvarint()
	if n > uint64(len(r.s)-r.off)/uint64(min) {
		r.fail()
		return 0
	}
	return int(n)
}

// nilableSize reads a length written by appendLen, checking that at
// least min bytes per element remain for it; ok is false for nil.
func (r *rowReader) nilableSize(min int) (n int, ok bool) {
	u := r.uvarint()
	if u == 0 {
		return 0, false
	}
	if u-1 > uint64(len(r.s)-r.off)/uint64(min) {
		r.fail()
		return 0, false
	}
	return int(u - 1), true
}

func (r *rowReader) string() string {
	n := r.size(1)
	s := r.s[r.off : r.off+n]
	r.off += n
	return s
}

func (r *rowReader) bytes() []byte {
	n, ok := r.nilableSize(1)
	if !ok {
		return nil
	}
	b := []byte(r.s[r.off : r.off+n])
	r.off += n
	return b
}

func (r *rowReader) time() time.Time {
	switch r.byte() {
	case 0:
		return time.Time{}
	case 1:
		sec := r.varint()
		nsec := r.uvarint()
		if nsec >= 1e9 {
			r.fail()
			return time.Time{}
		}
		return time.Unix(sec, int64(nsec)).UTC()
	}
	r.fail()
	return time.Time{}
}

func (r *rowReader) headers() map[string][]string {
	n, ok := r.nilableSize(2)
	if !ok {
		return nil
	}
	h := make(map[string][]string, n)
	for range n {
		k := r.string()
		m, ok := r.nilableSize(1)
		var vals []string
		if ok {
			vals = r.strings(m)
			for i := range vals {
				vals[i] = r.string()
			}
		}
		h[k] = vals
	}
	return h
}

// strings returns a slice of n strings, cut from the slab; its capacity
// is its length, so that appending to it never writes into the next.
func (r *rowReader) strings(n int) []string {
	if n == 0 {
		return []string{} // empty, not nil (the slab may be nil)
	}
	if n > len(r.slab) {
		r.slab = make([]string, max(n, 256))
	}
	s := r.slab[:n:n]
	r.slab = r.slab[n:]
	return s
}

func (r *rowReader) attrMap() map[string]any {
	n, ok := r.nilableSize(2)
	if !ok {
		return nil
	}
	m := make(map[string]any, n)
	for range n {
		k := r.string()
		m[k] = r.value()
	}
	return m
}

func (r *rowReader) value() any {
	switch r.byte() {
	case tagNil:
		return nil
	case tagString:
		return r.string()
	case tagInt:
		return r.varint()
	case tagDouble:
		return r.float()
	case tagFalse:
		return false
	case tagTrue:
		return true
	case tagBytes:
		return r.bytes()
	case tagSlice:
		n, ok := r.nilableSize(1)
		if !ok {
			return []any(nil)
		}
		s := make([]any, n)
		for i := range s {
			s[i] = r.value()
		}
		return s
	case tagMap:
		return r.attrMap()
	}
	r.fail()
	return nil
}

// record reads one record into rec; prev is the record before, nil for
// the first.
func (r *rowReader) record(rec, prev *store.Record) {
	rec.ID = r.string()
	rec.Timestamp = r.time()
	rec.ObservedTimestamp = r.time()
	rec.EventName = r.string()
	rec.SeverityNumber = int(r.varint())
	for _, p := range [...]*string{&rec.SeverityText, &rec.ServiceName, &rec.ScopeName, &rec.Operation, &rec.TraceID,
		&rec.SpanID, &rec.Method, &rec.Scheme, &rec.Host, &rec.Path, &rec.Route, &rec.Query} {
		*p = r.string()
	}
	rec.Status = int(r.varint())
	rec.DurationMS = r.float()
	for _, p := range [...]*string{&rec.UserID, &rec.SessionID, &rec.ClientAddress, &rec.UserAgent} {
		*p = r.string()
	}
	rec.RequestHeaders = r.headers()
	rec.RequestBody = r.string()
	rec.RequestBodyBinary = r.bytes()
	rec.RequestBodySize = r.varint()
	rec.ResponseHeaders = r.headers()
	rec.ResponseBody = r.string()
	rec.ResponseBodyBinary = r.bytes()
	rec.ResponseBodySize = r.varint()
	flags := r.byte()
	rec.RequestBodyTruncated = flags&1 != 0
	rec.ResponseBodyTruncated = flags&2 != 0
	rec.ErrorType = r.string()
	rec.LogBody = r.value()
	rec.Attributes = r.attrMap()
	switch r.byte() {
	case ownResource:
		rec.Resource = r.attrMap()
	case sharedResource:
		if prev == nil {
			r.fail()
			return
		}
		rec.Resource = prev.Resource
	default:
		r.fail()
	}
}

// readRows decodes what appendRows wrote; s must hold nothing else.
func readRows(s string) ([]store.Record, error) {
	r := &rowReader{s: s}
	// A record takes at least 40 bytes: this bounds the allocation a
	// corrupt count can ask for.
	n := r.size(40)
	records := make([]store.Record, n)
	for i := range records {
		var prev *store.Record
		if i > 0 {
			prev = &records[i-1]
		}
		r.record(&records[i], prev)
	}
	if r.err == nil && r.off != len(r.s) {
		r.fail()
	}
	if r.err != nil {
		return nil, r.err
	}
	return records, nil
}
