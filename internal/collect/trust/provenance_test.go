package trust

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/collect/registry"
	"github.com/dockaudit/dockaudit/internal/facts"
)

// TestAttestations: SLSA provenance v0.2 (BuildKit's) and v1 read into who built the
// image, from what source and commit, with which inputs; a statement about another
// image, one that does not decode, and an SBOM each kept as what they are.
func TestAttestations(t *testing.T) {
	sub := `"subject":[{"name":"pkg:docker/app@1","digest":{"sha256":"1111111111111111111111111111111111111111111111111111111111111111"}}]`
	stmts := []registry.Statement{
		{From: "m1", PredicateType: slsaV02, Body: []byte(`{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2",` + sub + `,"predicate":{"builder":{"id":"b"},"buildType":"https://mobyproject.org/buildkit@v1",` +
			`"materials":[{"uri":"pkg:docker/library/alpine@3.20?platform=linux%2Famd64","digest":{"sha256":"aa"}},{"uri":"https://example.com/x.tgz"}],"invocation":{"configSource":{"uri":"git+https://g/app","digest":{"sha1":"c0"}}}}}`)},
		{From: "m1", PredicateType: slsaV1, Body: []byte(`{"predicateType":"https://slsa.dev/provenance/v1",` + sub + `,"predicate":{"buildDefinition":{"buildType":"bt","externalParameters":{"configSource":{"uri":"u","digest":{"gitCommit":"c1"}}},` +
			`"resolvedDependencies":[{"uri":"pkg:docker/ghcr.io/org/base@sha256:bb","digest":{"sha256":"bb"}}]},"runDetails":{"builder":{"id":"b1"}}}}`)},
		{From: "m1", PredicateType: "https://spdx.dev/Document", Body: []byte(`{"predicateType":"https://spdx.dev/Document",` + sub + `,"predicate":{}}`)},
		{From: "m2", PredicateType: slsaV02, Body: []byte(`{"predicateType":"https://slsa.dev/provenance/v0.2","subject":[{"digest":{"sha256":"22"}}],"predicate":{}}`)},
		{From: "m3", PredicateType: slsaV02, Body: []byte(`not json`)},
	}
	got := Attestations(stmts, d1)
	want := []facts.Attestation{
		{PredicateType: slsaV02, From: "m1", InIndex: true, Builder: "b", BuildType: "https://mobyproject.org/buildkit@v1", Source: "git+https://g/app", Commit: "c0",
			Materials: []string{"pkg:docker/library/alpine@3.20?platform=linux%2Famd64 sha256:aa", "https://example.com/x.tgz"}},
		{PredicateType: slsaV1, From: "m1", InIndex: true, Builder: "b1", BuildType: "bt", Source: "u", Commit: "gitCommit:c1", Materials: []string{"pkg:docker/ghcr.io/org/base@sha256:bb sha256:bb"}},
		{PredicateType: "https://spdx.dev/Document", From: "m1", InIndex: true},
		{PredicateType: slsaV02, From: "m2", InIndex: true, Problem: "the statement is not about this image (" + d1 + ")"},
		{PredicateType: slsaV02, From: "m3", InIndex: true, Problem: "not an in-toto statement: invalid character 'o' in literal null (expecting 'u')"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	// From BuildKit's attestations a verified signature of the index vouches for; from
	// any provenance, said to be unverified, when nothing does; a cosign attestation
	// verified by its own signature first.
	vouched := &facts.Trust{Attestations: got, IndexVerified: true}
	if d := cmp.Diff(&facts.Base{Name: "library/alpine:3.20", Digest: "sha256:aa", From: "provenance"}, BaseFromProvenance(vouched)); d != "" {
		t.Errorf("base (-want +got):\n%s", d)
	}
	if d := cmp.Diff(&facts.Base{Name: "ghcr.io/org/base", Digest: "sha256:bb", From: "provenance (unverified)"}, BaseFromProvenance(&facts.Trust{Attestations: got[1:]})); d != "" {
		t.Errorf("base by digest (-want +got):\n%s", d)
	}
	signed := got[1]
	signed.From, signed.Verified, signed.InIndex = "cosign attestation r/app:sha256-11.att (layer 0)", true, false
	if d := cmp.Diff(&facts.Base{Name: "ghcr.io/org/base", Digest: "sha256:bb", From: "provenance"}, BaseFromProvenance(&facts.Trust{Attestations: append(got[:1:1], signed)})); d != "" {
		t.Errorf("base from a verified cosign attestation (-want +got):\n%s", d)
	}
}

// TestProvenanceRedacted: a source or material URL carrying credentials is kept
// redacted, never as written.
func TestProvenanceRedacted(t *testing.T) {
	st := `{"predicateType":"https://slsa.dev/provenance/v0.2","subject":[{"digest":{"sha256":"` + strings.TrimPrefix(d1, "sha256:") + `"}}],` +
		`"predicate":{"builder":{"id":"b"},"invocation":{"configSource":{"uri":"https://user:hunter2pass@git.example/app.git"}},"materials":[{"uri":"https://tok:hunter2pass@git.example/lib.git"}]}}`
	got := Attestations([]registry.Statement{{From: "m", Body: []byte(st)}}, d1)
	if len(got) != 1 || got[0].Source != "https://[redacted: 16 characters, sha256:fb258c58351e]@git.example/app.git" ||
		len(got[0].Materials) != 1 || strings.Contains(got[0].Materials[0], "hunter2pass") {
		t.Errorf("%+v", got)
	}
}
