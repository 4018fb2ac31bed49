package image

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestFedoraRPMLinkedOnce: /var/lib/rpm links to /usr/lib/sysimage/rpm; the one
// database is read once, under its real path.
func TestFedoraRPMLinkedOnce(t *testing.T) {
	db, err := os.ReadFile("../../inventory/rpmdb/testdata/rpmdb.sqlite")
	if err != nil {
		t.Fatal(err)
	}
	l := layerBytes(t, dir("etc/"), file("etc/os-release", "ID=fedora\nVERSION_ID=40\n"),
		dir("usr/lib/sysimage/rpm/"), file("usr/lib/sysimage/rpm/rpmdb.sqlite", string(db)),
		dir("var/lib/"), symlink("var/lib/rpm", "../../usr/lib/sysimage/rpm"))
	im, err := Collect(context.Background(), &Source{Kind: "dir", Layers: []Layer{layer(l)}}, CollectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range im.Content.Packages {
		got = append(got, fmt.Sprintf("%s %s %s", p.Name, p.Version, p.Path))
	}
	want := []string{
		// The five packages of rpm -qa on the fixture (rpmdb/testdata/expected.tsv), once.
		"demo-tools 1.4.2-1 /usr/lib/sysimage/rpm/rpmdb.sqlite",
		"elpkg 3.1-3.el9 /usr/lib/sysimage/rpm/rpmdb.sqlite",
		"epochpkg 2:0.9.1-5 /usr/lib/sysimage/rpm/rpmdb.sqlite",
		"libdemo1 1.4.2-1 /usr/lib/sysimage/rpm/rpmdb.sqlite",
		"vendorpkg 2024.01-7 /usr/lib/sysimage/rpm/rpmdb.sqlite",
	}
	if d := cmp.Diff(want, got); d != "" || len(im.Content.Notes) != 0 {
		t.Errorf("packages (-want +got):\n%s\nnotes %q", d, im.Content.Notes)
	}
}

// TestJarOverReadLimitNoted: a JAR too large to read is said, not silently dropped.
func TestJarOverReadLimitNoted(t *testing.T) {
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, _ := zw.Create("META-INF/maven/g/a/pom.properties")
	w.Write([]byte("groupId=g\nartifactId=a\nversion=1.0\n"))
	w, _ = zw.CreateHeader(&zip.FileHeader{Name: "pad.bin", Method: zip.Store})
	w.Write(bytes.Repeat([]byte{1}, 4096))
	zw.Close()
	l := layerBytes(t, dir("app/"), file("app/app.jar", zb.String()))
	im, err := Collect(context.Background(), &Source{Kind: "dir", Layers: []Layer{layer(l)}}, CollectOptions{Limits: Limits{MaxFileRead: 1024}})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"/app/app.jar is larger than the read limit and was not fully read"}, im.Content.Notes); d != "" || len(im.Content.Packages) != 0 {
		t.Errorf("notes (-want +got):\n%s\npackages %v", d, im.Content.Packages)
	}
}

// TestRepeatedOpaqueBounded: a layer repeating an opaque marker over a directory of
// its own entries is read in bounded time.
func TestRepeatedOpaqueBounded(t *testing.T) {
	const n = 20000
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := 0; i < n; i++ {
		tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("a/l%d", i), Typeflag: tar.TypeSymlink, Linkname: "x"})
	}
	for i := 0; i < n; i++ {
		tw.WriteHeader(&tar.Header{Name: "a/.wh..wh..opq", Typeflag: tar.TypeReg})
	}
	tw.Close()
	b := buf.Bytes()
	start := time.Now()
	v, err := Walk(context.Background(), []Layer{{Digest: "sha256:x", Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }}},
		Options{Want: func(Entry) Action { return Skip }})
	if err != nil || len(paths(v)) != n {
		t.Errorf("err %v, %d paths", err, len(paths(v)))
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s", d)
	}
	// Past the budget of node visits, the layer is refused.
	_, err = Walk(context.Background(), []Layer{{Digest: "sha256:x", Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(nested(t))), nil }}},
		Options{Want: func(Entry) Action { return Skip }, Limits: Limits{MaxEntries: 1000}})
	if !errors.Is(err, ErrTooMany) {
		t.Errorf("nested opaque markers: %v", err)
	}
}

// nested builds a layer with 100 entries at the bottom of 100 nested directories and
// an opaque marker at every level: each marker walks everything below it.
func nested(t *testing.T) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	deep := strings.Repeat("d/", 100)
	for i := 0; i < 100; i++ {
		tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("%sf%d", deep, i), Typeflag: tar.TypeSymlink, Linkname: "x"})
	}
	for lvl := 1; lvl <= 100; lvl++ {
		tw.WriteHeader(&tar.Header{Name: strings.Repeat("d/", lvl) + ".wh..wh..opq", Typeflag: tar.TypeReg})
	}
	tw.Close()
	return buf.Bytes()
}

// TestOddWhiteouts: ".wh.", ".wh.." and "/.wh.." name nothing; they are anomalies and
// remove nothing.
func TestOddWhiteouts(t *testing.T) {
	base := layerBytes(t, dir("etc/"), file("etc/passwd", "root:x:0:0\n"), dir("usr/lib/"), file("usr/lib/os-release", "ID=x\n"))
	for _, name := range []string{"usr/lib/.wh..", "usr/lib/.wh.", ".wh.."} {
		v, err := walk(t, Limits{}, base, layerBytes(t, file(name, "")))
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]string{"/etc/passwd", "/usr/lib/os-release"}, paths(v)); d != "" {
			t.Errorf("%s removed entries (-want +got):\n%s", name, d)
		}
		if len(v.Anomalies) != 1 || v.Anomalies[0].Layer != 1 {
			t.Errorf("%s: anomalies %+v", name, v.Anomalies)
		}
	}
}

// TestCapturedContentBounded: package databases and manifests are kept in memory; all
// of them together are bounded, every layer's copy counted.
func TestCapturedContentBounded(t *testing.T) {
	status := "Package: x\nStatus: install ok installed\nVersion: 1\n" + strings.Repeat("#", 600)
	l1 := layerBytes(t, dir("var/lib/dpkg/"), file("var/lib/dpkg/status", status))
	l2 := layerBytes(t, dir("var/lib/dpkg/"), file("var/lib/dpkg/status", status+"\n"))
	_, err := Collect(context.Background(), &Source{Kind: "dir", Layers: []Layer{layer(l1), layer(l2)}}, CollectOptions{Limits: Limits{MaxCaptured: 1000}})
	if !errors.Is(err, ErrCaptured) {
		t.Errorf("two 650-byte copies under a 1000-byte bound: %v", err)
	}
	if _, err := Collect(context.Background(), &Source{Kind: "dir", Layers: []Layer{layer(l1)}}, CollectOptions{Limits: Limits{MaxCaptured: 1000}}); err != nil {
		t.Errorf("one copy: %v", err)
	}
}
