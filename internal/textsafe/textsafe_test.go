package textsafe

import (
	"bytes"
	"testing"
)

func TestString(t *testing.T) {
	for in, want := range map[string]string{
		"plain, ünïcode ✓":            "plain, ünïcode ✓",
		"\x1b]0;title\x07\x1b[2J\rok": `\x1b]0;title\x07\x1b[2J\x0dok`,
		"two\nlines\ttab":             `two\x0alines\x09tab`,
		"c1 \u009b31m":                `c1 \x9b31m`,
		"rtl \u202eevil\u2066":        `rtl \u{202e}evil\u{2066}`,
		"bad \xff utf8":               `bad \xff utf8`,
		"del\x7f":                     `del\x7f`,
	} {
		if got := String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriterKeepsLines(t *testing.T) {
	var b bytes.Buffer
	w := Writer{W: &b}
	in := []byte("dockaudit: 404 \x1b]0;pwned\x07\x1b[2J\rgone\n\tdockaudit: forged\n")
	n, err := w.Write(in)
	if err != nil || n != len(in) {
		t.Errorf("wrote %d, %v", n, err)
	}
	if want := "dockaudit: 404 \\x1b]0;pwned\\x07\\x1b[2J\\x0dgone; dockaudit: forged\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func FuzzString(f *testing.F) {
	f.Add("\x1b[31mred\u202e")
	f.Fuzz(func(t *testing.T, s string) {
		out := String(s)
		for _, r := range out {
			if unsafe(r, "") {
				t.Fatalf("%q escaped to %q, which still holds %U", s, out, r)
			}
		}
	})
}

func TestFirstLine(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want string
	}{
		{"  one\ntwo", 200, "one"},
		{"abcdef", 4, "abcd…"},
		{"ab\u00e9cd", 3, "ab…"}, // é is two bytes: not cut in half
		{"abc", 3, "abc"},
		{"", 3, ""},
	} {
		if got := FirstLine(c.in, c.max); got != c.want {
			t.Errorf("FirstLine(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}
