package mask

// Query masks a raw URL query string: the value of every pair whose key is
// sensitive is replaced, every other byte is kept (keys, order, repeated
// keys, encoding). Keys are percent-decoded before matching, so "pass%77ord"
// is "password".
func (m *Masker) Query(raw string) (string, int) {
	out, n := m.pairs(bytesOf(raw), false)
	if n == 0 {
		return raw, 0
	}
	return string(out), n
}

// Form masks an application/x-www-form-urlencoded body like Query.
func (m *Masker) Form(b []byte) ([]byte, int) { return m.pairs(b, false) }

func (m *Masker) pairs(b []byte, inPlace bool) ([]byte, int) {
	e := editor{src: b, inPlace: inPlace}
	var buf [64]byte
	for start := 0; start < len(b); {
		end := start
		for end < len(b) && b[end] != '&' {
			end++
		}
		eq := start
		for eq < end && b[eq] != '=' {
			eq++
		}
		switch {
		case eq+1 >= end:
		case m.queryKeySensitive(buf[:0], b[start:eq]):
			e.mask(m, eq+1, end, b[eq+1:end], false, raw)
		default:
			m.detect(&e, eq+1, b[eq+1:end], raw)
		}
		start = end + 1
	}
	return e.result()
}

// unescapeQuery appends the percent-decoded form of s to dst ('+' is a
// space). Malformed escapes are kept as they are.
// queryKeySensitive reports whether a raw query key is sensitive once
// decoded; keys without escapes, nearly all of them, go through the
// verdict cache.
func (m *Masker) queryKeySensitive(buf, key []byte) bool {
	for _, c := range key {
		if c == '%' || c == '+' {
			return sensitive(m, unescapeQuery(buf, key))
		}
	}
	return m.verdicts.sensitive(m, key)
}

func unescapeQuery(dst, s []byte) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			c = ' '
		case c == '%' && i+2 < len(s) && ishex(s[i+1]) && ishex(s[i+2]):
			c = unhex(s[i+1])<<4 | unhex(s[i+2])
			i += 2
		}
		dst = append(dst, c)
	}
	return dst
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
