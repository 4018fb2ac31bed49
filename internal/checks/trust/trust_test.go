package trust

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
)

const digest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"

func run(t *testing.T, im facts.Image, id string) []string {
	t.Helper()
	sel, err := check.Selection{Include: []string{id}}.Apply(Checks())
	if err != nil {
		t.Fatal(err)
	}
	if im.Tags == nil {
		im.Tags, im.Ref = []string{"registry:r.example/app:1"}, "registry:r.example/app:1"
	}
	var out []string
	for _, f := range check.Run(sel, &facts.Snapshot{Images: []facts.Image{im}}, check.Options{}) {
		out = append(out, f.Status.String()+" "+f.Severity.String()+": "+f.Message)
	}
	return out
}

func expect(t *testing.T, got []string, want ...string) {
	t.Helper()
	if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
}

// TestSignature: verified passes; unsigned, or signed and failing, under a policy fails
// with why; without a policy it warns; where signatures cannot be, it skips with why.
func TestSignature(t *testing.T) {
	key := "cosign.pub (sha256:ab)"
	ok := facts.Signature{Format: "cosign", Location: "r.example/app:sha256-11.sig (layer 0)", Signs: digest, Verified: true, Key: key}
	bad := facts.Signature{Format: "cosign", Location: "r.example/app:sha256-11.sig (layer 1)", Signs: digest, Problem: "the signature does not verify with other.pub (sha256:cd) (another key signed it, or the payload was altered)"}
	reg := func(tr *facts.Trust) facts.Image { return facts.Image{Source: "registry", Digest: digest, Trust: tr} }
	policy := []string{"key " + key}
	expect(t, run(t, reg(&facts.Trust{Looked: true, Policy: policy, Signatures: []facts.Signature{bad, ok}}), "IMG-SIGNATURE"), "pass high: signed: verified with "+key)
	notary := facts.Signature{Format: "notation-jws", Location: "r.example/app@sha256:22 (referrer)", Signs: digest, Verified: true, Key: "x509 sha256:ef", Identity: "CN=release,O=Example,C=DE"}
	expect(t, run(t, reg(&facts.Trust{Looked: true, Policy: []string{"notation trust policy /n/trustpolicy.oci.json"}, Signatures: []facts.Signature{notary}}), "IMG-SIGNATURE"),
		`pass high: signed: verified with Notation signer "CN=release,O=Example,C=DE" (certificate sha256:ef)`)
	expect(t, run(t, reg(&facts.Trust{Looked: true, Policy: policy}), "IMG-SIGNATURE"), "fail high: not signed: no signature (cosign or Notation) is stored for "+digest)
	expect(t, run(t, reg(&facts.Trust{Looked: true}), "IMG-SIGNATURE"), "warn low: not signed: no signature (cosign or Notation) is stored for "+digest)
	expect(t, run(t, reg(&facts.Trust{Looked: true, Policy: policy, Signatures: []facts.Signature{bad}}), "IMG-SIGNATURE"), "fail high: 1 signatures, none verifies: "+bad.Location+": "+bad.Problem)
	unverified := bad
	unverified.Problem = "not verified: no key was given (--key)"
	expect(t, run(t, reg(&facts.Trust{Looked: true, Signatures: []facts.Signature{unverified}}), "IMG-SIGNATURE"), "warn low: 1 signatures, not verified: "+unverified.Location+": "+unverified.Problem)
	expect(t, run(t, reg(&facts.Trust{Why: "the signatures could not be read: 500"}), "IMG-SIGNATURE"), "skip high: the signatures could not be read: 500")
	// Under a key policy a lookup that failed fails: whoever can push junk must not
	// turn the check into a skip.
	expect(t, run(t, reg(&facts.Trust{Why: "the signatures could not be read: 500", Policy: policy}), "IMG-SIGNATURE"), "fail high: the signatures could not be read: 500: nothing was verified")
	expect(t, run(t, reg(&facts.Trust{Why: "the attestations could not be read: 500", Policy: policy}), "IMG-PROVENANCE"), "fail medium: the attestations could not be read: 500: nothing was verified")
	expect(t, run(t, facts.Image{Source: "docker-archive"}, "IMG-SIGNATURE"), "skip high: signatures live in registries, not in a docker-archive image: audit registry:REPO@DIGEST to verify them")
	expect(t, run(t, facts.Image{Source: "dir"}, "IMG-SIGNATURE"), "skip high: a root filesystem directory carries no signature")
}

func TestBase(t *testing.T) {
	im := func(b *facts.Base) facts.Image {
		return facts.Image{Source: "registry", Base: b, Config: &facts.ImageConfig{}}
	}
	expect(t, run(t, im(&facts.Base{Name: "docker.io/library/debian:12", Digest: digest, From: "manifest annotation"}), "IMG-BASE"),
		"pass low: built on docker.io/library/debian:12@"+digest+" (a Docker Official Image)")
	expect(t, run(t, im(&facts.Base{Name: "debian:12", From: "label"}), "IMG-BASE"), "warn low: built on debian:12 (a Docker Official Image), not pinned by digest")
	expect(t, run(t, im(&facts.Base{Name: "ghcr.io/org/base@" + digest, From: "label"}), "IMG-BASE"), "pass low: built on ghcr.io/org/base@"+digest)
	expect(t, run(t, im(&facts.Base{Name: "registry.example:5000/team/base:1", From: "label"}), "IMG-BASE"), "warn low: built on registry.example:5000/team/base:1, not pinned by digest")
	// No tag, or latest: the base moves whenever latest does (hadolint DL3006, DL3007).
	expect(t, run(t, im(&facts.Base{Name: "registry.example:5000/team/base", From: "Dockerfile FROM"}), "IMG-BASE"), "warn low: built on registry.example:5000/team/base, untagged (so latest), not pinned by digest")
	expect(t, run(t, im(&facts.Base{Name: "debian:latest", From: "Dockerfile FROM"}), "IMG-BASE"), "warn low: built on debian:latest (a Docker Official Image), tagged latest, not pinned by digest")
	expect(t, run(t, im(nil), "IMG-BASE"), "warn info: the image does not say what it is built on (no org.opencontainers.image.base.name annotation or label)")
	expect(t, run(t, facts.Image{Source: "dir"}, "IMG-BASE"), "skip low: not known: the facts hold no imageConfig for this image")
}

func TestProvenance(t *testing.T) {
	prov := facts.Attestation{PredicateType: "https://slsa.dev/provenance/v0.2", From: "buildkit attestation manifest sha256:aa", InIndex: true,
		Builder: "https://github.com/actions/runner", Source: "https://github.com/org/app.git#refs/heads/main", Commit: "0123abcd"}
	reg := func(tr *facts.Trust) facts.Image { return facts.Image{Source: "registry", Digest: digest, Trust: tr} }
	expect(t, run(t, reg(&facts.Trust{Looked: true, IndexVerified: true, Policy: []string{"key k"}, Attestations: []facts.Attestation{prov}}), "IMG-PROVENANCE"),
		"pass medium: built by https://github.com/actions/runner from https://github.com/org/app.git#refs/heads/main at 0123abcd (SLSA provenance in the index a verified signature covers)")
	expect(t, run(t, reg(&facts.Trust{Looked: true, Policy: []string{"key k"}, Attestations: []facts.Attestation{prov}}), "IMG-PROVENANCE"),
		"warn medium: built by https://github.com/actions/runner from https://github.com/org/app.git#refs/heads/main at 0123abcd, but nothing verifies it: the provenance is unsigned, and no verified signature covers the index that lists it")
	expect(t, run(t, reg(&facts.Trust{Looked: true, Attestations: []facts.Attestation{{PredicateType: "https://slsa.dev/provenance/v1", From: "x"}}}), "IMG-PROVENANCE"),
		"warn low: built by an unnamed builder, but nothing verifies it: the provenance is unsigned, and no verified signature covers the index that lists it")
	expect(t, run(t, reg(&facts.Trust{Looked: true, Attestations: []facts.Attestation{{PredicateType: "https://spdx.dev/Document"}}}), "IMG-PROVENANCE"),
		"warn low: no provenance attestation: how the image was built is not recorded")
	expect(t, run(t, reg(&facts.Trust{Looked: true, Attestations: []facts.Attestation{{PredicateType: "https://slsa.dev/provenance/v0.2", From: "x", Problem: "the statement is not about this image (" + digest + ")"}}}), "IMG-PROVENANCE"),
		"warn low: the provenance cannot be read: the statement is not about this image ("+digest+")")
	// A cosign attestation signed itself.
	signed := prov
	signed.From, signed.Verified, signed.Key = "cosign attestation r.example/app:sha256-11.att (layer 0)", true, "cosign.pub (sha256:ab)"
	expect(t, run(t, reg(&facts.Trust{Looked: true, Policy: []string{"key k"}, Attestations: []facts.Attestation{prov, signed}}), "IMG-PROVENANCE"),
		"pass medium: built by https://github.com/actions/runner from https://github.com/org/app.git#refs/heads/main at 0123abcd (SLSA provenance signed by cosign.pub (sha256:ab))")
	unsigned := signed
	unsigned.Verified, unsigned.Key, unsigned.Unverified = false, "", "not verified: no key was given (--key)"
	expect(t, run(t, reg(&facts.Trust{Looked: true, Attestations: []facts.Attestation{unsigned}}), "IMG-PROVENANCE"),
		"warn low: built by https://github.com/actions/runner from https://github.com/org/app.git#refs/heads/main at 0123abcd, but its signature is not verified: not verified: no key was given (--key)")
	// A trust policy file's requirements: met and verified passes; absent, not met or
	// unverified fails.
	req := &facts.ProvenanceRequirement{Policy: "trust.yaml, policy 1 (ghcr.io/org/*)", Builder: "https://github.com/actions/runner", Source: "git+https://github.com/org/app"}
	withReq := func(verified bool, atts ...facts.Attestation) facts.Image {
		return reg(&facts.Trust{Looked: true, IndexVerified: verified, Policy: []string{"key k"}, Attestations: atts, Requires: req})
	}
	expect(t, run(t, withReq(true, prov), "IMG-PROVENANCE"),
		"pass medium: built by https://github.com/actions/runner from https://github.com/org/app.git#refs/heads/main at 0123abcd, as the trust policy trust.yaml, policy 1 (ghcr.io/org/*) requires (SLSA provenance in the index a verified signature covers)")
	expect(t, run(t, withReq(false, prov), "IMG-PROVENANCE"),
		"fail medium: built by https://github.com/actions/runner from https://github.com/org/app.git#refs/heads/main at 0123abcd, as the trust policy trust.yaml, policy 1 (ghcr.io/org/*) requires, but nothing verifies it: the provenance is unsigned, and no verified signature covers the index that lists it")
	expect(t, run(t, withReq(true), "IMG-PROVENANCE"), "fail medium: no provenance attestation, and the trust policy trust.yaml, policy 1 (ghcr.io/org/*) requires one")
	other := prov
	other.Builder, other.Source = "https://evil.example/builder", "https://github.com/Org/app"
	expect(t, run(t, withReq(true, other), "IMG-PROVENANCE"),
		"fail medium: built by https://evil.example/builder from https://github.com/Org/app at 0123abcd: the trust policy trust.yaml, policy 1 (ghcr.io/org/*) requires builder https://github.com/actions/runner and source git+https://github.com/org/app")
	re := *req
	re.Builder, re.BuilderRegexp, re.Source, re.SourceRegexp = "", `^https://github\.com/actions/`, "", `^https://gitlab\.com/`
	expect(t, run(t, reg(&facts.Trust{Looked: true, IndexVerified: true, Attestations: []facts.Attestation{prov}, Requires: &re}), "IMG-PROVENANCE"),
		"fail medium: built by https://github.com/actions/runner from https://github.com/org/app.git#refs/heads/main at 0123abcd: the trust policy trust.yaml, policy 1 (ghcr.io/org/*) requires a source matching ^https://gitlab\\.com/")
	expect(t, run(t, reg(&facts.Trust{Why: "the attestations could not be read: 500", Requires: req}), "IMG-PROVENANCE"),
		"fail medium: the attestations could not be read: 500: nothing was verified")
	expect(t, run(t, facts.Image{Source: "oci"}, "IMG-PROVENANCE"), "skip medium: signatures were not looked for")
}

// TestSignatureEvidence: a verified keyless signature's evidence names where it is, the
// signer, the certificate's expiry and the transparency-log entry.
func TestSignatureEvidence(t *testing.T) {
	s := facts.Signature{Format: "sigstore-bundle", Location: "r.example/app@sha256:22 (referrer)", Signs: digest, Verified: true,
		Key: "keyless https://github.com/org/app/.github/workflows/release.yml@refs/tags/v1", Identity: "https://github.com/org/app/.github/workflows/release.yml@refs/tags/v1",
		Issuer: "https://token.actions.githubusercontent.com", Expires: "2026-12-03T10:10:00Z", TlogIndex: 123456}
	im := facts.Image{Source: "registry", Digest: digest, Trust: &facts.Trust{Looked: true, Policy: []string{"keyless …"}, Signatures: []facts.Signature{s}},
		Tags: []string{"registry:r.example/app:1"}, Ref: "registry:r.example/app:1"}
	sel, _ := check.Selection{Include: []string{"IMG-SIGNATURE"}}.Apply(Checks())
	got := check.Run(sel, &facts.Snapshot{Images: []facts.Image{im}}, check.Options{})
	want := []finding.Evidence{
		{Key: "signatures", Actual: "1", Expected: "one that verifies"},
		{Key: "signature", Actual: "sigstore-bundle r.example/app@sha256:22 (referrer)"},
		{Key: "key", Actual: s.Key}, {Key: "identity", Actual: s.Identity}, {Key: "issuer", Actual: s.Issuer},
		{Key: "certificate expires", Actual: s.Expires}, {Key: "signs", Actual: digest}, {Key: "transparency log index", Actual: "123456"},
	}
	if len(got) != 1 {
		t.Fatalf("findings: %+v", got)
	}
	if d := cmp.Diff(want, got[0].Evidence); d != "" {
		t.Errorf("evidence (-want +got):\n%s", d)
	}
}
