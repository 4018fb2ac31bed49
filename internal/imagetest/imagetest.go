package imagetest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Created is the creation time of every image and history step built here.
var Created = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Entry is one tar entry of a layer.
type Entry struct {
	Name, Body, Link string
	Type             byte
	Mode             int64
	Size             int64 // when > len(Body), the body is padded with zeros
}

// File, Dir and Symlink are the common entries.
func File(name, body string) Entry {
	return Entry{Name: name, Body: body, Type: tar.TypeReg, Mode: 0o644}
}
func Dir(name string) Entry { return Entry{Name: name, Type: tar.TypeDir, Mode: 0o755} }
func Symlink(name, target string) Entry {
	return Entry{Name: name, Link: target, Type: tar.TypeSymlink, Mode: 0o777}
}

// Zip returns a zip archive (a JAR, an egg) of name, body pairs, in order.
func Zip(t testing.TB, files ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i+1 < len(files); i += 2 {
		w, err := zw.Create(files[i])
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(files[i+1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Layer returns an uncompressed layer tar of the entries, in order.
func Layer(t testing.TB, entries ...Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		size := max(int64(len(e.Body)), e.Size)
		if e.Type != tar.TypeReg {
			size = 0
		}
		hdr := &tar.Header{Name: e.Name, Typeflag: e.Type, Mode: e.Mode, Size: size, Linkname: e.Link, ModTime: Created, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if size > 0 {
			if _, err := io.Copy(tw, io.MultiReader(strings.NewReader(e.Body), io.LimitReader(zeros{}, size-int64(len(e.Body))))); err != nil {
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

// Build makes an image of the layers (gzip-compressed, as registries hold them) with
// the configuration and one history step per layer ("COPY layerN /" unless steps
// names them).
func Build(t testing.TB, cfg v1.Config, layers [][]byte, steps ...string) v1.Image {
	t.Helper()
	img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{OS: "linux", Architecture: "amd64", Created: v1.Time{Time: Created},
		RootFS: v1.RootFS{Type: "layers"}, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range layers {
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
		if err != nil {
			t.Fatal(err)
		}
		step := fmt.Sprintf("/bin/sh -c #(nop) COPY layer%d /", i)
		if i < len(steps) {
			step = steps[i]
		}
		img, err = mutate.Append(img, mutate.Addendum{Layer: l, History: v1.History{Created: v1.Time{Time: Created}, CreatedBy: step}})
		if err != nil {
			t.Fatal(err)
		}
	}
	return img
}

// WriteArchive writes the image as a docker save archive tagged tag, in a new
// temporary directory, and returns its path.
func WriteArchive(t testing.TB, img v1.Image, tag string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "image.tar")
	ref, err := name.ParseReference(tag)
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(p, ref, img); err != nil {
		t.Fatal(err)
	}
	return p
}

// Push uploads an image to a registry at base (http://HOST:PORT) with the raw
// distribution API, and returns its digest.
func Push(t testing.TB, base, repo, tag string, img v1.Image) string {
	t.Helper()
	ls, _ := img.Layers()
	cfg, _ := img.RawConfigFile()
	cd, _ := img.ConfigName()
	upload(t, base, repo, cd, cfg)
	for _, l := range ls {
		d, _ := l.Digest()
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		upload(t, base, repo, d, b)
	}
	m, _ := img.RawManifest()
	mt, _ := img.MediaType()
	putManifest(t, base, repo, tag, string(mt), m)
	d, _ := img.Digest()
	return d.String()
}

// PushIndex uploads each image of an index, then the index under tag.
func PushIndex(t testing.TB, base, repo, tag string, idx v1.ImageIndex) string {
	t.Helper()
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range m.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		Push(t, base, repo, d.Digest.String(), img)
	}
	raw, _ := idx.RawManifest()
	mt, _ := idx.MediaType()
	putManifest(t, base, repo, tag, string(mt), raw)
	d, _ := idx.Digest()
	return d.String()
}

func upload(t testing.TB, base, repo string, d v1.Hash, body []byte) {
	t.Helper()
	resp, err := http.Post(base+"/v2/"+repo+"/blobs/uploads/", "", nil)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("start upload: %v %v", err, resp)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if !loc.IsAbs() {
		loc, _ = url.Parse(base + loc.String())
	}
	q := loc.Query()
	q.Set("digest", d.String())
	loc.RawQuery = q.Encode()
	req, _ := http.NewRequest(http.MethodPut, loc.String(), bytes.NewReader(body))
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("finish upload: %v %v", err, resp)
	}
	resp.Body.Close()
}

func putManifest(t testing.TB, base, repo, ref, mediaType string, body []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, base+"/v2/"+repo+"/manifests/"+ref, bytes.NewReader(body))
	req.Header.Set("Content-Type", mediaType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("put manifest %s: %v %v", ref, err, resp)
	}
	resp.Body.Close()
}
