package mask

import (
	"bytes"
	"encoding/base64"
)

// Detector is a set of value detectors: patterns recognised as secrets in
// any string, whatever key holds it.
type Detector uint

// The value detectors.
const (
	// DetectCreditCard finds payment card numbers: 13-19 digits, optionally
	// grouped by spaces or dashes, starting with 2-6, passing the Luhn check.
	DetectCreditCard Detector = 1 << iota
	// DetectJWT finds JSON Web Tokens (eyJ….….…).
	DetectJWT
	// DetectBearer finds the credential after "Bearer " and "Basic ".
	DetectBearer
	// DetectAWSAccessKey finds AWS access key ids (AKIA…, ASIA…).
	DetectAWSAccessKey
	// DetectPrivateKey finds PEM private keys, from BEGIN to END.
	DetectPrivateKey
	// DetectTokens finds GitHub, Stripe, Slack and Google API tokens by
	// their prefixes.
	DetectTokens
	// DetectURL finds URLs (scheme://…) in any value: the password of
	// their userinfo is masked, their query and fragment like url.query.
	DetectURL

	// AllDetectors is every detector.
	AllDetectors = DetectCreditCard | DetectJWT | DetectBearer | DetectAWSAccessKey | DetectPrivateKey | DetectTokens | DetectURL
	// DetectNone, in Config.Detectors, switches every detector off.
	DetectNone Detector = 1 << 31
)

// minDetectable is the length of the shortest secret a detector finds
// ("Basic " and a 4-byte credential); shorter strings are not scanned.
const minDetectable = 10

// Classes of bytes for detect.
const (
	detOther = iota // neither a word byte nor a trigger
	detWord         // a word byte (ASCII letter or digit) no detector starts at
	detStart        // a word byte a detector may start at: "eBbAgsrwx"
	detDigit        // a digit, where a card number may start
	detDash         // '-', where a PEM block may start, inside a word or not
	detMark         // ':', '=' and '<', which may start a key/value pattern
)

var detClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		if isAlnum(byte(c)) {
			t[c] = detWord
		}
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = detDigit
	}
	for _, c := range "eBbAgsrwx" {
		t[c] = detStart
	}
	t['-'] = detDash
	t[':'], t['='], t['<'] = detMark, detMark, detMark
	return t
}()

// isWordByte is isAlnum as a table, for the loops that skip words.
var isWordByte = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = isAlnum(byte(c))
	}
	return t
}()

// detect runs the value detectors over s, which is e.src[base:base+len(s)],
// masking every secret found. In the same pass it reports whether s holds
// a '=', ':' or '<', where a key/value pattern of Text may start.
//
// Detectors start at the first byte of a word (or at any '-'), so the walk
// goes from word to word: a word's first byte is looked at, the rest is
// skipped in a tight loop. A digit run is a card number or skipped whole;
// a word whose first two bytes start no secret (mayStart) is skipped
// without running the detectors.
func (m *Masker) detect(e *editor, base int, s []byte, q quoting) (keys bool) {
	d := m.detectors
	if d == 0 || len(s) < minDetectable {
		return mayHoldKeys(s)
	}
	for i := 0; i < len(s); {
		// Here s[i] starts a word, or is not a word byte.
		switch detClass[s[i]] {
		case detOther:
			i++
			continue
		case detWord:
			i = skipWord(s, i+1)
			continue
		case detMark:
			keys = true
			if s[i] == ':' && d&DetectURL != 0 && i > 0 && i+2 < len(s) && s[i+1] == '/' && s[i+2] == '/' && isAlnum(s[i-1]) {
				i = m.maskURL(e, base, s, i, q) // ends at a byte that ends URLs, not a word byte
				continue
			}
			i++
			continue
		case detDigit:
			end, card := cardRun(s, i)
			if card && d&DetectCreditCard != 0 {
				e.mask(m, base+i, base+end, s[i:end], true, q)
				i = end
				continue
			}
			i = skipWord(s, end)
			continue
		}
		start, end, next := i, 0, i+1
		if mayStart(s, i) {
			start, end, next = scanSecret(s, i, d)
		}
		if end > start {
			// A secret ends before a byte that is not a word byte (or
			// after the dashes of a PEM block).
			e.mask(m, base+start, base+end, s[start:end], false, q)
			i = end
			continue
		}
		if s[i] == '-' {
			i = next // the byte after a dash starts a word
			continue
		}
		i = skipWord(s, next)
	}
	return keys
}

// skipWord returns the index of the first byte from i that is not a word
// byte.
func skipWord(s []byte, i int) int {
	for i < len(s) && isWordByte[s[i]] {
		i++
	}
	return i
}

// scanSecret runs the detectors in d that may start at s[i], the start of
// a word other than a digit run. When one matches, s[start:end] is the
// secret; otherwise end is 0 and the walk goes on at next.
func scanSecret(s []byte, i int, d Detector) (start, end, next int) {
	start, next = i, i+1
	switch c := s[i]; {
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
	default: // g s r w x
		if d&DetectTokens != 0 {
			end = scanToken(s, i)
		}
	}
	return start, end, next
}

// maskURL masks the URL whose "://" is at s[i]: the password of its
// userinfo, and the pairs of its query and fragment. It returns the end of
// the URL.
func (m *Masker) maskURL(e *editor, base int, s []byte, i int, q quoting) int {
	auth := i + 3
	u := urlSpan(s, auth)
	if u.at >= 0 {
		if colon := bytes.IndexByte(s[auth:u.at], ':'); colon >= 0 && auth+colon+1 < u.at {
			e.mask(m, base+auth+colon+1, base+u.at, s[auth+colon+1:u.at], false, q)
		}
	}
	if u.query >= 0 {
		qs := u.query + 1
		qe := u.frag
		if qe < qs { // no '#', or one before the '?': the query ends at a later one
			qe = qs + bytes.IndexByte(s[qs:u.end], '#')
			if qe < qs {
				qe = u.end
			}
		}
		m.pairsInto(e, base+qs, s[qs:qe], q)
	}
	if u.frag >= 0 {
		fs := u.frag + 1
		m.pairsInto(e, base+fs, s[fs:u.end], q) // #access_token=… of OAuth's implicit flow
	}
	return u.end
}

// endsURL reports whether c ends a URL embedded in text.
func endsURL(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', '"', '\'', '<', '>', '\\', '`', '{', '}', '|', '^':
		return true
	}
	return false
}

// scanCard scans the digit run at s[i] (digits with single spaces or dashes
// between them) and reports its end and whether it is a card number.
func scanCard(s []byte, i int) (end int, card bool) {
	digits, sum, j := 0, 0, i
	var buf [19]byte
	for j < len(s) {
		switch {
		case isDigit(s[j]):
			if digits < len(buf) {
				buf[digits] = s[j]
			}
			digits++
			j++
		case (s[j] == ' ' || s[j] == '-') && j+1 < len(s) && isDigit(s[j+1]) && j > i:
			j++
		default:
			goto done
		}
	}
done:
	end = j
	if digits < 13 || digits > 19 || (end < len(s) && isAlnum(s[end])) || s[i] < '2' || s[i] > '6' {
		return end, false
	}
	// Luhn: double every second digit from the right.
	for k := 0; k < digits; k++ {
		v := int(buf[digits-1-k] - '0')
		if k%2 == 1 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return end, sum%10 == 0
}

func scanJWT(s []byte, i int) int {
	if !bytes.HasPrefix(s[i:], []byte("eyJ")) {
		return 0
	}
	j, dots, seg := i, 0, 0
	for j < len(s) {
		switch c := s[j]; {
		case isBase64URL(c):
			seg++
		case c == '.' && seg > 0 && dots < 2:
			dots++
			seg = 0
		default:
			goto done
		}
		j++
	}
done:
	if dots < 2 || j-i < 20 {
		return 0
	}
	return j
}

// scanAuthScheme finds "Bearer <token>" or "Basic <credentials>" at s[i]
// and returns the span of the credential alone.
func scanAuthScheme(s []byte, i int) (start, end int) {
	var scheme string
	switch {
	case len(s)-i > 7 && bytes.EqualFold(s[i:i+7], []byte("bearer ")):
		scheme = "bearer"
	case len(s)-i > 6 && bytes.EqualFold(s[i:i+6], []byte("basic ")):
		scheme = "basic"
	default:
		return 0, 0
	}
	start = i + len(scheme)
	for start < len(s) && s[start] == ' ' {
		start++
	}
	end = start
	for end < len(s) && isToken68(s[end]) {
		end++
	}
	tok := s[start:end]
	if scheme == "bearer" {
		// Prose ("bearer of bad news", "bearer authentication") has no
		// digits or token punctuation; credentials do.
		if len(tok) < 8 || !bytes.ContainsAny(tok, "0123456789-._~+/=") {
			return 0, 0
		}
		return start, end
	}
	dec := make([]byte, base64.StdEncoding.DecodedLen(len(tok)))
	n, err := base64.StdEncoding.Decode(dec, tok)
	if err != nil || len(tok) < 4 || bytes.IndexByte(dec[:n], ':') < 0 {
		return 0, 0
	}
	return start, end
}

func scanPEM(s []byte, i int) int {
	const begin = "-----BEGIN "
	if !bytes.HasPrefix(s[i:], []byte(begin)) {
		return 0
	}
	line := s[i+len(begin):]
	if k := bytes.Index(line, []byte("-----")); k < 0 || !bytes.Contains(line[:k], []byte("PRIVATE KEY")) {
		return 0
	}
	rest := s[i+len(begin):]
	k := bytes.Index(rest, []byte("-----END "))
	if k < 0 {
		return len(s) // cut before its end: mask to the end
	}
	after := rest[k+len("-----END "):]
	if t := bytes.Index(after, []byte("-----")); t >= 0 {
		return len(s) - len(after) + t + len("-----")
	}
	return len(s)
}

func scanAWS(s []byte, i int) int {
	if len(s)-i < 20 || !(bytes.HasPrefix(s[i:], []byte("AKIA")) || bytes.HasPrefix(s[i:], []byte("ASIA"))) {
		return 0
	}
	for _, c := range s[i+4 : i+20] {
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return 0
		}
	}
	if i+20 < len(s) && isAlnum(s[i+20]) {
		return 0
	}
	return i + 20
}

var tokenPrefixes = []struct {
	prefix string
	min    int
	body   func(byte) bool
}{
	{"ghp_", 30, isAlnum}, {"gho_", 30, isAlnum}, {"ghu_", 30, isAlnum}, {"ghs_", 30, isAlnum}, {"ghr_", 30, isAlnum},
	{"github_pat_", 20, isTokenByte},
	{"sk_live_", 10, isAlnum}, {"sk_test_", 10, isAlnum}, {"rk_live_", 10, isAlnum}, {"rk_test_", 10, isAlnum},
	{"whsec_", 20, isAlnum},
	{"xoxb-", 10, isSlackByte}, {"xoxp-", 10, isSlackByte}, {"xoxa-", 10, isSlackByte}, {"xoxr-", 10, isSlackByte},
	{"xoxs-", 10, isSlackByte}, {"xoxe-", 10, isSlackByte},
}

// tokensByFirst indexes tokenPrefixes by their first byte, in order.
var tokensByFirst = func() (t [256][]int) {
	for k, p := range tokenPrefixes {
		t[p.prefix[0]] = append(t[p.prefix[0]], k)
	}
	return t
}()

func scanToken(s []byte, i int) int {
	for _, k := range tokensByFirst[s[i]] {
		p := &tokenPrefixes[k]
		if end := scanPrefixed(s, i, p.prefix, p.min, p.body); end > 0 {
			return end
		}
	}
	return 0
}

// scanPrefixed matches prefix at s[i] followed by at least min body bytes.
func scanPrefixed(s []byte, i int, prefix string, min int, body func(byte) bool) int {
	if !bytes.HasPrefix(s[i:], []byte(prefix)) {
		return 0
	}
	j := i + len(prefix)
	for j < len(s) && body(s[j]) {
		j++
	}
	if j-i-len(prefix) < min {
		return 0
	}
	return j
}

func isDigit(c byte) bool     { return '0' <= c && c <= '9' }
func isAlnum(c byte) bool     { return isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isBase64URL(c byte) bool { return isAlnum(c) || c == '-' || c == '_' }
func isTokenByte(c byte) bool { return isAlnum(c) || c == '_' || c == '-' }
func isSlackByte(c byte) bool { return isAlnum(c) || c == '-' }
func isToken68(c byte) bool {
	return isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '='
}
