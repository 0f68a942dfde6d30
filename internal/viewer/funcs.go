package viewer

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/otelaudit/otelaudit/auditconv"
)

// funcs are the template functions. None returns template.HTML: every
// value reaches the page through the template engine's escaping.
var funcs = template.FuncMap{
	"time":        func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000") },
	"rfc3339":     func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) },
	"duration":    formatMS,
	"class":       statusClass,
	"masked":      maskedParts,
	"body":        renderBody,
	"headers":     sortedHeaders,
	"recordLink":  func(id string) string { return "/records/" + id },
	"inputValue":  inputTime,
	"contains":    slices.Contains[[]string],
	"integrityOf": func(m map[string]Status, id string) Status { return m[id] },
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func isRecordID(s string) bool {
	_, err := auditconv.ParseRecordID(s)
	return err == nil
}

func formatMS(ms float64) string {
	switch {
	case ms < 1:
		return strconv.FormatFloat(ms*1000, 'f', 0, 64) + "µs"
	case ms < 1000:
		return strconv.FormatFloat(ms, 'f', 1, 64) + "ms"
	}
	return strconv.FormatFloat(ms/1000, 'f', 2, 64) + "s"
}

func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "none"
	}
	return classNames[status/100]
}

// inputTime renders a filter time for a datetime-local input.
func inputTime(s string) string {
	t, err := parseTime(s)
	if err != nil {
		return ""
	}
	return t.Format("2006-01-02T15:04:05")
}

// part is a piece of a value; Masked pieces are what masking put in place
// of a secret, shown highlighted.
type part struct {
	Text   string
	Masked bool
}

// maskedValue matches the replacement of masked values and keyed hashes.
var maskedValue = regexp.MustCompile(`\*{4,}|` + regexp.QuoteMeta(auditconv.KeyedHashPrefix) + `[0-9a-f]{8,64}`)

// maskedParts splits s into plain and masked pieces.
func maskedParts(s string) []part {
	var out []part
	last := 0
	for _, m := range maskedValue.FindAllStringIndex(s, -1) {
		if m[0] > last {
			out = append(out, part{Text: s[last:m[0]]})
		}
		out = append(out, part{Text: s[m[0]:m[1]], Masked: true})
		last = m[1]
	}
	if last < len(s) {
		out = append(out, part{Text: s[last:]})
	}
	return out
}

// bodyView is how a body is shown.
type bodyView struct {
	Kind  string // "empty", "json", "text" or "binary"
	Parts []part // json and text, pretty-printed when JSON
	Hex   string // binary: a hex dump of the first previewBytes
	Size  int
}

const previewBytes = 512

func renderBody(text string, binary []byte) bodyView {
	switch {
	case len(binary) > 0:
		return bodyView{Kind: "binary", Size: len(binary), Hex: hex.Dump(binary[:min(len(binary), previewBytes)])}
	case text == "":
		return bodyView{Kind: "empty"}
	}
	if t := strings.TrimSpace(text); (strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")) && json.Valid([]byte(t)) {
		var buf bytes.Buffer
		if json.Indent(&buf, []byte(t), "", "  ") == nil {
			return bodyView{Kind: "json", Parts: maskedParts(buf.String()), Size: len(text)}
		}
	}
	return bodyView{Kind: "text", Parts: maskedParts(text), Size: len(text)}
}

// prettyJSON renders a map or log body as indented JSON, "" when empty.
func prettyJSON(v any) []part {
	switch x := v.(type) {
	case nil:
		return nil
	case map[string]any:
		if len(x) == 0 {
			return nil
		}
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return []part{{Text: err.Error()}}
	}
	return maskedParts(string(b))
}

type header struct {
	Name   string
	Values []part
}

func sortedHeaders(h map[string][]string) []header {
	out := make([]header, 0, len(h))
	for k, vs := range h {
		out = append(out, header{Name: k, Values: maskedParts(strings.Join(vs, ", "))})
	}
	slices.SortFunc(out, func(a, b header) int { return strings.Compare(a.Name, b.Name) })
	return out
}
