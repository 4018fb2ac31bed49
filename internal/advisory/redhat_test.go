package advisory

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/facts"
)

// csafFile writes a CSAF document the way Red Hat does: products with CPEs, rpm
// components with PURLs, relationships joining them, and the vulnerabilities' product
// status by relationship ID.
type csafFile struct {
	category, id, severity string
	products               [][2]string // product ID, CPE
	comps                  [][2]string // component ID, PURL
	rels                   [][3]string // full product ID, component, product
	vulns                  []map[string]any
}

func (c csafFile) String() string {
	var stream, comps []map[string]any
	for _, p := range c.products {
		stream = append(stream, map[string]any{"category": "product_name", "name": p[0],
			"product": map[string]any{"name": p[0], "product_id": p[0], "product_identification_helper": map[string]any{"cpe": p[1]}}})
	}
	for _, p := range c.comps {
		comps = append(comps, map[string]any{"category": "product_version", "name": p[0],
			"product": map[string]any{"name": p[0], "product_id": p[0], "product_identification_helper": map[string]any{"purl": p[1]}}})
	}
	var rels []map[string]any
	for _, r := range c.rels {
		rels = append(rels, map[string]any{"category": "default_component_of", "full_product_name": map[string]any{"product_id": r[0]},
			"product_reference": r[1], "relates_to_product_reference": r[2]})
	}
	doc := map[string]any{
		"document": map[string]any{"category": c.category, "csaf_version": "2.0", "title": "Red Hat Security Advisory: demo update",
			"aggregate_severity": map[string]any{"text": c.severity},
			"tracking":           map[string]any{"id": c.id, "initial_release_date": "2099-01-01T00:00:00+00:00", "current_release_date": "2099-01-02T00:00:00+00:00"}},
		"product_tree": map[string]any{"branches": []any{map[string]any{"category": "vendor", "name": "Red Hat", "branches": []any{
			map[string]any{"category": "product_family", "name": "Red Hat Enterprise Linux", "branches": stream},
			map[string]any{"category": "architecture", "name": "src", "branches": comps}}}},
			"relationships": rels},
		"vulnerabilities": c.vulns,
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

// repoMap is a repository-to-CPE map in Red Hat's layout.
const repoMap = `{"data": {
 "rhel-9-for-x86_64-baseos-rpms": {"cpes": ["cpe:/o:redhat:enterprise_linux:9::baseos"], "repo_relative_urls": ["content/dist/rhel9/9/x86_64/baseos/os"]},
 "rhel-9-for-x86_64-appstream-rpms": {"cpes": ["cpe:/a:redhat:enterprise_linux:9::appstream"]},
 "rhel-9-for-x86_64-appstream-eus-rpms__9_DOT_4": {"cpes": ["cpe:/a:redhat:rhel_eus:9.4::appstream"]},
 "rhel-9-for-x86_64-baseos-eus-rpms__9_DOT_4": {"cpes": ["cpe:/o:redhat:rhel_eus:9.4::baseos"]},
 "ubi-9-for-x86_64-appstream-rpms": {"cpes": ["cpe:/a:redhat:enterprise_linux:9::appstream"]},
 "some-other-vendor-rpms": {"cpes": ["cpe:/a:example:thing:1"]}
}}`

// TestParseCSAFSamples: Red Hat's own CSAF advisories from ../shared (vunnel's test
// data): one record per RHSA, one fixed entry per stream and source RPM.
func TestParseCSAFSamples(t *testing.T) {
	dir := shared(t, "osv-samples", "vunnel", "redhat-csaf")
	// Its products are the main stream while 9.4 was current (AppStream-9.4.0.Z.MAIN.EUS):
	// each channel's fix is 9.4's extended streams' too.
	var python39 []Affected
	for _, ch := range []string{"appstream", "baseos", "crb"} {
		for _, stream := range []string{"enterprise_linux:9", "rhel_eus:9.4", "rhel_aus:9.4", "rhel_e4s:9.4", "rhel_tus:9.4"} {
			python39 = append(python39, Affected{Ecosystem: "Red Hat:" + stream + "::" + ch, Package: "python3.9", Status: "fixed", Ranges: fixedAt("3.9.18-3.el9_4.5")})
		}
	}
	for _, tc := range []struct {
		file string
		want Record
	}{
		{"rhsa-2024_6163.json", Record{ID: "RHSA-2024:6163", Aliases: []string{"CVE-2024-8088"}, Summary: "python3.9 security update", Severity: "medium",
			CVSS: []string{"CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:N/I:N/A:H"}, Published: "2024-09-03T17:57:24+00:00", Modified: "2026-03-26T18:50:03+00:00", Source: "redhat-csaf",
			Affected: python39}},
		// Two products share one CPE: one entry. Only binary rpms are listed as fixed: the
		// source RPM is the product tree's build at that version. The epoch comes from the PURL.
		{"rhsa-2025_23414.json", Record{ID: "RHSA-2025:23414", Aliases: []string{"CVE-2021-25220", "CVE-2025-40778"}, Summary: "bind security update", Severity: "high",
			CVSS: []string{"CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:C/C:N/I:H/A:N", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:H/A:N"}, Published: "2025-12-17T00:17:06+00:00", Modified: "2025-12-18T11:16:21+00:00", Source: "redhat-csaf",
			Affected: []Affected{{Ecosystem: "Red Hat:rhel_els:6", Package: "bind", Status: "fixed", Ranges: fixedAt("32:9.8.2-0.68.rc1.el6_10.17")}}}},
	} {
		data, err := os.ReadFile(dir + "/" + tc.file)
		if err != nil {
			t.Fatal(err)
		}
		var got []Record
		skipped, err := ParseCSAF(data, func(r Record) error { got = append(got, r); return nil })
		if err != nil || skipped != 0 {
			t.Fatalf("%s: skipped %d, %v", tc.file, skipped, err)
		}
		if d := cmp.Diff([]Record{tc.want}, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.file, d)
		}
	}
}

func fixedAt(v string) []Range {
	return []Range{{Type: "ECOSYSTEM", Events: []Event{{Introduced: "0"}, {Fixed: v}}}}
}

var affectedAll = []Range{{Type: "ECOSYSTEM", Events: []Event{{Introduced: "0"}}}}

// vexDoc is a VEX file for one CVE: fixed in RHEL 9 AppStream (by RHSA-2099:0001),
// in a module stream through an rpmmod qualifier and through the older nested module
// product (its stream percent-encoded), in the main stream while 9.4 was current (so
// in 9.4's extended streams too); affected with each of Red Hat's reasons, an rpm of a
// module named the older way (pkg:rpmmod/redhat/perl:5.32/perl); under investigation;
// not affected (dropped); a container image and a binary rpm (not a source RPM:
// skipped).
var vexDoc = csafFile{category: "csaf_vex", id: "CVE-2099-0001", severity: "Important",
	products: [][2]string{{"AppStream-9", "cpe:/a:redhat:enterprise_linux:9::appstream"}, {"AppStream-8", "cpe:/a:redhat:enterprise_linux:8::appstream"},
		{"rhel-9", "cpe:/o:redhat:enterprise_linux:9"}, {"rhel-8", "cpe:/o:redhat:enterprise_linux:8"}, {"rhel-7", "cpe:/o:redhat:enterprise_linux:7"}, {"rhel-10", "cpe:/o:redhat:enterprise_linux:10"},
		{"AppStream-9.4.0.Z.MAIN.EUS", "cpe:/a:redhat:enterprise_linux:9::appstream"}},
	comps: [][2]string{
		{"demo-src", "pkg:rpm/redhat/demo@1.2-3.el9_4?arch=src"},
		{"demo-x86", "pkg:rpm/redhat/demo@1.2-3.el9_4?arch=x86_64"},
		{"nodejs-18", "pkg:rpm/redhat/nodejs@18.20.0-1.module%2Bel8.10.0%2B100%2Babcd?arch=src&epoch=1&rpmmod=nodejs:18:8100020240101:abcd"},
		{"nodejs-20-mod", "pkg:rpmmod/redhat/nodejs@20:8100020240202:efgh"},
		{"nodejs-20", "pkg:rpm/redhat/nodejs@20.11.0-1.module%2Bel8.10.0%2B200%2Befgh?arch=src&epoch=1"},
		{"libfoo", "pkg:rpm/redhat/libfoo?arch=src"},
		{"libbar", "pkg:rpm/redhat/libbar?arch=src"},
		{"libbaz", "pkg:rpm/redhat/libbaz?arch=src"},
		{"libbin", "pkg:rpm/redhat/libbin"},
		{"squid-mod", "pkg:rpmmod/redhat/squid@4%3A8040020210420090912%3A522a0ee4"},
		{"squid", "pkg:rpm/redhat/squid@4.4-8.module%2Bel8.4.0%2B10614%2B2f0b3fd6?arch=src&epoch=7"},
		{"perl-mod", "pkg:rpmmod/redhat/perl:5.32/perl"},
		{"eus-src", "pkg:rpm/redhat/eus@2.0-1.el9_4.1?arch=src"},
		{"libqux", "pkg:rpm/redhat/libqux?arch=src"},
		{"ubi9", "pkg:oci/ubi9@sha256%3Aabc?arch=x86_64"},
	},
	rels: [][3]string{
		{"AppStream-9:demo-src", "demo-src", "AppStream-9"}, {"AppStream-9:demo-x86", "demo-x86", "AppStream-9"},
		{"AppStream-8:nodejs-18", "nodejs-18", "AppStream-8"},
		{"AppStream-8:nodejs:20", "nodejs-20-mod", "AppStream-8"}, {"AppStream-8:nodejs:20:nodejs-20", "nodejs-20", "AppStream-8:nodejs:20"},
		{"rhel-9:libfoo", "libfoo", "rhel-9"}, {"rhel-7:libfoo", "libfoo", "rhel-7"}, {"rhel-8:libbar", "libbar", "rhel-8"},
		{"rhel-9:libbaz", "libbaz", "rhel-9"}, {"rhel-10:libqux", "libqux", "rhel-10"}, {"rhel-9:ubi9", "ubi9", "rhel-9"}, {"rhel-9:libbin", "libbin", "rhel-9"},
		{"AppStream-8:squid:4", "squid-mod", "AppStream-8"}, {"AppStream-8:squid:4:squid", "squid", "AppStream-8:squid:4"},
		{"rhel-8:perl", "perl-mod", "rhel-8"}, {"AppStream-9.4.0.Z.MAIN.EUS:eus", "eus-src", "AppStream-9.4.0.Z.MAIN.EUS"},
	},
	vulns: []map[string]any{{"cve": "CVE-2099-0001", "title": "demo: a flaw",
		"product_status": map[string]any{
			"fixed":               []string{"AppStream-9:demo-src", "AppStream-9:demo-x86", "AppStream-8:nodejs-18", "AppStream-8:nodejs:20:nodejs-20", "AppStream-8:squid:4:squid", "AppStream-9.4.0.Z.MAIN.EUS:eus"},
			"known_affected":      []string{"rhel-9:libfoo", "rhel-7:libfoo", "rhel-8:libbar", "rhel-9:libbaz", "rhel-9:ubi9", "rhel-9:libbin", "rhel-8:perl"},
			"under_investigation": []string{"rhel-10:libqux"},
			"known_not_affected":  []string{"rhel-8:libfoo"},
		},
		"remediations": []map[string]any{
			{"category": "vendor_fix", "url": "https://access.redhat.com/errata/RHSA-2099:0001", "product_ids": []string{"AppStream-9:demo-src", "AppStream-9:demo-x86"}},
			{"category": "no_fix_planned", "details": "Will not fix", "product_ids": []string{"rhel-9:libfoo"}},
			{"category": "no_fix_planned", "details": "Out of support scope", "product_ids": []string{"rhel-7:libfoo"}},
			{"category": "none_available", "details": "Deferred", "product_ids": []string{"rhel-8:libbar"}},
			{"category": "none_available", "details": "Affected", "product_ids": []string{"rhel-9:libbaz"}},
		},
		"threats": []map[string]any{{"category": "impact", "details": "Important"}},
		"scores":  []map[string]any{{"cvss_v3": map[string]any{"vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}},
	}},
}

func TestParseCSAFVEX(t *testing.T) {
	var got []Record
	skipped, err := ParseCSAF([]byte(vexDoc.String()), func(r Record) error { got = append(got, r); return nil })
	if err != nil {
		t.Fatal(err)
	}
	want := []Record{{ID: "CVE-2099-0001", Summary: "demo update", Severity: "high", CVSS: []string{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
		Published: "2099-01-01T00:00:00+00:00", Modified: "2099-01-02T00:00:00+00:00", Source: "redhat-csaf",
		Affected: []Affected{
			{Ecosystem: "Red Hat:enterprise_linux:9::appstream", Package: "demo", Status: "fixed", Note: "fixed by RHSA-2099:0001", Ranges: fixedAt("1.2-3.el9_4")},
			{Ecosystem: "Red Hat:enterprise_linux:8::appstream", Package: "nodejs", Module: "nodejs:18", Status: "fixed", Ranges: fixedAt("1:18.20.0-1.module+el8.10.0+100+abcd")},
			{Ecosystem: "Red Hat:enterprise_linux:8::appstream", Package: "nodejs", Module: "nodejs:20", Status: "fixed", Ranges: fixedAt("1:20.11.0-1.module+el8.10.0+200+efgh")},
			{Ecosystem: "Red Hat:enterprise_linux:8::appstream", Package: "squid", Module: "squid:4", Status: "fixed", Ranges: fixedAt("7:4.4-8.module+el8.4.0+10614+2f0b3fd6")},
			{Ecosystem: "Red Hat:enterprise_linux:9::appstream", Package: "eus", Status: "fixed", Ranges: fixedAt("2.0-1.el9_4.1")},
			{Ecosystem: "Red Hat:rhel_eus:9.4::appstream", Package: "eus", Status: "fixed", Ranges: fixedAt("2.0-1.el9_4.1")},
			{Ecosystem: "Red Hat:rhel_aus:9.4::appstream", Package: "eus", Status: "fixed", Ranges: fixedAt("2.0-1.el9_4.1")},
			{Ecosystem: "Red Hat:rhel_e4s:9.4::appstream", Package: "eus", Status: "fixed", Ranges: fixedAt("2.0-1.el9_4.1")},
			{Ecosystem: "Red Hat:rhel_tus:9.4::appstream", Package: "eus", Status: "fixed", Ranges: fixedAt("2.0-1.el9_4.1")},
			{Ecosystem: "Red Hat:enterprise_linux:9", Package: "libfoo", Status: "wont-fix", Ranges: affectedAll},
			{Ecosystem: "Red Hat:enterprise_linux:7", Package: "libfoo", Status: "end-of-life", Ranges: affectedAll},
			{Ecosystem: "Red Hat:enterprise_linux:8", Package: "libbar", Status: "fix-deferred", Ranges: affectedAll},
			{Ecosystem: "Red Hat:enterprise_linux:9", Package: "libbaz", Status: "unfixed", Ranges: affectedAll},
			{Ecosystem: "Red Hat:enterprise_linux:8", Package: "perl", Module: "perl:5.32", Status: "unfixed", Ranges: affectedAll},
			{Ecosystem: "Red Hat:enterprise_linux:10", Package: "libqux", Status: "undetermined", Ranges: affectedAll},
		}}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("VEX record (-want +got):\n%s", d)
	}
	if skipped != 2 {
		t.Errorf("skipped %d products, want 2 (the container image, the binary rpm without arch)", skipped)
	}
	for _, bad := range []struct{ doc, want string }{
		{`{"document": {"csaf_version": "2.0", "category": "csaf_informational_advisory", "tracking": {"id": "X"}}}`, `csaf X: category "csaf_informational_advisory" is neither a security advisory nor VEX`},
		{`{"document": {"csaf_version": "2.0"}}`, "csaf: no csaf_version or tracking id"},
		{`{"document": {"csaf_version": "2.0", "tracking": {"id": 7}}}`, "csaf: json: cannot unmarshal number into Go struct field .document.tracking.id of type string"},
	} {
		if _, err := ParseCSAF([]byte(bad.doc), func(Record) error { return nil }); err == nil || err.Error() != bad.want {
			t.Errorf("%s: %v, want %s", bad.doc, err, bad.want)
		}
	}
}

// rhsa is a security advisory fixing one source RPM in the given streams.
func rhsa(id, cve, purl string, streams ...[2]string) string {
	c := csafFile{category: "csaf_security_advisory", id: id, severity: "Moderate", comps: [][2]string{{"pkg", purl}}}
	var fixed []string
	for _, s := range streams {
		c.products = append(c.products, s)
		c.rels = append(c.rels, [3]string{s[0] + ":pkg", "pkg", s[0]})
		fixed = append(fixed, s[0]+":pkg")
	}
	c.vulns = []map[string]any{{"cve": cve, "product_status": map[string]any{"fixed": fixed}}}
	return c.String()
}

var (
	appstream9 = [2]string{"AppStream-9.5.0.Z.MAIN", "cpe:/a:redhat:enterprise_linux:9::appstream"}
	eus94      = [2]string{"AppStream-9.4.0.Z.EUS", "cpe:/a:redhat:rhel_eus:9.4::appstream"}
	appstream8 = [2]string{"AppStream-8.10.0.Z.MAIN", "cpe:/a:redhat:enterprise_linux:8::appstream"}
)

// TestRedHatMatching: RHEL packages are judged by the advisories of the streams their
// image's repositories belong to (content manifest → repository map → CPE), by
// source RPM, module stream and rpm's version order; without a manifest the
// release's BaseOS and AppStream are assumed and the finding says so.
func TestRedHatMatching(t *testing.T) {
	s := build(t, map[string]string{
		"repository-to-cpe.json": repoMap,
		"vex.json":               vexDoc.String(),
		"a.json":                 rhsa("RHSA-2099:0010", "CVE-2099-0010", "pkg:rpm/redhat/openssl@3.0.7-28.el9?arch=src&epoch=1", appstream9),
		"b.json":                 rhsa("RHSA-2099:0011", "CVE-2099-0010", "pkg:rpm/redhat/openssl@3.0.7-27.el9_4.2?arch=src&epoch=1", eus94),
		"c.json":                 rhsa("RHSA-2099:0012", "CVE-2099-0012", "pkg:rpm/redhat/tildepkg@2.0-1.el9~1?arch=src", appstream9),
		"d.json":                 rhsa("RHSA-2099:0013", "CVE-2099-0013", "pkg:rpm/redhat/rcpkg@2.0-1.el9?arch=src", appstream9),
		// A fix outside modules says nothing of a module's nodejs.
		"e.json": rhsa("RHSA-2099:0014", "CVE-2099-0014", "pkg:rpm/redhat/nodejs@20.12.0-1.el8?arch=src&epoch=1", appstream8),
		// Red Hat's OSV records: one of a module build (no stream named), one plain.
		"f.json": osv("RHSA-2099:0020", "Red Hat:enterprise_linux:9::appstream", "nodejs", "ECOSYSTEM", `{"introduced":"0"},{"fixed":"1:18.20.2-1.module+el9.4.0+21731+46b5c3a5"}`, ""),
		"g.json": osv("RHSA-2099:0021", "Red Hat:enterprise_linux:9::baseos", "openssh", "ECOSYSTEM", `{"introduced":"0"},{"fixed":"0:8.7p1-38.el9_4.1"}`, ""),
		// RHEL 10 names the minor release in its streams.
		"h.json": rhsa("RHSA-2099:0022", "CVE-2099-0022", "pkg:rpm/redhat/libten@1.1-1.el10_1?arch=src", [2]string{"AppStream-10.1.Z", "cpe:/a:redhat:enterprise_linux:10.1::appstream"}),
	})
	mainline := facts.OS{ID: "rhel", VersionID: "9.5", ContentSets: []string{"rhel-9-for-x86_64-appstream-rpms", "rhel-9-for-x86_64-baseos-rpms"}}
	eus := facts.OS{ID: "rhel", VersionID: "9.4", ContentSets: []string{"rhel-9-for-x86_64-appstream-eus-rpms__9_DOT_4", "rhel-9-for-x86_64-baseos-eus-rpms__9_DOT_4"}}
	rhel8 := facts.OS{ID: "rhel", VersionID: "8.10"}
	rpm := func(name, src, v string) facts.Package {
		return facts.Package{Name: name, SourceName: src, Version: v, Type: "rpm"}
	}
	openssl := rpm("openssl-libs", "openssl", "1:3.0.7-27.el9_4.2")
	// Mainline's fix (-28.el9) is newer than EUS's (-27.el9_4.2): the EUS build is
	// fixed in its stream, vulnerable in the mainline one.
	expect(t, match(t, s, eus, openssl))
	expect(t, match(t, s, eus, rpm("openssl-libs", "openssl", "1:3.0.7-27.el9_4.1")), "CVE-2099-0010 fixed fixed=1:3.0.7-27.el9_4.2 sev=medium aliases=RHSA-2099:0011")
	expect(t, match(t, s, mainline, openssl), "CVE-2099-0010 fixed fixed=1:3.0.7-28.el9 sev=medium aliases=RHSA-2099:0010")
	// The epoch of the binary counts (the source RPM's file name has none).
	expect(t, match(t, s, mainline, rpm("openssl-libs", "openssl", "2:3.0.7-1.el9")))
	// rpm's tilde: 2.0-1.el9 is newer than 2.0-1.el9~1; 2.0~rc1 older than 2.0.
	expect(t, match(t, s, mainline, rpm("tildepkg", "tildepkg", "2.0-1.el9")))
	expect(t, match(t, s, mainline, rpm("rcpkg", "rcpkg", "2.0~rc1-1.el9")), "CVE-2099-0013 fixed fixed=2.0-1.el9 sev=medium aliases=RHSA-2099:0013")
	// The VEX file: a fixed stream, and statuses filed under the whole release.
	expect(t, match(t, s, mainline, rpm("demo-libs", "demo", "1.2-3.el9_4")))
	expect(t, match(t, s, mainline, rpm("demo-libs", "demo", "1.2-2.el9")), "CVE-2099-0001 fixed fixed=1.2-3.el9_4 sev=high")
	expect(t, match(t, s, mainline, rpm("libfoo", "libfoo", "1.0-1.el9")), "CVE-2099-0001 wont-fix sev=high")
	expect(t, match(t, s, mainline, rpm("libbaz", "libbaz", "1.0-1.el9")), "CVE-2099-0001 unfixed sev=high")
	expect(t, match(t, s, rhel8, rpm("libbar", "libbar", "1.0-1.el8")), "CVE-2099-0001 fix-deferred sev=high")
	// Module streams: stream 18 is judged by stream 18's fix only, never by stream 20's
	// or by a fix outside modules.
	node := func(v, label string) facts.Package {
		p := rpm("nodejs", "nodejs", v)
		p.Module = label
		return p
	}
	expect(t, match(t, s, rhel8, node("1:18.20.0-1.module+el8.10.0+100+abcd", "nodejs:18:8100020240101:abcd")))
	expect(t, match(t, s, rhel8, node("1:18.19.0-1.module+el8.9.0+90+abcd", "nodejs:18:8090020231001:abcd")),
		"CVE-2099-0001 fixed fixed=1:18.20.0-1.module+el8.10.0+100+abcd sev=high")
	expect(t, match(t, s, rhel8, node("1:20.10.0-1.module+el8.9.0+90+efgh", "nodejs:20:8090020231001:efgh")),
		"CVE-2099-0001 fixed fixed=1:20.11.0-1.module+el8.10.0+200+efgh sev=high")
	expect(t, match(t, s, rhel8, node("1:20.11.0-1.el8", "")), "CVE-2099-0014 fixed fixed=1:20.12.0-1.el8 sev=medium aliases=RHSA-2099:0014")

	// An EUS image has the fixes shipped in the main stream while 9.4 was current, and
	// what Red Hat files under the major release alone.
	expect(t, match(t, s, eus, rpm("eus-libs", "eus", "2.0-1.el9_4")), "CVE-2099-0001 fixed fixed=2.0-1.el9_4.1 sev=high")
	expect(t, match(t, s, eus, rpm("libfoo", "libfoo", "1.0-1.el9")), "CVE-2099-0001 wont-fix sev=high")
	// Modules named the older ways.
	squid := rpm("squid", "squid", "7:4.4-7.module+el8.4.0+10000+2f0b3fd6")
	squid.Module = "squid:4:8040020210420090912:522a0ee4"
	expect(t, match(t, s, rhel8, squid), "CVE-2099-0001 fixed fixed=7:4.4-8.module+el8.4.0+10614+2f0b3fd6 sev=high")
	perl := rpm("perl-libs", "perl", "4:5.32.1-471.module+el8.6.0+13324+628a2397")
	perl.Module = "perl:5.32:8060020211012133324:9fe1d287"
	expect(t, match(t, s, rhel8, perl), "CVE-2099-0001 unfixed sev=high")
	expect(t, match(t, s, rhel8, rpm("perl-libs", "perl", "4:5.26.3-421.el8")))
	// Judged by the source RPM's version with the binary's epoch: npm 10.5.0 is built
	// from nodejs 20.11.0.
	npm := func(src string) facts.Package {
		p := rpm("npm", "nodejs", "1:10.5.0-1."+src+".1.el8")
		p.SourceVersion = src + "-1.el8"
		return p
	}
	expect(t, match(t, s, rhel8, npm("20.11.0")), "CVE-2099-0014 fixed fixed=1:20.12.0-1.el8 sev=medium aliases=RHSA-2099:0014")
	expect(t, match(t, s, rhel8, npm("20.12.0")))
	// OSV: a module build's fix says nothing of the plain nodejs; a plain fix counts.
	expect(t, match(t, s, mainline, rpm("nodejs", "nodejs", "1:16.20.2-8.el9_4")))
	expect(t, match(t, s, mainline, rpm("openssh-clients", "openssh", "8.7p1-38.el9_4")), "RHSA-2099:0021 fixed fixed=0:8.7p1-38.el9_4.1")
	// RHEL 10.0 without a manifest: a fix filed under 10.1 is one it lacks.
	expect(t, match(t, s, facts.OS{ID: "rhel", VersionID: "10.0"}, rpm("libten", "libten", "1.0-1.el10")), "CVE-2099-0022 fixed fixed=1.1-1.el10_1 sev=medium aliases=RHSA-2099:0022")
	expect(t, match(t, s, facts.OS{ID: "rhel", VersionID: "10.0"}, rpm("libqux", "libqux", "1.0-1.el10")), "CVE-2099-0001 undetermined sev=high")

	// The image's view: which stream decided, and what had to be assumed.
	image := func(os facts.OS, ps ...facts.Package) *facts.Image {
		im := &facts.Image{Content: &facts.ImageContent{OS: os, Packages: ps}}
		s.MatchImage(im)
		return im
	}
	im := image(eus, rpm("openssl-libs", "openssl", "1:3.0.7-27.el9_4.1"))
	if got := im.Vulns[0].Ecosystem + " " + im.Vulns[0].Note; got != "Red Hat:rhel_eus:9.4::appstream " {
		t.Errorf("EUS vulnerability: %q", got)
	}
	im = image(facts.OS{ID: "rhel", VersionID: "9.5"}, rpm("demo-libs", "demo", "1.2-2.el9"))
	noManifest := "the image has no content manifest (/root/buildinfo/content_manifests): matched against RHEL 9 BaseOS and AppStream"
	if d := cmp.Diff([]facts.Coverage{{Ecosystem: "Red Hat:enterprise_linux:9::appstream", Packages: 1, Sources: []string{"osv:Red Hat", "redhat-csaf"}, Note: noManifest}}, im.VulnDB.Coverage); d != "" {
		t.Errorf("coverage without a manifest (-want +got):\n%s", d)
	}
	if len(im.Vulns) != 1 || im.Vulns[0].Note != "fixed by RHSA-2099:0001; "+noManifest {
		t.Errorf("vulnerabilities without a manifest: %+v", im.Vulns)
	}
	im = image(facts.OS{ID: "rhel", VersionID: "9.5", ContentSets: []string{"rhel-9-for-s390x-unknown-rpms"}}, rpm("bash", "bash", "5.1-1.el9"))
	if want := "none of the image's 1 content sets is in Red Hat's repository-to-CPE map (dockaudit db update, or db import repository-to-cpe.json): matched against RHEL 9 BaseOS and AppStream"; len(im.VulnDB.Coverage) != 1 || im.VulnDB.Coverage[0].Note != want {
		t.Errorf("coverage with unknown content sets: %+v", im.VulnDB.Coverage)
	}
	mixed := mainline
	mixed.ContentSets = append(slices.Clone(mainline.ContentSets), "rhel-9-for-x86_64-layered-unknown-rpms")
	im = image(mixed, rpm("bash", "bash", "5.1-1.el9"))
	if want := "1 of the image's content sets are not in Red Hat's repository-to-CPE map (rhel-9-for-x86_64-layered-unknown-rpms): their packages are matched against the other repositories' streams"; len(im.VulnDB.Coverage) != 1 || im.VulnDB.Coverage[0].Note != want {
		t.Errorf("coverage with one unknown content set: %+v", im.VulnDB.Coverage)
	}
	im = image(rhel8, node("1:18.20.0-1.module+el8.10.0+100+abcd", "nodejs:18:8100020240101:abcd"), rpm("bash", "bash", "4.4-1.el8"))
	if c := im.VulnDB.Coverage; len(c) != 1 || !strings.HasSuffix(c[0].Note, "; 1 packages from module streams are judged only by advisories that name their stream (Red Hat's CSAF files do, its OSV records do not)") {
		t.Errorf("coverage of a modular package: %+v", c)
	}
	// Without Red Hat's CSAF files nothing judges a module build: its packages are not
	// covered, never passed.
	saved := s.Meta.Ecosystems
	s.Meta.Ecosystems = slices.Clone(saved)
	for i := range s.Meta.Ecosystems {
		s.Meta.Ecosystems[i].Sources = slices.DeleteFunc(slices.Clone(saved[i].Sources), func(x string) bool { return x == redHatCSAFSource })
	}
	im = image(rhel8, node("1:18.20.0-1.module+el8.10.0+100+abcd", "nodejs:18:8100020240101:abcd"), rpm("bash", "bash", "4.4-1.el8"))
	s.Meta.Ecosystems = saved
	var modules *facts.Coverage
	for i, c := range im.VulnDB.Coverage {
		if strings.HasPrefix(c.Ecosystem, "rpm module streams on Red Hat:") {
			modules = &im.VulnDB.Coverage[i]
		}
	}
	if modules == nil || modules.Packages != 1 || modules.Uncovered != "the database has no advisories that name module streams (Red Hat's OSV records do not): dockaudit db import Red Hat's CSAF files" {
		t.Errorf("a modular package without CSAF advisories: %+v", im.VulnDB.Coverage)
	}
	// Keys: the family and the image's repositories, so a changed map or any stream's
	// change re-judges the image.
	keys := Keys(mainline, []facts.Package{openssl})
	want := []Key{{"Red Hat", "openssl"}, {RedHatRepoEcosystem, "rhel-9-for-x86_64-appstream-rpms"}, {RedHatRepoEcosystem, "rhel-9-for-x86_64-baseos-rpms"}}
	if d := cmp.Diff(want, keys); d != "" {
		t.Errorf("keys (-want +got):\n%s", d)
	}
}

func TestRedHatLookups(t *testing.T) {
	for cpe, want := range map[string][]string{
		"cpe:/a:redhat:enterprise_linux:9::appstream": {"Red Hat:enterprise_linux:9::appstream", "Red Hat:enterprise_linux:9"},
		"cpe:/o:redhat:rhel_eus:9.4::baseos":          {"Red Hat:rhel_eus:9.4::baseos", "Red Hat:rhel_eus:9.4"},
		"cpe:/o:redhat:enterprise_linux:10.0":         {"Red Hat:enterprise_linux:10.0"},
		"cpe:/a:redhat:rhel_els:6":                    {"Red Hat:rhel_els:6"},
		"cpe:/a:example:thing:1":                      nil,
		"cpe:2.3:a:redhat:x:1":                        nil,
		"cpe:/a:redhat:":                              nil,
	} {
		if d := cmp.Diff(want, redHatLookups(cpe)); d != "" {
			t.Errorf("%s (-want +got):\n%s", cpe, d)
		}
	}
}

func FuzzParseCSAF(f *testing.F) {
	f.Add([]byte(vexDoc.String()))
	f.Add([]byte(rhsa("RHSA-1", "CVE-1", "pkg:rpm/redhat/a@1-1?arch=src", appstream9)))
	f.Fuzz(func(t *testing.T, data []byte) {
		ParseCSAF(data, func(r Record) error {
			for _, a := range r.Affected {
				if !strings.HasPrefix(a.Ecosystem, "Red Hat:") || a.Package == "" {
					t.Fatalf("entry %+v", a)
				}
			}
			return nil
		})
	})
}

// TestUpdateRedHatRepoMap: db update downloads the map as a source of its own; a
// failing download keeps the previous copy, so RHEL images keep their streams.
func TestUpdateRedHatRepoMap(t *testing.T) {
	f := &feeds{files: map[string][]byte{"/repository-to-cpe.json": []byte(repoMap)}, hits: map[string]int{}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	dir := t.TempDir()
	o := UpdateOptions{Dir: dir, RedHatRepoMap: srv.URL + "/repository-to-cpe.json", Now: func() time.Time { return now }}
	res, err := Update(context.Background(), o)
	if err != nil || len(res.Failed) != 0 || len(res.Meta.Sources) != 1 || res.Meta.Sources[0].Name != "redhat-repository-to-cpe" || res.Meta.Sources[0].Records != 1 {
		t.Fatalf("update: %v %+v %+v", err, res.Failed, res.Meta.Sources)
	}
	f.files["/repository-to-cpe.json"] = []byte(`{"data": {}}`)
	res, err = Update(context.Background(), o)
	if err == nil || len(res.Failed) != 1 || !res.Failed[0].Kept || res.Failed[0].Err.Error() != "repository-to-cpe: no repository with a Red Hat CPE" {
		t.Fatalf("second update: %v %+v", err, res.Failed)
	}
	s, err := Open(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tg, _, note, err := s.target(facts.OS{ID: "rhel", VersionID: "9.4", ContentSets: []string{"rhel-9-for-x86_64-appstream-eus-rpms__9_DOT_4"}}, facts.Package{Name: "bash", Version: "5.1-1.el9", Type: "rpm"})
	if d := cmp.Diff([]string{"Red Hat:rhel_eus:9.4::appstream", "Red Hat:rhel_eus:9.4", "Red Hat:enterprise_linux:9"}, tg.Ecosystems); d != "" || note != "" || err != nil {
		t.Errorf("ecosystems (-want +got):\n%s\nnote %q, %v", d, note, err)
	}
}
