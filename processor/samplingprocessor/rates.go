package samplingprocessor

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Rates is the compiled rate table: for method M and status S it looks in
// the entry for M, then in the default entry; in each, the exact status,
// then its class ("2xx"), then the entry's own default; the first hit wins,
// and nothing found means 1.0.
type Rates struct {
	methods map[string]*statusRates // upper-case method
	def     *statusRates            // the "default" method entry, may be nil
}

type statusRates struct {
	exact    map[int]float64
	class    [10]float64 // index: status / 100
	hasClass [10]bool
	def      float64
	hasDef   bool
}

// lookup returns the rate for status from this entry and whether one was
// configured.
func (s *statusRates) lookup(status int) (float64, bool) {
	if s == nil {
		return 0, false
	}
	if r, ok := s.exact[status]; ok {
		return r, true
	}
	if c := status / 100; c >= 0 && c < len(s.class) && s.hasClass[c] {
		return s.class[c], true
	}
	return s.def, s.hasDef
}

// Rate returns the sampling rate for a record of method and status.
func (r Rates) Rate(method string, status int) float64 {
	if sr, ok := r.methods[method]; ok {
		if v, ok := sr.lookup(status); ok {
			return v
		}
	} else if sr, ok := r.methods[strings.ToUpper(method)]; ok {
		if v, ok := sr.lookup(status); ok {
			return v
		}
	}
	if v, ok := r.def.lookup(status); ok {
		return v
	}
	return 1
}

// ParseRates compiles the `rates` configuration: a map from method (or
// "default") to either a bare rate, applying to every status, or a map from
// status selector ("200", "3xx" or "default") to rate. Errors name the key
// path, e.g. `rates::GET::2x`.
func ParseRates(raw map[string]any) (Rates, error) {
	r := Rates{methods: map[string]*statusRates{}}
	// Sorted, so that the first error reported is always the same one.
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	seen := map[string]string{}
	for _, method := range keys {
		path := "rates::" + method
		sr, err := parseStatusRates(path, raw[method])
		if err != nil {
			return Rates{}, err
		}
		if strings.EqualFold(method, "default") {
			r.def = sr
			continue
		}
		if method == "" || strings.ContainsAny(method, " \t/") {
			return Rates{}, fmt.Errorf("%s: invalid HTTP method %q", path, method)
		}
		up := strings.ToUpper(method)
		if prev, dup := seen[up]; dup {
			return Rates{}, fmt.Errorf("%s: method given twice (also as %q); method keys are case-insensitive", path, prev)
		}
		seen[up] = method
		r.methods[up] = sr
	}
	return r, nil
}

func parseStatusRates(path string, v any) (*statusRates, error) {
	sr := &statusRates{exact: map[int]float64{}}
	if m, ok := v.(map[string]any); ok {
		for sel, rv := range m {
			p := path + "::" + sel
			rate, err := parseRate(p, rv)
			if err != nil {
				return nil, err
			}
			switch {
			case strings.EqualFold(sel, "default"):
				sr.def, sr.hasDef = rate, true
			case len(sel) == 3 && sel[0] >= '1' && sel[0] <= '5' && (sel[1:] == "xx" || sel[1:] == "XX"):
				c := int(sel[0] - '0')
				sr.class[c], sr.hasClass[c] = rate, true
			default:
				code, err := strconv.Atoi(sel)
				if err != nil || len(sel) != 3 || code < 100 || code > 599 {
					return nil, fmt.Errorf(`%s: invalid status selector %q: want a status code (100-599), a class such as "2xx", or "default"`, p, sel)
				}
				sr.exact[code] = rate
			}
		}
		return sr, nil
	}
	rate, err := parseRate(path, v)
	if err != nil {
		return nil, err
	}
	sr.def, sr.hasDef = rate, true
	return sr, nil
}

func parseRate(path string, v any) (float64, error) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case uint64:
		f = float64(x)
	case string:
		p, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return 0, fmt.Errorf("%s: rate %q is not a number", path, x)
		}
		f = p
	case nil:
		return 0, fmt.Errorf("%s: rate is missing", path)
	default:
		return 0, fmt.Errorf("%s: rate must be a number in [0,1] or a map of status selectors, got %T", path, v)
	}
	if !(f >= 0 && f <= 1) { // also rejects NaN
		return 0, fmt.Errorf("%s: rate %v is outside [0,1]", path, f)
	}
	return f, nil
}
