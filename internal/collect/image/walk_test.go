package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"io/fs"
	"math/rand"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// tarEntry describes one entry of a test layer.
type tarEntry struct {
	name, body, link string
	typ              byte
	mode             int64
	size             int64 // when > len(body), the body is padded with zeros (streamed, not held)
}

func file(name, body string) tarEntry {
	return tarEntry{name: name, body: body, typ: tar.TypeReg, mode: 0o644}
}
func dir(name string) tarEntry { return tarEntry{name: name, typ: tar.TypeDir, mode: 0o755} }
func symlink(name, target string) tarEntry {
	return tarEntry{name: name, link: target, typ: tar.TypeSymlink, mode: 0o777}
}

func layerBytes(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		size := int64(len(e.body))
		if e.size > size {
			size = e.size
		}
		if e.typ != tar.TypeReg {
			size = 0
		}
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Size: size, Linkname: e.link, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if size > 0 {
			if _, err := io.Copy(tw, io.MultiReader(strings.NewReader(e.body), io.LimitReader(zeros{}, size-int64(len(e.body))))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func layer(b []byte) Layer {
	return Layer{Digest: "sha256:" + strings.Repeat("ab", 32), Open: func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}}
}

// readAll wants the content of everything under /etc and /var/lib/dpkg, with history
// for the dpkg status file, and keeps setuid files.
func readAll(e Entry) Action {
	switch {
	case e.Path == "/var/lib/dpkg/status":
		return Read | History
	case e.Regular() && (strings.HasPrefix(e.Path, "/etc/") || strings.HasPrefix(e.Path, "/usr/lib/") || strings.HasPrefix(e.Path, "/lib/")):
		return Read
	case e.Mode&0o4000 != 0:
		return Keep
	}
	return Skip
}

func walk(t *testing.T, lim Limits, layers ...[]byte) (*View, error) {
	t.Helper()
	var ls []Layer
	for _, b := range layers {
		ls = append(ls, layer(b))
	}
	return Walk(context.Background(), ls, Options{Want: readAll, Limits: lim})
}

func paths(v *View) []string {
	var out []string
	for _, n := range v.Nodes(nil) {
		out = append(out, n.Path)
	}
	return out
}

func TestLayersMerge(t *testing.T) {
	base := layerBytes(t,
		dir("etc/"), file("etc/passwd", "root:x:0:0\n"), file("etc/shadow", "root:*:1\n"),
		dir("etc/ssl/"), file("etc/ssl/a.pem", "A"), file("etc/ssl/b.pem", "B"),
		dir("usr/lib/"), file("usr/lib/os-release", "ID=debian\n"), symlink("etc/os-release", "../usr/lib/os-release"),
		dir("var/lib/dpkg/"), file("var/lib/dpkg/status", "Package: a\n"),
		tarEntry{name: "usr/bin/su", typ: tar.TypeReg, mode: 0o4755, body: "x"},
		file("etc/conf", "a file that becomes a directory"),
	)
	upper := layerBytes(t,
		file("etc/.wh.shadow", ""),       // delete one file
		file("etc/ssl/.wh..wh..opq", ""), // empty a directory of lower content
		file("etc/ssl/c.pem", "C"),       // same-layer content survives the opaque marker
		file("var/lib/dpkg/status", "Package: a\n\nPackage: b\n"),
		dir("etc/conf/"), file("etc/conf/x", "X"), // file replaced by a directory
		file("usr/bin/.wh.su", ""),
	)
	v, err := walk(t, Limits{}, base, upper)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/etc/conf/x", "/etc/os-release", "/etc/passwd", "/etc/ssl/c.pem", "/usr/lib/os-release", "/var/lib/dpkg/status"}
	if d := cmp.Diff(want, paths(v)); d != "" {
		t.Errorf("merged view (-want +got):\n%s", d)
	}
	if b, err := v.ReadFile("/etc/os-release"); err != nil || string(b) != "ID=debian\n" {
		t.Errorf("os-release through its symlink: %q, %v", b, err)
	}
	h := v.History("/var/lib/dpkg/status")
	if len(h) != 2 || h[0].Layer != 0 || h[1].Layer != 1 || string(h[1].Data) != "Package: a\n\nPackage: b\n" {
		t.Errorf("history = %+v", h)
	}
	if n, _ := v.Resolve("/etc/conf/x", true); n == nil || n.Layer != 1 {
		t.Errorf("/etc/conf/x: %+v", n)
	}
	if v.Layers[0].Entries != 13 || v.Layers[1].Entries != 7 || len(v.Anomalies) != 0 {
		t.Errorf("entries per layer: %+v, anomalies %+v", v.Layers, v.Anomalies)
	}
}

// TestSymlinksStayInside: a link pointing out of the image resolves inside it.
func TestSymlinksStayInside(t *testing.T) {
	l := layerBytes(t,
		dir("etc/"), symlink("etc/os-release", "../../../../etc/os-release"), // escapes, as an attacker would
		symlink("etc/abs", "/etc/passwd"), file("etc/passwd", "image's own\n"),
		symlink("etc/loop1", "loop2"), symlink("etc/loop2", "loop1"),
		dir("usr/"), symlink("usr/lib", "/lib"), dir("lib/"), file("lib/os-release", "NAME=inside\n"),
	)
	v, err := walk(t, Limits{}, l)
	if err != nil {
		t.Fatal(err)
	}
	// ../../../../etc/os-release from /etc is /etc/os-release inside the image: itself.
	if _, err := v.ReadFile("/etc/os-release"); err == nil || !strings.Contains(err.Error(), "too many levels") {
		t.Errorf("self-referencing escape: %v", err)
	}
	if b, err := v.ReadFile("/etc/abs"); err != nil || string(b) != "image's own\n" {
		t.Errorf("absolute link: %q %v", b, err)
	}
	if _, err := v.ReadFile("/etc/loop1"); err == nil || !strings.Contains(err.Error(), "too many levels") {
		t.Errorf("loop: %v", err)
	}
	if b, err := v.ReadFile("/usr/lib/os-release"); err != nil || string(b) != "NAME=inside\n" {
		t.Errorf("through a directory link: %q %v", b, err)
	}
	if _, err := v.ReadFile("/etc/missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestHardLinks(t *testing.T) {
	l := layerBytes(t, dir("etc/"), file("etc/a", "content"),
		tarEntry{name: "etc/b", typ: tar.TypeLink, link: "etc/a"},
		tarEntry{name: "etc/c", typ: tar.TypeLink, link: "../outside"})
	v, err := walk(t, Limits{}, l)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := v.ReadFile("/etc/b"); err != nil || string(b) != "content" {
		t.Errorf("hard link: %q %v", b, err)
	}
	if v.Exists("/etc/c") || len(v.Anomalies) != 1 || v.Anomalies[0].Reason != "the hard link's target leaves the image root: ../outside" {
		t.Errorf("escaping hard link: %v %+v", v.Exists("/etc/c"), v.Anomalies)
	}
}

// TestHostile feeds layers no builder produces and checks each gives its exact error
// (or anomaly) and nothing else.
func TestHostile(t *testing.T) {
	traversal := layerBytes(t, file("../../../tmp/dockaudit-pwned", "x"), file("/etc/passwd", "ok"), file("a/../../b", "x"))
	v, err := walk(t, Limits{}, traversal)
	if err != nil {
		t.Fatal(err)
	}
	wantAnomalies := []Anomaly{
		{Layer: 0, Path: "../../../tmp/dockaudit-pwned", Reason: "the entry's path leaves the image root"},
		{Layer: 0, Path: "a/../../b", Reason: "the entry's path leaves the image root"},
	}
	if d := cmp.Diff(wantAnomalies, v.Anomalies); d != "" {
		t.Errorf("anomalies (-want +got):\n%s", d)
	}

	full := layerBytes(t, file("etc/a", "x"), file("etc/b", "y"))
	tests := []struct {
		name   string
		layers [][]byte
		lim    Limits
		size   int64 // compressed size claimed for the bomb test
		want   string
	}{
		{"truncated mid-header", [][]byte{full[:1100]}, Limits{}, 0, "layer 1 (sha256:abababababab): the layer is truncated: unexpected EOF"},
		{"garbage", [][]byte{[]byte(strings.Repeat("not a tar file ", 100))}, Limits{}, 0, "layer 1 (sha256:abababababab): archive/tar: invalid tar header"},
		{"too large", [][]byte{layerBytes(t, tarEntry{name: "big", typ: tar.TypeReg, mode: 0o644, size: 10 << 20})}, Limits{MaxBytes: 1 << 20}, 0,
			"layer 1 (sha256:abababababab): the image decompresses to more than the limit"},
		{"bomb", [][]byte{layerBytes(t, tarEntry{name: "zeros", typ: tar.TypeReg, mode: 0o644, size: 8 << 20})}, Limits{BombFloor: 1 << 20, MaxRatio: 100}, 10 << 10,
			"layer 1 (sha256:abababababab): the layer decompresses to far more than its compressed size (a decompression bomb?)"},
		{"too many entries", [][]byte{full, full}, Limits{MaxEntries: 3}, 0, "layer 2 (sha256:abababababab): the image has more entries than the limit"},
		{"long path", [][]byte{layerBytes(t, file(strings.Repeat("d/", 40)+"f", "x"))}, Limits{MaxPathLen: 64}, 0,
			"layer 1 (sha256:abababababab): an entry's path is longer than the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ls []Layer
			for _, b := range tt.layers {
				l := layer(b)
				l.Size = tt.size
				ls = append(ls, l)
			}
			_, err := Walk(context.Background(), ls, Options{Want: readAll, Limits: tt.lim})
			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v\nwant  %s", err, tt.want)
			}
		})
	}
}

// TestBadGzip: a layer whose compressed stream is corrupt fails cleanly.
func TestBadGzip(t *testing.T) {
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(layerBytes(t, file("etc/a", strings.Repeat("x", 100000))))
	w.Close()
	b := gz.Bytes()
	b[len(b)/2] ^= 0xff // flip a byte in the middle of the deflate stream
	l := Layer{Digest: "sha256:" + strings.Repeat("cd", 32), Open: func() (io.ReadCloser, error) {
		return gzip.NewReader(bytes.NewReader(b))
	}}
	_, err := Walk(context.Background(), []Layer{l}, Options{Want: readAll})
	if err == nil || !strings.HasPrefix(err.Error(), "layer 1 (sha256:cdcdcdcdcdcd): ") {
		t.Errorf("corrupt gzip: %v", err)
	}
}

// TestCutOnABlockBoundary: archive/tar reads a layer cut between entries as complete;
// the missing end-of-archive marker is reported.
func TestCutOnABlockBoundary(t *testing.T) {
	full := layerBytes(t, file("etc/a", "x"), file("etc/b", "y"))
	v, err := walk(t, Limits{}, full[:1024])
	if err != nil {
		t.Fatal(err)
	}
	want := []Anomaly{{Layer: 0, Reason: "the layer ends without the end-of-archive marker: it may be truncated"}}
	if d := cmp.Diff(want, v.Anomalies); d != "" || !v.Exists("/etc/a") || v.Exists("/etc/b") {
		t.Errorf("anomalies (-want +got):\n%s", d)
	}
}

func TestMaxFileRead(t *testing.T) {
	v, err := walk(t, Limits{MaxFileRead: 10}, layerBytes(t, file("etc/big", "0123456789abcdef")))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := v.Resolve("/etc/big", true)
	if string(n.Data) != "0123456789" || !n.Truncated {
		t.Errorf("capped read: %q truncated=%v", n.Data, n.Truncated)
	}
}

func TestContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Walk(ctx, []Layer{layer(layerBytes(t, file("a", "b")))}, Options{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

// TestWhiteoutsAtAnyDepth: a whiteout or opaque marker removes everything lower
// layers put below it, however deep, though the directories between were never
// indexed; what the same layer adds stays.
func TestWhiteoutsAtAnyDepth(t *testing.T) {
	base := layerBytes(t,
		dir("etc/"), file("etc/passwd", "root:x:0:0\n"),
		dir("var/lib/dpkg/"), file("var/lib/dpkg/status", "Package: a\n"),
		dir("usr/lib/app/deep/er/"), file("usr/lib/app/deep/er/x", "x"), file("usr/lib/keep", "k"),
	)
	for _, tt := range []struct {
		name  string
		upper []byte
		want  []string
	}{
		{"grandparent whiteout", layerBytes(t, file("var/.wh.lib", "")), []string{"/etc/passwd", "/usr/lib/app/deep/er/x", "/usr/lib/keep"}},
		{"whiteout of a top directory", layerBytes(t, file(".wh.usr", "")), []string{"/etc/passwd", "/var/lib/dpkg/status"}},
		{"opaque root", layerBytes(t, file(".wh..wh..opq", ""), dir("etc/"), file("etc/passwd", "new\n")), []string{"/etc/passwd"}},
		{"opaque above the parent", layerBytes(t, file("usr/lib/.wh..wh..opq", ""), file("usr/lib/new", "n")), []string{"/etc/passwd", "/usr/lib/new", "/var/lib/dpkg/status"}},
		{"file replaces a directory", layerBytes(t, file("var", "not a directory")), []string{"/etc/passwd", "/usr/lib/app/deep/er/x", "/usr/lib/keep"}},
		{"symlink replaces a directory", layerBytes(t, symlink("usr", "/opt")), []string{"/etc/passwd", "/usr", "/var/lib/dpkg/status"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, err := walk(t, Limits{}, base, tt.upper)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, paths(v)); d != "" {
				t.Errorf("merged view (-want +got):\n%s", d)
			}
		})
	}
}

// TestPipeHash: what the hashing goroutine sums equals sha256 of everything written,
// in writes of any size (empty, under, at and over a chunk); a hash closed without
// its sum stops its goroutine.
func TestPipeHash(t *testing.T) {
	data := make([]byte, 3*pipeChunk*pipeBuffers+12345)
	rand.New(rand.NewSource(1)).Read(data)
	want := sha256.Sum256(data)
	for _, sizes := range [][]int{{1, 0, 511}, {pipeChunk}, {pipeChunk + 1, 7}, {5 * pipeChunk}, {len(data)}} {
		p := newPipeHash()
		for off, i := 0, 0; off < len(data); i++ {
			n := min(sizes[i%len(sizes)], len(data)-off)
			p.Write(data[off : off+n])
			off += n
		}
		if got := p.Sum(); !bytes.Equal(got, want[:]) {
			t.Errorf("writes of %v: %x, want %x", sizes, got, want)
		}
	}
	before := runtime.NumGoroutine()
	for range 50 {
		p := newPipeHash()
		p.Write(data[:100])
		p.Close()
		p.Close()
	}
	for range 100 {
		if runtime.NumGoroutine() <= before {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("goroutines: %d before, %d after closing 50 hashes", before, runtime.NumGoroutine())
}
