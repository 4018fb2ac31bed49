package serve

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/dockaudit/dockaudit/internal/imagetest"
	"github.com/dockaudit/dockaudit/internal/store"
)

// blobCounter counts blob downloads per digest.
type blobCounter struct {
	mu   sync.Mutex
	gets map[string]int
	next http.Handler
}

func (b *blobCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if i := strings.Index(r.URL.Path, "/blobs/"); i >= 0 && r.Method == http.MethodGet {
		b.mu.Lock()
		b.gets[r.URL.Path[i+len("/blobs/"):]]++
		b.mu.Unlock()
	}
	b.next.ServeHTTP(w, r)
}

// TestRegistryOf200Images: a registry of 200 images over 5 shared base layers (and a
// two-platform index) is polled through its paginated catalog and scanned by two
// replicas' worth of workers; every distinct layer is downloaded and read exactly once,
// and each platform of the index is its own image.
func TestRegistryOf200Images(t *testing.T) {
	s, _, _ := testServer(t)
	bc := &blobCounter{gets: map[string]int{}, next: registry.New(registry.Logger(log.New(io.Discard, "", 0)))}
	srv := httptest.NewServer(bc)
	defer srv.Close()

	var bases [][]byte
	for i := range 5 {
		bases = append(bases, imagetest.Layer(t, imagetest.Dir("etc/"), imagetest.File("etc/os-release", "ID=debian\nVERSION_ID=12\n"),
			imagetest.Dir("var/lib/dpkg/"), imagetest.File("var/lib/dpkg/status", fmt.Sprintf("Package: base%d\nStatus: install ok installed\nVersion: 1.%d\nArchitecture: amd64\n", i, i))))
	}
	layers := map[string]bool{}
	push := func(repo string, img v1.Image) {
		imagetest.Push(t, srv.URL, repo, "1", img)
		ls, _ := img.Layers()
		for _, l := range ls {
			d, _ := l.Digest()
			layers[d.String()] = true
		}
	}
	for i := range 200 {
		top := imagetest.Layer(t, imagetest.Dir("app/"), imagetest.File(fmt.Sprintf("app/%d", i), "x"))
		push(fmt.Sprintf("app%03d", i), imagetest.Build(t, v1.Config{}, [][]byte{bases[i%5], top}))
	}
	// A two-platform index, as docker buildx pushes one.
	var idx v1.ImageIndex = empty.Index
	idx = mutate.IndexMediaType(idx, types.OCIImageIndex)
	for _, arch := range []string{"amd64", "arm64"} {
		img := imagetest.Build(t, v1.Config{}, [][]byte{bases[0], imagetest.Layer(t, imagetest.File("arch", arch))})
		cf, _ := img.ConfigFile()
		cf.Architecture = arch
		img, _ = mutate.ConfigFile(img, cf)
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
		ls, _ := img.Layers()
		for _, l := range ls {
			d, _ := l.Digest()
			layers[d.String()] = true
		}
	}
	imagetest.PushIndex(t, srv.URL, "multi", "1", idx)

	cfg, err := ParseConfig([]byte("workers: 4\nregistries:\n  - url: "+srv.URL+"\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	s.cfg = cfg
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	if err := s.poll(ctx, &cfg.Registries[0]); err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.work(wctx)
		}()
	}
	for ctx.Err() == nil {
		depth, err := s.store.QueueDepth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if depth[jobScan] == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	wg.Wait()
	t.Logf("202 images scanned in %s", time.Since(start).Round(time.Millisecond))

	n, err := s.store.Totals(ctx)
	if err != nil || n.Images != 202 {
		t.Fatalf("%d images stored, want 202 (%v)", n.Images, err)
	}
	records, reads, err := s.store.Layers(ctx)
	if err != nil || records != len(layers) || reads != len(layers) {
		t.Errorf("layer records %d, reads %d, want each of the %d distinct layers once (%v)", records, reads, len(layers), err)
	}
	bc.mu.Lock()
	for d := range layers {
		if bc.gets[d] != 1 {
			t.Errorf("layer %s downloaded %d times", d[:19], bc.gets[d])
		}
	}
	bc.mu.Unlock()
	items, err := s.store.ListImages(ctx, store.ImageFilter{Repository: "multi", Limit: 10})
	if err != nil || len(items) != 2 || items[0].Platform == items[1].Platform || !strings.HasPrefix(items[0].Platform, "linux/") {
		t.Errorf("the index: %+v %v", items, err)
	}
}
