package imagetest

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
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
