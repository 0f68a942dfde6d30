package auditexport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"
	"unsafe"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
)

// The payload of a spool entry is one log record in this encoding (see
// docs/durability.md). Integers are varints (signed ones zig-zag), strings
// and byte strings are a uvarint length followed by the bytes, lists are a
// uvarint count followed by the elements.
//
//	record   = version:byte(1) resource scope
//	           timestamp observed severity:varint severityText eventName
//	           traceID:[16] spanID:[8] traceFlags:byte body:value attrs:kvlist
//	resource = uvarint length, then: schemaURL kvlist
//	scope    = uvarint length, then: name version schemaURL kvlist
//	time     = varint Unix nanoseconds; math.MinInt64 is the zero time
//	kvlist   = count (key value)*
//	value    = type:byte (attribute.Type) then the value of that type
//
// The resource and the scope are length-prefixed so that the decoder can
// use their bytes as a cache key without decoding them again.
const codecVersion = 1

// maxValueDepth bounds the nesting the decoder accepts, so that a damaged
// entry whose checksum still matched cannot exhaust the stack.
const maxValueDepth = 256

var errCodec = errors.New("malformed record encoding")

type encoder struct{ b []byte }

func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) str(s string)     { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }

// text writes a string of the record. OTLP carries only valid UTF-8: the
// exporter fails to marshal any other string, and a record that can never
// be exported would hold up the spool behind it for ever. So invalid bytes
// become U+FFFD here; binary data belongs in a bytes value.
func (e *encoder) text(s string) {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	e.str(s)
}
func (e *encoder) bytes(p []byte) { e.uvarint(uint64(len(p))); e.b = append(e.b, p...) }

func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.varint(math.MinInt64)
		return
	}
	e.varint(t.UnixNano())
}

// section writes a length-prefixed section produced by f.
func (e *encoder) section(f func()) {
	start := len(e.b)
	e.b = append(e.b, make([]byte, binary.MaxVarintLen64)...)
	body := len(e.b)
	f()
	n := len(e.b) - body
	var lenBuf [binary.MaxVarintLen64]byte
	l := binary.PutUvarint(lenBuf[:], uint64(n))
	copy(e.b[start:], lenBuf[:l])
	copy(e.b[start+l:], e.b[body:])
	e.b = e.b[:start+l+n]
}

func (e *encoder) kvs(kvs []attribute.KeyValue) {
	e.uvarint(uint64(len(kvs)))
	for _, kv := range kvs {
		e.text(string(kv.Key))
		e.value(kv.Value)
	}
}

func (e *encoder) value(v attribute.Value) {
	t := v.Type()
	e.b = append(e.b, byte(t))
	switch t {
	case attribute.BOOL:
		e.bool(v.AsBool())
	case attribute.INT64:
		e.varint(v.AsInt64())
	case attribute.FLOAT64:
		e.float(v.AsFloat64())
	case attribute.STRING:
		e.text(v.AsString())
	case attribute.BYTESLICE:
		e.bytes(v.AsByteSlice())
	case attribute.BOOLSLICE:
		appendList(e, v.AsBoolSlice(), e.bool)
	case attribute.INT64SLICE:
		appendList(e, v.AsInt64Slice(), e.varint)
	case attribute.FLOAT64SLICE:
		appendList(e, v.AsFloat64Slice(), e.float)
	case attribute.STRINGSLICE:
		appendList(e, v.AsStringSlice(), e.text)
	case attribute.SLICE:
		appendList(e, v.AsSlice(), e.value)
	case attribute.MAP:
		e.kvs(v.AsMap())
	}
}

// appendList writes the length of s, then each element with put.
func appendList[T any](e *encoder, s []T, put func(T)) {
	e.uvarint(uint64(len(s)))
	for _, x := range s {
		put(x)
	}
}

func (e *encoder) bool(x bool) {
	if x {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

func (e *encoder) float(x float64) {
	e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(x))
}

// appendRecord appends the encoding of r to dst.
func appendRecord(dst []byte, r *sdklog.Record) []byte {
	return appendRecordBody(appendOrigin(dst, r), r)
}

// appendOrigin appends the version, resource and scope sections: the part
// of a record that a service's records share, which the processor encodes
// once (originCache).
func appendOrigin(dst []byte, r *sdklog.Record) []byte {
	e := encoder{b: dst}
	e.b = append(e.b, codecVersion)
	e.section(func() {
		res := r.Resource()
		e.text(res.SchemaURL())
		e.kvs(res.Attributes())
	})
	e.section(func() {
		s := r.InstrumentationScope()
		e.text(s.Name)
		e.text(s.Version)
		e.text(s.SchemaURL)
		e.kvs(s.Attributes.ToSlice())
	})
	return e.b
}

// appendRecordBody appends what follows the origin sections.
func appendRecordBody(dst []byte, r *sdklog.Record) []byte {
	e := encoder{b: dst}
	e.time(r.Timestamp())
	e.time(r.ObservedTimestamp())
	e.varint(int64(r.Severity()))
	e.text(r.SeverityText())
	e.text(r.EventName())
	tid, sid := r.TraceID(), r.SpanID()
	e.b = append(e.b, tid[:]...)
	e.b = append(e.b, sid[:]...)
	e.b = append(e.b, byte(r.TraceFlags()))
	e.value(r.Body())
	e.uvarint(uint64(r.AttributesLen()))
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		e.text(string(kv.Key))
		e.value(kv.Value)
		return true
	})
	return e.b
}

// originCache holds the encoded origin sections of the last record's
// resource and scope. A provider's records share one *resource.Resource,
// so a hit is a pointer and scope comparison instead of encoding the
// resource's attributes again for every record.
type originCache struct{ last atomic.Pointer[encodedOrigin] }

type encodedOrigin struct {
	res   *resource.Resource
	scope instrumentation.Scope
	enc   []byte
}

func (c *originCache) append(dst []byte, r *sdklog.Record) []byte {
	res, sc := r.Resource(), r.InstrumentationScope()
	if o := c.last.Load(); o != nil && o.res == res && o.scope.Name == sc.Name &&
		o.scope.Version == sc.Version && o.scope.SchemaURL == sc.SchemaURL && o.scope.Attributes.Equals(&sc.Attributes) {
		return append(dst, o.enc...)
	}
	start := len(dst)
	dst = appendOrigin(dst, r)
	c.last.Store(&encodedOrigin{res: res, scope: sc, enc: slices.Clone(dst[start:])})
	return dst
}

// decodedRecord is a record read back from the spool. resource and scope
// are the raw bytes of their sections: the rebuilder keys its caches by
// them.
type decodedRecord struct {
	resource, scope []byte
	rec             log.Record
	traceID         trace.TraceID
	spanID          trace.SpanID
	traceFlags      trace.TraceFlags
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errCodec
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) take(n uint64) []byte {
	if n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) byte1() byte {
	p := d.take(1)
	if p == nil {
		return 0
	}
	return p[0]
}

// str returns a string that shares the decoder's bytes: the sender decodes
// payloads read for it alone and never written to, so copying every key
// and value out of them would only cost an allocation each.
func (d *decoder) str() string {
	p := d.take(d.uvarint())
	return unsafe.String(unsafe.SliceData(p), len(p))
}

// count reads a list length, refusing one that cannot fit in what is left
// (every element takes at least one byte).
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *decoder) time() time.Time {
	v := d.varint()
	if v == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(0, v)
}

func (d *decoder) kvs(depth int) []attribute.KeyValue {
	n := d.count()
	if n == 0 {
		return nil
	}
	kvs := make([]attribute.KeyValue, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.str()
		kvs = append(kvs, attribute.KeyValue{Key: attribute.Key(k), Value: d.value(depth)})
	}
	return kvs
}

func (d *decoder) value(depth int) attribute.Value {
	if depth > maxValueDepth {
		d.fail()
		return attribute.Value{}
	}
	switch t := attribute.Type(d.byte1()); t {
	case attribute.EMPTY:
		return attribute.Value{}
	case attribute.BOOL:
		return attribute.BoolValue(d.bool())
	case attribute.INT64:
		return attribute.Int64Value(d.varint())
	case attribute.FLOAT64:
		return attribute.Float64Value(d.float())
	case attribute.STRING:
		return attribute.StringValue(d.str())
	case attribute.BYTESLICE:
		return attribute.ByteSliceValue(d.take(d.uvarint()))
	case attribute.BOOLSLICE:
		return attribute.BoolSliceValue(readList(d, d.bool))
	case attribute.INT64SLICE:
		return attribute.Int64SliceValue(readList(d, d.varint))
	case attribute.FLOAT64SLICE:
		return attribute.Float64SliceValue(readList(d, d.float))
	case attribute.STRINGSLICE:
		return attribute.StringSliceValue(readList(d, d.str))
	case attribute.SLICE:
		return attribute.SliceValue(readList(d, func() attribute.Value { return d.value(depth + 1) })...)
	case attribute.MAP:
		return attribute.MapValue(d.kvs(depth + 1)...)
	default:
		d.fail()
		return attribute.Value{}
	}
}

// readList reads a list length, then that many elements with get.
func readList[T any](d *decoder, get func() T) []T {
	s := make([]T, d.count())
	for i := range s {
		s[i] = get()
	}
	return s
}

func (d *decoder) bool() bool { return d.byte1() != 0 }

func (d *decoder) float() float64 {
	p := d.take(8)
	if p == nil {
		return 0
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(p))
}

func decodeRecord(b []byte) (decodedRecord, error) {
	d := decoder{b: b}
	var out decodedRecord
	if v := d.byte1(); d.err == nil && v != codecVersion {
		return out, fmt.Errorf("record encoding version %d, want %d", v, codecVersion)
	}
	out.resource = d.take(d.uvarint())
	out.scope = d.take(d.uvarint())
	out.rec.SetTimestamp(d.time())
	out.rec.SetObservedTimestamp(d.time())
	out.rec.SetSeverity(log.Severity(d.varint()))
	out.rec.SetSeverityText(d.str())
	out.rec.SetEventName(d.str())
	copy(out.traceID[:], d.take(16))
	copy(out.spanID[:], d.take(8))
	out.traceFlags = trace.TraceFlags(d.byte1())
	out.rec.SetBody(d.value(0))
	out.rec.AddAttributes(d.kvs(0)...)
	if d.err == nil && len(d.b) != 0 {
		d.fail()
	}
	return out, d.err
}

func decodeResource(b []byte) (*resource.Resource, error) {
	d := decoder{b: b}
	schema := d.str()
	attrs := d.kvs(0)
	if d.err != nil {
		return nil, d.err
	}
	return resource.NewWithAttributes(schema, attrs...), nil
}

func decodeScope(b []byte) (instrumentation.Scope, error) {
	d := decoder{b: b}
	s := instrumentation.Scope{Name: d.str(), Version: d.str(), SchemaURL: d.str()}
	s.Attributes = attribute.NewSet(d.kvs(0)...)
	return s, d.err
}
