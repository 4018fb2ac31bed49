package rootpath

import (
	"errors"
	"io/fs"
	"testing"
)

// tree is a root of links and plain paths.
func tree(links map[string]string, plain ...string) Lookup {
	exists := map[string]bool{"/": true}
	for _, p := range plain {
		exists[p] = true
	}
	return func(p string) (string, bool, error) {
		if t, ok := links[p]; ok {
			return t, true, nil
		}
		if exists[p] {
			return "", false, nil
		}
		return "", false, fs.ErrNotExist
	}
}

func TestResolve(t *testing.T) {
	look := tree(map[string]string{
		"/etc/alt":     "/etc/real",
		"/var/run":     "../run",
		"/escape":      "../../../../etc/shadow",
		"/abs":         "/etc/real/file",
		"/loop":        "/loop",
		"/lib":         "usr/lib",
		"/usr/lib/rel": "../../etc/real",
	}, "/etc", "/var", "/etc/real", "/etc/real/file", "/run", "/run/docker.sock", "/usr", "/usr/lib", "/etc/shadow")
	for _, tt := range []struct {
		p      string
		follow bool
		want   string
		err    string
	}{
		{"/etc/alt/file", true, "/etc/real/file", ""},
		{"/etc/alt", false, "/etc/alt", ""},
		{"/etc/alt", true, "/etc/real", ""},
		{"/var/run/docker.sock", true, "/run/docker.sock", ""},
		// Out of the root: ".." stops at it, an absolute target starts at it.
		{"/escape", true, "/etc/shadow", ""},
		{"/../../etc/real/file", true, "/etc/real/file", ""},
		{"/abs", true, "/etc/real/file", ""},
		{"/lib/rel/file", true, "/etc/real/file", ""},
		{"/loop", true, "", "/loop: too many levels of symbolic links"},
		{"/missing/file", true, "", fs.ErrNotExist.Error()},
		{"/etc/missing", true, "/etc/missing", ""},
		{"relative", true, "", `path "relative" is not absolute`},
	} {
		got, err := Resolve(tt.p, tt.follow, 40, look)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%s: %q, %v; want error %q", tt.p, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s (follow %v): %q, %v; want %q", tt.p, tt.follow, got, err, tt.want)
		}
	}
	if _, err := Resolve("/missing/x", true, 40, look); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing directory on the way: %v", err)
	}
}
