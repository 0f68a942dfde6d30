package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// escapeTerminal returns s as it is safe to print on a terminal: every
// string in a record comes from a client, and a raw ESC, BEL, CR or bidi
// override could clear the screen, set the window title, forge or hide
// lines, or reorder them visually. Control characters (C0, DEL, C1), line
// and paragraph separators and bidi controls are shown escaped, as less
// and kubectl do (\r, \x1b, \u202e); bytes that are not UTF-8 as \xNN.
// Backslashes are left alone: --output json is the exact form.
func escapeTerminal(s string) string {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || needsEscape(r) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s // the common case: nothing to escape, no copy
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x80 && needsEscape(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case needsEscape(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// needsEscape reports whether r may change what a terminal shows beyond
// printing a glyph.
func needsEscape(r rune) bool {
	return unicode.IsControl(r) || // C0, DEL, C1
		r == '\u2028' || r == '\u2029' || // line and paragraph separators
		unicode.Is(unicode.Bidi_Control, r) // U+061C, U+200E/F, U+202A-E, U+2066-9
}

// escapeJSON returns the JSON text b, written by encoding/json, with the
// characters of needsEscape that it leaves raw (DEL, C1, bidi controls)
// written as \uXXXX escapes: the same JSON value, safe on a terminal.
// encoding/json escapes C0 inside strings, so a C0 byte in b is its own
// indentation; outside strings JSON text is ASCII, so every other such
// character is inside a string.
func escapeJSON(b []byte) []byte {
	var out []byte
	last := 0
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r >= 0x20 && r != utf8.RuneError && needsEscape(r) {
			out = append(out, b[last:i]...)
			out = fmt.Appendf(out, `\u%04x`, r)
			last = i + n
		}
		i += n
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

// display renders the strings of records: escaped for a terminal, or as
// stored with --raw (for pipes). Every renderer goes through it.
type display struct{ raw bool }

func (d *display) register(fs *flag.FlagSet) {
	fs.BoolVar(&d.raw, "raw", false, "print strings of records as stored, control characters included (for pipes)")
}

// s returns v ready to print.
func (d display) s(v string) string {
	if d.raw {
		return v
	}
	return escapeTerminal(v)
}

// json writes v as JSON (indented by indent, if not empty) to w.
func (d display) json(w io.Writer, v any, indent string) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return err
	}
	out := b.Bytes()
	if !d.raw {
		out = escapeJSON(out)
	}
	_, err := w.Write(out)
	return err
}
