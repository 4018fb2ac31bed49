package hostfs

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// newRoot lays out a fake host root: /etc/docker/daemon.json, /var/run -> /run (an
// absolute link that must resolve inside the root), and an escaping relative link.
func newRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	mk := func(p, body string, mode os.FileMode) {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(full, mode); err != nil {
			t.Fatal(err)
		}
	}
	mk("etc/docker/daemon.json", `{"icc": false}`, 0o640)
	mk("run/docker.sock", "", 0o660)
	mk("etc/passwd", "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:999::/home/alice:/bin/sh\n", 0o644)
	mk("etc/group", "root:x:0:\ndocker:x:999:bob,carol\n", 0o644)
	link := func(target, at string) {
		if err := os.Symlink(target, filepath.Join(root, at)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "var"), 0o755); err != nil {
		t.Fatal(err)
	}
	link("/run", "var/run")
	link("../../../../../../etc/hostname", "etc/escape")
	link("/etc/docker/daemon.json", "etc/abs-link")
	link("loop2", "etc/loop1")
	link("loop1", "etc/loop2")
	return root
}

func TestResolveStaysInRoot(t *testing.T) {
	fs := New(newRoot(t))
	tests := map[string]string{
		"/var/run/docker.sock":  "/run/docker.sock",
		"/etc/abs-link":         "/etc/docker/daemon.json",
		"/etc/escape":           "/etc/hostname", // ../ past the root stops at the root
		"/etc/../etc/./docker/": "/etc/docker",
	}
	for in, want := range tests {
		got, err := fs.Resolve(in, true)
		if err != nil || got != want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := fs.Resolve("/etc/loop1", true); err == nil || !strings.Contains(err.Error(), "too many levels") {
		t.Errorf("Resolve of a link loop: %v", err)
	}
	if _, err := fs.Resolve("relative/path", true); err == nil {
		t.Error("Resolve of a relative path: no error")
	}
	// /etc/escape must not read the real host's /etc/hostname.
	if _, err := fs.ReadFile("/etc/escape"); !os.IsNotExist(err) {
		t.Errorf("ReadFile through an escaping link: %v, want not-exist", err)
	}
}

func TestStat(t *testing.T) {
	root := newRoot(t)
	fs := New(root)
	got := fs.Stat("/var/run/docker.sock")
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(root, "run/docker.sock"), &st); err != nil {
		t.Fatal(err)
	}
	want := got
	want.Path, want.Exists, want.Type, want.Mode = "/var/run/docker.sock", true, "file", 0o660
	want.UID, want.GID = int(st.Uid), int(st.Gid)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Stat (-want +got):\n%s", d)
	}
	if f := fs.Stat("/etc/missing"); f.Exists || f.Err != "" {
		t.Errorf("Stat(missing) = %+v, want Exists false and no error", f)
	}
}

func TestReadFileBounds(t *testing.T) {
	root := newRoot(t)
	fs := New(root)
	b, err := fs.ReadFile("/etc/abs-link")
	if err != nil || string(b) != `{"icc": false}` {
		t.Fatalf("ReadFile = %q, %v", b, err)
	}
	big := filepath.Join(root, "etc/big")
	if err := os.WriteFile(big, make([]byte, MaxRead+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.ReadFile("/etc/big"); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("ReadFile of an oversized file: %v", err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "etc/fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.ReadFile("/etc/fifo"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("ReadFile of a FIFO: %v (it must not block)", err)
	}
}

func TestGroupsAndWalk(t *testing.T) {
	root := newRoot(t)
	fs := New(root)
	g, ok := fs.LookupGroup("docker")
	if !ok || g.GID != 999 || !cmp.Equal(g.Members, []string{"bob", "carol"}) {
		t.Errorf("LookupGroup = %+v %v", g, ok)
	}
	if g, ok := fs.LookupGID(999); !ok || g.Name != "docker" {
		t.Errorf("LookupGID = %+v %v", g, ok)
	}
	if _, ok := fs.LookupGID(4242); ok {
		t.Error("LookupGID found a GID that is not there")
	}
	if got := fs.UsersWithPrimaryGroup(999); !cmp.Equal(got, []string{"alice"}) {
		t.Errorf("UsersWithPrimaryGroup = %v", got)
	}
	if got := fs.HomeOf(1000); got != "/home/alice" {
		t.Errorf("HomeOf = %q", got)
	}
	for _, p := range []string{"etc/docker/certs.d/reg:5000/ca.crt", "etc/docker/certs.d/reg:5000/client.cert"} {
		full := filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		os.WriteFile(full, nil, 0o644)
	}
	got, err := fs.Walk("/etc/docker/certs.d", 100)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/etc/docker/certs.d/reg:5000/ca.crt", "/etc/docker/certs.d/reg:5000/client.cert"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Walk (-want +got):\n%s", d)
	}
	if got, err := fs.Walk("/etc/nothing", 100); got != nil || err != nil {
		t.Errorf("Walk(missing) = %v, %v", got, err)
	}
	if _, err := fs.Walk("/etc/docker/certs.d", 1); err == nil {
		t.Error("Walk past the limit: no error")
	}
}
