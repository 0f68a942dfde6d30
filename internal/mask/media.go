package mask

import "strings"

// kind is the walker that a media type selects.
type kind int

const (
	kindText kind = iota
	kindJSON
	kindForm
	kindMultipart
)

// mediaKind returns the walker for content type ct.
func mediaKind(ct string) kind {
	if ct == "application/json" { // the usual one, settled by one comparison
		return kindJSON
	}
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(ct)
	switch {
	case strings.EqualFold(ct, "application/json"), hasSuffixFold(ct, "+json"):
		return kindJSON
	case strings.EqualFold(ct, "application/x-www-form-urlencoded"):
		return kindForm
	case strings.EqualFold(ct, "multipart/form-data"):
		return kindMultipart
	}
	return kindText
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}
