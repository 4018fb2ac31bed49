package integration

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
	"github.com/dockaudit/dockaudit/internal/testenv"
)

// cosignCLI is the real cosign v3 CLI scripts/setup builds into the cache.
func cosignCLI(t *testing.T) string {
	t.Helper()
	p := filepath.Join(cacheDir(), "cosign-v3.1.3", "cosign")
	if _, err := os.Stat(p); err != nil {
		testenv.Missing(t, "the cosign CLI (scripts/setup builds it): %v", err)
	}
	return p
}

// TestImageCosign: the real cosign CLI signs images in Debian's docker-registry with a
// key it generated, in both of its storage modes (the legacy sha256-HEX.sig tag, and
// cosign 3's Sigstore bundle attached as a referrer through the referrers tag schema);
// dockaudit image verifies each with the public key, and fails, each with its reason,
// with another key, for an unsigned image, for a signature copied onto another image's
// digest, and for an altered payload. Without a key it says the signature was not
// verified.
func TestImageCosign(t *testing.T) {
	need(t)
	cosignCLI(t) // skips at once when the CLI is missing
	port := registry(t)
	host := "127.0.0.1:" + port
	var digests []string
	for i := range 3 {
		dir := busyboxContext(t, fmt.Sprintf("LABEL n=%d\n", i))
		tag := fmt.Sprintf("dockaudit-it-cosign:%d", i)
		dockerBuild(t, dir, tag)
		remote := fmt.Sprintf("%s/trust/app:%d", host, i)
		pushAs(t, tag, remote)
		digests = append(digests, manifestDigest(t, host, "trust/app", fmt.Sprint(i)))
	}
	keys := t.TempDir()
	run := cosignRunner(t, keys)
	twoKeyPairs(t, run, keys)
	// The legacy storage: the sha256-HEX.sig tag, no transparency log (offline).
	run("sign", "--key", "cosign.key", "--tlog-upload=false", "--use-signing-config=false", "--new-bundle-format=false", "--allow-http-registry", "--yes", host+"/trust/app@"+digests[0])

	// The signature of image 0 copied onto image 1; image 2's with its payload altered
	// (image 0's signature over a payload naming image 2).
	sig0 := manifestBody(t, host, "trust/app", "sha256-"+strings.TrimPrefix(digests[0], "sha256:")+".sig")
	putManifest(t, host, "trust/app", "sha256-"+strings.TrimPrefix(digests[1], "sha256:")+".sig", sig0)
	var m struct {
		Layers []struct {
			Digest string `json:"digest"`
		} `json:"layers"`
	}
	json.Unmarshal(sig0, &m)
	payload := blobBody(t, host, "trust/app", m.Layers[0].Digest)
	altered := bytes.Replace(payload, []byte(digests[0]), []byte(digests[2]), 1)
	newDigest := pushBlob(t, host, "trust/app", altered)
	sig2 := bytes.Replace(sig0, []byte(m.Layers[0].Digest), []byte(newDigest), 1)
	sig2 = bytes.Replace(sig2, []byte(fmt.Sprintf(`"size":%d`, len(payload))), []byte(fmt.Sprintf(`"size":%d`, len(altered))), 1)
	putManifest(t, host, "trust/app", "sha256-"+strings.TrimPrefix(digests[2], "sha256:")+".sig", sig2)

	pub, other := filepath.Join(keys, "cosign.pub"), filepath.Join(keys, "other.pub")
	audit := func(ref string, args ...string) finding.Finding {
		t.Helper()
		rep := jsonReport(t, nil, append(append([]string{"image", "--fail-on", "none", "--include", "IMG-SIGNATURE"}, args...), "registry:"+ref)...)
		for _, f := range rep.Findings {
			if f.Rule == "IMG-SIGNATURE" {
				return f
			}
		}
		t.Fatalf("%s: no IMG-SIGNATURE finding", ref)
		return finding.Finding{}
	}
	fp := keyID(t, pub)
	sigAt := func(d string) string {
		return host + "/trust/app:sha256-" + strings.TrimPrefix(d, "sha256:") + ".sig (layer 0)"
	}
	for _, tc := range []struct {
		name, ref string
		args      []string
		want      string
	}{
		{"valid", host + "/trust/app:0", []string{"--key", pub}, "pass high: signed: verified with " + pub + " (" + fp + ")"},
		{"another key", host + "/trust/app@" + digests[0], []string{"--key", other}, "fail high: 1 signatures, none verifies: " + sigAt(digests[0]) + ": the signature does not verify with " + other + " (" + keyID(t, other) + ") (another key signed it, or the payload was altered)"},
		{"no key", host + "/trust/app:0", nil, "warn low: 1 signatures, not verified: " + sigAt(digests[0]) + ": not verified: no key was given (--key)"},
		{"copied", host + "/trust/app:1", []string{"--key", pub}, "fail high: 1 signatures, none verifies: " + sigAt(digests[1]) + ": a valid signature by " + pub + " (" + fp + "), but for " + digests[0] + ", not for " + digests[1] + ": copied from another image"},
		{"altered", host + "/trust/app:2", []string{"--key", pub}, "fail high: 1 signatures, none verifies: " + sigAt(digests[2]) + ": the signature does not verify with " + pub + " (" + fp + ") (another key signed it, or the payload was altered)"},
	} {
		f := audit(tc.ref, tc.args...)
		if got := f.Status.String() + " " + f.Severity.String() + ": " + f.Message; got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
	// cosign 3's default storage: a Sigstore bundle attached as a referrer, through the
	// referrers tag schema (distribution 2.8 has no referrers API).
	var more []string
	for _, n := range []string{"bundle", "bundle-copy"} {
		dir := busyboxContext(t, "LABEL n="+n+"\n")
		dockerBuild(t, dir, "dockaudit-it-cosign:"+n)
		pushAs(t, "dockaudit-it-cosign:"+n, host+"/trust/app:"+n)
		more = append(more, manifestDigest(t, host, "trust/app", n))
	}
	run("sign", "--key", "cosign.key", "--tlog-upload=false", "--use-signing-config=false", "--allow-http-registry", "--yes", host+"/trust/app@"+more[0])
	tagOf := func(d string) string { return "sha256-" + strings.TrimPrefix(d, "sha256:") }
	index := manifestBody(t, host, "trust/app", tagOf(more[0]))
	putIndex(t, host, "trust/app", tagOf(more[1]), index)
	var idx struct {
		Manifests []struct {
			Digest string `json:"digest"`
		} `json:"manifests"`
	}
	json.Unmarshal(index, &idx)
	if len(idx.Manifests) != 1 {
		t.Fatalf("the referrers index of the bundle: %s", index)
	}
	referrer := host + "/trust/app@" + idx.Manifests[0].Digest + " (referrer)"
	for _, tc := range []struct {
		name, ref string
		args      []string
		want      string
	}{
		{"bundle", host + "/trust/app:bundle", []string{"--key", pub}, "pass high: signed: verified with " + pub + " (" + fp + ")"},
		{"bundle, another key", host + "/trust/app:bundle", []string{"--key", other}, "fail high: 1 signatures, none verifies: " + referrer + ": the signature does not verify with " + other + " (" + keyID(t, other) + ") (another key signed it, or the payload was altered)"},
		{"bundle copied", host + "/trust/app:bundle-copy", []string{"--key", pub}, "fail high: 1 signatures, none verifies: " + referrer + ": a valid signature by " + pub + " (" + fp + "), but for " + more[0] + ", not for " + more[1] + ": copied from another image"},
	} {
		f := audit(tc.ref, tc.args...)
		if got := f.Status.String() + " " + f.Severity.String() + ": " + f.Message; got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
	// An image nobody signed, under a key policy.
	dir := busyboxContext(t, "LABEL n=unsigned\n")
	dockerBuild(t, dir, "dockaudit-it-cosign:unsigned")
	pushAs(t, "dockaudit-it-cosign:unsigned", host+"/trust/app:unsigned")
	d := manifestDigest(t, host, "trust/app", "unsigned")
	if f := audit(host+"/trust/app:unsigned", "--key", pub); f.Status.String() != "fail" || f.Message != "not signed: no signature (cosign or Notation) is stored for "+d {
		t.Errorf("unsigned: %s %s", f.Status, f.Message)
	}
	// A key file that is not a key: one line, exit 2.
	if r := dockaudit(t, nil, "image", "--key", filepath.Join(keys, "cosign.key"), "registry:"+host+"/trust/app:0"); r.code != 2 || !strings.HasPrefix(r.stderr, "dockaudit image: --key "+filepath.Join(keys, "cosign.key")+": not a PEM public key") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("a private key as --key: exit %d, %q", r.code, r.stderr)
	}
}

// cosignRunner runs the real cosign CLI in dir, where its keys are (an empty key
// password, dir as HOME so nothing of the user's is read).
func cosignRunner(t *testing.T, dir string) func(args ...string) {
	cosign := cosignCLI(t)
	return func(args ...string) {
		t.Helper()
		cmd := exec.Command(cosign, args...)
		cmd.Dir, cmd.Env = dir, append(os.Environ(), "COSIGN_PASSWORD=", "HOME="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// twoKeyPairs makes in dir another key pair (other.key, other.pub), then the one the
// images are signed with (cosign.key, cosign.pub).
func twoKeyPairs(t *testing.T, run func(...string), dir string) {
	t.Helper()
	run("generate-key-pair")
	for _, f := range []string{"pub", "key"} {
		if err := os.Rename(filepath.Join(dir, "cosign."+f), filepath.Join(dir, "other."+f)); err != nil {
			t.Fatal(err)
		}
	}
	run("generate-key-pair")
}

// keyID is the fingerprint dockaudit gives a public key: sha256 of its DER form.
func keyID(t *testing.T, pemFile string) string {
	t.Helper()
	out, err := exec.Command("openssl", "pkey", "-pubin", "-in", pemFile, "-outform", "DER").Output()
	if err != nil {
		t.Fatalf("openssl pkey: %v", err)
	}
	return sha256Hex(out)
}

// sha256Hex is sha256:HEX of b, as fingerprints are printed.
func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func manifestBody(t *testing.T, host, repo, ref string) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+host+"/v2/"+repo+"/manifests/"+ref, nil)
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET manifest %s: %v %v", ref, err, resp)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}

func manifestDigest(t *testing.T, host, repo, ref string) string {
	sum := sha256.Sum256(manifestBody(t, host, repo, ref))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func blobBody(t *testing.T, host, repo, digest string) []byte {
	t.Helper()
	resp, err := http.Get("http://" + host + "/v2/" + repo + "/blobs/" + digest)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET blob %s: %v %v", digest, err, resp)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}

func putManifest(t *testing.T, host, repo, ref string, body []byte) {
	t.Helper()
	req, _ := http.NewRequest("PUT", "http://"+host+"/v2/"+repo+"/manifests/"+ref, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("PUT manifest %s: %v %v", ref, err, resp)
	}
	resp.Body.Close()
}

// pushBlob uploads a blob monolithically (POST, then PUT with its digest).
func pushBlob(t *testing.T, host, repo string, b []byte) string {
	t.Helper()
	sum := sha256.Sum256(b)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	resp, err := http.Post("http://"+host+"/v2/"+repo+"/blobs/uploads/", "", nil)
	if err != nil || resp.StatusCode != 202 {
		t.Fatalf("POST upload: %v %v", err, resp)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "http") {
		loc = "http://" + host + loc
	}
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	req, _ := http.NewRequest("PUT", loc+sep+"digest="+digest, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("PUT blob: %v %v", err, resp)
	}
	resp.Body.Close()
	return digest
}

func putIndex(t *testing.T, host, repo, ref string, body []byte) {
	t.Helper()
	req, _ := http.NewRequest("PUT", "http://"+host+"/v2/"+repo+"/manifests/"+ref, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/vnd.oci.image.index.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("PUT index %s: %v %v", ref, err, resp)
	}
	resp.Body.Close()
}

// TestImageProvenance: an image index in BuildKit's attestation format (built here
// from the documented layout: the daemon's classic builder makes none) holding SLSA
// provenance for the image, pushed to Debian's docker-registry and signed by the real
// cosign CLI at the index's digest. dockaudit image reads the provenance, the base
// image it names, and verifies the index signature that covers it.
func TestImageProvenance(t *testing.T) {
	need(t)
	cosignCLI(t) // skips at once when the CLI is missing
	port := registry(t)
	host := "127.0.0.1:" + port
	dir := busyboxContext(t, "LABEL n=prov\n")
	dockerBuild(t, dir, "dockaudit-it-prov:1")
	pushAs(t, "dockaudit-it-prov:1", host+"/trust/prov:img")
	img := manifestBody(t, host, "trust/prov", "img")
	imgDigest := manifestDigest(t, host, "trust/prov", "img")
	base := strings.Repeat("ab", 32)
	st := `{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2","subject":[{"name":"pkg:docker/trust/prov@1?platform=linux%2Famd64","digest":{"sha256":"` +
		strings.TrimPrefix(imgDigest, "sha256:") + `"}}],"predicate":{"builder":{"id":"https://github.com/org/app/.github/workflows/build.yml@refs/heads/main"},` +
		`"buildType":"https://mobyproject.org/buildkit@v1","materials":[{"uri":"pkg:docker/library/debian@12?platform=linux%2Famd64","digest":{"sha256":"` + base + `"}}],` +
		`"invocation":{"configSource":{"uri":"https://github.com/org/app.git#refs/heads/main","digest":{"sha1":"0123456789abcdef0123456789abcdef01234567"},"entryPoint":"Dockerfile"}}}}`
	stDigest := pushBlob(t, host, "trust/prov", []byte(st))
	// The SBOM statement BuildKit writes beside it: an SPDX document as the predicate.
	spdx := `{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"sbom","documentNamespace":"https://example.com/sbom","creationInfo":{"created":"2026-12-01T00:00:00Z","creators":["Tool: buildkit-v0.26.0"]},"packages":[{"name":"busybox","SPDXID":"SPDXRef-busybox","versionInfo":"1.36.1","downloadLocation":"NOASSERTION"}]}`
	sbomSt := `{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://spdx.dev/Document","subject":[{"name":"pkg:docker/trust/prov@1","digest":{"sha256":"` +
		strings.TrimPrefix(imgDigest, "sha256:") + `"}}],"predicate":` + spdx + `}`
	sbomDigest := pushBlob(t, host, "trust/prov", []byte(sbomSt))
	cfg := []byte(`{"architecture":"unknown","os":"unknown","config":{},"rootfs":{"type":"layers","diff_ids":["` + stDigest + `","` + sbomDigest + `"]}}`)
	cfgDigest := pushBlob(t, host, "trust/prov", cfg)
	att := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},`+
		`"layers":[{"mediaType":"application/vnd.in-toto+json","digest":%q,"size":%d,"annotations":{"in-toto.io/predicate-type":"https://slsa.dev/provenance/v0.2"}},`+
		`{"mediaType":"application/vnd.in-toto+json","digest":%q,"size":%d,"annotations":{"in-toto.io/predicate-type":"https://spdx.dev/Document"}}]}`, cfgDigest, len(cfg), stDigest, len(st), sbomDigest, len(sbomSt))
	attSum := sha256.Sum256([]byte(att))
	attDigest := "sha256:" + hex.EncodeToString(attSum[:])
	putManifest(t, host, "trust/prov", attDigest, []byte(att))
	index := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[`+
		`{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":%q,"size":%d,"platform":{"architecture":"amd64","os":"linux"}},`+
		`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":%d,"annotations":{"vnd.docker.reference.digest":%q,"vnd.docker.reference.type":"attestation-manifest"},"platform":{"architecture":"unknown","os":"unknown"}}]}`,
		imgDigest, len(img), attDigest, len(att), imgDigest)
	putIndex(t, host, "trust/prov", "1", []byte(index))
	indexSum := sha256.Sum256([]byte(index))
	indexDigest := "sha256:" + hex.EncodeToString(indexSum[:])
	keys := t.TempDir()
	run := cosignRunner(t, keys)
	run("generate-key-pair")
	run("sign", "--key", "cosign.key", "--tlog-upload=false", "--use-signing-config=false", "--allow-http-registry", "--yes", host+"/trust/prov@"+indexDigest)
	pub := filepath.Join(keys, "cosign.pub")
	statuses := func(args ...string) map[string]string {
		rep := jsonReport(t, nil, append(append([]string{"image", "--fail-on", "none", "--include", "IMG-PROVENANCE,IMG-BASE,IMG-SIGNATURE"}, args...), "registry:"+host+"/trust/prov:1")...)
		out := map[string]string{}
		for _, f := range rep.Findings {
			out[f.Rule] = f.Status.String() + " " + f.Severity.String() + ": " + f.Message
		}
		if len(rep.Images) != 1 || len(rep.Images[0].Attestations) != 2 || rep.Images[0].Attestations[0].Commit != "0123456789abcdef0123456789abcdef01234567" ||
			!cmp.Equal(rep.Images[0].Attestations[1], facts.Attestation{PredicateType: "https://spdx.dev/Document", From: rep.Images[0].Attestations[0].From, Digest: sbomDigest, Size: int64(len(sbomSt)), InIndex: true}) {
			t.Errorf("attestations in the report: %+v", rep.Images)
		}
		return out
	}
	built := "built by https://github.com/org/app/.github/workflows/build.yml@refs/heads/main from https://github.com/org/app.git#refs/heads/main at 0123456789abcdef0123456789abcdef01234567"
	want := map[string]string{
		"IMG-PROVENANCE": "pass medium: " + built + " (SLSA provenance in the index a verified signature covers)",
		"IMG-BASE":       "pass low: built on library/debian:12@sha256:" + base + " (a Docker Official Image)",
		"IMG-SIGNATURE":  "pass high: signed: verified with " + pub + " (" + keyID(t, pub) + ")",
	}
	if d := cmp.Diff(want, statuses("--key", pub)); d != "" {
		t.Errorf("with the key (-want +got):\n%s", d)
	}
	if got := statuses()["IMG-PROVENANCE"]; got != "warn low: "+built+", but nothing verifies it: the provenance is unsigned, and no verified signature covers the index that lists it" {
		t.Errorf("without a key: %s", got)
	}
	// A trust policy file: the same key by a path relative to the file, and what the
	// provenance must say, per repository glob.
	policy := filepath.Join(keys, "trust.yaml")
	os.WriteFile(policy, []byte(`version: 1
policies:
  - repositories: ["`+host+`/trust/**"]
    cosign: {keys: [cosign.pub]}
    provenance:
      builderRegexp: ^https://github\.com/org/app/\.github/workflows/
      source: https://github.com/org/app
  - repositories: ["*"]
    cosign: {keys: [cosign.pub]}
    provenance: {builder: https://builder.example}
`), 0o644)
	entry := policy + ", policy 1 (" + host + "/trust/**)"
	want["IMG-PROVENANCE"] = "pass medium: " + built + ", as the trust policy " + entry + " requires (SLSA provenance in the index a verified signature covers)"
	if d := cmp.Diff(want, statuses("--trust-policy", policy)); d != "" {
		t.Errorf("with the policy file (-want +got):\n%s", d)
	}
	os.WriteFile(policy, []byte(`version: 1
policies:
  - repositories: ["`+host+`/trust/prov"]
    cosign: {keys: [cosign.pub]}
    provenance: {source: https://github.com/org/other}
`), 0o644)
	entry = policy + ", policy 1 (" + host + "/trust/prov)"
	if got := statuses("--trust-policy", policy)["IMG-PROVENANCE"]; got != "fail medium: "+built+": the trust policy "+entry+" requires source https://github.com/org/other" {
		t.Errorf("another source required: %s", got)
	}
	// dockaudit sbom --attested writes the attached SPDX document as attached, and says
	// where it came from; asked for CycloneDX, it says what is attached instead.
	ref := "registry:" + host + "/trust/prov:1"
	r := dockaudit(t, nil, "sbom", "--attested", ref)
	from := fmt.Sprintf("the https://spdx.dev/Document SBOM BuildKit attached to %s/trust/prov@%s (buildkit attestation manifest %s, statement %s)", host, imgDigest, attDigest, sbomDigest)
	if r.code != 0 || r.stdout != spdx+"\n" || r.stderr != "dockaudit sbom: wrote "+from+", unchanged; an attestation carries no signature of its own (dockaudit image --key or --trust-policy says whether a verified signature covers the index that lists it)\n" {
		t.Errorf("sbom --attested: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = dockaudit(t, nil, "sbom", "--attested", "--format", "cyclonedx", ref)
	if r.code != 1 || r.stdout != "" || r.stderr != "dockaudit sbom: "+ref+": the SBOM attached is spdx, not cyclonedx (--format): it is written as attached, never converted\n" {
		t.Errorf("sbom --attested --format cyclonedx: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = dockaudit(t, nil, "sbom", "--attested", "registry:"+host+"/trust/prov:img")
	if r.code != 1 || r.stderr != "dockaudit sbom: registry:"+host+"/trust/prov:img: no SBOM is attached: the image was not pushed with an index (docker buildx build --sbom=true --push attaches one)\n" {
		t.Errorf("sbom --attested without an index: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestImageDaemonSignatures: a daemon image pushed to Debian's docker-registry and
// signed there with the real cosign CLI is verified through its repository digest;
// --offline asks no registry, and an image never pushed has nowhere to look, each
// said (and a failure under a key policy).
func TestImageDaemonSignatures(t *testing.T) {
	need(t)
	cosignCLI(t) // skips at once when the CLI is missing
	port := registry(t)
	host := "127.0.0.1:" + port
	dir := busyboxContext(t, "LABEL n=daemon-signed\n")
	dockerBuild(t, dir, "dockaudit-it-daemonsig:1")
	remote := host + "/trust/daemon:1"
	pushAs(t, "dockaudit-it-daemonsig:1", remote)
	digest := manifestDigest(t, host, "trust/daemon", "1")
	keys := t.TempDir()
	run := cosignRunner(t, keys)
	run("generate-key-pair")
	run("sign", "--key", "cosign.key", "--tlog-upload=false", "--use-signing-config=false", "--allow-http-registry", "--yes", host+"/trust/daemon@"+digest)
	pub := filepath.Join(keys, "cosign.pub")
	local := busyboxContext(t, "LABEL n=daemon-local\n")
	dockerBuild(t, local, "dockaudit-it-daemonsig:local")
	status := func(ref string, args ...string) string {
		t.Helper()
		rep := jsonReport(t, nil, append(append([]string{"image", "--fail-on", "none", "--include", "IMG-SIGNATURE"}, args...), ref)...)
		if len(rep.Findings) != 1 {
			t.Fatalf("%s: %+v", ref, rep.Findings)
		}
		f := rep.Findings[0]
		return f.Status.String() + " " + f.Severity.String() + ": " + f.Message
	}
	for _, tc := range []struct {
		name, ref string
		args      []string
		want      string
	}{
		{"pushed and signed", remote, []string{"--key", pub}, "pass high: signed: verified with " + pub + " (" + keyID(t, pub) + ")"},
		{"--offline", remote, []string{"--offline"}, "skip high: --offline: the registry its repository digest names (" + host + "/trust/daemon@" + digest + ") was not asked for its signatures"},
		{"--offline under a key", remote, []string{"--offline", "--key", pub}, "fail high: --offline: the registry its repository digest names (" + host + "/trust/daemon@" + digest + ") was not asked for its signatures: nothing was verified"},
		{"never pushed", "dockaudit-it-daemonsig:local", nil, "skip high: the daemon image has no repository digest (built or loaded here, never pushed or pulled): no registry holds its signatures"},
	} {
		if got := status(tc.ref, tc.args...); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

// TestImageCosignAttest: SLSA provenance attached by the real cosign CLI's attest, in
// both its forms (the legacy sha256-HEX.att tag, and a Sigstore bundle referrer), is
// verified with the key and passes IMG-PROVENANCE on its own signature; with another
// key it is said to be unverified, and the image's signature check is not fooled into
// counting an attestation as a signature.
func TestImageCosignAttest(t *testing.T) {
	need(t)
	cosignCLI(t) // skips at once when the CLI is missing
	port := registry(t)
	host := "127.0.0.1:" + port
	keys := t.TempDir()
	run := cosignRunner(t, keys)
	twoKeyPairs(t, run, keys)
	pub, other := filepath.Join(keys, "cosign.pub"), filepath.Join(keys, "other.pub")
	pred := filepath.Join(keys, "provenance.json")
	os.WriteFile(pred, []byte(`{"builder":{"id":"https://ci.example/builder"},"buildType":"https://example.com/build","invocation":{"configSource":{"uri":"git+https://git.example/app","digest":{"sha1":"1111111111111111111111111111111111111111"}}}}`), 0o644)
	for _, form := range []string{"legacy", "bundle"} {
		dir := busyboxContext(t, "LABEL attest="+form+"\n")
		dockerBuild(t, dir, "dockaudit-it-attest:"+form)
		pushAs(t, "dockaudit-it-attest:"+form, host+"/trust/attest:"+form)
		d := manifestDigest(t, host, "trust/attest", form)
		args := []string{"attest", "--key", "cosign.key", "--type", "slsaprovenance", "--predicate", pred, "--tlog-upload=false", "--use-signing-config=false", "--allow-http-registry", "--yes"}
		if form == "legacy" {
			args = append(args, "--new-bundle-format=false")
		}
		run(append(args, host+"/trust/attest@"+d)...)
		report := func(key string) (string, []facts.Attestation) {
			t.Helper()
			rep := jsonReport(t, nil, "image", "--fail-on", "none", "--include", "IMG-PROVENANCE", "--key", key, "registry:"+host+"/trust/attest:"+form)
			if len(rep.Findings) != 1 || len(rep.Images) != 1 {
				t.Fatalf("%s: %+v", form, rep.Findings)
			}
			f := rep.Findings[0]
			return f.Status.String() + " " + f.Severity.String() + ": " + f.Message, rep.Images[0].Attestations
		}
		built := "built by https://ci.example/builder from git+https://git.example/app at 1111111111111111111111111111111111111111"
		got, atts := report(pub)
		if want := "pass medium: " + built + " (SLSA provenance signed by " + pub + " (" + keyID(t, pub) + "))"; got != want {
			t.Errorf("%s, the key:\n got %s\nwant %s", form, got, want)
		}
		if len(atts) != 1 || !atts[0].Verified || !strings.HasPrefix(atts[0].From, "cosign attestation "+host+"/trust/attest") {
			t.Errorf("%s: attestations %+v", form, atts)
		}
		got, _ = report(other)
		if !strings.HasPrefix(got, "warn medium: "+built+", but its signature is not verified: the attestation") {
			t.Errorf("%s, another key: %s", form, got)
		}
		// An attestation is not a signature.
		rep := jsonReport(t, nil, "image", "--fail-on", "none", "--include", "IMG-SIGNATURE", "--key", pub, "registry:"+host+"/trust/attest:"+form)
		if len(rep.Findings) != 1 || rep.Findings[0].Status.String() != "fail" || rep.Findings[0].Message != "not signed: no signature (cosign or Notation) is stored for "+d {
			t.Errorf("%s: IMG-SIGNATURE %+v", form, rep.Findings)
		}
	}
}

// TestImageLayoutSignatures: an image signed and attested by the real cosign CLI and
// saved with cosign save into an OCI layout (the image, its sigs and atts manifests,
// marked by kind annotations) is read from the layout, its signature verified with
// the key and its provenance on its own signature; another key fails, saying where in
// the layout the signature is.
func TestImageLayoutSignatures(t *testing.T) {
	need(t)
	cosignCLI(t) // skips at once when the CLI is missing
	port := registry(t)
	host := "127.0.0.1:" + port
	dir := busyboxContext(t, "LABEL n=layout\n")
	dockerBuild(t, dir, "dockaudit-it-layout:1")
	pushAs(t, "dockaudit-it-layout:1", host+"/trust/layout:1")
	d := manifestDigest(t, host, "trust/layout", "1")
	keys := t.TempDir()
	run := cosignRunner(t, keys)
	twoKeyPairs(t, run, keys)
	pred := filepath.Join(keys, "provenance.json")
	os.WriteFile(pred, []byte(`{"builder":{"id":"https://ci.example/builder"},"buildType":"https://example.com/build"}`), 0o644)
	ref := host + "/trust/layout@" + d
	legacy := []string{"--tlog-upload=false", "--use-signing-config=false", "--new-bundle-format=false", "--allow-http-registry", "--yes"}
	run(append([]string{"sign", "--key", "cosign.key"}, append(legacy, ref)...)...)
	run(append([]string{"attest", "--key", "cosign.key", "--type", "slsaprovenance", "--predicate", pred}, append(legacy, ref)...)...)
	out := filepath.Join(t.TempDir(), "layout")
	run("save", "--dir", out, "--allow-http-registry", ref)
	pub, other := filepath.Join(keys, "cosign.pub"), filepath.Join(keys, "other.pub")
	statuses := func(key string) map[string]string {
		rep := jsonReport(t, nil, "image", "--fail-on", "none", "--include", "IMG-SIGNATURE,IMG-PROVENANCE", "--key", key, "oci:"+out)
		got := map[string]string{}
		for _, f := range rep.Findings {
			got[f.Rule] = f.Status.String() + " " + f.Severity.String() + ": " + f.Message
		}
		return got
	}
	want := map[string]string{
		"IMG-SIGNATURE":  "pass high: signed: verified with " + pub + " (" + keyID(t, pub) + ")",
		"IMG-PROVENANCE": "pass medium: built by https://ci.example/builder (SLSA provenance signed by " + pub + " (" + keyID(t, pub) + "))",
	}
	if diff := cmp.Diff(want, statuses(pub)); diff != "" {
		t.Errorf("the key (-want +got):\n%s", diff)
	}
	got := statuses(other)["IMG-SIGNATURE"]
	if !strings.HasPrefix(got, "fail high: 1 signatures, none verifies: oci:"+out+": cosign signatures manifest sha256:") ||
		!strings.HasSuffix(got, " (layer 0): the signature does not verify with "+other+" ("+keyID(t, other)+") (another key signed it, or the payload was altered)") {
		t.Errorf("another key: %s", got)
	}
}
