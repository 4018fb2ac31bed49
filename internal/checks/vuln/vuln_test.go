package vuln

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
)

func run1(im facts.Image) []finding.Finding {
	return check.Run(Checks(), &facts.Snapshot{Images: []facts.Image{im}}, check.Options{})
}

func brief(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		b, _ := json.Marshal(f.Vuln)
		out = append(out, f.Status.String()+" "+f.Severity.String()+": "+f.Message+" "+string(b))
	}
	return out
}

func TestVulnFindings(t *testing.T) {
	built := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	im := facts.Image{ID: "sha256:aa", Tags: []string{"app:1"}, Layers: []facts.ImageLayer{{Digest: "sha256:l0"}, {Digest: "sha256:l1"}},
		Content: &facts.ImageContent{Packages: []facts.Package{{Name: "libssl3"}}},
		VulnDB: &facts.VulnDB{Path: "/db/vuln.db", Built: built, Coverage: []facts.Coverage{
			{Ecosystem: "Debian:12", Packages: 1, Sources: []string{"debian-tracker"}}}},
		Vulns: []facts.Vuln{
			{ID: "CVE-1", Aliases: []string{"DSA-1"}, Package: "libssl3", Version: "3.0.11-1", SourceName: "openssl", SourceVersion: "3.0.11-1", Type: "deb",
				Ecosystem: "Debian:12", Fixed: "3.0.15-1", Status: "fixed", Severity: "high", Sources: []string{"debian-tracker"}, Path: "/var/lib/dpkg/status"},
			{ID: "CVE-2", Package: "libssl3", Version: "3.0.11-1", SourceName: "openssl", Type: "deb", Ecosystem: "Debian:12", Status: "wont-fix", Severity: "negligible",
				Sources: []string{"debian-tracker"}, Note: "no DSA, ignored: Minor issue", Path: "/var/lib/dpkg/status"},
			{ID: "GO-1", Package: "golang.org/x/text", Version: "v0.3.6", Type: "golang", Ecosystem: "Go", Fixed: "0.3.8", Status: "fix-pending",
				Sources: []string{"osv:Go"}, Path: "/app", Layer: 1},
		}}
	got := brief(run1(im))
	want := []string{
		`warn unknown: golang.org/x/text v0.3.6: GO-1: fixed by the distribution, but the fix is not yet released (0.3.8) {"id":"GO-1","package":"golang.org/x/text","ecosystem":"Go","installed":"v0.3.6","fixed":"0.3.8","status":"fix-pending","source":"osv:Go","rating":"unknown"}`,
		`fail high: libssl3 3.0.11-1 (source openssl): CVE-1, fixed in 3.0.15-1 {"id":"CVE-1","aliases":["DSA-1"],"package":"libssl3","ecosystem":"Debian:12","installed":"3.0.11-1","fixed":"3.0.15-1","status":"fixed","source":"debian-tracker","sourcePackage":"openssl","sourceVersion":"3.0.11-1","rating":"high"}`,
		`warn info: libssl3 3.0.11-1 (source openssl): CVE-2: the distribution will not fix it {"id":"CVE-2","package":"libssl3","ecosystem":"Debian:12","installed":"3.0.11-1","status":"wont-fix","source":"debian-tracker","sourcePackage":"openssl","rating":"negligible","note":"no DSA, ignored: Minor issue"}`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	fs := run1(im)
	if fs[0].Location == nil || fs[0].Location.Path != "/app" || fs[0].Location.Layer != "sha256:l1" {
		t.Errorf("location %+v", fs[0].Location)
	}
	// A layer number a facts file made up is not a panic (an error finding), just no layer.
	im.Vulns[2].Layer = -1
	if fs := run1(im); fs[0].Status != finding.Warn || fs[0].Location.Layer != "" {
		t.Errorf("negative layer: %+v", fs[0])
	}
	im.Vulns = nil
	if got := brief(run1(im)); len(got) != 1 || got[0] != "pass high: none of the 1 packages has a known vulnerability in the database written 2026-11-25 08:00 UTC null" {
		t.Errorf("clean: %q", got)
	}
	// What no source covers, and package databases not read, are skips: no pass.
	im.VulnDB.Coverage = append(im.VulnDB.Coverage,
		facts.Coverage{Ecosystem: "rpm on rhel 9.4", Packages: 212, Uncovered: "dockaudit has no advisory source for rhel 9.4"},
		facts.Coverage{Ecosystem: "unread package database", Uncovered: "/var/lib/dpkg/status is not a regular file (a FIFO): its packages are not inventoried"})
	if d := cmp.Diff([]string{
		"skip high: /var/lib/dpkg/status is not a regular file (a FIFO): its packages are not inventoried: not checked null",
		"skip high: dockaudit has no advisory source for rhel 9.4: 212 packages (rpm on rhel 9.4) not checked null",
	}, brief(run1(im))); d != "" {
		t.Errorf("uncovered (-want +got):\n%s", d)
	}
	im.VulnDB = &facts.VulnDB{Error: "no vulnerability database in /x: run dockaudit db update"}
	if got := brief(run1(im)); got[0] != "skip high: no vulnerability database in /x: run dockaudit db update null" {
		t.Errorf("no database: %q", got)
	}
}
