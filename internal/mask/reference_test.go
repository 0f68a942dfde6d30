package mask

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"sync/atomic"

	"github.com/otelaudit/otelaudit/auditconv"
)

// The engine as it was before its fast paths, kept as the reference that
// the differential fuzz targets (diff_test.go) compare the engine with.

// refMasker is a Masker with the verdict cache as it was.
type refMasker struct {
	*Masker
	verdicts [1024]atomic.Pointer[verdict]
}

func newRef(m *Masker) *refMasker { return &refMasker{Masker: m} }

func (m *refMasker) sensitive(key []byte) bool {
	var h uint32
	if n := len(key); n > 0 {
		h = (uint32(n) | uint32(key[0])<<8 | uint32(key[n/2])<<16 | uint32(key[n-1])<<24) * 0x9E3779B1
	}
	slot := &m.verdicts[h>>22]
	if v := slot.Load(); v != nil && v.key == string(key) {
		return v.hit
	}
	hit := matches(&m.keys, key)
	if len(key) <= 64 {
		slot.Store(&verdict{key: string(key), hit: hit})
	}
	return hit
}

// refJSON is the reference of Masker.json.
func refJSON(m *refMasker, b []byte, inPlace bool) ([]byte, int) {
	out, n, malformed := refWalkJSON(m, b, inPlace)
	if malformed {
		out2, n2 := refText(m, out, inPlace || n > 0)
		return out2, n + n2
	}
	return out, n
}

func refWalkJSON(m *refMasker, b []byte, inPlace bool) (out []byte, count int, malformed bool) {
	e := editor{src: b, inPlace: inPlace}
	var keyBuf [64]byte
	depth := 0
	for i := 0; i < len(b); {
		switch gapClass[b[i]] {
		case gapSkip:
			i++
			continue
		case gapOpen:
			if depth >= m.maxDepth {
				end := refSkipComposite(b, i)
				e.mask(m.Masker, i, end, b[i:end], false, jsonValue)
				i = end
				continue
			}
			depth++
			i++
			continue
		case gapClose:
			if depth == 0 {
				malformed = true
			} else {
				depth--
			}
			i++
			continue
		case gapBare:
			end, valid := refScanBareValid(b, i)
			if !valid {
				malformed = true
			} else if m.detectors&DetectCreditCard != 0 && end-i >= 13 {
				if cardEnd, card := scanCard(b[:end], i); card && cardEnd == end {
					e.mask(m.Masker, i, end, b[i:end], true, jsonValue)
				}
			}
			i = end
			continue
		}

		end, closed, escaped := refScanString(b, i)
		j := end
		for j < len(b) && isSpace(b[j]) {
			j++
		}
		if !closed || j >= len(b) || b[j] != ':' {
			refJSONStringValue(m, &e, b, i, end, closed, escaped)
			i = end
			continue
		}
		inner := b[i+1 : end-1]
		var hit bool
		if escaped {
			hit = matches(&m.keys, unescapeJSON(keyBuf[:0], inner))
		} else {
			hit = m.sensitive(inner)
		}
		i = j + 1
		if !hit {
			continue
		}
		for i < len(b) && isSpace(b[i]) {
			i++
		}
		if i >= len(b) {
			break
		}
		var vend int
		var value []byte
		switch b[i] {
		case '"':
			vend, _, _ = refScanString(b, i)
			value = b[i+1 : vend]
			if vend-i >= 2 && b[vend-1] == '"' {
				value = b[i+1 : vend-1]
			}
		case '{', '[':
			vend = refSkipComposite(b, i)
			value = b[i:vend]
		case ',', '}', ']', ':':
			malformed = true
			continue
		default:
			vend = refScanBare(b, i)
			value = b[i:vend]
		}
		e.mask(m.Masker, i, vend, value, false, jsonValue)
		i = vend
	}
	out, count = e.result()
	return out, count, malformed
}

func refJSONStringValue(m *refMasker, e *editor, b []byte, i, end int, closed, escaped bool) {
	contentEnd := end
	if closed {
		contentEnd = end - 1
	}
	content := b[i+1 : contentEnd]
	if !escaped {
		outPos := i + 1
		if e.out != nil {
			outPos = len(e.out) + i + 1 - e.last
		}
		count := e.count
		if !refDetect(m, e, i+1, content, jsonInside) || len(content) < 3 {
			return
		}
		if e.count > count {
			refJSONStringAgain(m, e, b, i, contentEnd, outPos)
			return
		}
	}
	src := content
	if escaped {
		src = unescapeJSON(nil, content)
	}
	var masked []byte
	var n int
	switch k := firstNonSpace(src); {
	case k < len(src) && (src[k] == '{' || src[k] == '['):
		masked, n = refJSON(m, src, escaped)
	case escaped && !mayHoldKeys(src):
		refDetect(m, e, i+1, content, jsonInside)
		return
	default:
		masked, n = refText(m, src, escaped)
	}
	if n == 0 {
		return
	}
	lit := auditconv.AppendJSONString(nil, masked)
	if !closed {
		lit = lit[:len(lit)-1]
	}
	e.replace(i, end, lit)
	e.count += n - 1
}

func refJSONStringAgain(m *refMasker, e *editor, b []byte, i, contentEnd, outPos int) {
	masked := unescapeJSON(nil, e.out[outPos:])
	masked = append(masked, b[e.last:contentEnd]...)
	out, n := refText(m, masked, true)
	if n == 0 {
		return
	}
	lit := auditconv.AppendJSONString(nil, out)
	lit = lit[1 : len(lit)-1]
	e.out, e.last = e.out[:outPos], i+1
	e.replace(i+1, contentEnd, lit)
	e.count += n - 1
}

func refScanString(b []byte, i int) (end int, closed, escaped bool) {
	j := i + 1
	for {
		for j+8 <= len(b) {
			w := binary.LittleEndian.Uint64(b[j:])
			if m := hasByte(w, '"') | hasByte(w, '\\'); m != 0 {
				j += bits.TrailingZeros64(m) / 8
				break
			}
			j += 8
		}
		for j < len(b) && b[j] != '"' && b[j] != '\\' {
			j++
		}
		switch {
		case j >= len(b):
			return len(b), false, escaped
		case b[j] == '"':
			return j + 1, true, escaped
		}
		escaped = true
		j += 2
		if j > len(b) {
			return len(b), false, true
		}
	}
}

func refScanBare(b []byte, i int) int {
	j := i + 1
	for j < len(b) {
		switch b[j] {
		case ' ', '\t', '\n', '\r', ',', ':', '{', '}', '[', ']', '"':
			return j
		}
		j++
	}
	return j
}

func refSkipComposite(b []byte, i int) int {
	depth := 0
	for j := i; j < len(b); j++ {
		switch b[j] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return j + 1
			}
		case '"':
			end, _, _ := refScanString(b, j)
			j = end - 1
		}
	}
	return len(b)
}

func refScanBareValid(b []byte, i int) (int, bool) {
	valid := true
	j := i
	switch b[i] {
	case 't', 'f', 'n':
		end := refScanBare(b, i)
		tok := string(b[i:end])
		return end, tok == "true" || tok == "false" || tok == "null"
	}
	for ; j < len(b); j++ {
		c := b[j]
		if bareClass[c] == 0 {
			break
		}
		if bareClass[c] == 2 {
			valid = false
		}
	}
	if j == i {
		j++
		valid = false
	}
	return j, valid
}

// refPairs is the reference of Masker.pairs.
func refPairs(m *refMasker, b []byte, inPlace bool) ([]byte, int) {
	e := editor{src: b, inPlace: inPlace}
	refPairsInto(m, &e, 0, b, raw)
	return e.result()
}

func refPairsInto(m *refMasker, e *editor, base int, s []byte, q quoting) {
	var buf [64]byte
	for start := 0; start < len(s); {
		end := start
		for end < len(s) && s[end] != '&' && s[end] != ';' {
			end++
		}
		eq := start
		for eq < end && s[eq] != '=' {
			eq++
		}
		switch {
		case eq+1 >= end:
		case refQueryKeySensitive(m, buf[:0], s[start:eq]):
			e.mask(m.Masker, base+eq+1, base+end, s[eq+1:end], false, q)
		default:
			refDetect(m, e, base+eq+1, s[eq+1:end], q)
		}
		start = end + 1
	}
}

func refQueryKeySensitive(m *refMasker, buf, key []byte) bool {
	for _, c := range key {
		if c == '%' || c == '+' {
			return matches(&m.keys, unescapeQuery(buf, key))
		}
	}
	return m.sensitive(key)
}

// refHeader is the reference of Masker.Header.
func refHeader(m *refMasker, name string, values []string) ([]string, int) {
	if m.sensitive(bytesOf(name)) {
		var out []string
		n := 0
		for i, v := range values {
			if m.alreadyMasked(bytesOf(v)) {
				continue
			}
			if out == nil {
				out = append([]string(nil), values...)
			}
			out[i] = m.Redact(bytesOf(v))
			n++
		}
		if out == nil {
			return values, 0
		}
		return out, n
	}
	var out []string
	total := 0
	for i, v := range values {
		mv, n := refFree(m, v)
		if n == 0 {
			continue
		}
		if out == nil {
			out = append([]string(nil), values...)
		}
		out[i] = mv
		total += n
	}
	if out == nil {
		return values, 0
	}
	return out, total
}

func refFree(m *refMasker, s string) (string, int) {
	out, n := refText(m, bytesOf(s), false)
	if n == 0 {
		return s, 0
	}
	return string(out), n
}

func refText(m *refMasker, b []byte, inPlace bool) ([]byte, int) {
	out, n := b, 0
	if mayHoldKeys(b) {
		out, n = m.textKeys(b, inPlace)
	}
	if m.detectors == 0 {
		return out, n
	}
	e := editor{src: out, inPlace: inPlace || n > 0}
	refDetect(m, &e, 0, out, raw)
	out, n2 := e.result()
	return out, n + n2
}

func refDetect(m *refMasker, e *editor, base int, s []byte, q quoting) (keys bool) {
	d := m.detectors
	if d == 0 || len(s) < minDetectable {
		return mayHoldKeys(s)
	}
	for i := 0; i < len(s); {
		c := s[i]
		if !trigger[c] {
			i++
			continue
		}
		if c == ':' || c == '=' || c == '<' {
			keys = true
			if c == ':' && d&DetectURL != 0 && i > 0 && i+2 < len(s) && s[i+1] == '/' && s[i+2] == '/' && isAlnum(s[i-1]) {
				i = refMaskURL(m, e, base, s, i, q)
				continue
			}
			i++
			continue
		}
		if c != '-' && i > 0 && isAlnum(s[i-1]) {
			i++
			for i < len(s) && isAlnum(s[i]) {
				i++
			}
			continue
		}
		start, end, card, next := refScanSecret(s, i, d)
		if end > start {
			e.mask(m.Masker, base+start, base+end, s[start:end], card, q)
			i = end
			continue
		}
		i = next
	}
	return keys
}

func refScanSecret(s []byte, i int, d Detector) (start, end int, card bool, next int) {
	start, next = i, i+1
	switch c := s[i]; {
	case isDigit(c):
		var runEnd int
		runEnd, card = scanCard(s, i)
		if card && d&DetectCreditCard != 0 {
			end = runEnd
		} else {
			return start, 0, false, runEnd
		}
	case c == 'e':
		if d&DetectJWT != 0 {
			end = scanJWT(s, i)
		}
	case c == 'B' || c == 'b':
		if d&DetectBearer != 0 {
			start, end = scanAuthScheme(s, i)
		}
	case c == '-':
		if d&DetectPrivateKey != 0 {
			end = scanPEM(s, i)
		}
	case c == 'A':
		if d&DetectAWSAccessKey != 0 {
			end = scanAWS(s, i)
		}
		if end == 0 && d&DetectTokens != 0 {
			end = scanPrefixed(s, i, "AIza", 35, isTokenByte)
		}
	default:
		if d&DetectTokens != 0 {
			end = refScanToken(s, i)
		}
	}
	return start, end, card, next
}

func refScanToken(s []byte, i int) int {
	for _, p := range tokenPrefixes {
		if p.prefix[0] == s[i] {
			if end := scanPrefixed(s, i, p.prefix, p.min, p.body); end > 0 {
				return end
			}
		}
	}
	return 0
}

func refMaskURL(m *refMasker, e *editor, base int, s []byte, i int, q quoting) int {
	end := i + 3
	for end < len(s) && !endsURL(s[end]) {
		end++
	}
	auth := i + 3
	authEnd := auth
	for authEnd < end && s[authEnd] != '/' && s[authEnd] != '?' && s[authEnd] != '#' {
		authEnd++
	}
	if at := bytes.LastIndexByte(s[auth:authEnd], '@'); at >= 0 {
		if colon := bytes.IndexByte(s[auth:auth+at], ':'); colon >= 0 && colon+1 < at {
			e.mask(m.Masker, base+auth+colon+1, base+auth+at, s[auth+colon+1:auth+at], false, q)
		}
	}
	if k := bytes.IndexByte(s[authEnd:end], '?'); k >= 0 {
		qs := authEnd + k + 1
		qe := qs + bytes.IndexByte(s[qs:end], '#')
		if qe < qs {
			qe = end
		}
		refPairsInto(m, e, base+qs, s[qs:qe], q)
	}
	if k := bytes.IndexByte(s[authEnd:end], '#'); k >= 0 {
		fs := authEnd + k + 1
		refPairsInto(m, e, base+fs, s[fs:end], q)
	}
	return end
}

// trigger marks the bytes at which a detector may start.
var trigger = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "eBbA-gsrwx:=<" {
		t[c] = true
	}
	return t
}()
