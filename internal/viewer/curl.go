package viewer

import (
	"slices"
	"strings"

	"github.com/otelaudit/otelaudit/store"
)

// curlCommand returns a curl command line that repeats the request of r
// as stored, masked values included (they must be filled in by hand).
func curlCommand(r store.Record) string {
	var b strings.Builder
	b.WriteString("curl")
	if r.Method != "" && r.Method != "GET" {
		b.WriteString(" -X " + shellQuote(r.Method))
	}
	scheme := r.Scheme
	if scheme == "" {
		scheme = "http"
	}
	u := scheme + "://" + r.Host + r.Path
	if r.Query != "" {
		u += "?" + r.Query
	}
	b.WriteString(" " + shellQuote(u))
	names := make([]string, 0, len(r.RequestHeaders))
	for k := range r.RequestHeaders {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		switch strings.ToLower(k) {
		case "host", "content-length", "connection", "transfer-encoding", "accept-encoding":
			continue // curl sets them
		}
		for _, v := range r.RequestHeaders[k] {
			b.WriteString(" \\\n  -H " + shellQuote(k+": "+v))
		}
	}
	switch {
	case len(r.RequestBodyBinary) > 0:
		b.WriteString(" \\\n  --data-binary @body.bin")
	case r.RequestBody != "":
		b.WriteString(" \\\n  --data-binary " + shellQuote(r.RequestBody))
	}
	return b.String()
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
