package image

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// tarDir writes a directory tree as a tar archive (an OCI layout archive).
func tarDir(t testing.TB, dir, out string, extra ...tarEntry) {
	t.Helper()
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if err := tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err = tw.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range extra {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: e.mode, Size: int64(len(e.body)), Typeflag: e.typ, Linkname: e.link}); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, e.body)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

// writeRootfs writes the merged content of the seeded layers as a directory.
func writeRootfs(t testing.TB) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"usr/lib/os-release": osRelease, "var/lib/dpkg/status": dpkgUpper,
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\n", "app/.env": "AWS_ACCESS_KEY_ID=" + fakeAWS + "\n",
	}
	for p, body := range files {
		os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755)
		if err := os.WriteFile(filepath.Join(root, p), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../usr/lib/os-release", filepath.Join(root, "etc/os-release")); err != nil {
		t.Fatal(err)
	}
	return root
}

func packageNames(c *Source, t *testing.T) []string {
	im := collect(t, c, CollectOptions{})
	var out []string
	for _, p := range im.Content.Packages {
		out = append(out, p.Type+":"+p.Name+"@"+p.Version)
	}
	return out
}

// TestEverySourceKind opens the same image as a docker save archive, an OCI layout
// directory and archive, and a root filesystem, with and without prefixes.
func TestEverySourceKind(t *testing.T) {
	img := buildImage(t, v1.Config{}, seeded(t))
	id, _ := img.ConfigName()
	archive := writeArchive(t, img, "seeded:1")
	layoutDir := writeLayout(t, map[string]v1.Image{"v1": img}, nil)
	layoutTar := filepath.Join(t.TempDir(), "oci.tar")
	tarDir(t, layoutDir, layoutTar)
	root := writeRootfs(t)
	want := []string{"deb:base-files@12.4+deb12u15", "deb:curl@7.88.1-10+deb12u8", "deb:libssl3@3.0.15-1~deb12u1+b1", "npm:left-pad@1.3.0"}

	for _, tt := range []struct{ ref, kind string }{
		{"docker-archive:" + archive, "docker-archive"}, {archive, "docker-archive"},
		{"oci:" + layoutDir, "oci"}, {layoutDir, "oci"}, {"oci:" + layoutDir + ":v1", "oci"},
		{"oci:" + layoutTar, "oci"}, {layoutTar, "oci"}, {"oci-archive:" + layoutTar, "oci"},
	} {
		src := open(t, tt.ref, OpenOptions{})
		if src.Kind != tt.kind || src.ID != id.String() || len(src.Layers) != 3 {
			t.Errorf("%s: kind %s, id %s, %d layers", tt.ref, src.Kind, src.ID, len(src.Layers))
		}
		if got := packageNames(src, t); !cmp.Equal(want, got) {
			t.Errorf("%s: packages %v", tt.ref, got)
		}
	}
	for _, ref := range []string{"dir:" + root, root} {
		src := open(t, ref, OpenOptions{})
		im := collect(t, src, CollectOptions{})
		if src.Kind != "dir" || im.Content.OS.ID != "debian" || len(im.Content.Packages) != 3 || len(im.Content.Secrets) != 1 {
			t.Errorf("%s: kind %s, os %+v, packages %v, secrets %v", ref, src.Kind, im.Content.OS, im.Content.Packages, im.Content.Secrets)
		}
	}
}

// TestOCIPlatforms picks a manifest of a multi-platform layout by --platform or tag.
func TestOCIPlatforms(t *testing.T) {
	amd := buildImage(t, v1.Config{User: "amd"}, seeded(t)[:1])
	arm := buildImage(t, v1.Config{User: "arm"}, seeded(t)[:1])
	cf, _ := arm.ConfigFile()
	cf = cf.DeepCopy()
	cf.Architecture, cf.Variant = "arm64", "v8" // the configuration says what the index says
	arm, err := mutate.ConfigFile(arm, cf)
	if err != nil {
		t.Fatal(err)
	}
	dir := writeLayout(t, map[string]v1.Image{"amd": amd, "arm": arm},
		map[string]*v1.Platform{"amd": {OS: "linux", Architecture: "amd64"}, "arm": {OS: "linux", Architecture: "arm64", Variant: "v8"}})
	for _, tt := range []struct{ ref, platform, user string }{
		{"oci:" + dir, "linux/amd64", "amd"}, {"oci:" + dir, "linux/arm64", "arm"}, {"oci:" + dir, "linux/arm64/v8", "arm"},
		{"oci:" + dir + ":arm", "", "arm"},
	} {
		src := open(t, tt.ref, OpenOptions{Platform: tt.platform})
		if src.Config.Config.User != tt.user {
			t.Errorf("%s --platform %s: got the %s image", tt.ref, tt.platform, src.Config.Config.User)
		}
	}
	_, err = Open(context.Background(), "oci:"+dir, OpenOptions{Platform: "linux/s390x"})
	if err == nil || err.Error() != "oci layout: 0 manifests match platform linux/s390x; pick one with PATH:TAG or --platform" {
		t.Errorf("no match: %v", err)
	}
	_, err = Open(context.Background(), "oci:"+dir+":nope", OpenOptions{})
	if err == nil || err.Error() != `oci layout: no manifest is tagged "nope"` {
		t.Errorf("unknown tag: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	notImage := filepath.Join(dir, "not-image.tar")
	tarDir(t, writeRootfs(t), notImage)
	text := filepath.Join(dir, "text.tar")
	os.WriteFile(text, []byte("hello"), 0o644)
	for _, tt := range []struct{ ref, want string }{
		{"/nonexistent/image.tar", "no such file or directory"},
		{"./missing.tar", "no such file or directory"},
		{notImage, "a tar archive that holds neither manifest.json (docker save) nor oci-layout"},
		{text, "neither a directory nor an image archive: unexpected EOF"},
		{"docker-archive:" + notImage, "read docker archive: file manifest.json not found in tar"},
		{"dir:" + text, "not a directory"},
		{"oci:/nonexistent", "no such file or directory"},
		{"alpine:3.20", "no Docker daemon to read it from (set DOCKER_HOST, or use docker-archive:, oci:, registry: or dir:)"},
		{"registry:alpine:3.20", "registry pulls are not available"},
		{"registry:UPPER/Case", "registry reference: could not parse reference: UPPER/Case"},
	} {
		_, err := Open(context.Background(), tt.ref, OpenOptions{})
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s:\n got %v\nwant %s", tt.ref, err, tt.want)
		}
	}
}

// TestOCIArchiveHostileEntries: an OCI archive's extra entries (traversal, links,
// devices) are not extracted anywhere, and its temporary directory goes on Close.
func TestOCIArchiveHostileEntries(t *testing.T) {
	img := buildImage(t, v1.Config{}, seeded(t)[:1])
	layoutDir := writeLayout(t, map[string]v1.Image{"v1": img}, nil)
	work := t.TempDir()
	outside := filepath.Join(work, "outside")
	archive := filepath.Join(work, "hostile-oci.tar")
	tarDir(t, layoutDir, archive,
		tarEntry{name: "../outside", typ: tar.TypeReg, mode: 0o644, body: "escaped"},
		tarEntry{name: "blobs/sha256/../../../outside", typ: tar.TypeReg, mode: 0o644, body: "escaped"},
		tarEntry{name: "blobs/sha256/link", typ: tar.TypeSymlink, link: "/etc/passwd"},
		tarEntry{name: "blobs/sha256/hard", typ: tar.TypeLink, link: "/etc/passwd"},
		tarEntry{name: "blobs/sha256/dev", typ: tar.TypeChar, mode: 0o666},
	)
	tmp := filepath.Join(work, "tmp")
	os.Mkdir(tmp, 0o700)
	src := open(t, "oci:"+archive, OpenOptions{TempDir: tmp})
	if len(collect(t, src, CollectOptions{}).Content.Packages) != 2 {
		t.Error("the image inside the hostile archive was not read")
	}
	entries, _ := os.ReadDir(tmp)
	if len(entries) != 1 {
		t.Fatalf("temporary directories: %v", entries)
	}
	var names []string
	filepath.WalkDir(filepath.Join(tmp, entries[0].Name()), func(p string, d fs.DirEntry, err error) error {
		if !d.IsDir() {
			if !d.Type().IsRegular() {
				t.Errorf("%s is not a regular file", p)
			}
			names = append(names, filepath.Base(p))
		}
		return nil
	})
	for _, n := range names {
		if n == "link" || n == "hard" || n == "dev" || n == "outside" {
			t.Errorf("extracted %s", n)
		}
	}
	if _, err := os.Lstat(outside); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s was written: %v", outside, err)
	}
	src.Close()
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("Close left %v", entries)
	}
}

// TestSymlinkEscapeReadsOnlyTheImage: an image whose /etc/os-release points far above
// its root reads its own file or nothing, never the host's (this host has one).
func TestSymlinkEscapeReadsOnlyTheImage(t *testing.T) {
	escape := layerBytes(t, dir("etc/"), symlink("etc/os-release", "../../../../../../etc/os-release"),
		symlink("etc/passwd", "/../../../etc/passwd"), dir("bin/"), file("bin/true", "x"))
	src := open(t, writeArchive(t, buildImage(t, v1.Config{}, [][]byte{escape}), "escape:1"), OpenOptions{})
	im := collect(t, src, CollectOptions{})
	if im.Content.OS.ID != "scratch" || im.Content.Accounts.Read {
		t.Errorf("read outside the image: os %+v, accounts %+v", im.Content.OS, im.Content.Accounts)
	}
	// With its own file, the link (which climbs to the image root and back) reads it.
	own := layerBytes(t, dir("etc/"), symlink("etc/os-release", "../../../../usr/lib/os-release"), dir("usr/lib/"), file("usr/lib/os-release", "ID=alpine\nVERSION_ID=3.20.3\n"))
	im = collect(t, open(t, writeArchive(t, buildImage(t, v1.Config{}, [][]byte{own}), "own:1"), OpenOptions{}), CollectOptions{})
	if im.Content.OS.ID != "alpine" || im.Content.OS.VersionID != "3.20.3" {
		t.Errorf("os = %+v", im.Content.OS)
	}
	if !strings.Contains(osRelease, "debian") {
		t.Fatal("fixture")
	}
}

// TestAmbiguousName: a bare name that is a path here and a valid image name is not
// guessed; a path written as one, or a prefix, decides.
func TestAmbiguousName(t *testing.T) {
	t.Chdir(t.TempDir())
	os.Mkdir("rvtest", 0o755)
	_, err := Open(context.Background(), "rvtest", OpenOptions{})
	want := "ambiguous: a file or directory of that name is here, and it is also a valid image name; write dir:rvtest, docker-archive:rvtest or oci:rvtest for the path, or daemon:rvtest for the image"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v", err)
	}
	for _, ref := range []string{"./rvtest", "dir:rvtest"} {
		if src := open(t, ref, OpenOptions{}); src.Kind != "dir" {
			t.Errorf("%s: kind %s", ref, src.Kind)
		}
	}
	// A symlink to a root filesystem is followed once.
	root := writeRootfs(t)
	os.Symlink(root, "rootlink")
	im := collect(t, open(t, "dir:rootlink", OpenOptions{}), CollectOptions{})
	if len(im.Content.Packages) != 3 || len(im.Layers) != 1 || im.Layers[0].Digest != "dir:rootlink" {
		t.Errorf("through a symlink: %d packages, layers %+v", len(im.Content.Packages), im.Layers)
	}
}

// TestLinkedDatabase: a package database behind a symbolic link is read where the
// link leads; one behind a hard link to a file nothing else reads is named in a note.
func TestLinkedDatabase(t *testing.T) {
	sym := layerBytes(t, dir("opt/dpkg/"), file("opt/dpkg/status", dpkgBase), dir("var/lib/"), symlink("var/lib/dpkg", "/opt/dpkg"))
	im := collect(t, open(t, writeArchive(t, buildImage(t, v1.Config{}, [][]byte{sym}), "sym:1"), OpenOptions{}), CollectOptions{})
	if len(im.Content.Packages) != 2 || len(im.Content.Notes) != 0 {
		t.Errorf("through a symlink: %d packages, notes %q", len(im.Content.Packages), im.Content.Notes)
	}
	hard := layerBytes(t, dir("tmp/"), file("tmp/x", dpkgBase), dir("var/lib/dpkg/"), tarEntry{name: "var/lib/dpkg/status", typ: tar.TypeLink, link: "tmp/x"})
	im = collect(t, open(t, writeArchive(t, buildImage(t, v1.Config{}, [][]byte{hard}), "hard:1"), OpenOptions{}), CollectOptions{})
	want := []string{"/var/lib/dpkg/status is a hard link to /tmp/x, whose content was not read: its packages are not inventoried"}
	if !cmp.Equal(want, im.Content.Notes) || len(im.Content.Packages) != 0 {
		t.Errorf("hard link: notes %q, %d packages", im.Content.Notes, len(im.Content.Packages))
	}
	// A merged-/usr Debian links /lib to /usr/lib: no apk database is implied.
	usr := layerBytes(t, symlink("lib", "usr/lib"), dir("usr/lib/"), dir("var/lib/dpkg/"), file("var/lib/dpkg/status", dpkgBase))
	im = collect(t, open(t, writeArchive(t, buildImage(t, v1.Config{}, [][]byte{usr}), "usr:1"), OpenOptions{}), CollectOptions{})
	if len(im.Content.Notes) != 0 {
		t.Errorf("merged /usr: notes %q", im.Content.Notes)
	}
}
