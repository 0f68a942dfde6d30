package main

import (
	"flag"
	"fmt"
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

// display renders the strings of records in text outputs: escaped for a
// terminal, or as stored with --raw (for pipes). Every text renderer goes
// through it; JSON outputs escape by themselves.
type display struct{ raw bool }

func (d *display) register(fs *flag.FlagSet) {
	fs.BoolVar(&d.raw, "raw", false, "print strings of records as stored, control characters included (text output; for pipes)")
}

// s returns v ready to print.
func (d display) s(v string) string {
	if d.raw {
		return v
	}
	return escapeTerminal(v)
}
