package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockaudit/dockaudit/internal/advisory"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/pgtest"
	"github.com/dockaudit/dockaudit/internal/store"
)

// The scale of every source dockaudit db update reads (2026-11: the Debian tracker
// ~55k issues over ~9k source packages, OSV ~35k Ubuntu, ~25k npm, ~12k PyPI, ~6k Go).
var fleetImages = 10000 // DOCKAUDIT_FLEET_IMAGES overrides, for profiling at a smaller scale

const (
	fleetFamilies = 5   // base layers the images are built on
	fleetDebs     = 250 // Debian packages per base
	fleetNPM      = 50  // npm packages per image
	debSources    = 9000
)

// fleetDB writes the advisory database; changed advisories get another fixed version
// (an update that changes that many).
func fleetDB(b *testing.B, dir string, changed int) {
	bl := advisory.NewBuilder()
	for i := range 55000 {
		fixed := fmt.Sprintf("1.%d-1", i%7)
		if i < changed {
			fixed = "1.9-1"
		}
		bl.Add(advisory.Record{ID: fmt.Sprintf("CVE-2020-%05d", i), Summary: "an issue of realistic length for the fleet benchmark", Source: "debian-tracker",
			Affected: []advisory.Affected{{Ecosystem: "Debian:12", Package: fmt.Sprintf("src%d", i%debSources), Status: "fixed", Severity: "medium",
				Ranges: []advisory.Range{{Type: "ECOSYSTEM", Events: []advisory.Event{{Introduced: "0"}, {Fixed: fixed}}}}}}})
	}
	for i := range 35000 {
		bl.Add(advisory.Record{ID: fmt.Sprintf("UBUNTU-CVE-2021-%05d", i), Source: "osv:Ubuntu",
			Affected: []advisory.Affected{{Ecosystem: "Ubuntu:22.04:LTS", Package: fmt.Sprintf("src%d", i%8000),
				Ranges: []advisory.Range{{Type: "ECOSYSTEM", Events: []advisory.Event{{Introduced: "0"}, {Fixed: "2.0-1"}}}}}}})
	}
	for eco, n := range map[string]int{"npm": 25000, "PyPI": 12000, "Go": 6000} {
		for i := range n {
			bl.Add(advisory.Record{ID: fmt.Sprintf("GHSA-%s-%05d", eco, i), Severity: "high", Source: "osv:" + eco,
				Affected: []advisory.Affected{{Ecosystem: eco, Package: fmt.Sprintf("pkg%d", i%(n/3)),
					Ranges: []advisory.Range{{Type: "SEMVER", Events: []advisory.Event{{Introduced: "0"}, {Fixed: "1.5.0"}}}}}}})
		}
	}
	for _, s := range []string{"debian-tracker", "osv:Ubuntu", "osv:npm", "osv:PyPI", "osv:Go"} {
		bl.AddSource(advisory.SourceInfo{Name: s})
	}
	if err := bl.Install(dir, time.Now()); err != nil {
		b.Fatal(err)
	}
}

// fleetImage is image i: a base family's Debian packages and npm packages of its own.
func fleetImage(i int) facts.Image {
	fam := i % fleetFamilies
	c := &facts.ImageContent{OS: facts.OS{ID: "debian", VersionID: "12", Codename: "bookworm"}, Packages: []facts.Package{},
		Setuid: []facts.FileMeta{}, Secrets: []facts.Secret{}, GitDirs: []string{}, Sudo: []string{}, Caches: []facts.Cache{}}
	for j := range fleetDebs {
		// One package in ten is older than most fixes; with the npm packages, ~220
		// vulnerability rows an image.
		src, v := fmt.Sprintf("src%d", (fam*fleetDebs+j*3)%debSources), "2.0-1"
		if j%10 == 0 {
			v = "1.3-1"
		}
		c.Packages = append(c.Packages, facts.Package{Name: src + "-bin", Version: v, SourceName: src, SourceVersion: v, Type: "deb",
			PURL: "pkg:deb/debian/" + src + "-bin@" + v + "?distro=debian-12", Path: "/var/lib/dpkg/status"})
	}
	for j := range fleetNPM {
		n := fmt.Sprintf("pkg%d", (i*7+j*13)%8000)
		c.Packages = append(c.Packages, facts.Package{Name: n, Version: "1.2.0", Type: "npm", PURL: "pkg:npm/" + n + "@1.2.0",
			Path: "/app/node_modules/" + n + "/package.json", Layer: 1})
	}
	d := fmt.Sprintf("sha256:%064x", i+1)
	return facts.Image{ID: d, Source: "registry", Ref: "registry:r.example/fleet/app" + fmt.Sprint(i) + "@" + d, Digest: d,
		Tags: []string{"r.example/fleet/app" + fmt.Sprint(i) + ":1"}, Digests: []string{d}, History: []facts.History{},
		Layers: []facts.ImageLayer{{Digest: fmt.Sprintf("sha256:%064x", 1<<40+fam)}, {Digest: fmt.Sprintf("sha256:%064x", 1<<41+i)}}, Content: c}
}

// BenchmarkFleet measures dockaudit serve's re-match at fleet scale on the local
// PostgreSQL: 10,000 stored images of ~300 packages over 5 base layers, against a
// database the size of every source together. Run with -benchtime=1x: the set-up
// stores the images once.
//
//	go test ./internal/serve -run X -bench Fleet -benchtime=1x
func BenchmarkFleet(b *testing.B) {
	if n, err := strconv.Atoi(os.Getenv("DOCKAUDIT_FLEET_IMAGES")); err == nil && n > 0 {
		fleetImages = n
	}
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.New(b))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	data := b.TempDir()
	os.MkdirAll(filepath.Join(data, "db"), 0o755)
	start := time.Now()
	fleetDB(b, filepath.Join(data, "db"), 0)
	b.Logf("advisory database: %s", time.Since(start).Round(time.Millisecond))
	s, err := New(Options{Store: st, Config: &Config{Workers: 2}, DataDir: data, Log: slog.New(slog.NewTextHandler(benchLog(), nil))})
	if err != nil {
		b.Fatal(err)
	}
	start = time.Now()
	var wg sync.WaitGroup
	work := make(chan int)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				im := fleetImage(i)
				raw, _ := json.Marshal(im)
				osJSON, _ := json.Marshal(im.Content.OS)
				// Stored as read and not yet judged: the re-match judges them all.
				err := st.SaveImage(ctx, store.Image{Digest: im.Digest, Registry: "r.example", Repository: fmt.Sprint("fleet/app", i),
					Facts: zenc.EncodeAll(raw, nil), OS: osJSON, Checks: []byte(`{}`), Keys: keysOf(b, im)}, nil, nil, nil, "")
				if err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for i := range fleetImages {
		work <- i
	}
	close(work)
	wg.Wait()
	fmt.Fprintf(os.Stderr, "stored %d images in %s\n", fleetImages, time.Since(start).Round(time.Millisecond))
	b.Logf("stored %d images in %s", fleetImages, time.Since(start).Round(time.Millisecond))

	// Each phase starts from the state a server is in when an update arrives, hours
	// after the last writes: vacuumed and analyzed, not racing autovacuum.
	settle := func() {
		if _, err := st.Pool.Exec(ctx, "VACUUM (ANALYZE) images, image_packages, image_vulns, events"); err != nil {
			b.Fatal(err)
		}
	}
	settle()
	b.Run("rematch-all", func(b *testing.B) {
		for b.Loop() {
			if err := s.rematch(ctx, rematchPayload{All: true}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(fleetImages), "images")
	})
	// An update that changes 100 advisories: the keys Changes finds, and only the
	// images holding them.
	next := b.TempDir()
	fleetDB(b, next, 100)
	old, err := advisory.Open(filepath.Join(data, "db", advisory.FileName))
	if err != nil {
		b.Fatal(err)
	}
	cur, err := advisory.Open(filepath.Join(next, advisory.FileName))
	if err != nil {
		b.Fatal(err)
	}
	start = time.Now()
	keys, all, err := advisory.Changes(old, cur)
	old.Close()
	cur.Close()
	if err != nil || all {
		b.Fatal(all, err)
	}
	b.Logf("changes: %d keys in %s", len(keys), time.Since(start).Round(time.Millisecond))
	if err := os.Rename(filepath.Join(next, advisory.FileName), filepath.Join(data, "db", advisory.FileName)); err != nil {
		b.Fatal(err)
	}
	digests, _ := st.DigestsFor(ctx, storeKeys(keys))
	settle()
	b.Run("rematch-100-advisories", func(b *testing.B) {
		for b.Loop() {
			if err := s.rematch(ctx, rematchPayload{Keys: keys}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(digests)), "images")
	})
	if plan, err := st.Pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+store.WhereIsSQL, "CVE-2020-36000"); err == nil {
		var lines []string
		for plan.Next() {
			var l string
			plan.Scan(&l)
			lines = append(lines, l)
		}
		plan.Close()
		b.Logf("where-is plan:\n%s", strings.Join(lines, "\n"))
	}
	b.Run("where-is", func(b *testing.B) {
		n := 0
		for b.Loop() {
			a, err := st.WhereIs(ctx, "CVE-2020-36000")
			if err != nil {
				b.Fatal(err)
			}
			n = len(a)
		}
		b.ReportMetric(float64(n), "images")
	})
}

func keysOf(b *testing.B, im facts.Image) []store.PackageKey {
	ks, err := packageKeys(im.Content.OS, im.Content.Packages)
	if err != nil {
		b.Error(err)
	}
	return ks
}

func storeKeys(ks []advisory.Key) []store.PackageKey {
	out := make([]store.PackageKey, len(ks))
	for i, k := range ks {
		out[i] = store.PackageKey{Ecosystem: k.Ecosystem, Name: k.Name}
	}
	return out
}

// benchLog is where the benchmark's server logs: stderr with -v, else nowhere.
func benchLog() io.Writer {
	if testing.Verbose() {
		return os.Stderr
	}
	return io.Discard
}
