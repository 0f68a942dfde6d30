package audithttp

import "strings"

// mediaRange is one entry of WithBodyContentTypes: "type/sub", "type/*",
// "*/*+suffix" or "*/*", lower-case.
type mediaRange struct {
	typ, sub, suffix string // suffix set for "*/*+suffix"
}

func parseMediaRanges(types []string) []mediaRange {
	out := make([]mediaRange, 0, len(types))
	for _, t := range types {
		t = strings.ToLower(strings.TrimSpace(t))
		typ, sub, ok := strings.Cut(t, "/")
		if !ok || typ == "" || sub == "" {
			continue
		}
		r := mediaRange{typ: typ, sub: sub}
		if typ == "*" && strings.HasPrefix(sub, "*+") {
			r.suffix = sub[1:] // "+json"
		}
		out = append(out, r)
	}
	return out
}

// capturable reports whether a body of content type ct (a header value,
// parameters allowed) matches one of the ranges.
func capturable(ranges []mediaRange, ct string) bool {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(ct)
	typ, sub, ok := strings.Cut(ct, "/")
	if !ok {
		return false
	}
	for _, r := range ranges {
		switch {
		case r.suffix != "":
			if len(sub) > len(r.suffix) && strings.EqualFold(sub[len(sub)-len(r.suffix):], r.suffix) {
				return true
			}
		case r.typ == "*":
			return true
		case strings.EqualFold(typ, r.typ) && (r.sub == "*" || strings.EqualFold(sub, r.sub)):
			return true
		}
	}
	return false
}

// identityEncoding reports whether a Content-Encoding header value leaves
// the body readable (nothing, or "identity").
func identityEncoding(ce string) bool {
	return ce == "" || strings.EqualFold(ce, "identity")
}
