package advisory

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/facts"
)

// suseOSV is a SUSE-SU record as OSV publishes it: one affected entry per product, by
// source RPM.
func suseOSV(id, cve string, entries ...[3]string) string {
	out := `{"id":"` + id + `","modified":"2099-01-01T00:00:00Z","upstream":["` + cve + `"],"affected":[`
	for i, e := range entries {
		if i > 0 {
			out += ","
		}
		out += `{"package":{"ecosystem":"` + e[0] + `","name":"` + e[1] + `","purl":"pkg:rpm/suse/` + e[1] + `"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"` + e[2] + `"}]}]}`
	}
	return out + `]}`
}

// TestSUSEMatching: a SLES image is judged by the server product and the modules of
// its own service pack, never another's nor SAP's; LTSS fixes count, and an image
// without LTSS is told that the fix is only there.
func TestSUSEMatching(t *testing.T) {
	s := build(t, map[string]string{
		"1.json": suseOSV("SUSE-SU-2099:0001-1", "CVE-2099-0001",
			[3]string{"SUSE:Linux Enterprise Module for Basesystem 15 SP3", "bash", "4.4-19.6.2"},
			[3]string{"SUSE:Linux Enterprise Server 15 SP3-LTSS", "bash", "4.4-19.6.2"},
			[3]string{"SUSE:Linux Enterprise Module for Basesystem 15 SP4", "bash", "4.4-150400.27.3.1"},
			[3]string{"SUSE:Linux Enterprise Server for SAP Applications 15 SP3", "bash", "4.4-19.6.9"},
			[3]string{"openSUSE:Leap 15.3", "bash", "4.4-19.6.7"}),
		"2.json": suseOSV("SUSE-SU-2099:0002-1", "CVE-2099-0002", [3]string{"SUSE:Linux Enterprise Server 15 SP3-LTSS", "coreutils", "8.32-3.2.2"}),
		"3.json": suseOSV("SUSE-SU-2099:0003-1", "CVE-2099-0003", [3]string{"SUSE:Linux Enterprise Server LTSS Extended Security 12 SP5", "glibc", "2.22-114.40.1"},
			[3]string{"SUSE:Linux Enterprise Server 15", "glibc", "2.26-13.8.1"}),
		"4.json": suseOSV("SUSE-SU-2099:0004-1", "CVE-2099-0004", [3]string{"SUSE:Linux Enterprise Micro 5.5", "openssl-3", "3.0.8-150500.5.20.1"}),
	})
	rpm := func(name, src, v string) facts.Package {
		return facts.Package{Name: name, SourceName: src, Version: v, Type: "rpm"}
	}
	sp3 := facts.OS{ID: "sles", VersionID: "15.3", Products: []string{"sles-release"}}
	ltss := facts.OS{ID: "sles", VersionID: "15.3", Products: []string{"sles-ltss-release", "sles-release"}}
	// SP3's Basesystem fix, not SP4's (whose release numbers are higher) nor SAP's.
	expect(t, match(t, s, sp3, rpm("libreadline7", "bash", "4.4-19.6.1")), "CVE-2099-0001 fixed fixed=4.4-19.6.2 aliases=SUSE-SU-2099:0001-1")
	expect(t, match(t, s, sp3, rpm("bash", "bash", "4.4-19.6.2")))
	expect(t, match(t, s, ltss, rpm("coreutils", "coreutils", "8.32-3.2.1")), "CVE-2099-0002 fixed fixed=8.32-3.2.2 aliases=SUSE-SU-2099:0002-1")
	// 15 is not 15 SP3, nor 12 SP5; 12 SP5's LTSS Extended Security is 12 SP5's.
	expect(t, match(t, s, sp3, rpm("glibc", "glibc", "2.26-13.8.0")))
	expect(t, match(t, s, facts.OS{ID: "sles", VersionID: "15"}, rpm("glibc", "glibc", "2.26-13.8.0")), "CVE-2099-0003 fixed fixed=2.26-13.8.1 aliases=SUSE-SU-2099:0003-1")
	expect(t, match(t, s, facts.OS{ID: "sles", VersionID: "12.5"}, rpm("glibc", "glibc", "2.22-114.39.1")), "CVE-2099-0003 fixed fixed=2.22-114.40.1 aliases=SUSE-SU-2099:0003-1")
	expect(t, match(t, s, facts.OS{ID: "sle-micro", VersionID: "5.5"}, rpm("libopenssl3", "openssl-3", "3.0.8-150500.5.8.1")), "CVE-2099-0004 fixed fixed=3.0.8-150500.5.20.1 aliases=SUSE-SU-2099:0004-1")

	im := &facts.Image{Content: &facts.ImageContent{OS: sp3, Packages: []facts.Package{rpm("coreutils", "coreutils", "8.32-3.2.1"), rpm("bash", "bash", "4.4-19.6.1")}}}
	s.MatchImage(im)
	var notes []string
	for _, v := range im.Vulns {
		notes = append(notes, v.Package+" "+v.Ecosystem+": "+v.Note)
	}
	want := []string{
		"bash SUSE:Linux Enterprise Module for Basesystem 15 SP3: ",
		"coreutils SUSE:Linux Enterprise Server 15 SP3-LTSS: fixed only in SUSE's LTSS channel (Linux Enterprise Server 15 SP3-LTSS), which this image does not have (no sles-ltss-release)",
	}
	if d := cmp.Diff(want, notes); d != "" {
		t.Errorf("vulnerabilities (-want +got):\n%s", d)
	}
	// Keys are the family's.
	if d := cmp.Diff([]Key{{"SUSE", "bash"}}, Keys(sp3, []facts.Package{rpm("bash", "bash", "4.4-19.6.1")})); d != "" {
		t.Errorf("keys (-want +got):\n%s", d)
	}
}

func TestSUSERelease(t *testing.T) {
	for _, tc := range []struct{ id, v, want string }{
		{"sles", "15.6", "15 SP6"}, {"sles", "15", "15"}, {"sles", "12.5", "12 SP5"}, {"sles_sap", "15.4", "15 SP4"},
		{"sle-micro", "5.5", "5.5"}, {"sl-micro", "6.0", "6.0"},
	} {
		if got := SUSERelease(facts.OS{ID: tc.id, VersionID: tc.v}); got != tc.want {
			t.Errorf("%s %s: %q, want %q", tc.id, tc.v, got, tc.want)
		}
	}
}
