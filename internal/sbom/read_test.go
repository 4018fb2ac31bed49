package sbom

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/facts"
)

// TestReadRoundTrip: what dockaudit writes, it reads back as the packages the image
// collector listed (each once), with the OS, in both formats.
func TestReadRoundTrip(t *testing.T) {
	im := fixture()
	im.Content.Packages = append(im.Content.Packages,
		facts.Package{Name: "@babel/core", Version: "7.24.0", Type: "npm", PURL: "pkg:npm/%40babel/core@7.24.0"},
		facts.Package{Name: "org.apache.logging.log4j:log4j-core", Version: "2.14.1", Type: "maven", PURL: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"},
		facts.Package{Name: "openssl-libs", Version: "1:3.0.7-24.el9", Arch: "x86_64", SourceName: "openssl", SourceVersion: "3.0.7-24.el9", Type: "rpm",
			PURL: "pkg:rpm/redhat/openssl-libs@3.0.7-24.el9?arch=x86_64&distro=rhel-9.3&epoch=1&upstream=openssl-3.0.7-24.el9.src.rpm"},
	)
	want := []string{
		"deb libssl3 3.0.15-1~deb12u1 src openssl 3.0.15-1~deb12u1",
		"golang stdlib v1.22.4 src  ",
		"golang golang.org/x/net v0.25.0 src  ",
		"npm left-pad 1.3.0 src  ",
		"pypi requests 2.32.3 src  ",
		"npm dual 1.0.0 src  ",
		"npm @babel/core 7.24.0 src  ",
		"maven org.apache.logging.log4j:log4j-core 2.14.1 src  ",
		"rpm openssl-libs 1:3.0.7-24.el9 src openssl 3.0.7-24.el9",
	}
	for _, format := range Formats {
		p, err := Read(render(t, format, im))
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		var got []string
		for _, pk := range p.Packages {
			got = append(got, pk.Type+" "+pk.Name+" "+pk.Version+" src "+pk.SourceName+" "+pk.SourceVersion)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s packages (-want +got):\n%s", format, d)
		}
		// (SPDX names a tool as name-version.)
		if p.OS.ID != "debian" || p.OS.VersionID != "12" || (p.Tool != "dockaudit 1.0.0-test" && p.Tool != "dockaudit-1.0.0-test") || len(p.Notes) != 0 {
			t.Errorf("%s: os %+v, tool %q, notes %q", format, p.OS, p.Tool, p.Notes)
		}
	}
}

// TestReadOtherTools: Trivy's source-package properties (CycloneDX) and sourceInfo
// (SPDX), the OS from a distro qualifier, and what is counted rather than matched.
func TestReadOtherTools(t *testing.T) {
	cdx := `{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"tools":{"components":[{"name":"trivy","version":"0.74.0"}]}},
"components":[
 {"type":"library","name":"libssl3","version":"3.0.15-1~deb12u1","purl":"pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=amd64&distro=debian-12.8",
  "properties":[{"name":"aquasecurity:trivy:SrcName","value":"openssl"},{"name":"aquasecurity:trivy:SrcVersion","value":"3.0.15"},{"name":"aquasecurity:trivy:SrcRelease","value":"1~deb12u1"}]},
 {"type":"library","name":"zlib1g","version":"1:1.2.13.dfsg-1","purl":"pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=amd64&distro=debian-12.8"},
 {"type":"library","name":"x","purl":"pkg:github/o/x@1"},
 {"type":"file","name":"/etc/x"}]}`
	p, err := Read([]byte(cdx))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, pk := range p.Packages {
		got = append(got, pk.Name+" "+pk.Version+" "+pk.SourceName+" "+pk.SourceVersion)
	}
	// A type no advisory source covers is kept (matching counts it as not covered); a
	// component without a package URL is unread, never one package fewer.
	if d := cmp.Diff([]string{"libssl3 3.0.15-1~deb12u1 openssl 3.0.15-1~deb12u1", "zlib1g 1:1.2.13.dfsg-1  ", "o/x 1  "}, got); d != "" {
		t.Errorf("packages (-want +got):\n%s", d)
	}
	wantNotes := []string{"1 deb packages name no source package: each is taken as its own source (as dpkg does when they share a name)"}
	wantUnread := []string{"1 components of the SBOM have no package URL, so they are not matched"}
	if d := cmp.Diff(wantNotes, p.Notes) + cmp.Diff(wantUnread, p.Unread); d != "" || p.OS.ID != "debian" || p.OS.VersionID != "12.8" || p.Tool != "trivy 0.74.0" {
		t.Errorf("notes, unread (-want +got):\n%s\nos %+v tool %q", d, p.OS, p.Tool)
	}
	spdx := `{"spdxVersion":"SPDX-2.3","name":"app:1","creationInfo":{"creators":["Organization: Aqua","Tool: trivy-0.74.0"]},"packages":[
 {"name":"debian","versionInfo":"12.8","primaryPackagePurpose":"OPERATING-SYSTEM"},
 {"name":"app.tar","primaryPackagePurpose":"CONTAINER","externalRefs":[{"referenceType":"purl","referenceLocator":"pkg:oci/app.tar@sha256%3A00"}]},
 {"name":"libssl3","versionInfo":"3.0.15-1~deb12u1","sourceInfo":"built package from: openssl 3.0.15-1~deb12u1",
  "externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=amd64"}]}]}`
	p, err = Read([]byte(spdx))
	if err != nil || len(p.Packages) != 1 || p.Packages[0].SourceName != "openssl" || p.Packages[0].SourceVersion != "3.0.15-1~deb12u1" || p.OS.VersionID != "12.8" || p.Name != "app:1" {
		t.Errorf("SPDX: %v %+v", err, p)
	}
}

// TestFromPURL: the version after the last @, qualifiers percent-decoded with a
// literal + kept, Syft's stdlib version, Trivy's deb epoch.
func TestFromPURL(t *testing.T) {
	for in, want := range map[string]string{
		"pkg:npm/@angular/core@16.0.0":                                                  "npm @angular/core 16.0.0  ",
		"pkg:npm/%40angular/core@16.0.0":                                                "npm @angular/core 16.0.0  ",
		"pkg:deb/debian/sox@14.4.2?upstream=sox@14.4.2+git20190427-2+deb11u2":           "deb sox 14.4.2 sox 14.4.2+git20190427-2+deb11u2",
		"pkg:golang/stdlib@1.20.1":                                                      "golang stdlib v1.20.1  ",
		"pkg:deb/debian/zlib1g@1.2.13.dfsg-1?epoch=1&upstream=zlib":                     "deb zlib1g 1:1.2.13.dfsg-1 zlib ",
		"pkg:generic/openssl@3.0.0":                                                     "generic openssl 3.0.0  ",
		"pkg:rpm/redhat/bash@5.1.8-6.el9?arch=x86_64&upstream=bash-5.1.8-6.el9.src.rpm": "rpm bash 5.1.8-6.el9 bash 5.1.8-6.el9",
	} {
		pk, _, err := fromPURL(in)
		got := pk.Type + " " + pk.Name + " " + pk.Version + " " + pk.SourceName + " " + pk.SourceVersion
		if err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"npm/x@1", "pkg:npm/", "pkg:npm/x@1%zz", "pkg:deb/debian/x@1?upstream=%zz"} {
		if _, _, err := fromPURL(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// FuzzRead: any input is a parsed SBOM or an error, never a panic, and bounded.
func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"purl":"pkg:npm/@a/b@1","components":[{"purl":"pkg:deb/debian/x@1?upstream=y@2"}]}]}`))
	f.Add([]byte(`{"spdxVersion":"SPDX-2.3","packages":[{"name":"debian","versionInfo":"12","primaryPackagePurpose":"OPERATING_SYSTEM"},{"externalRefs":[{"referenceType":"purl","referenceLocator":"pkg:rpm/x@1-2?epoch=1"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Read(data)
		if err == nil && len(p.Packages) > maxComponents {
			t.Errorf("%d packages", len(p.Packages))
		}
	})
}

// TestReadBounded: a file of nothing but empty objects is refused before decoding.
func TestReadBounded(t *testing.T) {
	doc := `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[` + strings.Repeat("{},", maxObjects) + `{}]}`
	if _, err := Read([]byte(doc)); err == nil || err.Error() != "more than 4000000 JSON objects" {
		t.Errorf("%v", err)
	}
}

func TestReadRefuses(t *testing.T) {
	for in, want := range map[string]string{
		`{"bomFormat":"CycloneDX","specVersion":"1.2"}`:                 "CycloneDX 1.2: dockaudit reads CycloneDX 1.4 to 1.7",
		`{"spdxVersion":"SPDX-2.1"}`:                                    "SPDX-2.1: dockaudit reads SPDX 2.2 and 2.3 (JSON)",
		`{"hello":1}`:                                                   "neither CycloneDX (bomFormat) nor SPDX (spdxVersion) JSON",
		`<?xml version="1.0"?><bom/>`:                                   "not a JSON SBOM: invalid character '<' looking for beginning of value",
		`{"bomFormat":"CycloneDX","specVersion":"1.5","components":{}}`: "CycloneDX: json: cannot unmarshal object into Go struct field cdxIn.components of type []sbom.cdxInComponent",
	} {
		if _, err := Read([]byte(in)); err == nil || err.Error() != want {
			t.Errorf("%.40s: %v, want %q", in, err, want)
		}
	}
	if _, err := Read([]byte(strings.Repeat(" ", MaxInput+1))); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized: %v", err)
	}
}
