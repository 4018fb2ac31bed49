package buildctx

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestReadAndShips: .dockerignore with Docker's semantics (a ! pattern lets a file
// back in below an excluded directory), then what each kind of source takes.
func TestReadAndShips(t *testing.T) {
	root := tree(t, map[string]string{
		".dockerignore":   "# comment\n.git\n**/*.pem\n!keys/deploy.pem\nnode_modules\n",
		".env":            "X=1\n",
		".git/config":     "[core]\n",
		"keys/id_rsa":     "k\n",
		"keys/deploy.pem": "p\n",
		"keys/other.pem":  "o\n",
		"node_modules/a":  "a\n",
		"src/app.go":      "package main\n",
		"src/app_test.go": "package main\n",
		"src/lib/x.go":    "package lib\n",
		"Dockerfile":      "FROM scratch\n",
	})
	os.Symlink("/etc/passwd", filepath.Join(root, "src", "link"))
	c, err := Read(root, IgnoreFileFor(root, filepath.Join(root, "Dockerfile")))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{".dockerignore", ".env", "Dockerfile", "keys/deploy.pem", "keys/id_rsa", "src/app.go", "src/app_test.go", "src/lib/x.go", "src/link"}
	if d := cmp.Diff(want, c.Files); d != "" {
		t.Errorf("files (-want +got):\n%s", d)
	}
	for _, tc := range []struct {
		src      string
		excludes []string
		want     string
	}{
		{".", nil, strings.Join(want, " ")},
		{"src", nil, "src/app.go src/app_test.go src/lib/x.go src/link"},
		{"src/app.go", nil, "src/app.go"},
		{"src/*.go", nil, "src/app.go src/app_test.go"},
		{"s*", []string{"*_test.go", "lib"}, "src/app.go src/link"},
		{"keys", []string{"*.pem"}, "keys/id_rsa"},
		{"missing", nil, ""},
	} {
		got, err := c.Ships(tc.src, tc.excludes)
		if err != nil || strings.Join(got, " ") != tc.want {
			t.Errorf("Ships(%q, %v) = %v, %v; want %s", tc.src, tc.excludes, got, err, tc.want)
		}
	}
	// A Dockerfile's own NAME.dockerignore wins over the context's.
	os.WriteFile(filepath.Join(root, "Dockerfile.dockerignore"), []byte("*\n!src\n"), 0o644)
	if got := IgnoreFileFor(root, filepath.Join(root, "Dockerfile")); got != filepath.Join(root, "Dockerfile.dockerignore") {
		t.Errorf("ignore file %s", got)
	}
	c, _ = Read(root, filepath.Join(root, "Dockerfile.dockerignore"))
	if got := strings.Join(c.Files, " "); got != "src/app.go src/app_test.go src/lib/x.go src/link" {
		t.Errorf("with Dockerfile.dockerignore: %s", got)
	}
}

func TestSecrets(t *testing.T) {
	// A key across the edge of the first scan window, on line 3.
	big := strings.Repeat("x", scanWindow-30) + "\n\nkey AKIAZ3MSJV4QWERTYUIO\n" + strings.Repeat("y", 1<<20)
	root := tree(t, map[string]string{
		".env":        "DEBUG=1\nDB_PASSWORD=s3cr3t-value-here\n",
		"config.py":   "KEY = 'AKIAZ3MSJV4QWERTYUIO'\n",
		"README":      "nothing\n",
		"bundle.js":   big,
		".git/config": "[core]\n",
	})
	// Over the scan limit: counted as not scanned, named when its name says credential.
	os.Mkdir(filepath.Join(root, "big"), 0o755)
	f, _ := os.Create(filepath.Join(root, "big", "id_rsa"))
	f.Truncate(maxScanFile + 1)
	f.Close()
	c, err := Read(root, "")
	if err != nil {
		t.Fatal(err)
	}
	for rel, want := range map[string]string{
		".env": "env-file-secret@.env:2 scanned", "config.py": "aws-access-key-id@config.py:1 scanned", "README": " scanned",
		"bundle.js": "aws-access-key-id@bundle.js:3 scanned", "big/id_rsa": "unscanned-credential-file@big/id_rsa:0 not scanned",
	} {
		found, scanned := c.Secrets(rel)
		var out []string
		for _, s := range found {
			out = append(out, s.Kind+"@"+s.Path+":"+strconv.Itoa(s.Line))
		}
		got := strings.Join(out, " ") + map[bool]string{true: " scanned", false: " not scanned"}[scanned]
		if got != want {
			t.Errorf("%s: %q, want %q", rel, got, want)
		}
	}
	if GitDir(".git/config") != ".git" || GitDir("a/.git/objects/x") != "a/.git" || GitDir("a/b") != "" || GitDir(".gitignore") != "" {
		t.Error("GitDir")
	}
	// A context given as a link to a directory is that directory's files.
	link := filepath.Join(t.TempDir(), "ctx")
	os.Symlink(root, link)
	if c, err := Read(link, ""); err != nil || len(c.Files) != 6 {
		t.Errorf("through a link: %v, %v", c.Files, err)
	}
}

// TestReadBounds: a context that is not a directory, and an unreadable ignore file,
// are one error each.
func TestReadBounds(t *testing.T) {
	root := tree(t, map[string]string{"f": "x"})
	if _, err := Read(filepath.Join(root, "f"), ""); err == nil || !strings.Contains(err.Error(), "is not a directory") {
		t.Errorf("a file as the root: %v", err)
	}
	os.Mkdir(filepath.Join(root, ".dockerignore"), 0o755)
	if _, err := Read(root, filepath.Join(root, ".dockerignore")); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a directory as the ignore file: %v", err)
	}
}
