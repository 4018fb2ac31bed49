package advisory

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/testenv"
)

// shared is the real advisory samples next to the project (../shared/data/vuln); the
// tests that read them skip when it is absent. They are read from there, never copied.
func shared(t *testing.T, parts ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{"..", "..", "..", "shared", "data", "vuln"}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		testenv.Optional(t, "no real advisory samples at %s", p)
	}
	return p
}

// load builds a database from real sample paths.
func load(t *testing.T, paths ...string) *Store {
	t.Helper()
	b := NewBuilder()
	for _, p := range paths {
		srcs, err := LoadPath(context.Background(), b, p, now)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range srcs {
			b.AddSource(s)
		}
	}
	dir := t.TempDir()
	if err := b.Install(dir, now); err != nil {
		t.Fatal(err)
	}
	s, err := Open(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestRealGoVulnDB(t *testing.T) {
	s := load(t, shared(t, "go-vulndb", "osv"))
	if s.Meta.Records != 375 {
		t.Errorf("%d records, want the 375 files", s.Meta.Records)
	}
	expect(t, match(t, s, facts.OS{}, facts.Package{Name: "golang.org/x/text", Version: "v0.3.6", Type: "golang"}),
		"CVE-2021-38561 fixed fixed=0.3.7 aliases=GHSA-ppp9-7jff-5vj2,GO-2021-0113",
		"CVE-2022-32149 fixed fixed=0.3.8 aliases=GHSA-69ch-w2m2-3vjp,GO-2022-1059",
		"CVE-2026-56851 fixed fixed=0.41.0 aliases=GO-2026-6629",
		"CVE-2026-56852 fixed fixed=0.39.0 aliases=GO-2026-5970")
}

func TestRealDSAList(t *testing.T) {
	s := load(t, shared(t, "debian-security-tracker", "data"))
	got := match(t, s, facts.OS{ID: "debian", VersionID: "11"}, facts.Package{Name: "xserver-xorg-core", Version: "2:1.20.11-1+deb11u5", SourceName: "xorg-server", Type: "deb"})
	if len(got) == 0 || got[0] != "CVE-2023-1393 fixed fixed=2:1.20.11-1+deb11u6 aliases=DSA-5380-1" {
		t.Errorf("xorg-server: %q", got)
	}
	var dsa, dla int
	for _, src := range s.Meta.Sources {
		switch src.Name {
		case "debian-dsa":
			dsa = src.Records
		case "debian-dla":
			dla = src.Records
		}
	}
	if dsa < 4000 || dla < 3000 {
		t.Errorf("%d DSA and %d DLA records with a fix", dsa, dla)
	}
}

func TestRealAlpineYAML(t *testing.T) {
	s := load(t, shared(t, "alpine-secdb", "v3.11"))
	expect(t, match(t, s, facts.OS{ID: "alpine", VersionID: "3.11.6"}, facts.Package{Name: "ansible", Version: "2.9.2-r0", Type: "apk"}),
		"CVE-2019-14904 fixed fixed=2.9.3-r0", "CVE-2019-14905 fixed fixed=2.9.3-r0")
}

func TestRealAlmaAndPyPA(t *testing.T) {
	s := load(t, shared(t, "almalinux-osv", "advisories", "almalinux9"), shared(t, "pypa-advisory-db", "vulns", "lxml"))
	got := match(t, s, facts.OS{ID: "almalinux", VersionID: "9.4"}, facts.Package{Name: "xz", Version: "5.2.5-7.el9", Type: "rpm"})
	if len(got) == 0 || !strings.HasPrefix(got[0], "CVE-2022-1271 fixed fixed=5.2.5-8.el9_0") {
		t.Errorf("xz: %q", got)
	}
	lxml := match(t, s, facts.OS{}, facts.Package{Name: "lxml", Version: "4.9.0", Type: "pypi"})
	found := false
	for _, g := range lxml {
		found = found || strings.HasPrefix(g, "CVE-2022-2309 fixed fixed=4.9.1")
	}
	if !found {
		t.Errorf("lxml 4.9.0: %q", lxml)
	}
	for _, g := range match(t, s, facts.OS{}, facts.Package{Name: "lxml", Version: "4.9.1", Type: "pypi"}) {
		if strings.HasPrefix(g, "CVE-2022-2309") {
			t.Errorf("lxml 4.9.1 still has %s", g)
		}
	}
}

// TestRealEverything loads every sample folder: each loads without error.
func TestRealEverything(t *testing.T) {
	root := shared(t)
	for _, dir := range []string{"go-vulndb", "rustsec-osv", "bitnami-osv", "almalinux-osv", "pypa-advisory-db", "alpine-secdb", "debian-security-tracker", "osv-samples"} {
		t.Run(dir, func(t *testing.T) {
			b := NewBuilder()
			srcs, err := LoadPath(context.Background(), b, filepath.Join(root, dir), now)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, s := range srcs {
				n += s.Records
			}
			if n == 0 || b.Records() == 0 {
				t.Errorf("%s: nothing loaded: %+v", dir, srcs)
			}
		})
	}
}

func TestRealUbuntu(t *testing.T) {
	s := load(t, shared(t, "osv-samples", "vunnel", "ubuntu-osv"))
	jammy := facts.OS{ID: "ubuntu", VersionID: "22.04"}
	got := match(t, s, jammy, facts.Package{Name: "libwayland-client0", Version: "1.20.0-1", SourceName: "wayland", Type: "deb"})
	if len(got) != 1 || got[0] != "CVE-2021-3782 fixed fixed=1.20.0-1ubuntu0.1 sev=medium aliases=UBUNTU-CVE-2021-3782,USN-5614-1" {
		t.Errorf("wayland on 22.04: %q", got)
	}
	// The fixed version, and a Pro-only fix for 16.04 (ESM is not assumed).
	expect(t, match(t, s, jammy, facts.Package{Name: "libwayland-client0", Version: "1.20.0-1ubuntu0.1", SourceName: "wayland", Type: "deb"}))
	expect(t, match(t, s, facts.OS{ID: "ubuntu", VersionID: "16.04"}, facts.Package{Name: "libwayland-client0", Version: "1.12.0-1~ubuntu16.04.3", SourceName: "wayland", Type: "deb"}))
}

// TestGoVulnDBLayout: a directory in vuln.go.dev's layout (index/*.json, ID/*.json)
// imports: its index files are passed over.
func TestGoVulnDBLayout(t *testing.T) {
	osvDir := shared(t, "go-vulndb", "osv")
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "index"), 0o755)
	os.MkdirAll(filepath.Join(dir, "ID"), 0o755)
	os.WriteFile(filepath.Join(dir, "index", "db.json"), []byte(`{"modified":"2026-11-05T00:00:00Z"}`), 0o644)
	os.WriteFile(filepath.Join(dir, "index", "modules.json"), []byte(`[{"path":"golang.org/x/text","vulns":[{"id":"GO-2022-1059"}]}]`), 0o644)
	b, _ := os.ReadFile(filepath.Join(osvDir, "GO-2022-1059.json"))
	os.WriteFile(filepath.Join(dir, "ID", "GO-2022-1059.json"), b, 0o644)
	s := load(t, dir)
	if s.Meta.Records != 1 {
		t.Errorf("%d records", s.Meta.Records)
	}
}
