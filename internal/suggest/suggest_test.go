package suggest

import (
	"slices"
	"testing"
)

func TestDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		d    int
	}{
		{"", "", 0}, {"host", "host", 0}, {"hots", "host", 1}, {"hst", "host", 1}, {"hostt", "host", 1},
		{"ux-busybx:1", "ux-busybox:1", 1}, {"image", "host", 5}, {"kitten", "sitting", 3}, {"ĥost", "host", 1},
	} {
		if got := Distance(tt.a, tt.b); got != tt.d {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.d)
		}
	}
}

func TestClosest(t *testing.T) {
	cmds := []string{"host", "image", "sbom", "endpoint", "registry", "seccomp", "db", "rules", "version", "help"}
	for _, tt := range []struct {
		word string
		want []string
	}{
		{"hots", []string{"host"}},
		{"imgae", []string{"image"}},
		{"Registyr", []string{"registry"}},
		{"scan", nil},
		{"x", nil},
		{"hosts", []string{"host"}},
	} {
		if got := Closest(tt.word, cmds); !slices.Equal(got, tt.want) {
			t.Errorf("Closest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
	if got := Closest("ux-busybx:1", []string{"ux-busybox:1", "ux-busybox:2", "alpine:3", "ux-busybox:1"}); !slices.Equal(got, []string{"ux-busybox:1", "ux-busybox:2"}) {
		t.Errorf("images: %q", got)
	}
	if p := Phrase([]string{"a", "b", "c"}); p != "; did you mean a, b or c?" {
		t.Error(p)
	}
}
