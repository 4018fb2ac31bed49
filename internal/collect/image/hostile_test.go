package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dockaudit/dockaudit/internal/facts"
)

// rawArchive writes a docker save archive around layer files stored exactly as given
// (a hostile image is not made with a well-behaved library). diffIDs are the digests
// of the layers as given, or of their gunzipped content where that succeeds.
func rawArchive(t testing.TB, dir string, layers ...[]byte) string {
	t.Helper()
	var diffIDs []string
	for _, b := range layers {
		content := b
		if zr, err := gzip.NewReader(bytes.NewReader(b)); err == nil {
			if u, err := io.ReadAll(zr); err == nil {
				content = u
			}
		}
		sum := sha256.Sum256(content)
		diffIDs = append(diffIDs, "sha256:"+hex.EncodeToString(sum[:]))
	}
	return rawArchiveDiffIDs(t, dir, diffIDs, layers...)
}

// rawArchiveDiffIDs is rawArchive with the configuration's diff IDs as given.
func rawArchiveDiffIDs(t testing.TB, dir string, diffIDs []string, layers ...[]byte) string {
	t.Helper()
	var paths []string
	for i := range layers {
		paths = append(paths, "layer"+string(rune('0'+i))+".tar")
	}
	cfg, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux", "config": map[string]any{},
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs}})
	manifest, _ := json.Marshal([]map[string]any{{"Config": "config.json", "RepoTags": []string{"hostile:1"}, "Layers": paths}})
	p := filepath.Join(dir, "hostile.tar")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	add := func(name string, b []byte) {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg})
		tw.Write(b)
	}
	add("config.json", cfg)
	for i, b := range layers {
		add(paths[i], b)
	}
	add("manifest.json", manifest)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// hostileCase is one image of the corpus: what the layers hold and what reading it
// must give, an error or findings.
type hostileCase struct {
	name      string
	layers    func(t testing.TB, sentinel string) [][]byte
	lim       Limits
	err       string    // the exact error, or "" when the image is read
	anomalies []Anomaly // when it is read
}

func hostileCorpus() []hostileCase {
	bomb := func(t testing.TB, _ string) [][]byte {
		return [][]byte{gz(t, layerBytes(t, tarEntry{name: "zeros", typ: tar.TypeReg, mode: 0o644, size: 64 << 20}))}
	}
	sound := func(t testing.TB) []byte {
		return gz(t, layerBytes(t, dir("etc/"), file("etc/passwd", strings.Repeat("root:x:0:0::/root:/bin/sh\n", 2000))))
	}
	return []hostileCase{
		{name: "path traversal", layers: func(t testing.TB, sentinel string) [][]byte {
			return [][]byte{layerBytes(t, file("../../../../../../.."+sentinel, "pwned"), file("etc/../../../.."+sentinel, "pwned"),
				file("/etc/passwd", "root:x:0:0::/root:/bin/sh\n"))}
		}, anomalies: []Anomaly{
			{Path: "../../../../../../..SENTINEL", Reason: "the entry's path leaves the image root"},
			{Path: "etc/../../../..SENTINEL", Reason: "the entry's path leaves the image root"},
		}},
		{name: "hard link out of the root", layers: func(t testing.TB, sentinel string) [][]byte {
			return [][]byte{layerBytes(t, dir("etc/"), tarEntry{name: "etc/shadow", typ: tar.TypeLink, link: "../../../../etc/shadow"})}
		}, anomalies: []Anomaly{{Path: "etc/shadow", Reason: "the hard link's target leaves the image root: ../../../../etc/shadow"}}},
		{name: "symlink loop", layers: func(t testing.TB, _ string) [][]byte {
			return [][]byte{layerBytes(t, dir("etc/"), symlink("etc/os-release", "os-release"), symlink("etc/passwd", "/etc/group"), symlink("etc/group", "../etc/passwd"))}
		}},
		{name: "truncated gzip", layers: func(t testing.TB, _ string) [][]byte {
			b := sound(t)
			return [][]byte{b[:len(b)/2]}
		}, err: "layer 1 (sha256:SHORT): the layer is truncated: unexpected EOF"},
		{name: "corrupt gzip", layers: func(t testing.TB, _ string) [][]byte {
			b := sound(t)
			b[len(b)/2] ^= 0xff
			return [][]byte{b}
		}, err: "layer 1 (sha256:SHORT): archive/tar: invalid tar header"},
		{name: "gzip checksum mismatch", layers: func(t testing.TB, _ string) [][]byte {
			b := sound(t)
			b[len(b)-8] ^= 0xff // the CRC-32 in the trailer
			return [][]byte{b}
		}, err: "layer 1 (sha256:SHORT): gzip: invalid checksum"},
		{name: "truncated tar", layers: func(t testing.TB, _ string) [][]byte {
			b := layerBytes(t, file("etc/passwd", strings.Repeat("x", 5000)))
			return [][]byte{b[:3000]}
		}, err: "layer 1 (sha256:SHORT): the layer is truncated: unexpected EOF"},
		{name: "not a tar", layers: func(t testing.TB, _ string) [][]byte {
			return [][]byte{bytes.Repeat([]byte("this is not a tar stream\n"), 100)}
		}, err: "layer 1 (sha256:SHORT): archive/tar: invalid tar header"},
		{name: "decompression bomb", layers: bomb, lim: Limits{BombFloor: 8 << 20},
			err: "layer 1 (sha256:SHORT): the layer decompresses to far more than its compressed size (a decompression bomb?)"},
		{name: "too large", layers: bomb, lim: Limits{MaxBytes: 16 << 20},
			err: "layer 1 (sha256:SHORT): the image decompresses to more than the limit"},
		{name: "too many entries", layers: func(t testing.TB, _ string) [][]byte {
			var es []tarEntry
			for i := 0; i < 200; i++ {
				es = append(es, file("f"+strings.Repeat("x", i%50)+string(rune('a'+i%26)), ""))
			}
			return [][]byte{layerBytes(t, es...)}
		}, lim: Limits{MaxEntries: 100}, err: "layer 1 (sha256:SHORT): the image has more entries than the limit"},
		{name: "path too long", layers: func(t testing.TB, _ string) [][]byte {
			return [][]byte{layerBytes(t, file(strings.Repeat("very-long-directory-name/", 200)+"f", "x"))}
		}, err: "layer 1 (sha256:SHORT): an entry's path is longer than the limit"},
	}
}

// TestHostileCorpus reads each image of the corpus through Open and Collect, as
// dockaudit image does, and checks the exact outcome, and that nothing was written
// outside the private temporary directory: not the traversal target, not anything in
// the temporary directory after Close.
func TestHostileCorpus(t *testing.T) {
	for _, tc := range hostileCorpus() {
		t.Run(tc.name, func(t *testing.T) {
			work := t.TempDir()
			sentinel := filepath.Join(work, "pwned")
			tmp := filepath.Join(work, "tmp")
			os.Mkdir(tmp, 0o700)
			archive := rawArchive(t, work, tc.layers(t, sentinel)...)
			src, err := Open(context.Background(), archive, OpenOptions{TempDir: tmp})
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			im, err := Collect(context.Background(), src, CollectOptions{Limits: tc.lim})
			short := ""
			if len(src.Layers) > 0 {
				short = strings.TrimPrefix(src.Layers[0].Digest, "sha256:")[:12]
			}
			src.Close()
			want := strings.ReplaceAll(tc.err, "SHORT", short)
			switch {
			case want != "" && (err == nil || err.Error() != want):
				t.Errorf("err = %v\nwant  %s", err, want)
			case want == "" && err != nil:
				t.Errorf("err = %v", err)
			case want == "":
				var got []Anomaly
				for _, a := range im.Content.Anomalies {
					got = append(got, Anomaly{Layer: a.Layer, Path: strings.ReplaceAll(a.Path, sentinel, "SENTINEL"), Reason: a.Reason})
				}
				if d := cmp.Diff(tc.anomalies, got); d != "" {
					t.Errorf("anomalies (-want +got):\n%s", d)
				}
				if im.Content.OS.ID != "" && im.Content.OS.ID != "scratch" {
					t.Errorf("os %+v came from outside the image", im.Content.OS)
				}
			}
			if _, err := os.Lstat(sentinel); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s was written", sentinel)
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("left in the temporary directory: %v", left)
			}
			if left, _ := os.ReadDir(work); len(left) != 2 {
				t.Errorf("written next to the archive: %v", left)
			}
		})
	}
}

// FuzzWalk feeds arbitrary bytes to the layer reader, raw and as a gzip layer: it must
// return a view or an error, never panic or hang, within its limits.
func FuzzWalk(f *testing.F) {
	for _, tc := range hostileCorpus() {
		if tc.name == "decompression bomb" || tc.name == "too large" {
			continue
		}
		for _, b := range tc.layers(f, "/tmp/sentinel") {
			f.Add(b)
		}
	}
	for _, b := range seeded(f) {
		f.Add(b)
	}
	lim := Limits{MaxBytes: 64 << 20, MaxEntries: 10000, MaxFileRead: 1 << 20}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, l := range []Layer{layer(b), {Digest: "sha256:gz", Open: func() (io.ReadCloser, error) { return gzip.NewReader(bytes.NewReader(b)) }}} {
			v, err := Walk(context.Background(), []Layer{l}, Options{Want: want, Limits: lim, OnContent: func(_ int, p string, _ []byte) []facts.Secret { return []facts.Secret{{Path: p}} },
				Derive: func(int, string, []byte) []facts.Package { return nil }})
			if err == nil {
				for _, n := range v.Nodes(nil) {
					v.ReadFile(n.Path)
				}
			}
		}
	})
}

// TestAlteredImages: content that does not match the digests the image declares is
// refused, as docker load and registries refuse it.
func TestAlteredImages(t *testing.T) {
	good := layerBytes(t, dir("etc/"), file("etc/os-release", "ID=debian\nVERSION_ID=12\n"))
	other := layerBytes(t, dir("etc/"), file("etc/os-release", "ID=alpine\nVERSION_ID=3.20\n"))
	sum := sha256.Sum256(good)
	goodID := "sha256:" + hex.EncodeToString(sum[:])
	read := func(ref string) error {
		src, err := Open(context.Background(), ref, OpenOptions{})
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = Collect(context.Background(), src, CollectOptions{})
		return err
	}

	// docker save archive whose layer is not what its configuration says.
	p := rawArchiveDiffIDs(t, t.TempDir(), []string{goodID}, other)
	sum = sha256.Sum256(other)
	want := "layer 1 (sha256:" + goodID[7:19] + "): the layer was altered or damaged: the content hashes to sha256:" + hex.EncodeToString(sum[:]) + ", the image says " + goodID
	if err := read(p); err == nil || err.Error() != want {
		t.Errorf("altered layer:\n got %v\nwant %s", err, want)
	}
	// Two layers in manifest.json, one in the configuration.
	p = rawArchiveDiffIDs(t, t.TempDir(), []string{goodID}, good, other)
	if err := read(p); err == nil || err.Error() != "read docker archive: manifest.json lists 2 layers, the image configuration 1" {
		t.Errorf("layer count: %v", err)
	}

	// OCI layout whose layer blob was replaced in place.
	img := buildImage(t, v1.Config{}, [][]byte{good})
	layoutDir := writeLayout(t, map[string]v1.Image{"v1": img}, nil)
	ls, _ := img.Layers()
	d, _ := ls[0].Digest()
	if err := read("oci:" + layoutDir); err != nil {
		t.Fatalf("intact layout: %v", err)
	}
	forged := gz(t, other)
	os.WriteFile(filepath.Join(layoutDir, "blobs", "sha256", d.Hex), forged, 0o644)
	fs := sha256.Sum256(forged)
	want = "layer 1 (sha256:" + d.Hex[:12] + "): the layer was altered or damaged: the blob hashes to sha256:" + hex.EncodeToString(fs[:]) + ", the manifest says " + d.String()
	if err := read("oci:" + layoutDir); err == nil || err.Error() != want {
		t.Errorf("forged blob:\n got %v\nwant %s", err, want)
	}
}

// TestOCIArchiveSparse: a sparse entry (testdata/sparse-oci.tar, 10 KiB, made by GNU
// tar --sparse from a 20 GiB hole) is refused before anything is written.
func TestOCIArchiveSparse(t *testing.T) {
	archive := "testdata/sparse-oci.tar"
	tmp := t.TempDir()
	_, err := Open(context.Background(), "oci:"+archive, OpenOptions{TempDir: tmp})
	if err == nil || err.Error() != "oci archive: blobs/sha256/"+strings.Repeat("a", 64)+" is a sparse file, which no OCI layout writer makes" {
		t.Errorf("err = %v", err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left %v", left)
	}
}

// TestTooManyLayers: an image of more layers than dockaudit reads is refused before
// any layer is opened.
func TestTooManyLayers(t *testing.T) {
	empty := emptyLayer(t)
	layers := make([][]byte, MaxLayers+1)
	for i := range layers {
		layers[i] = empty
	}
	archive := rawArchive(t, t.TempDir(), layers...)
	_, err := Open(context.Background(), "docker-archive:"+archive, OpenOptions{TempDir: t.TempDir()})
	if want := "the image has 513 layers; dockaudit reads at most 512 (Docker builds and runs at most 127)"; err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
}

func emptyLayer(t testing.TB) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.Close()
	return b.Bytes()
}

// TestMetadataBounds (found in review): image metadata go-containerregistry reads
// whole is bounded first, and a sparse OCI archive is not unpacked.
func TestMetadataBounds(t *testing.T) {
	dir := t.TempDir()
	// docker save archive naming a 17 MiB configuration.
	p := filepath.Join(dir, "bigcfg.tar")
	f, _ := os.Create(p)
	tw := tar.NewWriter(f)
	m := []byte(`[{"Config":"big.json","RepoTags":["x:1"],"Layers":[]}]`)
	tw.WriteHeader(&tar.Header{Name: "manifest.json", Mode: 0o644, Size: int64(len(m)), Typeflag: tar.TypeReg})
	tw.Write(m)
	tw.WriteHeader(&tar.Header{Name: "big.json", Mode: 0o644, Size: 17 << 20, Typeflag: tar.TypeReg})
	io.Copy(tw, io.LimitReader(zeroReader{}, 17<<20))
	tw.Close()
	f.Close()
	if _, err := Open(context.Background(), "docker-archive:"+p, OpenOptions{TempDir: dir}); err == nil || err.Error() != "read docker archive: big.json: the image configuration is larger than 16 MiB" {
		t.Errorf("big config: %v", err)
	}
	// OCI layout whose index.json is 5 MiB.
	lay := filepath.Join(dir, "lay")
	os.MkdirAll(filepath.Join(lay, "blobs", "sha256"), 0o755)
	os.WriteFile(filepath.Join(lay, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
	os.WriteFile(filepath.Join(lay, "index.json"), []byte(`{"manifests":[]}`+strings.Repeat(" ", 5<<20)), 0o644)
	if _, err := Open(context.Background(), "oci:"+lay, OpenOptions{TempDir: dir}); err == nil || err.Error() != "oci layout: index.json is larger than 4 MiB" {
		t.Errorf("big index: %v", err)
	}
	// A sparse OCI archive: 64 MiB on a few KiB of disk.
	sp := filepath.Join(dir, "sparse.tar")
	f, _ = os.Create(sp)
	tw = tar.NewWriter(f)
	tw.WriteHeader(&tar.Header{Name: "oci-layout", Mode: 0o644, Size: 2, Typeflag: tar.TypeReg})
	tw.Write([]byte("{}"))
	tw.Flush()
	f.Truncate(64 << 20)
	f.Close()
	if _, err := Open(context.Background(), "oci:"+sp, OpenOptions{TempDir: dir}); err == nil || !strings.HasPrefix(err.Error(), "oci archive: the archive is a sparse file (64 MiB, ") {
		t.Errorf("sparse archive: %v", err)
	}
}
