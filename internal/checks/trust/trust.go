// Package trust judges what vouches for an image: its signatures and what it says it
// is built on.
package trust

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
)

var ev = check.Ev

const section = "Image trust"

// Checks returns the image trust checks, in report order.
func Checks() []check.Check {
	return []check.Check{
		{Rule: rule("IMG-SIGNATURE", finding.High, "The image is signed, and the signature verifies",
			"A signature says who published an image; verified against the publisher's key it proves that what runs is what they pushed, not a tampered or substituted image. Docker Content Trust (Notary v1) is retired; cosign and Notation signatures replace it.",
			"Sign images when they are pushed (cosign sign --key cosign.key REGISTRY/REPO@DIGEST, or notation sign REGISTRY/REPO@DIGEST) and verify them before they run: dockaudit image --key cosign.pub REF, or under the Notation trust policy the notation CLI keeps (--notation-config DIR)."),
			Run: signature},
		{Rule: rule("IMG-PROVENANCE", finding.Medium, "The image's build provenance is recorded and verified",
			"SLSA provenance says who built an image, from which source and commit, with which inputs: what a signature cannot say. cosign attest attaches it signed; BuildKit attaches it unsigned to the image index, where it is as trustworthy as the signature that covers the index.",
			"Build with docker buildx build --provenance=mode=max --push, and sign the index (cosign sign --key cosign.key REGISTRY/REPO@INDEX-DIGEST); verify with dockaudit image --key cosign.pub."),
			Run: provenance},
		{Rule: rule("IMG-BASE", finding.Low, "The image names its base image, pinned by digest",
			"The base image carries most of an image's packages; an image that names its base by digest can be traced and rebuilt when the base is fixed, one that names a tag cannot say which build it took. (hadolint: DL3006 and DL3007 for an untagged or latest FROM; an unpinned tag is judged the same here.)",
			"Build FROM name@sha256:… and let the builder record it (BuildKit writes org.opencontainers.image.base.name and .base.digest), or set those labels."),
			Needs: []facts.Part{facts.PartImageConfig}, Run: base},
	}
}

func rule(id string, sev finding.Severity, title, desc, fix string) finding.Rule {
	return finding.Rule{ID: id, Title: title, Description: desc, Remediation: fix, Severity: sev, Section: section, Scope: finding.KindImage,
		Tags: []string{"image", "trust"}}
}

func signature(p *check.Pass) {
	t := p.Image.Trust
	switch {
	case t == nil:
		p.Skip(notLooked(p.Image))
		return
	case !t.Looked && len(t.Policy) == 0:
		p.Skip(t.Why)
		return
	}
	policy := strings.Join(t.Policy, ", ")
	if !t.Looked {
		// Under a key policy a lookup that failed is a failure: a registry, or whoever
		// can push to it, must not turn a check into a skip.
		p.Fail(t.Why+": nothing was verified", ev("policy", policy, "a signature it verifies"))
		return
	}
	var verified, problems []string
	var good, bad []finding.Evidence
	for _, s := range t.Signatures {
		if s.Verified {
			verified = append(verified, signer(s))
			good = append(good, sigEvidence(s)...)
			continue
		}
		problems = append(problems, s.Location+": "+s.Problem)
		bad = append(bad, sigEvidence(s)...)
	}
	switch {
	case len(verified) > 0:
		slices.Sort(verified)
		p.OK(fmt.Sprintf("signed: verified with %s", strings.Join(slices.Compact(verified), ", ")), append([]finding.Evidence{ev("signatures", fmt.Sprint(len(t.Signatures)), "one that verifies")}, good...)...)
	case len(t.Signatures) == 0 && policy != "":
		p.Fail("not signed: no signature (cosign or Notation) is stored for "+digests(p.Image), ev("signatures", "0", "one by "+policy))
	case len(t.Signatures) == 0:
		// Without a policy nobody said this image must be signed: low, not high.
		p.Warn("not signed: no signature (cosign or Notation) is stored for "+digests(p.Image), ev("signatures", "0", "one that verifies")).Sev(finding.Low)
	case policy != "":
		// A signature that fails is never called unsigned: why it failed is the finding.
		p.Fail(fmt.Sprintf("%d signatures, none verifies: %s", len(t.Signatures), strings.Join(problems, "; ")), append([]finding.Evidence{ev("policy", policy, "a signature it verifies")}, bad...)...)
	default:
		p.Warn(fmt.Sprintf("%d signatures, not verified: %s", len(t.Signatures), strings.Join(problems, "; ")), append([]finding.Evidence{ev("policy", "none", "--key FILE, --trusted-root FILE, or a Notation trust policy")}, bad...)...).Sev(finding.Low)
	}
}

// sigEvidence is what a signature says of itself: where it is, its format, and the
// signer's key, identity, certificate expiry and transparency-log entry when known.
func sigEvidence(s facts.Signature) []finding.Evidence {
	evs := []finding.Evidence{ev("signature", s.Format+" "+s.Location, "")}
	for _, kv := range [][2]string{{"key", s.Key}, {"identity", s.Identity}, {"issuer", s.Issuer}, {"certificate expires", s.Expires}, {"signs", s.Signs}} {
		if kv[1] != "" {
			evs = append(evs, ev(kv[0], kv[1], ""))
		}
	}
	if s.TlogIndex != 0 {
		evs = append(evs, ev("transparency log index", fmt.Sprint(s.TlogIndex), ""))
	}
	return evs
}

// signer names who a verified signature is by: the key, the keyless identity, or a
// Notation signer's certificate subject and fingerprint.
func signer(s facts.Signature) string {
	if strings.HasPrefix(s.Format, "notation") {
		return fmt.Sprintf("Notation signer %q (certificate %s)", s.Identity, strings.TrimPrefix(s.Key, "x509 "))
	}
	return s.Key
}

func provenance(p *check.Pass) {
	t := p.Image.Trust
	switch {
	case t == nil:
		p.Skip(notLooked(p.Image))
		return
	case !t.Looked && len(t.Policy) == 0 && t.Requires == nil:
		p.Skip(t.Why)
		return
	case !t.Looked:
		p.Fail(t.Why+": nothing was verified", ev("policy", policyOf(t), "verified provenance"))
		return
	}
	req := t.Requires
	a, found := t.Provenance()
	if !found {
		if req != nil {
			p.Fail("no provenance attestation, and the trust policy "+req.Policy+" requires one", ev("provenance", "none", "SLSA provenance"))
			return
		}
		p.Warn("no provenance attestation: how the image was built is not recorded", ev("provenance", "none", "SLSA provenance")).Sev(finding.Low)
		return
	}
	if a.Problem != "" {
		if req != nil {
			p.Fail("the provenance cannot be read: "+a.Problem, ev("provenance", a.From, "SLSA provenance about this image"))
			return
		}
		p.Warn("the provenance cannot be read: "+a.Problem, ev("provenance", a.From, "SLSA provenance about this image")).Sev(finding.Low)
		return
	}
	what := "built by " + or(a.Builder, "an unnamed builder")
	if a.Source != "" {
		what += " from " + a.Source
		if a.Commit != "" {
			what += " at " + a.Commit
		}
	}
	evs := []finding.Evidence{ev("builder", or(a.Builder, "(none)"), ""), ev("source", or(a.Source, "(none)"), ""), ev("from", a.From, "")}
	if req != nil {
		if miss := unmet(req, a); len(miss) > 0 {
			p.Fail(what+": the trust policy "+req.Policy+" requires "+strings.Join(miss, " and "), evs...)
			return
		}
		what += ", as the trust policy " + req.Policy + " requires"
	}
	switch {
	case a.Verified:
		p.OK(what+" (SLSA provenance signed by "+a.Key+")", evs...)
		return
	case t.Vouched(a):
		p.OK(what+" (SLSA provenance in the index a verified signature covers)", evs...)
		return
	}
	msg := what + ", but nothing verifies it: the provenance is unsigned, and no verified signature covers the index that lists it"
	if a.Unverified != "" {
		msg = what + ", but its signature is not verified: " + a.Unverified
	}
	switch {
	case req != nil:
		p.Fail(msg, evs...)
	case len(t.Policy) == 0:
		p.Warn(msg, evs...).Sev(finding.Low)
	default:
		p.Warn(msg, evs...)
	}
}

// unmet lists what a provenance requirement asks that the attestation does not say.
func unmet(req *facts.ProvenanceRequirement, a facts.Attestation) []string {
	var miss []string
	check := func(what, got, exact, re string, norm func(string) string) {
		switch {
		case exact != "" && norm(got) != norm(exact):
			miss = append(miss, fmt.Sprintf("%s %s", what, exact))
		case re != "":
			if m, err := regexp.MatchString(re, got); err != nil || !m {
				miss = append(miss, fmt.Sprintf("a %s matching %s", what, re))
			}
		}
	}
	check("builder", a.Builder, req.Builder, req.BuilderRegexp, func(s string) string { return s })
	check("source", a.Source, req.Source, req.SourceRegexp, sourceRepo)
	return miss
}

// sourceRepo is a source URL as a repository: no git+ scheme prefix, no #ref or
// @ref, no .git, no trailing slash (case is kept: not every host ignores it), so https://github.com/org/app names the source
// git+https://github.com/org/app.git#refs/heads/main.
func sourceRepo(s string) string {
	s = strings.TrimPrefix(s, "git+")
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '@'); i > strings.LastIndexByte(s, '/') {
		s = s[:i]
	}
	return strings.TrimSuffix(strings.TrimSuffix(s, "/"), ".git")
}

// policyOf names what an image was held to: its signature policy, else its
// provenance requirement's trust policy entry.
func policyOf(t *facts.Trust) string {
	if len(t.Policy) > 0 {
		return strings.Join(t.Policy, ", ")
	}
	if t.Requires != nil {
		return "trust policy " + t.Requires.Policy
	}
	return "none"
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// notLooked says why an image's signatures were not looked for.
func notLooked(im *facts.Image) string {
	switch im.Source {
	case "registry", "oci":
		return "signatures were not looked for"
	case "dir":
		return "a root filesystem directory carries no signature"
	case "dockerfile":
		return "a Dockerfile is not built or signed yet: verify the image it builds (dockaudit image --key, --trust-policy)"
	}
	return "signatures live in registries, not in a " + im.Source + " image: audit registry:REPO@DIGEST to verify them"
}

func digests(im *facts.Image) string {
	if im.Digest == "" {
		return "the image"
	}
	return im.Digest
}

func base(p *check.Pass) {
	b := p.Image.Base
	if b == nil {
		// Most builders do not record it yet: worth knowing, not failing a build for.
		p.Warn("the image does not say what it is built on (no org.opencontainers.image.base.name annotation or label)", ev("base image", "unknown", "named and pinned by digest")).Sev(finding.SevInfo)
		return
	}
	if b.Name == "scratch" {
		p.OK("built FROM scratch: no base image to trace or pin", ev("from", b.From, ""))
		return
	}
	note := ""
	if official(b.Name) {
		note = " (a Docker Official Image)"
	}
	from := ev("from", b.From, "")
	switch {
	case strings.Contains(b.Name, "@sha256:"):
		p.OK("built on "+b.Name+note, ev("base image", b.Name, "pinned by digest"), from)
	case b.Digest == "" && floating(b.Name) != "":
		// hadolint DL3006/DL3007: what is built on changes whenever latest moves.
		p.Warn("built on "+b.Name+note+", "+floating(b.Name)+", not pinned by digest", ev("base image", b.Name, "a version tag, pinned by digest"), from)
	case b.Digest == "":
		p.Warn("built on "+b.Name+note+", not pinned by digest", ev("base image", b.Name, "pinned by digest"), from)
	default:
		p.OK("built on "+b.Name+"@"+b.Digest+note, ev("base image", b.Name+"@"+b.Digest, "pinned by digest"), from)
	}
}

// floating says how a base image name without a digest follows whatever is pushed
// last: no tag, or the tag latest ("" for another tag).
func floating(ref string) string {
	i := strings.LastIndexByte(ref, ':')
	switch {
	case i <= strings.LastIndexByte(ref, '/'):
		return "untagged (so latest)"
	case ref[i+1:] == "latest":
		return "tagged latest"
	}
	return ""
}

// official reports a Docker Official Image name: docker.io/library/NAME, or NAME
// without a registry or namespace.
func official(ref string) bool {
	n := strings.TrimPrefix(strings.TrimPrefix(ref, "docker.io/"), "index.docker.io/")
	n, _, _ = strings.Cut(n, "@")
	if i := strings.LastIndexByte(n, ':'); i > strings.LastIndexByte(n, '/') {
		n = n[:i]
	}
	return strings.HasPrefix(n, "library/") || !strings.Contains(n, "/")
}
