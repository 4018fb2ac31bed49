package image

import (
	"context"
	"fmt"
	"os"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/testenv"
)

// BenchmarkWalk reads a layer of 10,000 small files, a package database and a few
// executables with what dockaudit image wants.
func BenchmarkWalk(b *testing.B) {
	entries := []tarEntry{dir("var/lib/dpkg/"), file("var/lib/dpkg/status", dpkgUpper), dir("etc/"), file("etc/os-release", osRelease)}
	for i := 0; i < 10000; i++ {
		entries = append(entries, file(fmt.Sprintf("srv/data/%04d/f%d.txt", i/100, i), "some file content of a realistic size, not a secret\n"))
	}
	for i := 0; i < 20; i++ {
		entries = append(entries, tarEntry{name: fmt.Sprintf("usr/bin/tool%d", i), typ: '0', mode: 0o755, body: "\x7fELF", size: 256 << 10})
	}
	l := layer(layerBytes(b, entries...))
	b.ResetTimer()
	for b.Loop() {
		if _, err := Walk(context.Background(), []Layer{l}, Options{Want: want, OnContent: func(int, string, []byte) []facts.Secret { return nil }}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCollectSeeded is Open and Collect of a small three-layer image.
func BenchmarkCollectSeeded(b *testing.B) {
	p := writeArchive(b, buildImage(b, v1.Config{}, seeded(b)), "seeded:1")
	b.ResetTimer()
	for b.Loop() {
		src, err := Open(context.Background(), p, OpenOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Collect(context.Background(), src, CollectOptions{}); err != nil {
			b.Fatal(err)
		}
		src.Close()
	}
}

// BenchmarkCollectBookworm reads the cached debootstrap image (194 MiB docker-archive,
// 88 packages) when scripts/setup made one.
func BenchmarkCollectBookworm(b *testing.B) {
	const p = "/var/cache/dockaudit-test/bookworm-minbase.tar"
	if _, err := os.Stat(p); err != nil {
		testenv.Missing(b, "no %s", p)
	}
	for _, inventoryOnly := range []bool{true, false} {
		b.Run(fmt.Sprintf("inventoryOnly=%v", inventoryOnly), func(b *testing.B) {
			for b.Loop() {
				src, err := Open(context.Background(), "docker-archive:"+p, OpenOptions{})
				if err != nil {
					b.Fatal(err)
				}
				im, err := Collect(context.Background(), src, CollectOptions{InventoryOnly: inventoryOnly})
				if err != nil || len(im.Content.Packages) != 88 {
					b.Fatalf("%v, %d packages", err, len(im.Content.Packages))
				}
				src.Close()
			}
		})
	}
}
