package pgstore

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"

	"github.com/otelaudit/otelaudit/auditconv"
)

// jsonValue encodes the value p points to (a record's header map, log
// body, attributes or resource) for a jsonb column, or returns nil for NULL
// when it is empty.
func jsonValue(p any) (any, error) {
	var v any
	switch x := p.(type) {
	case *map[string][]string:
		v = *x
	case *map[string]any:
		v = *x
	case *any:
		v = *x
	default:
		v = p
	}
	switch x := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		if len(x) == 0 {
			return nil, nil
		}
	case map[string][]string:
		if len(x) == 0 {
			return nil, nil
		}
	}
	return appendJSON(make([]byte, 0, 256), v)
}

// appendJSON appends v as JSON, written directly for the types records are
// made of (pcommon's AsRaw values and header maps), so that a row costs no
// reflection. Strings are fixed like text (jsonb refuses \u0000, and bytes
// that are not UTF-8), non-finite numbers become strings (JSON has none),
// and map keys keep map order: jsonb orders them itself. Other types go
// through encoding/json.
func appendJSON(dst []byte, v any) ([]byte, error) {
	var err error
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return auditconv.AppendJSONText(dst, x), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case int:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return auditconv.AppendJSONText(dst, strconv.FormatFloat(x, 'g', -1, 64)), nil
		}
		return strconv.AppendFloat(dst, x, 'g', -1, 64), nil
	case []byte:
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, x)
		return append(dst, '"'), nil
	case []any:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendJSON(dst, e); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	case map[string]any:
		return appendJSONObject(dst, x)
	case map[string][]string:
		return appendJSONHeaders(dst, x), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(dst, b...), nil
}

// appendJSONObject appends m as a JSON object, in map order: jsonb orders
// keys itself.
func appendJSONObject(dst []byte, m map[string]any) ([]byte, error) {
	var err error
	dst = append(dst, '{')
	first := true
	for k, e := range m {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(auditconv.AppendJSONText(dst, k), ':')
		if dst, err = appendJSON(dst, e); err != nil {
			return nil, err
		}
	}
	return append(dst, '}'), nil
}

// appendJSONHeaders appends headers as {"name": ["v1", "v2"]}.
func appendJSONHeaders(dst []byte, h map[string][]string) []byte {
	dst = append(dst, '{')
	first := true
	for k, vals := range h {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(auditconv.AppendJSONText(dst, k), ':', '[')
		for i, s := range vals {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = auditconv.AppendJSONText(dst, s)
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}
