package mask

import "strings"

// URL masks a URL or request target (absolute or not): the password of
// its userinfo, its query like Query and its fragment's pairs
// (#access_token=… of OAuth's implicit flow), then the rest through the
// detectors.
func (m *Masker) URL(u string) (string, int) {
	b := bytesOf(u)
	e := editor{src: b}
	q := strings.IndexByte(u, '?')
	f := strings.IndexByte(u, '#')
	if f >= 0 && q > f {
		q = -1 // a '?' inside the fragment
	}
	headEnd := len(b)
	if q >= 0 {
		headEnd = q
	} else if f >= 0 {
		headEnd = f
	}
	if strings.Contains(u[:headEnd], "://") {
		m.maskURL(&e, 0, b, strings.Index(u, "://"), raw)
	} else {
		m.detect(&e, 0, b[:headEnd], raw)
		if q >= 0 {
			end := len(b)
			if f > q {
				end = f
			}
			m.pairsInto(&e, q+1, b[q+1:end], raw)
		}
		if f >= 0 {
			m.pairsInto(&e, f+1, b[f+1:], raw)
		}
	}
	out, n := e.result()
	if n == 0 {
		return u, 0
	}
	return string(out), n
}

// Path masks url.path: the segments that a wildcard of route (the route
// pattern of the request, http.route) named like a secret matched, as in
// /reset-password/{token} or /invite/{code}; then the path as free text
// (`;jsessionid=…` and the detectors). Wildcards are written {name},
// {name...} (the rest of the path), {name:regexp} or :name; a method and a
// host before the path are skipped.
func (m *Masker) Path(route, path string) (string, int) {
	if route == "" {
		return m.Free(path)
	}
	if k := strings.IndexByte(route, '/'); k > 0 {
		route = route[k:] // "GET example.com/x/{id}" -> "/x/{id}"
	}
	if !strings.ContainsAny(route, "{:*") {
		return m.Free(path)
	}
	var out strings.Builder
	count := 0
	rest := path
	for seg := range strings.SplitSeq(strings.TrimPrefix(route, "/"), "/") {
		if !strings.HasPrefix(rest, "/") {
			break
		}
		rest = rest[1:]
		k := strings.IndexByte(rest, '/')
		if k < 0 {
			k = len(rest)
		}
		name, tail := wildcard(seg)
		switch {
		case name == "" || !m.SensitiveKey(name) || rest == "":
			out.WriteByte('/')
			out.WriteString(rest[:k])
			rest = rest[k:]
			continue
		case tail:
			k = len(rest)
		}
		out.WriteByte('/')
		if m.alreadyMasked(bytesOf(rest[:k])) {
			out.WriteString(rest[:k])
		} else {
			out.WriteString(m.Redact(bytesOf(rest[:k])))
			count++
		}
		rest = rest[k:]
	}
	if count == 0 {
		return m.Free(path)
	}
	out.WriteString(rest)
	masked, n := m.Free(out.String())
	return masked, count + n
}

// wildcard returns the name of a route segment that is a wildcard, and
// whether it matches the rest of the path.
func wildcard(seg string) (name string, tail bool) {
	switch {
	case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}"):
		name = seg[1 : len(seg)-1]
		if k := strings.IndexByte(name, ':'); k >= 0 {
			name = name[:k] // {token:[0-9a-f]+}
		}
		if n, ok := strings.CutSuffix(name, "..."); ok {
			return n, true
		}
		return name, false
	case strings.HasPrefix(seg, ":"):
		return seg[1:], false
	case strings.HasPrefix(seg, "*") && len(seg) > 1:
		return seg[1:], true
	}
	return "", false
}
