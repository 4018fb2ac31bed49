package textsafe

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// unsafe reports a rune a terminal would act on or that reorders text: C0 and C1
// controls, DEL, the bidirectional embeddings, overrides and isolates, and the line
// and paragraph separators. keep lists the controls a caller lets through.
func unsafe(r rune, keep string) bool {
	switch {
	case r < 0x20 || r == 0x7f:
		return !strings.ContainsRune(keep, r)
	case r >= 0x80 && r < 0xa0,
		r >= 0x202a && r <= 0x202e,
		r >= 0x2066 && r <= 0x2069,
		r == 0x200e, r == 0x200f, r == 0x061c,
		r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

// escape writes s with every unsafe rune as \xNN or \u{NNNN} and invalid UTF-8 as \xNN.
func escape(b *strings.Builder, s, keep string) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(b, "\\x%02x", s[i])
		case unsafe(r, keep) && r < 0x100:
			fmt.Fprintf(b, "\\x%02x", r)
		case unsafe(r, keep):
			fmt.Fprintf(b, "\\u{%04x}", r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
}

func clean(s, keep string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || unsafe(r, keep) {
			return false
		}
		i += size
	}
	return true
}

// String returns s with every control character escaped, newlines and tabs included:
// for one-line fields (a table cell, a name).
func String(s string) string {
	if clean(s, "") {
		return s
	}
	var b strings.Builder
	escape(&b, s, "")
	return b.String()
}

// Writer escapes what is written to it, keeping tabs and a final newline: each Write
// is one line (an error, a progress message), so text from outside that holds a
// newline cannot start a line of its own and pass for dockaudit's.
type Writer struct{ W io.Writer }

// Write escapes p and writes it in one call. A line break inside the message (a
// parser's multi-line error, a file name holding one) becomes "; ". It reports
// len(p) written when the escaped form was written whole.
func (w Writer) Write(p []byte) (int, error) {
	s, nl := strings.CutSuffix(string(p), "\n")
	if clean(s, "\t") {
		return w.W.Write(p)
	}
	if strings.Contains(s, "\n") {
		lines := strings.Split(s, "\n")
		for i := range lines {
			lines[i] = strings.TrimSpace(strings.TrimSuffix(lines[i], "\r"))
		}
		s = strings.Join(slices.DeleteFunc(lines, func(l string) bool { return l == "" }), "; ")
	}
	var b strings.Builder
	escape(&b, s, "\t")
	if nl {
		b.WriteByte('\n')
	}
	if _, err := io.WriteString(w.W, b.String()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// TextWriter escapes what is written to it but keeps newlines and tabs: for a
// document of many lines (a diff, a status listing) whose values come from outside.
type TextWriter struct{ W io.Writer }

// Write escapes p and writes it in one call.
func (w TextWriter) Write(p []byte) (int, error) {
	s := string(p)
	if clean(s, "\n\t") {
		return w.W.Write(p)
	}
	var b strings.Builder
	escape(&b, s, "\n\t")
	if _, err := io.WriteString(w.W, b.String()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// FirstLine is the first line of a message meant for one line of output (an error
// from a server, a parser), without surrounding space, cut to at most max bytes on a
// character boundary, with "…" when cut.
func FirstLine(s string, max int) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	s = strings.TrimSpace(s)
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
