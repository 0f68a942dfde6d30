package mask

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
	"sync/atomic"
	"unsafe"
)

// RulesVersion names the default rule set (DefaultSensitiveKeys,
// DefaultExactKeys, DefaultWordKeys, DefaultQueryKeys and the detectors)
// that docs/masking.md publishes with the reason for every entry.
const RulesVersion = "2"

// DefaultSensitiveKeys are the substring terms matched against normalised
// keys unless Config.ReplaceDefaultKeys is set: distinctive words that do
// not occur inside ordinary words.
var DefaultSensitiveKeys = []string{
	"password", "passwd", "passphrase", "passcode", "secret", "token", "apikey", "accesskey",
	"authorization", "authkey", "cookie", "credential", "privatekey", "sessionid", "sessionkey",
}

// DefaultExactKeys are the terms that a normalised key must equal to be
// sensitive: short or ambiguous words that as substrings would mask
// look-alikes ("access" in access_level, "code" in country_code, "key" in
// keyboard, "session" in session_count).
var DefaultExactKeys = []string{
	"access", "refresh", "session", "sid", "auth", "key", "code", "csrf", "xsrf", "jwt", "bearer", "cvc",
}

// DefaultWordKeys are the terms that the whole key or its last word must
// equal: short words for passwords and one-time codes that services
// qualify with a prefix (db_pass, userPwd, sms_otp) but that as substrings
// would mask look-alikes (passenger, compass, spinner).
var DefaultWordKeys = []string{"pwd", "pw", "pass", "pin", "otp", "cvv", "ssn"}

// DefaultQueryKeys are exact terms from signed URLs: the query keys
// OpenTelemetry's semantic conventions redact from url.query by default,
// and the signature keys of AWS SigV4, Google Cloud Storage and OAuth 1
// (X-Amz-Credential, X-Amz-Security-Token, AWSAccessKeyId and
// X-Goog-Credential are caught by the substring terms). They apply to
// every key, not only in queries.
var DefaultQueryKeys = []string{"sig", "signature", "xamzsignature", "xgoogsignature", "oauthsignature"}

// keyRules decide whether a key is sensitive: the normalised terms of a
// Config, and the verdicts already reached.
type keyRules struct {
	substr   [][]byte
	byFirst  [256][][]byte // substring terms indexed by their first byte
	exact    [][]byte
	words    [][]byte
	verdicts *verdictCache
}

// newKeyRules normalises the terms of cfg, adds the defaults unless cfg
// replaces them, and takes out the removed terms. It reports every term
// that breaks a rule, naming the Config field and index that hold it.
func newKeyRules(cfg Config) (keyRules, []error) {
	k := keyRules{verdicts: new(verdictCache)}
	var errs []error
	removed := map[string]bool{}
	for i, t := range cfg.RemoveKeys {
		n := string(normalize(nil, t))
		if n == "" {
			errs = append(errs, emptyTerm("RemoveKeys", i, t))
			continue
		}
		removed[n] = false
	}
	substr, exact, words := cfg.SensitiveKeys, cfg.ExactKeys, cfg.WordKeys
	// Default terms come first in each list; indexes in errors are those of
	// the user's lists.
	var nSubstr, nExact, nWords int
	if !cfg.ReplaceDefaultKeys {
		nSubstr, nExact, nWords = len(DefaultSensitiveKeys), len(DefaultExactKeys)+len(DefaultQueryKeys), len(DefaultWordKeys)
		substr = slices.Concat(DefaultSensitiveKeys, substr)
		exact = slices.Concat(DefaultExactKeys, DefaultQueryKeys, exact)
		words = slices.Concat(DefaultWordKeys, words)
	}
	k.substr, errs = terms("SensitiveKeys", substr, nSubstr, removed, errs)
	k.exact, errs = terms("ExactKeys", exact, nExact, removed, errs)
	k.words, errs = terms("WordKeys", words, nWords, removed, errs)
	for i, t := range cfg.RemoveKeys {
		if n := string(normalize(nil, t)); n != "" && !removed[n] {
			errs = append(errs, &ConfigError{Field: "RemoveKeys", Index: i, Reason: fmt.Sprintf("%q: not a term of the rule set", t)})
		}
	}
	for _, t := range k.substr {
		k.byFirst[t[0]] = append(k.byFirst[t[0]], t)
	}
	if len(errs) == 0 && len(k.substr) == 0 && len(k.exact) == 0 && len(k.words) == 0 {
		errs = append(errs, &ConfigError{Field: "ReplaceDefaultKeys", Index: -1,
			Reason: "set, but no sensitive, exact or word key remains: nothing would be masked by key"})
	}
	return k, errs
}

// terms normalises list, drops duplicates and the terms in removed (marking
// them found there), and appends to errs the terms that normalise to
// nothing. The first defaults entries of list are default terms.
func terms(field string, list []string, defaults int, removed map[string]bool, errs []error) ([][]byte, []error) {
	var out [][]byte
	for i, t := range list {
		n := normalize(nil, t)
		if len(n) == 0 {
			errs = append(errs, emptyTerm(field, i-defaults, t))
			continue
		}
		if _, ok := removed[string(n)]; ok {
			removed[string(n)] = true
			continue
		}
		if !slices.ContainsFunc(out, func(e []byte) bool { return string(e) == string(n) }) {
			out = append(out, n)
		}
	}
	return out, errs
}

func emptyTerm(field string, i int, t string) error {
	return &ConfigError{Field: field, Index: i, Reason: fmt.Sprintf("%q is empty once '-', '_', '.' and spaces are removed", t)}
}

// sensitive reports whether a value held under key must be masked, through
// the verdict cache.
func (k *keyRules) sensitive(key []byte) bool { return k.verdicts.sensitive(k, key) }

// matches reports whether a value held under key must be masked, without
// the cache: for keys built in a scratch buffer (unescaped), which the
// cache would have to copy.
func matches[T string | []byte](k *keyRules, key T) bool {
	var buf [64]byte
	n := normalize(buf[:0], key)
	if len(n) == 0 {
		return false
	}
	for _, e := range k.exact {
		if string(e) == string(n) {
			return true
		}
	}
	if len(key) > 2 && (key[0] == 'x' || key[0] == 'X') && (key[1] == '-' || key[1] == '_') {
		// X-Auth, X-Session: the experimental prefix of headers and
		// parameters does not make an exact word less of a secret.
		for _, e := range k.exact {
			if string(e) == string(n[1:]) {
				return true
			}
		}
	}
	if len(k.words) > 0 {
		var wbuf [32]byte
		w := normalize(wbuf[:0], key[lastWord(key):])
		for _, e := range k.words {
			if string(e) == string(w) || string(e) == string(n) {
				return true
			}
		}
	}
	for i := range n {
		for _, t := range k.byFirst[n[i]] {
			if bytes.HasPrefix(n[i:], t) {
				return true
			}
		}
	}
	return false
}

// lastWord returns the index at which the last word of key starts: words
// are separated by '-', '_', '.', spaces and case changes ("userPwd",
// "DB_PASS", "XMLPass").
func lastWord[T string | []byte](key T) int {
	end := len(key)
	for end > 0 && isSep(key[end-1]) {
		end--
	}
	for i := end - 1; i > 0; i-- {
		c, p := key[i], key[i-1]
		switch {
		case isSep(p):
			return i
		case isUpper(c) && !isUpper(p) && !isSep(p):
			return i // userPwd
		case isUpper(c) && isUpper(p) && i+1 < end && isLower(key[i+1]):
			return i // XMLPass
		}
	}
	return 0
}

func isSep(c byte) bool   { return c == '-' || c == '_' || c == '.' || c == ' ' }
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isLower(c byte) bool { return 'a' <= c && c <= 'z' }

// normalize appends the normalised form of key to dst: ASCII lower-case,
// without '-', '_', '.' and spaces.
func normalize[T string | []byte](dst []byte, key T) []byte {
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == '-' || c == '_' || c == '.' || c == ' ':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// verdictCache remembers the verdict of key rules on raw keys, across
// documents: the keys of an API repeat from request to request, and a
// lookup is cheaper than normalising and matching. It is lock-free; a
// collision just recomputes. A key of up to 16 bytes is compared as two
// words, without a call, and sits in its own slot or, when keys collide,
// in another of a set of four; a longer key has one slot and is compared
// as a string.
type verdictCache struct {
	slots [1024]unsafe.Pointer // *verdict, read and written atomically
}

// load returns the verdict in slot s, or nil. (atomic.LoadPointer is
// inlined where the generic atomic.Pointer's method is not.)
func (c *verdictCache) load(s uint64) *verdict {
	return (*verdict)(atomic.LoadPointer(&c.slots[s%uint64(len(c.slots))]))
}

func (c *verdictCache) store(s uint64, v *verdict) {
	atomic.StorePointer(&c.slots[s%uint64(len(c.slots))], unsafe.Pointer(v))
}

type verdict struct {
	key    string
	lo, hi uint64 // the key's bytes, zero-padded, when it has at most 16
	hit    bool
}

func (c *verdictCache) sensitive(k *keyRules, key []byte) bool {
	n := len(key)
	if n > 16 {
		return c.long(k, key)
	}
	lo, hi := keyWords(key)
	return c.sensitiveWords(k, key, lo, hi)
}

// sensitiveWords is sensitive for a key of at most 16 bytes whose words
// (keyWords) the caller has.
func (c *verdictCache) sensitiveWords(k *keyRules, key []byte, lo, hi uint64) bool {
	n := len(key)
	h := (lo ^ bits.RotateLeft64(hi, 29) ^ uint64(n)) * 0x9E3779B97F4A7C15
	s := h >> 54 // the top 10 bits
	if v := c.load(s); v != nil && v.lo == lo && v.hi == hi && len(v.key) == n {
		return v.hit
	}
	return c.others(k, key, lo, hi, s)
}

// others looks for a short key in the three other slots of its set of
// four, which hold keys that collided, and computes its verdict when none
// holds it.
func (c *verdictCache) others(k *keyRules, key []byte, lo, hi uint64, s uint64) bool {
	for w := uint64(1); w < 4; w++ {
		if v := c.load(s ^ w); v != nil && v.lo == lo && v.hi == hi && len(v.key) == len(key) {
			return v.hit
		}
	}
	return c.miss(k, key, lo, hi, s)
}

// miss computes and stores the verdict on a short key that the cache
// does not hold, in the first free slot of its set (its own slot when
// none is free).
func (c *verdictCache) miss(k *keyRules, key []byte, lo, hi uint64, s uint64) bool {
	hit := matches(k, key)
	for w := uint64(0); w < 4; w++ {
		if c.load(s^w) == nil {
			s ^= w
			break
		}
	}
	c.store(s, &verdict{key: string(key), lo: lo, hi: hi, hit: hit})
	return hit
}

// long is sensitive for keys longer than 16 bytes.
func (c *verdictCache) long(k *keyRules, key []byte) bool {
	n := len(key)
	// Length and three bytes: O(1), and enough to spread an API's keys.
	h := (uint32(n) | uint32(key[0])<<8 | uint32(key[n/2])<<16 | uint32(key[n-1])<<24) * 0x9E3779B1
	s := uint64(h >> 22)
	if v := c.load(s); v != nil && v.key == string(key) {
		return v.hit
	}
	hit := matches(k, key)
	if n <= 64 {
		c.store(s, &verdict{key: string(key), hit: hit})
	}
	return hit
}

// keyWords returns the bytes of key (at most 16) as two little-endian
// words, zero-padded, with whole-word loads: past the key where the
// slice's capacity allows it (the bytes past it are cleared), otherwise
// overlapping loads within it.
func keyWords(key []byte) (lo, hi uint64) {
	n := len(key)
	switch {
	case cap(key) >= 16:
		w := key[:16]
		lo, hi = binary.LittleEndian.Uint64(w), binary.LittleEndian.Uint64(w[8:])
		if n < 8 {
			return lo & (1<<(8*n) - 1), 0
		}
		return lo, hi & (1<<(8*(n-8)) - 1)
	case n >= 8:
		// The last eight bytes, shifted down to start at byte 8.
		return binary.LittleEndian.Uint64(key), binary.LittleEndian.Uint64(key[n-8:]) >> (8 * (16 - n))
	case n >= 4:
		a, b := binary.LittleEndian.Uint32(key), binary.LittleEndian.Uint32(key[n-4:])
		return uint64(a) | uint64(b)<<(8*(n-4)), 0
	}
	for i := n - 1; i >= 0; i-- {
		lo = lo<<8 | uint64(key[i])
	}
	return lo, 0
}
