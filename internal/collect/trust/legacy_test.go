package trust

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/dockaudit/dockaudit/internal/collect/registry"
)

// legacyKeyless signs payload keylessly under a virtual Sigstore (sigstore-go's own
// test CA and log) and lays the result out as cosign's legacy .sig layer does.
func legacyKeyless(t *testing.T, vs *ca.VirtualSigstore, identity string, p []byte) registry.SignedLayer {
	t.Helper()
	ent, err := vs.Sign(identity, "https://issuer.example", p)
	if err != nil {
		t.Fatal(err)
	}
	sc, _ := ent.SignatureContent()
	ann := legacyAnnotations(t, vs, ent)
	ann[annSignature] = base64.StdEncoding.EncodeToString(sc.Signature())
	return registry.SignedLayer{Payload: p, Annotations: ann}
}

// legacyAnnotations are the certificate and Rekor entry annotations cosign's legacy
// form gives a keyless signature or attestation made under the virtual Sigstore.
func legacyAnnotations(t *testing.T, vs *ca.VirtualSigstore, ent *ca.TestEntity) map[string]string {
	t.Helper()
	vc, _ := ent.VerificationContent()
	entries, _ := ent.TlogEntries()
	tle := entries[0].TransparencyLogEntry()
	// The log's signed entry timestamp over the entry, as Rekor gives it (the test
	// entry keeps its own out of reach).
	rp := tlog.RekorPayload{Body: base64.StdEncoding.EncodeToString(tle.GetCanonicalizedBody()), IntegratedTime: tle.GetIntegratedTime(),
		LogIndex: tle.GetLogIndex(), LogID: hex.EncodeToString(tle.GetLogId().GetKeyId())}
	set, err := vs.RekorSignPayload(rp)
	if err != nil {
		t.Fatal(err)
	}
	rb, _ := json.Marshal(map[string]any{"SignedEntryTimestamp": set, "Payload": rp})
	return map[string]string{
		annCertificate: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: vc.Certificate().Raw})),
		annBundle:      string(rb),
	}
}

// TestLegacyKeyless: a keyless signature in cosign's legacy .sig form (certificate and
// Rekor entry in annotations) is verified by sigstore-go as the v0.1 bundle it amounts
// to; another identity, an altered payload, a signature copied from another image and
// one without its log entry each fail with why.
func TestLegacyKeyless(t *testing.T) {
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	id, _ := verify.NewShortCertificateIdentity("https://issuer.example", "", "me@example.com", "")
	k := &Keyless{Describe: "identity me@example.com, issuer https://issuer.example (virtual)", root: vs, identity: id}
	repo, _ := name.NewRepository("registry.example/app")
	ctx := context.Background()
	check := func(name string, l registry.SignedLayer, listed string, verified bool, problem string) {
		t.Helper()
		tr := Signatures(ctx, fakeRegistry{listed: {l}}, repo, []string{listed}, Policy{Keyless: k})
		if len(tr.Signatures) != 1 {
			t.Fatalf("%s: %+v", name, tr)
		}
		s := tr.Signatures[0]
		if s.Verified != verified || !strings.HasPrefix(s.Problem, problem) || (problem == "" && s.Problem != "") {
			t.Errorf("%s: %+v", name, s)
		}
		if verified && (s.Identity != "me@example.com" || s.Key != "keyless me@example.com" || s.TlogIndex == 0 && s.Expires == "") {
			t.Errorf("%s: evidence %+v", name, s)
		}
	}
	good := legacyKeyless(t, vs, "me@example.com", payload(d1))
	check("verified", good, d1, true, "")
	check("another identity", legacyKeyless(t, vs, "someone@example.com", payload(d1)), d1, false, "the keyless signature does not verify under "+k.Describe)
	altered := good
	altered.Payload = []byte(strings.Replace(string(good.Payload), "registry.example/app", "registry.example/evil", 1))
	check("altered", altered, d1, false, "the keyless signature does not verify under "+k.Describe)
	check("copied", legacyKeyless(t, vs, "me@example.com", payload(d2)), d1, false, "a valid signature by keyless me@example.com, but for "+d2+", not for "+d1+": copied from another image")
	nolog := good
	nolog.Annotations = map[string]string{annSignature: good.Annotations[annSignature], annCertificate: good.Annotations[annCertificate]}
	check("no log entry", nolog, d1, false, "a keyless signature that cannot be verified: it carries no transparency-log entry")
	if tr := Signatures(ctx, fakeRegistry{d1: {good}}, repo, []string{d1}, Policy{}); tr.Signatures[0].Problem != "a keyless signature (with a Fulcio certificate): not verified, no identity policy was given (--certificate-identity, --certificate-oidc-issuer, --trusted-root)" {
		t.Errorf("no policy: %+v", tr.Signatures[0])
	}
}

// TestLegacyKeylessAttestation: a keyless attestation in cosign's legacy .att form (a
// DSSE envelope, its certificate and Rekor entry in annotations) is verified by
// sigstore-go as a v0.1 bundle; another identity is not.
func TestLegacyKeylessAttestation(t *testing.T) {
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	st := `{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"digest":{"sha256":"` + strings.TrimPrefix(d1, "sha256:") + `"}}],"predicateType":"https://slsa.dev/provenance/v0.2","predicate":{"builder":{"id":"https://ci.example/b"}}}`
	layer := func(identity string) registry.SignedLayer {
		ent, err := vs.Attest(identity, "https://issuer.example", []byte(st))
		if err != nil {
			t.Fatal(err)
		}
		sc, _ := ent.SignatureContent()
		env, _ := json.Marshal(sc.(*bundle.Envelope).RawEnvelope())
		return registry.SignedLayer{Digest: "sha256:eeee", Payload: env, Annotations: legacyAnnotations(t, vs, ent)}
	}
	id, _ := verify.NewShortCertificateIdentity("https://issuer.example", "", "me@example.com", "")
	k := &Keyless{Describe: "identity me@example.com (virtual)", root: vs, identity: id}
	repo, _ := name.NewRepository("registry.example/app")
	tr := Signatures(context.Background(), fakeRegistry{"att:" + d1: {layer("me@example.com")}}, repo, []string{d1}, Policy{Keyless: k})
	if len(tr.Attestations) != 1 || !tr.Attestations[0].Verified || tr.Attestations[0].Key != "keyless me@example.com" || tr.Attestations[0].Builder != "https://ci.example/b" {
		t.Errorf("verified: %+v", tr.Attestations)
	}
	tr = Signatures(context.Background(), fakeRegistry{"att:" + d1: {layer("someone@example.com")}}, repo, []string{d1}, Policy{Keyless: k})
	if len(tr.Attestations) != 1 || tr.Attestations[0].Verified || !strings.HasPrefix(tr.Attestations[0].Unverified, "the keyless signature does not verify under "+k.Describe) {
		t.Errorf("another identity: %+v", tr.Attestations)
	}
}
