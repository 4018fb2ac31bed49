package advisory

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dockaudit/dockaudit/internal/facts"
)

// A database at the scale of every source dockaudit db update reads (counted
// 2026-11: the Debian tracker lists ~55k issues over ~9k source packages; OSV holds
// ~35k Ubuntu, ~25k npm, ~12k PyPI, ~6k Go records): built once per run.
var bigDB struct {
	once sync.Once
	dir  string
	err  error
	took time.Duration
}

const (
	benchDebianSources = 9000
	benchDebianIssues  = 55000
	benchNPM           = 25000
	benchPyPI          = 12000
	benchGo            = 6000
	benchUbuntu        = 35000
)

func buildBig(b *testing.B) string {
	bigDB.once.Do(func() {
		start := time.Now()
		bl := NewBuilder()
		for i := 0; i < benchDebianIssues; i++ {
			src := fmt.Sprintf("src%d", i%benchDebianSources)
			bl.Add(Record{ID: fmt.Sprintf("CVE-2020-%05d", i), Summary: "a synthetic issue of realistic length for the benchmark database", Source: "debian-tracker",
				Affected: []Affected{
					{Ecosystem: "Debian:12", Package: src, Status: "fixed", Severity: "medium", Released: []string{"1.0-1", "1.0-2"},
						Ranges: []Range{{Type: "ECOSYSTEM", Events: []Event{{Introduced: "0"}, {Fixed: fmt.Sprintf("1.%d-1", i%7)}}}}},
					{Ecosystem: "Debian:11", Package: src, Status: "unfixed", Ranges: []Range{{Type: "ECOSYSTEM", Events: []Event{{Introduced: "0"}}}}},
				}})
		}
		for i := 0; i < benchUbuntu; i++ {
			bl.Add(Record{ID: fmt.Sprintf("UBUNTU-CVE-2021-%05d", i), Aliases: []string{fmt.Sprintf("CVE-2021-%05d", i)}, Source: "osv:Ubuntu",
				Affected: []Affected{{Ecosystem: "Ubuntu:22.04:LTS", Package: fmt.Sprintf("src%d", i%8000), Ranges: []Range{{Type: "ECOSYSTEM", Events: []Event{{Introduced: "0"}, {Fixed: "2.0-1"}}}}}}})
		}
		for eco, n := range map[string]int{"npm": benchNPM, "PyPI": benchPyPI, "Go": benchGo} {
			for i := 0; i < n; i++ {
				bl.Add(Record{ID: fmt.Sprintf("GHSA-%s-%05d", eco, i), Aliases: []string{fmt.Sprintf("CVE-2022-%s%05d", eco, i)}, Severity: "high", Source: "osv:" + eco,
					Affected: []Affected{{Ecosystem: eco, Package: fmt.Sprintf("pkg%d", i%(n/3)), Ranges: []Range{{Type: "SEMVER", Events: []Event{{Introduced: "0"}, {Fixed: "1.5.0"}}}}}}})
			}
		}
		dir, err := os.MkdirTemp("", "dockaudit-bench-db-")
		if err != nil {
			bigDB.err = err
			return
		}
		bigDB.dir, bigDB.err = dir, bl.Install(dir, time.Now())
		bigDB.took = time.Since(start)
	})
	if bigDB.err != nil {
		b.Fatal(bigDB.err)
	}
	return filepath.Join(bigDB.dir, FileName)
}

// image500 is an image of 500 packages: 350 Debian, 80 npm, 40 PyPI, 30 Go modules.
func image500() *facts.Image {
	c := &facts.ImageContent{OS: facts.OS{ID: "debian", VersionID: "12"}}
	for i := 0; i < 350; i++ {
		c.Packages = append(c.Packages, facts.Package{Name: fmt.Sprintf("bin%d", i), Version: "1.3-1+b1", SourceName: fmt.Sprintf("src%d", i*25), SourceVersion: "1.3-1", Type: "deb"})
	}
	for i, n := range map[string]int{"npm": 80, "pypi": 40, "golang": 30} {
		for j := 0; j < n; j++ {
			c.Packages = append(c.Packages, facts.Package{Name: fmt.Sprintf("pkg%d", j*7), Version: "v1.2.0", Type: i})
		}
	}
	return &facts.Image{Platform: "linux/amd64", Content: c}
}

func BenchmarkOpen(b *testing.B) {
	p := buildBig(b)
	fi, _ := os.Stat(p)
	b.Logf("database: %.1f MB on disk, built in %s", float64(fi.Size())/1e6, bigDB.took.Round(time.Millisecond))
	for b.Loop() {
		s, err := Open(p)
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

func BenchmarkMatch500(b *testing.B) {
	s, err := Open(buildBig(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	im := image500()
	s.MatchImage(im)
	b.Logf("%d packages, %d vulnerabilities", len(im.Content.Packages), len(im.Vulns))
	for b.Loop() {
		s.MatchImage(im)
	}
}
