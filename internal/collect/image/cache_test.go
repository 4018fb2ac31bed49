package image

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/facts"
)

// memCache is a LayerCache in memory that counts what it is asked.
type memCache struct {
	mu         sync.Mutex
	m          map[string][]byte
	gets, puts int
}

func (c *memCache) Get(_ context.Context, id string, format int) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gets++
	return c.m[fmt.Sprint(id, format)], nil
}

func (c *memCache) Put(_ context.Context, id string, format int, b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.puts++
	if c.m == nil {
		c.m = map[string][]byte{}
	}
	c.m[fmt.Sprint(id, format)] = b
	return nil
}

// countedLayer is a layer keyed by its real diff ID whose reads are counted.
func countedLayer(b []byte, reads map[string]int, mu *sync.Mutex) Layer {
	h := sha256.Sum256(b)
	id := "sha256:" + hex.EncodeToString(h[:])
	return Layer{Digest: id, Key: id, Size: int64(len(b)), Open: func() (io.ReadCloser, error) {
		mu.Lock()
		reads[id]++
		mu.Unlock()
		return io.NopCloser(bytes.NewReader(b)), nil
	}}
}

func jar(t testing.TB, group, artifact, version string) string {
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, err := zw.Create("META-INF/maven/" + group + "/" + artifact + "/pom.properties")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(w, "groupId=%s\nartifactId=%s\nversion=%s\n", group, artifact, version)
	zw.Close()
	return zb.String()
}

// TestLayerCacheGivesTheSameFacts is the store's invariant at the level of one image:
// whatever the cache holds, an image's facts equal reading it whole. The images share
// layers at different positions, and their later layers delete and replace package
// databases (a whiteout, an opaque directory, a file replacing a directory), secrets
// and JARs; every distinct layer is read exactly once.
func TestLayerCacheGivesTheSameFacts(t *testing.T) {
	base := seeded(t)
	replaceDB := layerBytes(t,
		dir("var/lib/dpkg/"), file("var/lib/dpkg/.wh..wh..opq", ""), file("var/lib/dpkg/status", dpkgBase),
		file("app/.wh..wh..opq", ""), dir("app/lib/"), file("app/lib/jackson.jar", jar(t, "com.fasterxml.jackson.core", "jackson-core", "2.9.8")),
		file("app/.env", "GITHUB_TOKEN=ghp_"+strings.Repeat("a1B2", 9)+"\n"))
	deleteDB := layerBytes(t,
		file("var/lib/.wh.dpkg", ""), file("app/lib/.wh.jackson.jar", ""),
		file("usr/bin/.wh.sudo", ""), entry("usr/lib/os-release", 0o644, "ID=debian\nVERSION_ID=\"13\"\n"))
	fileOverDir := layerBytes(t, file("app", "now a file"), file("var/lib/dpkg/status", dpkgUpper))
	empty := layerBytes(t)

	var mu sync.Mutex
	reads := map[string]int{}
	mk := func(bs ...[]byte) []Layer {
		var ls []Layer
		for _, b := range bs {
			ls = append(ls, countedLayer(b, reads, &mu))
		}
		return ls
	}
	images := map[string][]Layer{
		"seeded":     mk(base[0], base[1], base[2]),
		"replace":    mk(base[0], base[1], replaceDB),
		"delete":     mk(base[0], base[1], replaceDB, deleteDB),
		"shifted":    mk(empty, base[0], base[1], replaceDB), // the same layers one position up
		"fileOverDi": mk(base[0], replaceDB, fileOverDir),
		"reordered":  mk(replaceDB, base[0]),
	}
	want := map[string]*facts.Image{}
	for name, ls := range images {
		want[name] = collect(t, &Source{Kind: "dir", Ref: name, Layers: ls}, CollectOptions{})
	}
	distinct := map[string]bool{}
	for _, ls := range images {
		for _, l := range ls {
			distinct[l.Key] = true
		}
	}
	clear(reads)
	cache := &memCache{}
	for round := range 2 {
		for _, name := range []string{"seeded", "replace", "delete", "shifted", "fileOverDi", "reordered"} {
			got := collect(t, &Source{Kind: "dir", Ref: name, Layers: images[name]}, CollectOptions{Cache: cache})
			if d := cmp.Diff(want[name], got); d != "" {
				t.Fatalf("round %d, %s: facts with the cache differ (-read whole +cached):\n%s", round, name, d)
			}
		}
	}
	if len(reads) != len(distinct) {
		t.Errorf("%d layers read, want the %d distinct ones", len(reads), len(distinct))
	}
	for id, n := range reads {
		if n != 1 {
			t.Errorf("layer %s read %d times, want once", id[:19], n)
		}
	}
	if cache.puts != len(distinct) {
		t.Errorf("%d records kept, want %d", cache.puts, len(distinct))
	}
	// The cases the test means to cover are really there.
	if n := countType(want["replace"].Content.Packages, "maven"); n != 1 {
		t.Errorf("replace: %d maven packages, want the JAR's one", n)
	}
	if n := countType(want["delete"].Content.Packages, "deb"); n != 0 {
		t.Errorf("delete: %d deb packages after /var/lib/dpkg was whited out", n)
	}
	if n := countType(want["delete"].Content.Packages, "maven"); n != 0 {
		t.Errorf("delete: %d maven packages after the JAR was whited out", n)
	}
	removed := 0
	for _, s := range want["fileOverDi"].Content.Secrets {
		if s.Removed {
			removed++
		}
	}
	if removed == 0 {
		t.Error("fileOverDi: no secret marked removed although /app became a file")
	}
}

func countType(ps []facts.Package, typ string) int {
	n := 0
	for _, p := range ps {
		if p.Type == typ {
			n++
		}
	}
	return n
}

// TestLayerCacheChecksTheDiffID: a layer whose content is not what its key says is
// refused and nothing is kept, so a registry cannot plant a record for another
// image's layer.
func TestLayerCacheChecksTheDiffID(t *testing.T) {
	good := layerBytes(t, file("etc/passwd", "root:x:0:0::/root:/bin/sh\n"))
	bad := layerBytes(t, file("etc/passwd", "evil:x:0:0::/root:/bin/sh\n"))
	var mu sync.Mutex
	l := countedLayer(bad, map[string]int{}, &mu)
	h := sha256.Sum256(good)
	l.Key = "sha256:" + hex.EncodeToString(h[:])
	cache := &memCache{}
	_, err := Collect(context.Background(), &Source{Kind: "dir", Ref: "x", Layers: []Layer{l}}, CollectOptions{Cache: cache})
	if err == nil || !strings.Contains(err.Error(), "the layer was altered or damaged") {
		t.Fatalf("got %v", err)
	}
	if cache.puts != 0 {
		t.Fatalf("%d records kept for a layer that failed its check", cache.puts)
	}
}

// TestLayerCacheIgnoresForeignRecords: a record with limits other than the walk's is read
// again, and a corrupt record is not trusted.
func TestLayerCacheIgnoresForeignRecords(t *testing.T) {
	b := layerBytes(t, file("etc/passwd", "root:x:0:0::/root:/bin/sh\n"))
	var mu sync.Mutex
	reads := map[string]int{}
	l := countedLayer(b, reads, &mu)
	cache := &memCache{m: map[string][]byte{fmt.Sprint(l.Key, RecordFormat): []byte("not a record")}}
	src := &Source{Kind: "dir", Ref: "x", Layers: []Layer{l}}
	want := collect(t, src, CollectOptions{})
	if got := collect(t, src, CollectOptions{Cache: cache}); !cmp.Equal(want, got) {
		t.Fatal("a corrupt record changed the facts")
	}
	collect(t, src, CollectOptions{Cache: cache, Limits: Limits{MaxFileRead: 100}})
	if reads[l.Key] != 3 {
		t.Fatalf("read %d times: a corrupt record and one made with other limits must be read again", reads[l.Key])
	}
}

// lockingCache is a memCache that is a LayerLocker.
type lockingCache struct {
	memCache
	locks sync.Map
}

func (c *lockingCache) Lock(_ context.Context, id string) (func(), error) {
	m, _ := c.locks.LoadOrStore(id, &sync.Mutex{})
	m.(*sync.Mutex).Lock()
	return m.(*sync.Mutex).Unlock, nil
}

// TestLayerCacheLockReadsOnce: eight images sharing a base layer, read at once, read
// it once between them.
func TestLayerCacheLockReadsOnce(t *testing.T) {
	base := layerBytes(t, file("etc/os-release", "ID=debian\nVERSION_ID=12\n"), file("var/lib/dpkg/status", dpkgBase))
	var mu sync.Mutex
	reads := map[string]int{}
	cache := &lockingCache{}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			top := layerBytes(t, file(fmt.Sprintf("app/%d", i), "x"))
			src := &Source{Kind: "dir", Ref: "x", Layers: []Layer{countedLayer(base, reads, &mu), countedLayer(top, reads, &mu)}}
			if _, err := Collect(context.Background(), src, CollectOptions{Cache: cache}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	h := sha256.Sum256(base)
	if n := reads["sha256:"+hex.EncodeToString(h[:])]; n != 1 {
		t.Fatalf("the shared layer was read %d times", n)
	}
}
