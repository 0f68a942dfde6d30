package mask

import (
	"bytes"
	"strings"
)

// Multipart masks a multipart/form-data body: the content of every part
// whose field name is sensitive is replaced, other parts with a textual
// content type are masked by their own type, file parts are left alone
// apart from the detectors. A body cut short is masked as far as it goes.
func (m *Masker) Multipart(b []byte, boundary string) ([]byte, int) {
	if boundary == "" {
		return m.Text(b)
	}
	delim := []byte("--" + boundary)
	e := editor{src: b}
	i := bytes.Index(b, delim)
	for i >= 0 {
		hdrStart := i + len(delim)
		if bytes.HasPrefix(b[hdrStart:], []byte("--")) {
			break // the closing delimiter
		}
		// Lines end in CRLF, or in LF alone, which Go's own parser accepts.
		hdrEnd, sepLen := bytes.Index(b[hdrStart:], []byte("\r\n\r\n")), 4
		if lf := bytes.Index(b[hdrStart:], []byte("\n\n")); lf >= 0 && (hdrEnd < 0 || lf < hdrEnd) {
			hdrEnd, sepLen = lf, 2
		}
		if hdrEnd < 0 {
			break // cut inside the part headers: nothing of its content was captured
		}
		hdrs := b[hdrStart : hdrStart+hdrEnd]
		cStart := hdrStart + hdrEnd + sepLen
		next := bytes.Index(b[cStart:], append([]byte("\n"), delim...))
		cEnd := len(b)
		if next >= 0 {
			cEnd = cStart + next
			if cEnd > cStart && b[cEnd-1] == '\r' {
				cEnd--
			}
		}
		name, file, ct := partHeaders(hdrs)
		switch {
		case cEnd <= cStart:
		case matches(&m.keys, name):
			e.mask(m, cStart, cEnd, b[cStart:cEnd], false, raw)
		case !file:
			if masked, n := m.Body(ct, b[cStart:cEnd]); n > 0 {
				e.replace(cStart, cEnd, masked)
				e.count += n - 1
			}
		default:
			m.detect(&e, cStart, b[cStart:cEnd], raw)
		}
		if next < 0 {
			break
		}
		i = cStart + next + 1
	}
	return e.result()
}

// partHeaders returns the field name, whether the part is a file, and its
// content type.
func partHeaders(h []byte) (name string, file bool, ct string) {
	for _, line := range strings.Split(string(h), "\n") {
		k, v, ok := strings.Cut(strings.TrimSuffix(line, "\r"), ":")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "content-disposition":
			name = param(v, "name")
			file = strings.Contains(strings.ToLower(v), "filename")
		case "content-type":
			ct = strings.TrimSpace(v)
		}
	}
	return name, file, ct
}

// param returns the value of parameter key in a header value such as
// `form-data; name="password"`.
func param(v, key string) string {
	for _, p := range strings.Split(v, ";") {
		k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), key) {
			return strings.Trim(strings.TrimSpace(val), `"`)
		}
	}
	return ""
}

// boundary returns the boundary parameter of a multipart content type.
func boundary(contentType string) string {
	_, params, _ := strings.Cut(contentType, ";")
	return param(params, "boundary")
}
