package app

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/dockaudit/dockaudit/internal/testenv"
)

func text(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func modeOf(t *testing.T, p string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode()
}

// TestWriteOutputKeepsWhatThePathIs: --output never turns a device, a FIFO or a link
// into a regular file, and a file keeps its mode.
func TestWriteOutputKeepsWhatThePathIs(t *testing.T) {
	dir := t.TempDir()
	t.Run("new file", func(t *testing.T) {
		p := filepath.Join(dir, "new.json")
		if err := WriteOutput(p, 0o644, nil, text("report")); err != nil {
			t.Fatal(err)
		}
		if mustRead(t, p) != "report" || modeOf(t, p) != 0o644 {
			t.Errorf("%q %v", mustRead(t, p), modeOf(t, p))
		}
	})
	t.Run("existing modes are kept", func(t *testing.T) {
		for _, m := range []os.FileMode{0o600, 0o640, 0o664} {
			p := filepath.Join(dir, "kept"+strconv.Itoa(int(m)))
			os.WriteFile(p, []byte("old"), 0)
			os.Chmod(p, m)
			if err := WriteOutput(p, 0o644, nil, text("new")); err != nil {
				t.Fatal(err)
			}
			if mustRead(t, p) != "new" || modeOf(t, p) != m {
				t.Errorf("%v became %v", m, modeOf(t, p))
			}
		}
		// A private write (the facts file) never widens, and narrows an open file.
		p := filepath.Join(dir, "facts.json")
		os.WriteFile(p, []byte("old"), 0o644)
		os.Chmod(p, 0o644)
		if err := WriteOutput(p, 0o600, nil, text("new")); err != nil || modeOf(t, p) != 0o600 {
			t.Errorf("private write over 0644: %v %v", modeOf(t, p), err)
		}
	})
	t.Run("a link stays a link", func(t *testing.T) {
		target := filepath.Join(dir, "target.json")
		os.WriteFile(target, []byte("old"), 0o600)
		link := filepath.Join(dir, "link.json")
		os.Symlink("target.json", link)
		if err := WriteOutput(link, 0o644, nil, text("new")); err != nil {
			t.Fatal(err)
		}
		if modeOf(t, link)&os.ModeSymlink == 0 || mustRead(t, target) != "new" || modeOf(t, target) != 0o600 {
			t.Errorf("link %v, target %q %v", modeOf(t, link), mustRead(t, target), modeOf(t, target))
		}
		dangling := filepath.Join(dir, "dangling.json")
		os.Symlink("created.json", dangling)
		if err := WriteOutput(dangling, 0o644, nil, text("made")); err != nil {
			t.Fatal(err)
		}
		if modeOf(t, dangling)&os.ModeSymlink == 0 || mustRead(t, filepath.Join(dir, "created.json")) != "made" {
			t.Errorf("dangling link replaced")
		}
	})
	t.Run("FIFO", func(t *testing.T) {
		p := filepath.Join(dir, "fifo")
		if err := unix.Mkfifo(p, 0o600); err != nil {
			t.Fatal(err)
		}
		got := make(chan string)
		go func() {
			f, _ := os.Open(p)
			b, _ := io.ReadAll(f)
			f.Close()
			got <- string(b)
		}()
		if err := WriteOutput(p, 0o644, nil, text("through the fifo")); err != nil {
			t.Fatal(err)
		}
		if s := <-got; s != "through the fifo" || modeOf(t, p)&os.ModeNamedPipe == 0 {
			t.Errorf("read %q, mode %v", s, modeOf(t, p))
		}
	})
	t.Run("character device", func(t *testing.T) {
		p := filepath.Join(dir, "null")
		if err := unix.Mknod(p, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
			testenv.Missing(t, "mknod needs root: %v", err)
		}
		os.Chmod(p, 0o666)
		if err := WriteOutput(p, 0o644, nil, text("into the void")); err != nil {
			t.Fatal(err)
		}
		if m := modeOf(t, p); m&os.ModeCharDevice == 0 || m.Perm() != 0o666 {
			t.Errorf("the device became %v", m)
		}
	})
	t.Run("a descriptor of ours", func(t *testing.T) {
		// /dev/stdout redirected with >>: the report is appended through the descriptor.
		p := filepath.Join(dir, "log")
		os.WriteFile(p, []byte("earlier\n"), 0o644)
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		link := filepath.Join(dir, "stdout")
		os.Symlink("/proc/self/fd/"+strconv.Itoa(int(f.Fd())), link)
		if err := WriteOutput(link, 0o644, nil, text("report\n")); err != nil {
			t.Fatal(err)
		}
		if s := mustRead(t, p); s != "earlier\nreport\n" || modeOf(t, link)&os.ModeSymlink == 0 {
			t.Errorf("%q", s)
		}
	})
	t.Run("refusals leave everything as it was", func(t *testing.T) {
		if err := WriteOutput(dir, 0o644, nil, text("x")); err == nil || err.Error() != "write "+dir+": it is a directory" {
			t.Errorf("directory: %v", err)
		}
		p := filepath.Join(dir, "keep.json")
		os.WriteFile(p, []byte("old"), 0o644)
		boom := errors.New("render failed")
		if err := WriteOutput(p, 0o644, nil, func(w io.Writer) error { io.WriteString(w, "half"); return boom }); !errors.Is(err, boom) {
			t.Errorf("render error: %v", err)
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if filepath.Ext(e.Name()) == ".tmp" {
				t.Errorf("left behind: %s", e.Name())
			}
		}
		if mustRead(t, p) != "old" {
			t.Errorf("the old file changed")
		}
	})
}

// TestClash: two names for one destination are one destination, however spelled.
func TestClash(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	os.WriteFile("a.json", []byte("x"), 0o644)
	os.Link("a.json", "hard.json")
	os.Symlink("h.json", "dangling")
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"a.json", dir + "/a.json", true},
		{"a.json", "./sub/../a.json", true},
		{"a.json", "hard.json", true},
		{"dangling", "h.json", true},
		{"new.json", dir + "/new.json", true},
		{"-", "/dev/stdout", true},
		{"", "/proc/self/fd/1", true},
		{"a.json", "b.json", false},
		{"-", "a.json", false},
		{"a.json", "", false},
	} {
		if got := Clash(tc.a, tc.b); got != tc.want {
			t.Errorf("Clash(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}
