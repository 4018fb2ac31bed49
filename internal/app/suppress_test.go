package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/finding"
)

func writeTemp(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func vulnFinding(target, id, pkg, purl string, aliases ...string) finding.Finding {
	return finding.Finding{Rule: "VULN", Status: finding.Fail, Severity: finding.High, Target: finding.Target{Kind: finding.KindImage, Name: target, ID: "sha256:abcdef0123456789"},
		Vuln: &finding.Vuln{ID: id, Aliases: aliases, Package: pkg, PURL: purl, SourcePackage: "openssl"}}
}

func TestIgnoreFile(t *testing.T) {
	p := writeTemp(t, "ignore.yaml", `ignore:
  - id: CVE-2024-0001
    package: openssl
    target: "registry.example/app:*"
    reason: only reachable through a disabled feature
    expires: 2026-12-31
  - id: DSA-5000-1
    reason: accepted until the next rebuild
  - id: CIS-4.6
    reason: no HEALTHCHECK in batch jobs
  - id: CVE-2020-0001
    reason: old acceptance
    expires: 2025-01-31
`)
	f, err := LoadIgnoreFile(p)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	fs := []finding.Finding{
		vulnFinding("registry.example/app:1", "CVE-2024-0001", "libssl3", ""),               // ignored: id, source package and target match
		vulnFinding("other/app:1", "CVE-2024-0001", "libssl3", ""),                          // kept: target differs
		vulnFinding("registry.example/app:1", "CVE-2024-0001", "openssl-bin", ""),           // ignored: the same source package
		vulnFinding("registry.example/app:1", "CVE-2024-9999", "libssl3", "", "DSA-5000-1"), // ignored by alias
		{Rule: "CIS-4.6", Status: finding.Fail, Severity: finding.Low, Target: finding.Target{Kind: finding.KindImage, Name: "x"}},
		{Rule: "CIS-4.6", Status: finding.Pass, Target: finding.Target{Kind: finding.KindImage, Name: "y"}}, // passes are never suppressed
		vulnFinding("x", "CVE-2020-0001", "zlib1g", ""),                                                     // kept: its entry expired
	}
	kept, n, expired := Suppression{Ignore: f, Now: now}.Apply(fs)
	if n != 4 || len(kept) != 3 || kept[0].Target.Name != "other/app:1" || kept[1].Status != finding.Pass || kept[2].Vuln.ID != "CVE-2020-0001" {
		t.Errorf("suppressed %d, kept %+v", n, kept)
	}
	if len(expired) != 1 || expired[0].Rule != "AUDIT-IGNORE" ||
		expired[0].Message != "the entry for CVE-2020-0001 expired on 2025-01-31 and no longer applies (reason given: old acceptance)" {
		t.Errorf("expired: %+v", expired)
	}
	// The last day still applies.
	if _, n, _ := (Suppression{Ignore: f, Now: time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC)}).Apply(fs[:1]); n != 1 {
		t.Error("the entry stopped applying on its last day")
	}

	for body, want := range map[string]string{
		"ignore:\n  - id: CVE-1\n":                                        "entry 1 (CVE-1) has no reason: say why the finding is accepted",
		"ignore:\n  - reason: x\n":                                        "entry 1 has no id",
		"ignore:\n  - id: CVE-1\n    reason: x\n    expires: soon\n":      `entry 1 (CVE-1): expires "soon" is not a date like 2027-01-31`,
		"ignore:\n  - id: CVE-1\n    reason: x\n    package: \"[\"\n":     `entry 1 (CVE-1): bad glob "["`,
		"ignore:\n  - id: CVE-1\n    reason: x\n    expiry: 2027-01-01\n": "line 4: field expiry not found in type app.IgnoreEntry",
	} {
		p := writeTemp(t, "bad.yaml", body)
		if _, err := LoadIgnoreFile(p); err == nil || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("%q: %v, want …%s", body, err, want)
		}
	}
}

func TestOpenVEX(t *testing.T) {
	p := writeTemp(t, "app.vex.json", `{
  "@context": "https://openvex.dev/ns/v0.2.0",
  "@id": "https://example.com/vex/1",
  "author": "security@example.com",
  "timestamp": "2026-11-01T00:00:00Z",
  "version": 1,
  "statements": [
    {"vulnerability": {"name": "CVE-2022-32149", "aliases": ["GO-2022-1059"]},
     "products": [{"@id": "pkg:oci/app@sha256:abcdef0123456789", "subcomponents": [{"@id": "pkg:golang/golang.org/x/text@v0.3.7"}]}],
     "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"},
    {"vulnerability": {"name": "CVE-2024-1"}, "products": [{"@id": "pkg:deb/debian/libssl3"}], "status": "fixed"},
    {"vulnerability": {"name": "CVE-2024-2"}, "products": [{"@id": "pkg:deb/debian/libssl3"}], "status": "under_investigation"}
  ]
}`)
	st, err := LoadOpenVEX(p)
	if err != nil || len(st) != 3 {
		t.Fatalf("%v %+v", err, st)
	}
	fs := []finding.Finding{
		vulnFinding("app:1", "CVE-2022-32149", "golang.org/x/text", "pkg:golang/golang.org/x/text@v0.3.7", "GO-2022-1059"),   // the image's named subcomponent
		vulnFinding("app:1", "CVE-2022-32149", "golang.org/x/net", "pkg:golang/golang.org/x/net@v0.1.0"),                     // kept: not a named subcomponent
		vulnFinding("other:1", "GO-2022-1059", "golang.org/x/text", "pkg:golang/golang.org/x/text@v0.3.7", "CVE-2022-32149"), // kept: another image
		vulnFinding("other:1", "CVE-2022-32149", "golang.org/x/text", "pkg:golang/golang.org/x/text@v0.3.8"),                 // kept: another version
		vulnFinding("other:1", "CVE-2024-1", "libssl3", "pkg:deb/debian/libssl3@3.0.11-1?arch=amd64&distro=debian-12"),       // fixed, any version, any image
		vulnFinding("other:1", "CVE-2024-2", "libssl3", "pkg:deb/debian/libssl3@3.0.11-1?arch=amd64&distro=debian-12"),       // kept: under investigation
	}
	for i := 2; i < len(fs); i++ {
		fs[i].Target.ID = "sha256:ffff"
	}
	kept, n, _ := Suppression{VEX: st, Now: time.Now()}.Apply(fs)
	var got []string
	for _, f := range kept {
		got = append(got, f.Target.Name+" "+f.Vuln.ID+" "+f.Vuln.PURL)
	}
	want := []string{
		"app:1 CVE-2022-32149 pkg:golang/golang.org/x/net@v0.1.0",
		"other:1 GO-2022-1059 pkg:golang/golang.org/x/text@v0.3.7",
		"other:1 CVE-2022-32149 pkg:golang/golang.org/x/text@v0.3.8",
		"other:1 CVE-2024-2 pkg:deb/debian/libssl3@3.0.11-1?arch=amd64&distro=debian-12",
	}
	if d := cmp.Diff(want, got); d != "" || n != 2 {
		t.Errorf("suppressed %d, kept (-want +got):\n%s", n, d)
	}
	if _, err := LoadOpenVEX(writeTemp(t, "x.json", `{"statements": []}`)); err == nil {
		t.Error("a document without the OpenVEX context was accepted")
	}
}
