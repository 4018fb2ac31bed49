package sbom

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

var tool = Tool{Name: "dockaudit", Version: "1.0.0-test"}

// fixture is an image with a package of each kind, a duplicate, and licenses that are
// and are not SPDX identifiers.
func fixture() *facts.Image {
	return &facts.Image{
		ID: "sha256:267cc8b88744c73b1a3918aa2749cf33e70d18c729080bc378a255b0ad575773", Ref: "registry.example/app:1.2",
		Digest: "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Platform: "linux/amd64", Source: "registry",
		Layers: []facts.ImageLayer{{Digest: "sha256:1111111111111111111111111111111111111111111111111111111111111111"},
			{Digest: "sha256:2222222222222222222222222222222222222222222222222222222222222222"}},
		Content: &facts.ImageContent{
			OS: facts.OS{ID: "debian", VersionID: "12", PrettyName: "Debian GNU/Linux 12 (bookworm)"},
			Packages: []facts.Package{
				{Name: "libssl3", Version: "3.0.15-1~deb12u1", Arch: "amd64", SourceName: "openssl", SourceVersion: "3.0.15-1~deb12u1", Type: "deb",
					PURL: "pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=amd64&distro=debian-12&upstream=openssl", Path: "/var/lib/dpkg/status"},
				{Name: "libssl3", Version: "3.0.15-1~deb12u1", Arch: "amd64", SourceName: "openssl", SourceVersion: "3.0.15-1~deb12u1", Type: "deb",
					PURL: "pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=amd64&distro=debian-12&upstream=openssl", Path: "/var/lib/dpkg/status"},
				{Name: "stdlib", Version: "v1.22.4", Type: "golang", PURL: "pkg:golang/stdlib@v1.22.4", Path: "/app/server", Layer: 1},
				{Name: "golang.org/x/net", Version: "v0.25.0", Type: "golang", PURL: "pkg:golang/golang.org/x/net@v0.25.0", Path: "/app/server", Layer: 1},
				{Name: "left-pad", Version: "1.3.0", Type: "npm", PURL: "pkg:npm/left-pad@1.3.0", Licenses: []string{"WTFPL"}, Path: "/app/node_modules/left-pad/package.json", Layer: 1},
				{Name: "requests", Version: "2.32.3", Type: "pypi", PURL: "pkg:pypi/requests@2.32.3", Licenses: []string{"Apache 2.0"},
					Path: "/usr/lib/python3/dist-packages/requests-2.32.3.dist-info/METADATA", Layer: 1},
				{Name: "dual", Version: "1.0.0", Type: "npm", PURL: "pkg:npm/dual@1.0.0", Licenses: []string{"MIT OR Apache-2.0", "ISC"}, Path: "/app/node_modules/dual/package.json", Layer: 1},
			},
		},
	}
}

func render(t *testing.T, format string, im *facts.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, format, im, tool, now); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test -update and review the diff):\n%s", name, got)
	}
}

func TestCycloneDX(t *testing.T) {
	b := render(t, "cyclonedx", fixture())
	golden(t, "fixture.cdx.json", b)
	cdx, _ := testenv.SBOMSchemas(t)
	if err := cdx(b); err != nil {
		t.Fatalf("not valid CycloneDX 1.6: %v", err)
	}
	var doc struct {
		SerialNumber string
		Components   []struct {
			Type, Name, Version, PURL string
			BOMRef                    string `json:"bom-ref"`
			Licenses                  []struct{ License struct{ Name string } }
		}
		Dependencies []struct {
			Ref       string
			DependsOn []string
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	// The OS, then six packages: the duplicate libssl3 once.
	if len(doc.Components) != 7 || doc.Components[0].Type != "operating-system" || doc.Components[0].Name != "debian" || doc.Components[0].Version != "12" {
		t.Fatalf("components = %+v", doc.Components)
	}
	refs := map[string]bool{}
	for _, c := range doc.Components[1:] {
		if c.PURL == "" || c.Type != "library" || refs[c.BOMRef] {
			t.Errorf("component %+v: want a library with a PURL and a unique bom-ref", c)
		}
		refs[c.BOMRef] = true
	}
	if len(doc.Dependencies) != 1 || doc.Dependencies[0].Ref != "image" || len(doc.Dependencies[0].DependsOn) != 7 {
		t.Errorf("dependencies = %+v", doc.Dependencies)
	}
	if !strings.HasPrefix(doc.SerialNumber, "urn:uuid:") || len(doc.SerialNumber) != len("urn:uuid:")+36 {
		t.Errorf("serialNumber = %q", doc.SerialNumber)
	}
}

func TestSPDX(t *testing.T) {
	b := render(t, "spdx", fixture())
	golden(t, "fixture.spdx.json", b)
	_, spdx := testenv.SBOMSchemas(t)
	if err := spdx(b); err != nil {
		t.Fatalf("not valid SPDX 2.3: %v", err)
	}
	var doc struct {
		Packages []struct {
			SPDXID, Name, VersionInfo, LicenseDeclared, LicenseComments, PrimaryPackagePurpose string
			ExternalRefs                                                                       []struct{ ReferenceLocator string }
		}
		Relationships []struct{ SpdxElementID, RelationshipType, RelatedSpdxElement string }
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Packages) != 8 || doc.Packages[0].PrimaryPackagePurpose != "CONTAINER" || doc.Packages[1].PrimaryPackagePurpose != "OPERATING_SYSTEM" {
		t.Fatalf("packages = %+v", doc.Packages)
	}
	licenses := map[string][2]string{}
	for _, p := range doc.Packages[2:] {
		if len(p.ExternalRefs) != 1 || !strings.HasPrefix(p.ExternalRefs[0].ReferenceLocator, "pkg:") {
			t.Errorf("%s has no PURL", p.Name)
		}
		licenses[p.Name] = [2]string{p.LicenseDeclared, p.LicenseComments}
	}
	want := map[string][2]string{
		"libssl3": {"NOASSERTION", ""}, "stdlib": {"NOASSERTION", ""}, "golang.org/x/net": {"NOASSERTION", ""},
		"left-pad": {"WTFPL", ""},
		"requests": {"NOASSERTION", "declared by the package, not an SPDX expression: Apache 2.0"},
		"dual":     {"(MIT OR Apache-2.0) AND ISC", ""},
	}
	for k, v := range want {
		if licenses[k] != v {
			t.Errorf("%s licenses = %q, want %q", k, licenses[k], v)
		}
	}
	// DESCRIBES the image, which CONTAINS the OS and each package.
	if len(doc.Relationships) != 8 || doc.Relationships[0].RelationshipType != "DESCRIBES" {
		t.Errorf("relationships = %+v", doc.Relationships)
	}
}

// TestEmptyImages: scratch and unread images still give valid documents.
func TestEmptyImages(t *testing.T) {
	cdx, spdx := testenv.SBOMSchemas(t)
	for _, im := range []*facts.Image{
		{ID: "sha256:" + strings.Repeat("a", 64), Ref: "scratch:1", Content: &facts.ImageContent{OS: facts.OS{ID: "scratch"}}},
		{Ref: "dir:/srv/root"},
	} {
		if err := cdx(render(t, "cyclonedx", im)); err != nil {
			t.Errorf("%s: CycloneDX: %v", im.Ref, err)
		}
		if err := spdx(render(t, "spdx", im)); err != nil {
			t.Errorf("%s: SPDX: %v", im.Ref, err)
		}
	}
}

func TestDeterministicAndUnique(t *testing.T) {
	a, b := render(t, "spdx", fixture()), render(t, "spdx", fixture())
	if !bytes.Equal(a, b) {
		t.Error("the same input gave two documents")
	}
	var c bytes.Buffer
	if err := Write(&c, "spdx", fixture(), tool, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, c.Bytes()) {
		t.Error("a later run gave the same document namespace")
	}
	if err := Write(&c, "xml", fixture(), tool, now); err == nil || err.Error() != `unknown SBOM format "xml" (want cyclonedx or spdx)` {
		t.Errorf("err = %v", err)
	}
}

func TestSPDXExpression(t *testing.T) {
	for in, want := range map[string]string{
		"(MIT OR Apache-2.0) AND (BSD-3-Clause OR ISC)": "(MIT OR Apache-2.0) AND (BSD-3-Clause OR ISC)",
		"MIT OR Apache-2.0":                             "MIT OR Apache-2.0",
		"MIT":                                           "MIT",
		"BSD License":                                   "",
	} {
		if got := spdxExpression([]string{in}); got != want {
			t.Errorf("spdxExpression(%q) = %q, want %q", in, got, want)
		}
	}
	if got := spdxExpression([]string{"MIT", "Apache-2.0 OR ISC"}); got != "(Apache-2.0 OR ISC) AND MIT" {
		t.Errorf("two licenses: %q", got)
	}
}
