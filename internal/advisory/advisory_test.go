package advisory

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/facts"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// osv builds an OSV record for one package.
func osv(id, eco, pkg, rangeType string, events string, extra string) string {
	return `{"id":"` + id + `","modified":"2026-01-01T00:00:00Z"` + extra + `,"affected":[{"package":{"ecosystem":"` + eco + `","name":"` + pkg + `"},` +
		`"ranges":[{"type":"` + rangeType + `","events":[` + events + `]}]}]}`
}

// build writes files into a directory, loads it and opens the database.
func build(t *testing.T, files map[string]string) *Store {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, "src", name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := NewBuilder()
	srcs, err := LoadPath(context.Background(), b, filepath.Join(dir, "src"), now)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range srcs {
		b.AddSource(s)
	}
	if err := b.Install(filepath.Join(dir, "db"), now); err != nil {
		t.Fatal(err)
	}
	s, err := Open(filepath.Join(dir, "db", FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func summarize(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		s := f.ID + " " + f.Status
		if f.Fixed != "" {
			s += " fixed=" + f.Fixed
		}
		if f.Severity != "" {
			s += " sev=" + f.Severity
		}
		if len(f.Aliases) > 0 {
			s += " aliases=" + strings.Join(f.Aliases, ",")
		}
		out = append(out, s)
	}
	return out
}

func match(t *testing.T, s *Store, os facts.OS, p facts.Package) []string {
	t.Helper()
	fs, err := s.Match(os, p, "linux/amd64")
	if err != nil {
		t.Fatal(err)
	}
	return summarize(fs)
}

func expect(t *testing.T, got []string, want ...string) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
}

var bookworm = facts.OS{ID: "debian", VersionID: "12", Codename: "bookworm"}

// TestDebianTracker: every tracker status, keyed by source package and version.
func TestDebianTracker(t *testing.T) {
	tracker, _ := os.ReadFile("testdata/tracker.json")
	s := build(t, map[string]string{"tracker.json": string(tracker)})
	libssl := facts.Package{Name: "libssl3", Version: "3.0.11-1~deb12u2+b1", SourceName: "openssl", SourceVersion: "3.0.11-1~deb12u2", Type: "deb"}
	expect(t, match(t, s, bookworm, libssl),
		"CVE-2024-0001 fixed fixed=3.0.15-1~deb12u1 sev=high",
		"CVE-2024-0003 unfixed sev=medium",
		"CVE-2024-0004 wont-fix sev=low",
		"CVE-2024-0005 fix-deferred sev=low",
		"CVE-2024-0006 undetermined",
		"CVE-2024-0007 fix-pending fixed=3.0.16-1~deb12u1 sev=medium",
		"CVE-2024-0009 no-dsa sev=low",
		"TEMP-0000000-AB1234 unfixed sev=low",
	)
	// The binNMU suffix of the binary version does not make it look newer: the source
	// version is compared. At the fixed version, the fixed issues go away.
	libssl.SourceVersion = "3.0.16-1~deb12u1"
	expect(t, match(t, s, bookworm, libssl),
		"CVE-2024-0003 unfixed sev=medium", "CVE-2024-0004 wont-fix sev=low", "CVE-2024-0005 fix-deferred sev=low",
		"CVE-2024-0006 undetermined", "CVE-2024-0009 no-dsa sev=low", "TEMP-0000000-AB1234 unfixed sev=low")
	expect(t, match(t, s, bookworm, facts.Package{Name: "libc6", Version: "2.36-9+deb12u7", SourceName: "glibc", Type: "deb"}),
		"CVE-2024-0010 end-of-life")
	// Another release has its own verdict; an unknown release none.
	expect(t, match(t, s, facts.OS{ID: "debian", VersionID: "11"}, facts.Package{Name: "libssl1.1", Version: "1.1.1w-0+deb11u1", SourceName: "openssl", Type: "deb"}),
		"CVE-2024-0001 fix-pending fixed=1.1.1w-0+deb11u2 sev=high")
	expect(t, match(t, s, facts.OS{ID: "debian", VersionID: "9"}, libssl))
}

// TestTrackerOutranksOSV: a Debian OSV record that says affected loses to the
// tracker's "not affected" for the same CVE, and is merged with it when both agree.
func TestTrackerOutranksOSV(t *testing.T) {
	tracker, _ := os.ReadFile("testdata/tracker.json")
	s := build(t, map[string]string{
		"tracker.json":              string(tracker),
		"DEBIAN-CVE-2024-0002.json": osv("DEBIAN-CVE-2024-0002", "Debian:12", "openssl", "ECOSYSTEM", `{"introduced":"0"}`, `,"upstream":["CVE-2024-0002"]`),
		"DSA-9999-1.json":           osv("DSA-9999-1", "Debian:12", "openssl", "ECOSYSTEM", `{"introduced":"0"},{"fixed":"3.0.15-1~deb12u1"}`, `,"aliases":["CVE-2024-0001"]`),
	})
	// The DSA merges into the tracker's CVE-2024-0001; the tracker's "not affected"
	// CVE-2024-0002 stays out although OSV lists it.
	expect(t, match(t, s, bookworm, facts.Package{Name: "libssl3", Version: "3.0.11-1~deb12u2", SourceName: "openssl", Type: "deb"}),
		"CVE-2024-0001 fixed fixed=3.0.15-1~deb12u1 sev=high aliases=DSA-9999-1",
		"CVE-2024-0003 unfixed sev=medium",
		"CVE-2024-0004 wont-fix sev=low",
		"CVE-2024-0005 fix-deferred sev=low",
		"CVE-2024-0006 undetermined",
		"CVE-2024-0007 fix-pending fixed=3.0.16-1~deb12u1 sev=medium",
		"CVE-2024-0009 no-dsa sev=low",
		"TEMP-0000000-AB1234 unfixed sev=low")
}

// TestOSVRanges: every OSV range form.
func TestOSVRanges(t *testing.T) {
	s := build(t, map[string]string{
		"GO-1.json":   osv("GO-2022-1059", "Go", "golang.org/x/text", "SEMVER", `{"introduced":"0"},{"fixed":"0.3.8"}`, `,"aliases":["CVE-2022-32149","GHSA-69ch-w2m2-3vjp"]`),
		"GHSA-1.json": osv("GHSA-69ch-w2m2-3vjp", "Go", "golang.org/x/text", "SEMVER", `{"introduced":"0"},{"fixed":"0.3.8"}`, `,"aliases":["CVE-2022-32149"],"database_specific":{"severity":"HIGH"}`),
		"two.json":    osv("GHSA-two", "npm", "lodash", "SEMVER", `{"introduced":"1.0.0"},{"fixed":"1.2.0"},{"introduced":"2.0.0"},{"fixed":"2.1.3"}`, ""),
		"last.json":   osv("PYSEC-last", "PyPI", "Werkzeug", "ECOSYSTEM", `{"introduced":"2.0"},{"last_affected":"2.2.2"}`, `,"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]`),
		"git.json": `{"id":"PYSEC-git","modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"flask"},` +
			`"ranges":[{"type":"GIT","repo":"https://github.com/pallets/flask","events":[{"introduced":"0"},{"fixed":"abc"}]}],"versions":["0.12","0.12.1"]}]}`,
		"withdrawn.json": osv("GHSA-gone", "npm", "lodash", "SEMVER", `{"introduced":"0"}`, `,"withdrawn":"2026-01-02T00:00:00Z"`),
		"stdlib.json":    osv("GO-2024-2887", "Go", "stdlib", "SEMVER", `{"introduced":"0"},{"fixed":"1.21.11"},{"introduced":"1.22.0-0"},{"fixed":"1.22.4"}`, ""),
		"windows.json": `{"id":"GO-2026-6604","modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Go","name":"stdlib"},` +
			`"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.26.9"}]}],` +
			`"ecosystem_specific":{"imports":[{"path":"os","goos":["windows"]},{"path":"internal/syscall/windows","goos":["windows"]}]}}]}`,
	})
	golang := func(name, v string) facts.Package { return facts.Package{Name: name, Version: v, Type: "golang"} }
	expect(t, match(t, s, facts.OS{}, golang("golang.org/x/text", "v0.3.7")),
		"CVE-2022-32149 fixed fixed=0.3.8 sev=high aliases=GHSA-69ch-w2m2-3vjp,GO-2022-1059")
	expect(t, match(t, s, facts.OS{}, golang("golang.org/x/text", "v0.3.8")))
	expect(t, match(t, s, facts.OS{}, golang("golang.org/x/text", "(devel)")))
	expect(t, match(t, s, facts.OS{}, golang("stdlib", "v1.22.3")), "GO-2024-2887 fixed fixed=1.22.4")
	expect(t, match(t, s, facts.OS{}, golang("stdlib", "v1.21.10")), "GO-2024-2887 fixed fixed=1.21.11")
	expect(t, match(t, s, facts.OS{}, golang("stdlib", "v1.21.11")))
	// A Windows-only vulnerability: not for a linux/amd64 binary, but for a Windows one.
	expect(t, match(t, s, facts.OS{}, golang("stdlib", "v1.26.8")))
	fs, err := s.Match(facts.OS{}, golang("stdlib", "v1.26.8"), "windows/amd64")
	if err != nil || len(fs) != 1 || fs[0].ID != "GO-2026-6604" {
		t.Errorf("windows: %+v %v", fs, err)
	}
	expect(t, match(t, s, facts.OS{}, golang("stdlib", "v1.22.4")))
	npm := func(v string) facts.Package { return facts.Package{Name: "lodash", Version: v, Type: "npm"} }
	for v, want := range map[string]string{"1.0.0": "1.2.0", "1.1.9": "1.2.0", "2.0.0": "2.1.3", "2.1.2": "2.1.3"} {
		expect(t, match(t, s, facts.OS{}, npm(v)), "GHSA-two fixed fixed="+want)
	}
	for _, v := range []string{"0.9.0", "1.2.0", "1.9.0", "2.1.3"} {
		expect(t, match(t, s, facts.OS{}, npm(v)))
	}
	py := func(name, v string) facts.Package { return facts.Package{Name: name, Version: v, Type: "pypi"} }
	expect(t, match(t, s, facts.OS{}, py("werkzeug", "2.2.2")), "PYSEC-last unfixed sev=critical")
	expect(t, match(t, s, facts.OS{}, py("Werkzeug", "2.2.3")))
	expect(t, match(t, s, facts.OS{}, py("Flask", "0.12.1")), "PYSEC-git unfixed")
	expect(t, match(t, s, facts.OS{}, py("flask", "0.12.2")))
}

// TestRubyPHPDotnet: RubyGems, Packagist and NuGet advisories, each in its ecosystem's
// version order (a gem's pre-release, Composer's stabilities, NuGet's fourth number)
// and name rules (NuGet IDs and Composer names in any case).
func TestRubyPHPDotnet(t *testing.T) {
	s := build(t, map[string]string{
		"gem.json":      osv("GHSA-gem", "RubyGems", "rack", "ECOSYSTEM", `{"introduced":"2.2.0"},{"fixed":"2.2.8.1"}`, ""),
		"composer.json": osv("GHSA-php", "Packagist", "symfony/http-kernel", "ECOSYSTEM", `{"introduced":"6.0.0"},{"fixed":"6.3.0-RC1"}`, ""),
		"nuget.json":    osv("GHSA-net", "NuGet", "Newtonsoft.Json", "ECOSYSTEM", `{"introduced":"0"},{"fixed":"13.0.1"}`, ""),
	})
	gem := func(v string) facts.Package { return facts.Package{Name: "rack", Version: v, Type: "gem"} }
	for v, vulnerable := range map[string]bool{"2.1.4": false, "2.2.0": true, "2.2.8": true, "2.2.8.1.rc1": true, "2.2.8.1": false, "2.2.10": false} {
		if got := match(t, s, facts.OS{}, gem(v)); vulnerable != (len(got) == 1) {
			t.Errorf("rack %s: %q", v, got)
		}
	}
	php := func(name, v string) facts.Package { return facts.Package{Name: name, Version: v, Type: "composer"} }
	for v, vulnerable := range map[string]bool{"v5.4.9": false, "v6.0.0": true, "6.3.0-beta2": true, "v6.3.0-RC1": false, "v6.3.0": false} {
		if got := match(t, s, facts.OS{}, php("symfony/http-kernel", v)); vulnerable != (len(got) == 1) {
			t.Errorf("http-kernel %s: %q", v, got)
		}
	}
	expect(t, match(t, s, facts.OS{}, php("Symfony/HTTP-Kernel", "6.1.0")), "GHSA-php fixed fixed=6.3.0-RC1")
	// A branch checkout has no version to compare: an error (counted as unmatched), not
	// a verdict.
	if fs, err := s.Match(facts.OS{}, php("symfony/http-kernel", "dev-main"), ""); err == nil || len(fs) != 0 {
		t.Errorf("dev-main: %v %v", fs, err)
	}
	net := func(name, v string) facts.Package { return facts.Package{Name: name, Version: v, Type: "nuget"} }
	expect(t, match(t, s, facts.OS{}, net("newtonsoft.json", "12.0.3")), "GHSA-net fixed fixed=13.0.1")
	expect(t, match(t, s, facts.OS{}, net("Newtonsoft.Json", "13.0.0.1")), "GHSA-net fixed fixed=13.0.1")
	expect(t, match(t, s, facts.OS{}, net("Newtonsoft.Json", "13.0.1")))
}

// TestRPMDistributions: openSUSE by source RPM under its release's marketing name,
// Photon OS by binary RPM under its version, Azure Linux (and CBL-Mariner 2.0) by
// source RPM under its major release, each in rpm's version order; SUSE Linux
// Enterprise is said to be unmatched, with why.
func TestRPMDistributions(t *testing.T) {
	s := build(t, map[string]string{
		"suse.json":   osv("openSUSE-SU-1", "openSUSE:Leap 15.5", "openssl-1_1", "ECOSYSTEM", `{"introduced":"0"},{"fixed":"1.1.1l-150500.17.25.1"}`, ""),
		"tw.json":     osv("openSUSE-SU-2", "openSUSE:Tumbleweed", "curl", "ECOSYSTEM", `{"introduced":"0"},{"fixed":"8.5.0-1.1"}`, ""),
		"photon.json": osv("PHSA-1", "Photon OS:5.0", "openssl", "ECOSYSTEM", `{"introduced":"0"},{"fixed":"3.0.9-3.ph5"}`, ""),
		"azure.json":  osv("AZL-1", "Azure Linux:3", "openssl", "ECOSYSTEM", `{"introduced":"0"},{"fixed":"3.3.2-1.azl3"}`, ""),
		"cbl.json":    osv("AZL-2", "Azure Linux:2", "openssl", "ECOSYSTEM", `{"introduced":"0"},{"fixed":"1.1.1k-30.cm2"}`, ""),
	})
	rpm := func(name, src, v string) facts.Package {
		return facts.Package{Name: name, SourceName: src, Version: v, Type: "rpm"}
	}
	leap := facts.OS{ID: "opensuse-leap", VersionID: "15.5"}
	expect(t, match(t, s, leap, rpm("libopenssl1_1", "openssl-1_1", "1.1.1l-150500.17.22.1")), "openSUSE-SU-1 fixed fixed=1.1.1l-150500.17.25.1")
	expect(t, match(t, s, leap, rpm("libopenssl1_1", "openssl-1_1", "1.1.1l-150500.17.25.1")))
	expect(t, match(t, s, facts.OS{ID: "opensuse-leap", VersionID: "15.6"}, rpm("libopenssl1_1", "openssl-1_1", "1.1.1l-150500.17.22.1")))
	expect(t, match(t, s, facts.OS{ID: "opensuse-tumbleweed", VersionID: "20240801"}, rpm("libcurl4", "curl", "8.4.0-2.1")), "openSUSE-SU-2 fixed fixed=8.5.0-1.1")
	photon := facts.OS{ID: "photon", VersionID: "5.0"}
	expect(t, match(t, s, photon, rpm("openssl", "openssl", "3.0.9-2.ph5")), "PHSA-1 fixed fixed=3.0.9-3.ph5")
	expect(t, match(t, s, photon, rpm("openssl-libs", "openssl", "3.0.9-2.ph5"))) // Photon names binary RPMs
	expect(t, match(t, s, facts.OS{ID: "azurelinux", VersionID: "3.0"}, rpm("openssl-libs", "openssl", "3.3.0-1.azl3")), "AZL-1 fixed fixed=3.3.2-1.azl3")
	expect(t, match(t, s, facts.OS{ID: "mariner", VersionID: "2.0"}, rpm("openssl-libs", "openssl", "1.1.1k-29.cm2")), "AZL-2 fixed fixed=1.1.1k-30.cm2")

	// openSUSE's data is not SUSE Linux Enterprise's: a SLES image without SUSE's
	// advisories is not covered, and says which it needs.
	im := &facts.Image{Content: &facts.ImageContent{OS: facts.OS{ID: "sles", VersionID: "15.5"}, Packages: []facts.Package{rpm("bash", "bash", "4.4-150400.27.3.2")}}}
	s.MatchImage(im)
	want := []facts.Coverage{{Ecosystem: "SUSE:Linux Enterprise Server 15 SP5", Packages: 1,
		Uncovered: "the database has no advisories for SUSE:Linux Enterprise Server 15 SP5 (dockaudit db update --ecosystems SUSE, or db import its data)"}}
	if d := cmp.Diff(want, im.VulnDB.Coverage); d != "" {
		t.Errorf("SLES coverage (-want +got):\n%s", d)
	}
}

// TestAlpineSecDB: fixed versions by origin package; "0" never affected.
func TestAlpineSecDB(t *testing.T) {
	s := build(t, map[string]string{"v3.20/main.json": `{"distroversion":"v3.20","reponame":"main","packages":[
		{"pkg":{"name":"openssl","secfixes":{"3.3.2-r0":["CVE-2024-6119"],"0":["CVE-2022-0001"],"3.1.4-r1":["CVE-2023-5678 (upstream)","not an id"]}}}]}`})
	alpine := facts.OS{ID: "alpine", VersionID: "3.20.3"}
	libcrypto := facts.Package{Name: "libcrypto3", Version: "3.3.1-r3", SourceName: "openssl", Type: "apk"}
	expect(t, match(t, s, alpine, libcrypto), "CVE-2024-6119 fixed fixed=3.3.2-r0")
	libcrypto.Version = "3.1.4-r0"
	expect(t, match(t, s, alpine, libcrypto), "CVE-2023-5678 fixed fixed=3.1.4-r1", "CVE-2024-6119 fixed fixed=3.3.2-r0")
	expect(t, match(t, s, facts.OS{ID: "alpine", VersionID: "3.19.1"}, libcrypto))
	if s.Meta.Sources[0].Name != "alpine-secdb:v3.20/main" || s.Meta.Sources[0].Records != 3 || s.Meta.Sources[0].Skipped != 1 {
		t.Errorf("sources %+v", s.Meta.Sources)
	}
}

func TestCVSS(t *testing.T) {
	for v, want := range map[string]float64{
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H": 9.8,
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H": 10,
		"CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N": 5.5,
		"CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N": 3.1,
		"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N": 6.4,
		"CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N": 0,
	} {
		if got, ok := CVSS3Score(v); !ok || got != want {
			t.Errorf("%s = %v %v, want %v", v, got, ok, want)
		}
	}
	if _, ok := CVSS3Score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"); ok {
		t.Error("v4 vector scored")
	}
}

// TestMatchKeepsGoodAdvisories: an advisory whose version does not compare is left out
// and said; the package's other advisories still match.
func TestMatchKeepsGoodAdvisories(t *testing.T) {
	s := build(t, map[string]string{
		"good.json": osv("PYSEC-good", "PyPI", "foo", "ECOSYSTEM", `{"introduced":"0"},{"fixed":"2.0"}`, ""),
		"bad.json":  osv("PYSEC-bad", "PyPI", "foo", "ECOSYSTEM", `{"introduced":"0"},{"fixed":"2.0-foo-bar"}`, ""),
	})
	fs, err := s.Match(facts.OS{}, facts.Package{Name: "foo", Version: "1.0", Type: "pypi"}, "linux/amd64")
	expect(t, summarize(fs), "PYSEC-good fixed fixed=2.0")
	if err == nil || !strings.HasPrefix(err.Error(), "foo 1.0 against PYSEC-bad: ") {
		t.Errorf("err = %v", err)
	}
}

// TestOSVYAMLKeepsVersionText: unquoted YAML versions stay as written.
func TestOSVYAMLKeepsVersionText(t *testing.T) {
	r, err := ParseOSVYAML([]byte("id: PYSEC-2099-1\nmodified: 2026-01-01T00:00:00Z\naffected:\n- package:\n    ecosystem: PyPI\n    name: foo\n" +
		"  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: 0x10\n    - fixed: 1.10\n    - last_affected: 1e3\n"))
	if err != nil {
		t.Fatal(err)
	}
	ev := r.Affected[0].Ranges[0].Events
	if got := []string{ev[0].Introduced, ev[1].Fixed, ev[2].LastAffected}; !slices.Equal(got, []string{"0x10", "1.10", "1e3"}) || r.Modified != "2026-01-01T00:00:00Z" {
		t.Errorf("events %v, modified %q", got, r.Modified)
	}
}
