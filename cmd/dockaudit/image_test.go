package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dockaudit/dockaudit/internal/imagetest"
)

func testArchive(t *testing.T, cfg v1.Config) string {
	t.Helper()
	l := imagetest.Layer(t, imagetest.Dir("etc/"), imagetest.File("etc/os-release", "ID=alpine\nVERSION_ID=3.20.3\n"),
		imagetest.Dir("lib/apk/db/"), imagetest.File("lib/apk/db/installed", "P:musl\nV:1.2.5-r0\nA:x86_64\no:musl\n\nP:busybox\nV:1.36.1-r29\nA:x86_64\no:busybox\n\n"))
	return imagetest.WriteArchive(t, imagetest.Build(t, cfg, [][]byte{l}), "cli:1")
}

func TestImageCommand(t *testing.T) {
	root := testArchive(t, v1.Config{})
	user := testArchive(t, v1.Config{User: "10001", Healthcheck: &v1.HealthConfig{Test: []string{"CMD", "/bin/true"}}})
	// Root user (medium) and no HEALTHCHECK (low): below the default --fail-on high.
	if code, out, errs := runCLI(t, nil, "image", root); code != 0 || errs != "" || !strings.Contains(out, "2 packages (apk 2)") {
		t.Errorf("exit %d, stderr %q\n%s", code, errs, out)
	}
	if code, _, _ := runCLI(t, nil, "image", "--fail-on", "medium", root); code != 3 {
		t.Errorf("--fail-on medium: exit %d", code)
	}
	if code, _, _ := runCLI(t, nil, "image", "--fail-on", "low", "--exclude", "IMG-PKG-CACHE", user); code != 0 {
		t.Errorf("clean image at --fail-on low: exit %d", code)
	}
	code, out, _ := runCLI(t, nil, "image", "-f", "json", root, "docker-archive:"+user)
	var r struct {
		Images []struct {
			Target   struct{ Name string }
			OS       struct{ ID string }
			Packages []struct{ Name, PURL string }
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 || len(r.Images) != 2 || r.Images[0].Target.Name != root ||
		r.Images[1].Target.Name != "docker-archive:"+user || r.Images[0].Packages[0].PURL != "pkg:apk/alpine/busybox@1.36.1-r29?arch=x86_64&distro=alpine-3.20.3" {
		t.Errorf("json: exit %d, %v, %+v", code, err, r)
	}
	// A single-platform image and a --platform it does not match: an error, not an
	// audit of the platform it has. Matching it, or no --platform, audits it.
	code, _, errs := runCLI(t, nil, "image", "--platform", "linux/arm64", root)
	if code != 1 || errs != "dockaudit image: "+root+": the image is linux/amd64 only: --platform linux/arm64 matches nothing in it\n" {
		t.Errorf("--platform linux/arm64 on an amd64 image: exit %d, stderr %q", code, errs)
	}
	if code, _, errs := runCLI(t, nil, "image", "--platform", "linux/amd64", root); code != 0 {
		t.Errorf("--platform linux/amd64: exit %d %s", code, errs)
	}
	// One unreadable image: the report covers the other, and the exit is 1.
	missing := filepath.Join(t.TempDir(), "gone.tar")
	code, out, errs = runCLI(t, nil, "image", root, missing)
	if code != 1 || !strings.Contains(out, "AUDIT-COLLECT") || errs != "dockaudit image: "+missing+": no such file or directory\n" {
		t.Errorf("unreadable: exit %d, stderr %q", code, errs)
	}
}

func TestImageUsage(t *testing.T) {
	junk := t.TempDir()
	os.WriteFile(filepath.Join(junk, "trustpolicy.oci.json"), []byte("{"), 0o644)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"image"}, "dockaudit image: name at least one image (see dockaudit image --help)\n"},
		{[]string{"image", "--platform", "arm64", "x"}, "dockaudit image: --platform \"arm64\": want OS/ARCH or OS/ARCH/VARIANT, such as linux/arm64\n"},
		{[]string{"image", "--timeout", "0s", "x"}, "dockaudit image: --timeout 0s: want a positive duration such as 5m\n"},
		{[]string{"image", "--concurrency", "0", "x"}, "dockaudit image: --concurrency 0: want 1 to 16\n"},
		{[]string{"image", "--temp-dir", "/nonexistent", "x"}, "dockaudit image: --temp-dir /nonexistent: not a directory\n"},
		{[]string{"image", "--format", "cyclonedx", "x"}, "dockaudit image: --format \"cyclonedx\": want table, json, sarif or html\n"},
		{[]string{"image", "--include", "CIS-5.4", "x"}, "dockaudit image: selector \"CIS-5.4\" matches no rule (dockaudit rules lists IDs and tags)\n"},
		{[]string{"image", "--certificate-identity", "me@example.com", "x"}, "dockaudit image: --certificate-identity and --certificate-oidc-issuer need --trusted-root FILE (the Sigstore trusted_root.json to verify under; none is built in)\n"},
		{[]string{"image", "--trusted-root", "r.json", "--certificate-identity", "me@example.com", "x"}, "dockaudit image: --trusted-root needs the signer: one of --certificate-identity or --certificate-identity-regexp, and one of --certificate-oidc-issuer or --certificate-oidc-issuer-regexp\n"},
		{[]string{"image", "--trusted-root", "/nonexistent.json", "--certificate-identity", "me@example.com", "--certificate-oidc-issuer", "https://accounts.google.com", "x"}, "dockaudit image: --trusted-root open /nonexistent.json: no such file or directory\n"},
		{[]string{"image", "--key", "/nonexistent.pub", "x"}, "dockaudit image: --key open /nonexistent.pub: no such file or directory\n"},
		{[]string{"image", "--notation-config", "/nonexistent", "x"}, "dockaudit image: --notation-config /nonexistent: no trust policy there (trustpolicy.oci.json or trustpolicy.json, as the notation CLI keeps them)\n"},
		{[]string{"image", "--notation-config", junk, "x"}, "dockaudit image: --notation-config: " + junk + "/trustpolicy.oci.json: not a Notation trust policy: unexpected end of JSON input\n"},
		{[]string{"image", "--trust-policy", "t.yaml", "--key", "k.pub", "x"}, "dockaudit image: --trust-policy FILE says what to verify against per repository: give it, or --key, --trusted-root, --certificate-* and --notation-config, not both\n"},
		{[]string{"image", "--trust-policy", "/nonexistent.yaml", "x"}, "dockaudit image: --trust-policy open /nonexistent.yaml: no such file or directory\n"},
		{[]string{"image", "--trust-policy", junk + "/trustpolicy.oci.json", "x"}, "dockaudit image: --trust-policy " + junk + "/trustpolicy.oci.json: yaml: line 1: did not find expected node content\n"},
		{[]string{"sbom"}, "dockaudit sbom: name one image (see dockaudit sbom --help)\n"},
		{[]string{"sbom", "a", "b"}, "dockaudit sbom: one image per SBOM; got 2 (a, b)\n"},
		{[]string{"sbom", "--format", "json", "a"}, "dockaudit sbom: --format \"json\": want cyclonedx or spdx\n"},
		{[]string{"sbom", "--attested", "docker-archive:a.tar"}, "dockaudit sbom: --attested reads what is attached to an image in its registry: name it registry:NAME, not docker-archive:a.tar\n"},
	} {
		code, out, errs := runCLI(t, nil, tt.args...)
		if code != 2 || out != "" || errs != tt.want {
			t.Errorf("%v: exit %d, stdout %q, stderr %q\nwant %q", tt.args, code, out, errs, tt.want)
		}
	}
}

func TestSBOMCommand(t *testing.T) {
	archive := testArchive(t, v1.Config{})
	out := filepath.Join(t.TempDir(), "sbom.json")
	if code, stdout, errs := runCLI(t, nil, "sbom", "--format", "spdx", "-o", out, archive); code != 0 || stdout != "" || errs != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, errs)
	}
	b, _ := os.ReadFile(out)
	var doc struct{ SPDXVersion string }
	if json.Unmarshal(b, &doc); doc.SPDXVersion != "SPDX-2.3" {
		t.Errorf("wrote %s", b)
	}
	code, stdout, _ := runCLI(t, nil, "sbom", archive)
	var cdx struct {
		BOMFormat  string
		Components []struct{ Name string }
	}
	if json.Unmarshal([]byte(stdout), &cdx); code != 0 || cdx.BOMFormat != "CycloneDX" || len(cdx.Components) != 3 {
		t.Errorf("default format: exit %d, %+v", code, cdx)
	}
	// An unreadable image writes nothing and leaves an existing file alone.
	code, stdout, errs := runCLI(t, nil, "sbom", "-o", out, "docker-archive:/nonexistent.tar")
	after, _ := os.ReadFile(out)
	if code != 1 || stdout != "" || string(after) != string(b) ||
		errs != "dockaudit sbom: docker-archive:/nonexistent.tar: read docker archive: no such file or directory\n" {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	// A daemon image with no daemon: one line, exit 1.
	code, _, errs = runCLI(t, map[string]string{"DOCKER_HOST": "unix:///nonexistent.sock"}, "sbom", "alpine:3.20")
	if code != 1 || !strings.HasPrefix(errs, "dockaudit sbom: alpine:3.20: inspect on the daemon: cannot reach the Docker daemon at unix:///nonexistent.sock") || strings.Count(errs, "\n") != 1 {
		t.Errorf("no daemon: exit %d, stderr %q", code, errs)
	}
}
