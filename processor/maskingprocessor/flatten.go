package maskingprocessor

import (
	"encoding/base64"
	"math"
	"strconv"

	"github.com/otelaudit/otelaudit/auditconv"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// maxStoredDepth is how many levels of maps and slices a value keeps; a
// value nested deeper becomes its JSON text. The collector's persistent
// queue stores batches as protobuf, whose decoder refuses messages nested
// past its recursion limit (about 32 map levels inside a log record): an
// OTLP/JSON record nested deeper would be accepted by the receiver and then
// lost, unlogged, when the queue reads it back. 16 levels stay well inside
// that limit wherever the value sits (attribute, log body, resource).
const maxStoredDepth = 16

// flatten replaces a map or slice with its JSON text, masked like any JSON
// string value, and returns the number of values masked in it.
func (p *maskingProcessor) flatten(v pcommon.Value) int {
	text := appendJSON(nil, v)
	out, n := p.m.JSON(text)
	v.SetStr(ownedString(out)) // text, or the masker's copy of it: both are ours
	return n
}

// appendJSON appends v as JSON. Unlike pcommon.Value.AsString it never
// fails: non-finite doubles become the strings "NaN", "+Inf" and "-Inf",
// bytes their base64 text, as in OTLP/JSON.
func appendJSON(b []byte, v pcommon.Value) []byte {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return auditconv.AppendJSONText(b, v.Str())
	case pcommon.ValueTypeInt:
		return strconv.AppendInt(b, v.Int(), 10)
	case pcommon.ValueTypeDouble:
		f := v.Double()
		switch {
		case math.IsNaN(f):
			return append(b, `"NaN"`...)
		case math.IsInf(f, 1):
			return append(b, `"+Inf"`...)
		case math.IsInf(f, -1):
			return append(b, `"-Inf"`...)
		}
		return strconv.AppendFloat(b, f, 'g', -1, 64)
	case pcommon.ValueTypeBool:
		return strconv.AppendBool(b, v.Bool())
	case pcommon.ValueTypeBytes:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, v.Bytes().AsRaw())
		return append(b, '"')
	case pcommon.ValueTypeMap:
		b = append(b, '{')
		first := true
		for k, el := range v.Map().All() {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = auditconv.AppendJSONText(b, k)
			b = append(b, ':')
			b = appendJSON(b, el)
		}
		return append(b, '}')
	case pcommon.ValueTypeSlice:
		b = append(b, '[')
		s := v.Slice()
		for i := 0; i < s.Len(); i++ {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, s.At(i))
		}
		return append(b, ']')
	}
	return append(b, "null"...)
}
