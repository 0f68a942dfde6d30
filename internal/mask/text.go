package mask

// Text masks secrets in free text and XML by pattern: the value after
// `key=value`, `key: value`, `"key":"value"` (any quotes) and the content of
// `<key>value</key>`, for every sensitive key. It is also the backstop for
// bodies that claim to be JSON but are not.
func (m *Masker) Text(b []byte) ([]byte, int) { return m.text(b, false) }

func (m *Masker) text(b []byte, inPlace bool) ([]byte, int) {
	out, n := m.textKeys(b, inPlace)
	if m.detectors == 0 {
		return out, n
	}
	// out is b, or a copy of it made by textKeys: in place either way
	// when b may be written.
	e := editor{src: out, inPlace: inPlace || n > 0}
	m.detect(&e, 0, out, raw)
	out, n2 := e.result()
	return out, n + n2
}

func (m *Masker) textKeys(b []byte, inPlace bool) ([]byte, int) {
	e := editor{src: b, inPlace: inPlace}
	for i := 0; i < len(b); {
		if !isKeyByte(b[i]) {
			i++
			continue
		}
		start := i
		for i < len(b) && isKeyByte(b[i]) {
			i++
		}
		end := i
		j := end
		if j < len(b) && (b[j] == '"' || b[j] == '\'') {
			j++
		}
		for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
			j++
		}
		xml := start > 0 && b[start-1] == '<'
		if j >= len(b) || !(b[j] == '=' || b[j] == ':' || xml) || !sensitive(m, b[start:end]) {
			continue
		}
		if xml && b[j] != '=' && b[j] != ':' {
			// <key attr="…">value</key>: the content up to the next tag.
			gt := j
			for gt < len(b) && b[gt] != '>' && b[gt] != '<' {
				gt++
			}
			if gt >= len(b) || b[gt] != '>' || b[gt-1] == '/' {
				continue
			}
			vs := gt + 1
			ve := vs
			for ve < len(b) && b[ve] != '<' {
				ve++
			}
			if ve > vs {
				e.mask(m, vs, ve, b[vs:ve], false, raw)
			}
			i = ve
			continue
		}
		sep := b[j]
		vs := j + 1
		for vs < len(b) && (b[vs] == ' ' || b[vs] == '\t') {
			vs++
		}
		if vs >= len(b) {
			continue
		}
		var ve int
		if q := b[vs]; q == '"' || q == '\'' {
			vs++
			ve = vs
			for ve < len(b) && b[ve] != q {
				if b[ve] == '\\' {
					ve++
				}
				ve++
			}
			if ve > len(b) {
				ve = len(b)
			}
		} else {
			ve = vs
			for ve < len(b) && !endsBareValue(b[ve], sep) {
				ve++
			}
		}
		if ve > vs {
			e.mask(m, vs, ve, b[vs:ve], false, raw)
		}
		i = ve
	}
	return e.result()
}

func isKeyByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.'
}

// endsBareValue reports whether c ends an unquoted value. After ':' the value
// runs to the end of the line ("Authorization: Bearer x"); after '=' it ends
// at white space too.
func endsBareValue(c, sep byte) bool {
	switch c {
	case '\r', '\n', '&', ';', ',', '<', '"', '\'', '}', ']':
		return true
	case ' ', '\t', '>', ')':
		return sep == '='
	}
	return false
}
