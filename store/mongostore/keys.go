package mongostore

import (
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Field names that MongoDB-compatible servers may refuse ('.' anywhere, a
// leading '$', NUL) are percent-encoded, and '%' with them so that the
// encoding is reversible: decodeKey(encodeKey(k)) == k for every k.

func encodeKey(k string) string {
	if !strings.ContainsAny(k, ".$%\x00") {
		return k
	}
	var b strings.Builder
	for i := 0; i < len(k); i++ {
		switch c := k[i]; c {
		case '.':
			b.WriteString("%2E")
		case '$':
			b.WriteString("%24")
		case '%':
			b.WriteString("%25")
		case 0:
			b.WriteString("%00")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func decodeKey(k string) string {
	if !strings.Contains(k, "%") {
		return k
	}
	var b strings.Builder
	for i := 0; i < len(k); i++ {
		if k[i] == '%' && i+2 < len(k) {
			switch k[i+1 : i+3] {
			case "2E":
				b.WriteByte('.')
			case "24":
				b.WriteByte('$')
			case "25":
				b.WriteByte('%')
			case "00":
				b.WriteByte(0)
			default:
				b.WriteByte('%')
				continue
			}
			i += 2
			continue
		}
		b.WriteByte(k[i])
	}
	return b.String()
}

// encodeValue returns v with every map key encoded, recursively; v itself
// when no key needs it (nearly always), so clean records are not copied.
func encodeValue(v any) any {
	if !needsEncoding(v) {
		return v
	}
	return encodeAll(v)
}

func needsEncoding(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if encodeKey(k) != k || needsEncoding(val) {
				return true
			}
		}
	case []any:
		for _, val := range x {
			if needsEncoding(val) {
				return true
			}
		}
	}
	return false
}

func encodeAll(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			out[encodeKey(k)] = encodeAll(val)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = encodeAll(val)
		}
		return out
	}
	return v
}

// decodeValue reverses encodeValue on what the driver decodes, arrays
// (bson.A) included.
func decodeValue(v any) any {
	if a, ok := v.(bson.A); ok {
		v = []any(a)
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			out[decodeKey(k)] = decodeValue(val)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = decodeValue(val)
		}
		return out
	}
	return v
}

func encodeHeaders(h map[string][]string) map[string][]string {
	if len(h) == 0 {
		return nil
	}
	out := make(map[string][]string, len(h))
	for k, v := range h {
		out[encodeKey(k)] = v
	}
	return out
}

func decodeHeaders(h map[string][]string) map[string][]string {
	if len(h) == 0 {
		return nil
	}
	out := make(map[string][]string, len(h))
	for k, v := range h {
		out[decodeKey(k)] = v
	}
	return out
}
