package mask

import "bytes"

// Text masks secrets in free text and XML by pattern, for every sensitive
// key:
//   - the value after `key=value`, `key: value`, `"key":"value"`,
//     `"key"=>"value"` (any quotes); an unquoted value after "= " or ": "
//     runs to the end of the line, after a bare '=' to the next white
//     space; an object or array value is masked whole;
//   - a YAML block (`key: |`, `key: >`, or nothing after the colon) on the
//     more indented lines that follow;
//   - the content of `<key>value</key>` and `<ns:key>`, CDATA included, and
//     sensitive attributes of any tag;
//   - the value attribute of a tag whose name, key or id attribute names a
//     sensitive key (`<entry key="password" value="…"/>`, an HTML input
//     `name="password" value="…"` or `type="password"`).
//
// It is also the backstop for bodies that claim to be JSON but are not.
func (m *Masker) Text(b []byte) ([]byte, int) { return m.text(b, false) }

// Free masks a free-text string (a User-Agent, an exception message, a
// header value): the patterns of Text, then the value detectors.
func (m *Masker) Free(s string) (string, int) {
	out, n := m.text(bytesOf(s), false)
	if n == 0 {
		return s, 0
	}
	return ownedString(out), n // a copy: the input is never written
}

func (m *Masker) text(b []byte, inPlace bool) ([]byte, int) {
	if !inPlace && m.detectors != 0 {
		return m.textDetectFirst(b)
	}
	out, n := b, 0
	if m.keysMayMask(b) {
		out, n = m.textKeys(b, inPlace)
	}
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

// textDetectFirst is text for input it may not write, in fewer passes:
// the detectors run first. When they have seen no mark, or no mark
// follows a sensitive key or opens a tag (keysMayMask), the key patterns
// would mask nothing and their pass is saved; so is the detectors' second
// pass when the patterns, run, mask nothing. Otherwise the patterns come
// first and the detectors run over their result.
func (m *Masker) textDetectFirst(b []byte) ([]byte, int) {
	e := editor{src: b}
	keys := m.detect(&e, 0, b, raw)
	// A masked secret's span was not looked into for marks: keysMayMask
	// looks at all of b.
	if !keys && !e.found || !m.keysMayMask(b) {
		return e.result()
	}
	out, n := m.textKeys(b, false)
	if n == 0 {
		return e.result() // out is b: the detectors' pass over it stands
	}
	e = editor{src: out, inPlace: true}
	m.detect(&e, 0, out, raw)
	out, n2 := e.result()
	return out, n + n2
}

func (m *Masker) textKeys(b []byte, inPlace bool) ([]byte, int) {
	e := editor{src: b, inPlace: inPlace}
	for i := 0; i < len(b); {
		if b[i] == '<' {
			i = m.tag(&e, b, i)
			continue
		}
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
		if j >= len(b) || !(b[j] == '=' || b[j] == ':') || !m.keys.sensitive(b[start:end]) {
			continue
		}
		vs, ve := valueSpan(b, start, j)
		if ve > vs {
			e.mask(m, vs, ve, b[vs:ve], false, raw)
		}
		i = max(ve, i)
	}
	return e.result()
}

// valueSpan returns the span of the value whose key starts at b[keyStart]
// and whose separator ('=' or ':') is b[j]; vs == ve when there is none.
func valueSpan(b []byte, keyStart, j int) (vs, ve int) {
	sep := b[j]
	vs = j + 1
	if sep == '=' && vs < len(b) && b[vs] == '>' {
		vs++ // Ruby and PHP hashes: "key" => "value"
	}
	spaced := vs < len(b) && (b[vs] == ' ' || b[vs] == '\t')
	for vs < len(b) && (b[vs] == ' ' || b[vs] == '\t') {
		vs++
	}
	if vs >= len(b) {
		return 0, 0
	}
	switch q := b[vs]; {
	case q == '"' || q == '\'':
		vs++
		ve = vs
		for ve < len(b) && b[ve] != q {
			if b[ve] == '\\' {
				ve++
			}
			ve++
		}
		ve = min(ve, len(b))
	case q == '{' || q == '[':
		ve = skipComposite(b, vs)
	case sep == ':' && (q == '\n' || q == '\r' || isBlockIndicator(b, vs)):
		vs, ve = yamlBlock(b, keyStart, vs)
	default:
		ve = vs
		for ve < len(b) && !endsBareValue(b[ve], sep, spaced) {
			ve++
		}
	}
	return vs, ve
}

// isBlockIndicator reports whether b[i:] is a YAML block scalar header
// (`|`, `>`, with chomping and indentation indicators) ending its line.
func isBlockIndicator(b []byte, i int) bool {
	if b[i] != '|' && b[i] != '>' {
		return false
	}
	for i++; i < len(b) && (b[i] == '-' || b[i] == '+' || isDigit(b[i]) || b[i] == ' ' || b[i] == '\t'); i++ {
	}
	return i >= len(b) || b[i] == '\n' || b[i] == '\r'
}

// yamlBlock returns the span of the value of the key at b[keyStart] whose
// own line ends at or after b[from]: the following lines that are more
// indented than the key's line (or blank). The span is empty when the
// next line is not more indented.
func yamlBlock(b []byte, keyStart, from int) (int, int) {
	lineStart := bytes.LastIndexByte(b[:keyStart], '\n') + 1
	indent := 0
	for lineStart+indent < keyStart && (b[lineStart+indent] == ' ' || b[lineStart+indent] == '\t') {
		indent++
	}
	nl := bytes.IndexByte(b[from:], '\n')
	if nl < 0 {
		return from, from
	}
	start := from + nl + 1
	end := start
	for p := start; p < len(b); {
		le := bytes.IndexByte(b[p:], '\n')
		if le < 0 {
			le = len(b)
		} else {
			le += p
		}
		line := b[p:le]
		k := 0
		for k < len(line) && (line[k] == ' ' || line[k] == '\t') {
			k++
		}
		blank := len(bytes.TrimRight(line[k:], "\r")) == 0
		if !blank && k <= indent {
			break
		}
		if !blank {
			end = le
			if end > p && b[end-1] == '\r' {
				end--
			}
		}
		p = le + 1
	}
	if end == start {
		return start, start
	}
	for start < end && (b[start] == ' ' || b[start] == '\t') {
		start++ // keep the first line's indentation
	}
	return start, end
}

// maxTagAttrs bounds the attributes of one tag that name/value pairing
// looks at; further attributes are still masked by their own names.
const maxTagAttrs = 16

type tagAttr struct {
	name          []byte
	vs, ve        int  // the value's span in the input
	quoted, value bool // value: the attribute is named value or content
}

// tag masks in the tag that starts at b[i] == '<' and returns where the
// walk goes on. Attributes named like a secret are masked; the value
// attribute is masked when a name, key or id attribute names a secret (or
// type="password"); the content of an element named like a secret is
// masked, CDATA included.
func (m *Masker) tag(e *editor, b []byte, i int) int {
	j := i + 1
	if j >= len(b) || !isLetter(b[j]) {
		return i + 1
	}
	nameStart := j
	for j < len(b) && (isKeyByte(b[j]) || b[j] == ':') {
		j++
	}
	name := localName(b[nameStart:j])
	j = m.tagAttrs(e, b, j)
	if j >= len(b) || b[j] != '>' {
		return j
	}
	if b[j-1] == '/' {
		return j + 1
	}
	if !matches(&m.keys, name) {
		if asciiEqualFold(name, "name") || asciiEqualFold(name, "key") {
			m.namedValue(e, b, j+1)
		}
		return j + 1
	}
	return m.elementContent(e, b, j+1)
}

// tagAttrs masks the attributes of the tag whose name ends at b[j], and
// returns where they end.
func (m *Masker) tagAttrs(e *editor, b []byte, j int) int {
	var attrs [maxTagAttrs]tagAttr
	na := 0
	pairs := false // a name-like attribute names a secret
	for j < len(b) && b[j] != '>' && b[j] != '<' {
		if !isKeyByte(b[j]) {
			j++
			continue
		}
		a, next, ok := scanAttr(b, j)
		j = next
		if !ok {
			continue
		}
		switch {
		case nameLike(a.name):
			if matches(&m.keys, b[a.vs:a.ve]) {
				pairs = true
			}
			if asciiEqualFold(a.name, "type") && asciiEqualFold(b[a.vs:a.ve], "password") {
				pairs = true
			}
			continue // holds a key name: never masked itself
		case asciiEqualFold(a.name, "value") || asciiEqualFold(a.name, "content"):
			a.value = true
		}
		if na == len(attrs) {
			m.maskAttrs(e, b, attrs[:na], pairs) // masks must come in order
			na = 0
		}
		attrs[na] = a
		na++
	}
	m.maskAttrs(e, b, attrs[:na], pairs)
	return j
}

// scanAttr scans the attribute whose name starts at b[j] and returns where
// the scan goes on; ok is false for a name without a value.
func scanAttr(b []byte, j int) (a tagAttr, next int, ok bool) {
	as := j
	for j < len(b) && (isKeyByte(b[j]) || b[j] == ':') {
		j++
	}
	an := localName(b[as:j])
	k := j
	for k < len(b) && (b[k] == ' ' || b[k] == '\t' || b[k] == '\n' || b[k] == '\r') {
		k++
	}
	if k >= len(b) || b[k] != '=' {
		return tagAttr{}, j, false
	}
	k++
	for k < len(b) && (b[k] == ' ' || b[k] == '\t') {
		k++
	}
	a = tagAttr{name: an, vs: k}
	if k < len(b) && (b[k] == '"' || b[k] == '\'') {
		q := b[k]
		a.quoted = true
		a.vs = k + 1
		a.ve = a.vs
		for a.ve < len(b) && b[a.ve] != q {
			a.ve++
		}
		return a, min(a.ve+1, len(b)), true
	}
	a.ve = k
	for a.ve < len(b) && !endsBareValue(b[a.ve], '=', false) && b[a.ve] != '/' {
		a.ve++
	}
	return a, a.ve, true
}

// elementContent masks the content of an element named like a secret,
// <key …>value</key>, which starts at b[vs]: up to the next tag, or the
// CDATA section. It returns where the walk goes on.
func (m *Masker) elementContent(e *editor, b []byte, vs int) int {
	const cdata = "<![CDATA["
	k := vs
	for k < len(b) && isSpace(b[k]) {
		k++
	}
	if bytes.HasPrefix(b[k:], []byte(cdata)) {
		vs = k + len(cdata)
		ve := bytes.Index(b[vs:], []byte("]]>"))
		if ve < 0 {
			ve = len(b) - vs
		}
		if ve > 0 {
			e.mask(m, vs, vs+ve, b[vs:vs+ve], false, raw)
		}
		return vs + ve
	}
	ve := vs
	for ve < len(b) && b[ve] != '<' {
		ve++
	}
	if ve > vs {
		e.mask(m, vs, ve, b[vs:ve], false, raw)
	}
	return ve
}

func (m *Masker) maskAttrs(e *editor, b []byte, attrs []tagAttr, pairs bool) {
	for _, a := range attrs {
		if (a.value && pairs) || matches(&m.keys, a.name) {
			e.mask(m, a.vs, a.ve, b[a.vs:a.ve], false, raw)
		}
	}
}

// namedValue handles the element pair of Java properties and Hadoop
// configurations, <name>db.password</name><value>…</value>: when the name
// element starting its content at b[i] names a secret, the content of the
// <value> element that follows is masked.
func (m *Masker) namedValue(e *editor, b []byte, i int) {
	end := i
	for end < len(b) && b[end] != '<' {
		end++
	}
	if end == i || !matches(&m.keys, bytes.TrimSpace(b[i:end])) {
		return
	}
	const open = "<value>"
	window := b[end:min(len(b), end+256)]
	k := bytes.Index(window, []byte(open))
	if k < 0 {
		return
	}
	vs := end + k + len(open)
	ve := vs
	for ve < len(b) && b[ve] != '<' {
		ve++
	}
	if ve > vs {
		e.mask(m, vs, ve, b[vs:ve], false, raw)
	}
}

// localName strips an XML namespace prefix.
func localName(n []byte) []byte {
	if k := bytes.LastIndexByte(n, ':'); k >= 0 {
		return n[k+1:]
	}
	return n
}

// nameLike reports whether an attribute holds the name of a field rather
// than a value: name, key, id, type, for, field, param, property.
func nameLike(a []byte) bool {
	for _, n := range [...]string{"name", "key", "id", "type", "for", "field", "param", "property"} {
		if asciiEqualFold(a, n) {
			return true
		}
	}
	return false
}

func asciiEqualFold(a []byte, s string) bool {
	if len(a) != len(s) {
		return false
	}
	for i := range a {
		c := a[i]
		if isUpper(c) {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return isUpper(c) || isLower(c) }

func isKeyByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.'
}

// endsBareValue reports whether c ends an unquoted value. After ':', or '='
// followed by white space (`key = several words`), the value runs to the
// end of the line ("Authorization: Bearer x"); after a bare '=' it ends at
// white space too.
func endsBareValue(c, sep byte, spaced bool) bool {
	switch c {
	case '\r', '\n', '&', ';', ',', '<', '"', '\'', '}', ']':
		return true
	case ' ', '\t', '>', ')':
		return sep == '=' && !spaced
	}
	return false
}
