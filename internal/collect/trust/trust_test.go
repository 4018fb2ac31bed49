package trust

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/dsse"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/dockaudit/dockaudit/internal/collect/registry"
	"github.com/dockaudit/dockaudit/internal/facts"
)

// fakeRegistry holds signature layers by the digest they are stored for, and bundle
// referrers under "referrers:DIGEST".
type fakeRegistry map[string][]registry.SignedLayer

func (f fakeRegistry) CosignSignatures(_ context.Context, _ name.Repository, d string) ([]registry.SignedLayer, bool, error) {
	if d == "sha256:broken" {
		return nil, false, errors.New("GET …/manifests/sha256-broken.sig: 500 Internal Server Error")
	}
	l, ok := f[d]
	return l, ok, nil
}

func (f fakeRegistry) CosignAttestations(_ context.Context, _ name.Repository, d string) ([]registry.SignedLayer, bool, error) {
	l, ok := f["att:"+d]
	return l, ok, nil
}

func (f fakeRegistry) Descriptor(_ context.Context, _ name.Repository, d string) (v1.Descriptor, error) {
	h, err := v1.NewHash(d)
	return v1.Descriptor{MediaType: "application/vnd.oci.image.manifest.v1+json", Digest: h, Size: 1234}, err
}

func (f fakeRegistry) SignatureReferrers(_ context.Context, _ name.Repository, d string) ([]registry.SignedLayer, error) {
	if d == "sha256:badreferrers" {
		return nil, errors.New("the referrers tag of sha256:badreferrers: unexpected end of JSON input")
	}
	return f["referrers:"+d], nil
}

// keyPair makes a key of a kind, writes its public half as PEM and returns a signer.
func keyPair(t *testing.T, kind string) (signature.Signer, Key) {
	t.Helper()
	var priv crypto.PrivateKey
	switch kind {
	case "ecdsa":
		priv, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ed25519":
		_, priv, _ = ed25519.GenerateKey(rand.Reader)
	case "rsa":
		priv, _ = rsa.GenerateKey(rand.Reader, 2048)
	}
	s, err := signature.LoadSigner(priv, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := s.PublicKey()
	der, _ := x509.MarshalPKIXPublicKey(pub)
	p := filepath.Join(t.TempDir(), kind+".pub")
	os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644)
	k, err := LoadKey(p)
	if err != nil {
		t.Fatal(err)
	}
	return s, k
}

func payload(digest string) []byte {
	return []byte(`{"critical":{"identity":{"docker-reference":"registry.example/app"},"image":{"docker-manifest-digest":"` + digest + `"},"type":"cosign container image signature"},"optional":null}`)
}

func signed(t *testing.T, s signature.Signer, p []byte, extra map[string]string) registry.SignedLayer {
	sig, err := s.SignMessage(strings.NewReader(string(p)))
	if err != nil {
		t.Fatal(err)
	}
	ann := map[string]string{annSignature: base64.StdEncoding.EncodeToString(sig)}
	for k, v := range extra {
		ann[k] = v
	}
	return registry.SignedLayer{Payload: p, Annotations: ann}
}

const (
	d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	d2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
)

// TestCosign: each kind of key verifies what it signed; a signature copied onto
// another image, an altered payload, another key, no key, a keyless signature and
// damaged layers each say exactly why they do not count.
func TestCosign(t *testing.T) {
	repo, _ := name.NewRepository("registry.example/app")
	for _, kind := range []string{"ecdsa", "ed25519", "rsa"} {
		s, k := keyPair(t, kind)
		tr := Signatures(context.Background(), fakeRegistry{d1: {signed(t, s, payload(d1), nil)}}, repo, []string{d1}, Policy{Keys: []Key{k}})
		want := &facts.Trust{Looked: true, Policy: []string{"key " + k.String()}, Signatures: []facts.Signature{{Format: "cosign",
			Location: "registry.example/app:sha256-1111111111111111111111111111111111111111111111111111111111111111.sig (layer 0)", Signs: d1, Verified: true, Key: k.String()}}}
		if d := cmp.Diff(want, tr); d != "" {
			t.Errorf("%s (-want +got):\n%s", kind, d)
		}
	}
	s, k := keyPair(t, "ecdsa")
	_, other := keyPair(t, "ed25519")
	altered := signed(t, s, payload(d1), nil)
	altered.Payload = payload(d2)
	for _, tc := range []struct {
		name   string
		reg    fakeRegistry
		keys   []Key
		digest string
		want   string
	}{
		{"copied", fakeRegistry{d2: {signed(t, s, payload(d1), nil)}}, []Key{k}, d2, "a valid signature by " + k.String() + ", but for " + d1 + ", not for " + d2 + ": copied from another image"},
		{"altered", fakeRegistry{d2: {altered}}, []Key{k}, d2, "the signature does not verify with " + k.String() + " (another key signed it, or the payload was altered)"},
		{"other key", fakeRegistry{d1: {signed(t, s, payload(d1), nil)}}, []Key{other}, d1, "the signature does not verify with " + other.String() + " (another key signed it, or the payload was altered)"},
		{"no key", fakeRegistry{d1: {signed(t, s, payload(d1), nil)}}, nil, d1, "not verified: no key was given (--key)"},
		{"keyless", fakeRegistry{d1: {signed(t, s, payload(d1), map[string]string{annCertificate: "-----BEGIN CERTIFICATE-----"})}}, nil, d1,
			"a keyless signature (with a Fulcio certificate): not verified, no identity policy was given (--certificate-identity, --certificate-oidc-issuer, --trusted-root)"},
		{"no signature", fakeRegistry{d1: {{Payload: payload(d1), Annotations: map[string]string{}}}}, []Key{k}, d1, "the layer carries no signature (dev.cosignproject.cosign/signature)"},
		{"not base64", fakeRegistry{d1: {{Payload: payload(d1), Annotations: map[string]string{annSignature: "!!"}}}}, []Key{k}, d1, "the signature is not base64: illegal base64 data at input byte 0"},
		{"not a payload", fakeRegistry{d1: {{Payload: []byte("<xml/>"), Annotations: map[string]string{annSignature: "AA=="}}}}, []Key{k}, d1, "the signed payload is not a simple-signing document: invalid character '<' looking for beginning of value"},
		{"other type", fakeRegistry{d1: {signed(t, s, []byte(`{"critical":{"image":{"docker-manifest-digest":"`+d1+`"},"type":"atomic container signature"}}`), nil)}}, []Key{k}, d1,
			`the payload's type is "atomic container signature", not "cosign container image signature"`},
	} {
		tr := Signatures(context.Background(), tc.reg, repo, []string{tc.digest}, Policy{Keys: tc.keys})
		if !tr.Looked || len(tr.Signatures) != 1 || tr.Signatures[0].Verified || tr.Signatures[0].Problem != tc.want {
			t.Errorf("%s: %+v", tc.name, tr)
		}
	}
	// Unsigned: looked, nothing found; a registry error: not looked, with the reason.
	if tr := Signatures(context.Background(), fakeRegistry{}, repo, []string{d1, d2}, Policy{Keys: []Key{k}}); !tr.Looked || len(tr.Signatures) != 0 {
		t.Errorf("unsigned: %+v", tr)
	}
	if tr := Signatures(context.Background(), fakeRegistry{}, repo, []string{"sha256:broken"}, Policy{}); tr.Looked || tr.Why != "the signatures could not be read: GET …/manifests/sha256-broken.sig: 500 Internal Server Error" {
		t.Errorf("registry error: %+v", tr)
	}
}

func TestLoadKeyErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "x.pub")
	os.WriteFile(notPEM, []byte("hello"), 0o644)
	for p, want := range map[string]string{
		notPEM:                         notPEM + ": not a PEM public key: PEM decoding failed",
		filepath.Join(dir, "none.pub"): "open " + filepath.Join(dir, "none.pub") + ": no such file or directory",
	} {
		if _, err := LoadKey(p); err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %s", p, err, want)
		}
	}
}

// bundleFor makes a Sigstore bundle as cosign 3 does for an image (a DSSE envelope over
// an in-toto statement naming the digest), with sigstore-go's own signer and a fresh
// key, and returns it with the key's public half.
func bundleFor(t *testing.T, digest string) ([]byte, Key) {
	t.Helper()
	kp, err := sign.NewEphemeralKeypair(nil)
	if err != nil {
		t.Fatal(err)
	}
	st := `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` + strings.TrimPrefix(digest, "sha256:") + `"}}],"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}}`
	b, err := sign.Bundle(&sign.DSSEData{Data: []byte(st), PayloadType: "application/vnd.in-toto+json"}, kp, sign.BundleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	js, err := protojson.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.GetPublicKeyPem()
	p := filepath.Join(t.TempDir(), "bundle.pub")
	os.WriteFile(p, []byte(pub), 0o644)
	k, err := LoadKey(p)
	if err != nil {
		t.Fatal(err)
	}
	return js, k
}

// attestationFor is a bundle as cosign attest makes it: SLSA provenance about digest.
func attestationFor(t *testing.T, digest string) ([]byte, Key) {
	t.Helper()
	kp, _ := sign.NewEphemeralKeypair(nil)
	st := `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` + strings.TrimPrefix(digest, "sha256:") + `"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}`
	b, err := sign.Bundle(&sign.DSSEData{Data: []byte(st), PayloadType: "application/vnd.in-toto+json"}, kp, sign.BundleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	js, _ := protojson.Marshal(b)
	pub, _ := kp.GetPublicKeyPem()
	p := filepath.Join(t.TempDir(), "att.pub")
	os.WriteFile(p, []byte(pub), 0o644)
	k, err := LoadKey(p)
	if err != nil {
		t.Fatal(err)
	}
	return js, k
}

// TestSigstoreBundles: cosign 3's bundles attached as referrers, verified by
// sigstore-go with the key; another key, a bundle for another image, one listed for a
// subject it was not made for, and damaged ones each say why.
func TestSigstoreBundles(t *testing.T) {
	repo, _ := name.NewRepository("registry.example/app")
	b1, k := bundleFor(t, d1)
	_, other := bundleFor(t, d1)
	ref := func(payload []byte, subject string) registry.SignedLayer {
		return registry.SignedLayer{Digest: "sha256:ffff", Payload: payload, Subject: subject}
	}
	for _, tc := range []struct {
		name    string
		reg     fakeRegistry
		keys    []Key
		digest  string
		ok      bool
		problem string
	}{
		{"valid", fakeRegistry{"referrers:" + d1: {ref(b1, d1)}}, []Key{k}, d1, true, ""},
		{"another key", fakeRegistry{"referrers:" + d1: {ref(b1, d1)}}, []Key{other}, d1, false, "the signature does not verify with " + other.String() + " (another key signed it, or the payload was altered)"},
		{"for another image", fakeRegistry{"referrers:" + d2: {ref(b1, d2)}}, []Key{k}, d2, false, "a valid signature by " + k.String() + ", but for " + d1 + ", not for " + d2 + ": copied from another image"},
		{"no key", fakeRegistry{"referrers:" + d1: {ref(b1, d1)}}, nil, d1, false, "not verified: no key was given (--key)"},
		{"listed for another subject", fakeRegistry{"referrers:" + d2: {ref(b1, d1)}}, []Key{k}, d2, false, "a valid signature by " + k.String() + ", but for " + d1 + ", not for " + d2 + ": copied from another image"},
		{"not a bundle", fakeRegistry{"referrers:" + d1: {ref([]byte(`{"mediaType":"x"}`), d1)}}, []Key{k}, d1, false, "not a Sigstore bundle: "},
	} {
		tr := Signatures(context.Background(), tc.reg, repo, []string{tc.digest}, Policy{Keys: tc.keys})
		if len(tr.Signatures) != 1 {
			t.Errorf("%s: %+v", tc.name, tr)
			continue
		}
		s := tr.Signatures[0]
		if s.Verified != tc.ok || !strings.HasPrefix(s.Problem, tc.problem) || (tc.problem == "" && s.Problem != "") || s.Format != "sigstore-bundle" || s.Location != "registry.example/app@sha256:ffff (referrer)" {
			t.Errorf("%s: %+v", tc.name, s)
		}
	}
	// A referrer that could not be read is a signature that does not count, never an
	// absent one.
	broken := registry.SignedLayer{Digest: "sha256:ffff", Problem: "the referrer does not parse: unexpected end of JSON input"}
	if tr := Signatures(context.Background(), fakeRegistry{"referrers:" + d1: {broken, ref(b1, d1)}}, repo, []string{d1}, Policy{Keys: []Key{k}}); len(tr.Signatures) != 2 ||
		tr.Signatures[0].Problem != broken.Problem || !tr.Signatures[1].Verified {
		t.Errorf("a broken referrer beside a good one: %+v", tr.Signatures)
	}
	// A bundle that verifies for this digest but is listed for another subject.
	b2, k2 := bundleFor(t, d2)
	if tr := Signatures(context.Background(), fakeRegistry{"referrers:" + d2: {ref(b2, d1)}}, repo, []string{d2}, Policy{Keys: []Key{k2}}); tr.Signatures[0].Verified ||
		tr.Signatures[0].Problem != "listed as a referrer of "+d2+", but its subject is "+d1+": copied from another image" {
		t.Errorf("subject: %+v", tr.Signatures[0])
	}
	if tr := Signatures(context.Background(), fakeRegistry{}, repo, []string{"sha256:badreferrers"}, Policy{}); tr.Looked || tr.Why != "the signature referrers could not be read: the referrers tag of sha256:badreferrers: unexpected end of JSON input" {
		t.Errorf("referrers error: %+v", tr)
	}
}

// TestCosignAttestations: what cosign attest stores, in both its forms (DSSE envelopes
// under sha256-HEX.att, and Sigstore bundles attached as referrers), is an
// attestation, verified with the key for this image; another key, a statement about
// another image, an altered statement and no key each say why it is not verified.
func TestCosignAttestations(t *testing.T) {
	repo, _ := name.NewRepository("registry.example/app")
	ctx := context.Background()
	// The bundle form.
	att, ka := attestationFor(t, d1)
	_, other := attestationFor(t, d1)
	ref := registry.SignedLayer{Digest: "sha256:ffff", Payload: att, Subject: d1}
	from := "cosign attestation registry.example/app@sha256:ffff (referrer)"
	base := facts.Attestation{PredicateType: "https://slsa.dev/provenance/v1", From: from, Digest: "sha256:ffff", Size: int64(len(att))}
	verified := base
	verified.Verified, verified.Key = true, ka.String()
	wrongKey := base
	wrongKey.Unverified = "the attestation does not verify with " + other.String() + " for " + d1 + " (another key signed it, it is about another image, or it was altered)"
	noKey := base
	noKey.Unverified = "not verified: no key was given (--key)"
	for name, tc := range map[string]struct {
		keys []Key
		want facts.Attestation
	}{"verified": {[]Key{ka}, verified}, "another key": {[]Key{other}, wrongKey}, "no key": {nil, noKey}} {
		tr := Signatures(ctx, fakeRegistry{"referrers:" + d1: {ref}}, repo, []string{d1}, Policy{Keys: tc.keys})
		if d := cmp.Diff(&facts.Trust{Looked: true, Policy: Policy{Keys: tc.keys}.Describe(), Attestations: []facts.Attestation{tc.want}}, tr); d != "" {
			t.Errorf("bundle, %s (-want +got):\n%s", name, d)
		}
	}
	// Listed for d2, about d1.
	if tr := Signatures(ctx, fakeRegistry{"referrers:" + d2: {ref}}, repo, []string{d2}, Policy{Keys: []Key{ka}}); len(tr.Attestations) != 1 ||
		tr.Attestations[0].Verified || tr.Attestations[0].Problem != "the statement is not about this image ("+d2+")" {
		t.Errorf("bundle about another image: %+v", tr.Attestations)
	}
	// The legacy .att form: a DSSE envelope per layer.
	s, k := keyPair(t, "ecdsa")
	st := `{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"digest":{"sha256":"` + strings.TrimPrefix(d1, "sha256:") + `"}}],"predicateType":"https://slsa.dev/provenance/v0.2","predicate":{"builder":{"id":"https://ci.example/builder"}}}`
	env, err := dsse.WrapSigner(s, inToto).SignMessage(strings.NewReader(st))
	if err != nil {
		t.Fatal(err)
	}
	layer := registry.SignedLayer{Digest: "sha256:eeee", Payload: env, Annotations: map[string]string{"predicateType": "https://slsa.dev/provenance/v0.2"}}
	// Altered: a valid statement that names another builder, under the original
	// signature (a payload that no longer parses would be refused before the
	// signature is checked).
	var envelope map[string]any
	if err := json.Unmarshal(env, &envelope); err != nil {
		t.Fatal(err)
	}
	envelope["payload"] = base64.StdEncoding.EncodeToString([]byte(strings.Replace(st, "https://ci.example/builder", "https://evil.example/builder", 1)))
	altered := layer
	if altered.Payload, err = json.Marshal(envelope); err != nil {
		t.Fatal(err)
	}
	legacy := facts.Attestation{PredicateType: "https://slsa.dev/provenance/v0.2", From: "cosign attestation registry.example/app:sha256-" + strings.TrimPrefix(d1, "sha256:") + ".att (layer 0)",
		Digest: "sha256:eeee", Size: int64(len(env)), Builder: "https://ci.example/builder", Verified: true, Key: k.String()}
	if tr := Signatures(ctx, fakeRegistry{"att:" + d1: {layer}}, repo, []string{d1}, Policy{Keys: []Key{k}}); !cmp.Equal(tr.Attestations, []facts.Attestation{legacy}) {
		t.Errorf(".att (-want +got):\n%s", cmp.Diff([]facts.Attestation{legacy}, tr.Attestations))
	}
	if tr := Signatures(ctx, fakeRegistry{"att:" + d1: {layer}}, repo, []string{d1}, Policy{Keys: []Key{other}}); tr.Attestations[0].Verified ||
		tr.Attestations[0].Unverified != "the attestation's signature does not verify with "+other.String()+" (another key signed it, or the statement was altered)" {
		t.Errorf(".att, another key: %+v", tr.Attestations[0])
	}
	if tr := Signatures(ctx, fakeRegistry{"att:" + d1: {altered}}, repo, []string{d1}, Policy{Keys: []Key{k}}); tr.Attestations[0].Verified ||
		tr.Attestations[0].Unverified != "the attestation's signature does not verify with "+k.String()+" (another key signed it, or the statement was altered)" {
		t.Errorf(".att altered: %+v", tr.Attestations[0])
	}
	// A statement about another image: never verified, whatever signed it.
	if tr := Signatures(ctx, fakeRegistry{"att:" + d2: {layer}}, repo, []string{d2}, Policy{Keys: []Key{k}}); tr.Attestations[0].Verified ||
		tr.Attestations[0].Problem != "the statement is not about this image ("+d2+")" {
		t.Errorf(".att about another image: %+v", tr.Attestations[0])
	}
	// The predicate type is the signed statement's, not the layer's annotation.
	lying := layer
	lying.Annotations = map[string]string{"predicateType": "https://spdx.dev/Document"}
	if tr := Signatures(ctx, fakeRegistry{"att:" + d1: {lying}}, repo, []string{d1}, Policy{Keys: []Key{k}}); tr.Attestations[0].PredicateType != "https://slsa.dev/provenance/v0.2" {
		t.Errorf(".att predicate type: %+v", tr.Attestations[0])
	}
	junk := registry.SignedLayer{Digest: "sha256:dddd", Payload: []byte("{}")}
	if tr := Signatures(ctx, fakeRegistry{"att:" + d1: {junk}}, repo, []string{d1}, Policy{Keys: []Key{k}}); tr.Attestations[0].Problem != "not a DSSE envelope of an in-toto statement" {
		t.Errorf(".att junk: %+v", tr.Attestations[0])
	}
}
