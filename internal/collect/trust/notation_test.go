package trust

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/dockaudit/dockaudit/internal/collect/registry"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/notationtest"
)

// notary is a Notation signature referrer of subject carrying envelope.
func notary(envelope []byte, format, subject string) registry.SignedLayer {
	return registry.SignedLayer{Digest: "sha256:ab", ArtifactType: registry.NotationType, MediaType: format, Payload: envelope, Subject: subject}
}

// target is the descriptor fakeRegistry gives for d.
func target(d string) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: "application/vnd.oci.image.manifest.v1+json", Digest: digest.Digest(d), Size: 1234}
}

func notationPolicy(t *testing.T, c *notationtest.Chain, p notationtest.Policy) Policy {
	t.Helper()
	dir := t.TempDir()
	notationtest.Config(t, dir, c.Root, p)
	n, found, err := LoadNotation(dir)
	if err != nil || !found {
		t.Fatalf("LoadNotation: %v %v", found, err)
	}
	return Policy{Notation: n, NotationDir: dir}
}

// TestNotation: JWS and COSE envelopes signed with notation-go verify under a trust
// policy and trust store in the CLI's layout; an untrusted chain, an identity the
// policy does not trust, a signature for another image, an expired certificate, a
// repository no statement covers, a policy that skips, and no policy each say why.
func TestNotation(t *testing.T) {
	repo, _ := name.NewRepository("registry.example/app")
	ctx := context.Background()
	chain := notationtest.NewChain(t, "signer", time.Now().Add(time.Hour))
	all := notationtest.Policy{Scopes: []string{"registry.example/app"}, Level: "strict", Identities: []string{"*"}}
	pol := notationPolicy(t, chain, all)
	leafID := "x509 " + fingerprint(chain.Leaf.Raw)
	for format, name := range map[string]string{notationtest.JWS: "notation-jws", notationtest.COSE: "notation-cose"} {
		env := chain.Sign(t, target(d1), format)
		tr := Signatures(ctx, fakeRegistry{"referrers:" + d1: {notary(env, format, d1)}}, repo, []string{d1}, pol)
		want := &facts.Trust{Looked: true, Policy: []string{"notation " + pol.Notation.Describe}, Signatures: []facts.Signature{{
			Format: name, Location: "registry.example/app@sha256:ab (referrer)", Signs: d1, Verified: true,
			Key: leafID, Identity: "CN=signer,O=dockaudit test,ST=Berlin,C=DE", Issuer: "CN=signer Root,O=dockaudit test,ST=Berlin,C=DE",
			Expires: chain.Leaf.NotAfter.UTC().Format(time.RFC3339),
		}}}
		if d := cmp.Diff(want, tr); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
	stranger := notationtest.NewChain(t, "stranger", time.Now().Add(time.Hour))
	expiring := notationtest.NewChain(t, "expiring", time.Now().Add(time.Second))
	expiredEnv := expiring.Sign(t, target(d1), notationtest.JWS)
	time.Sleep(time.Until(expiring.Leaf.NotAfter.Add(1100 * time.Millisecond)))
	for _, tc := range []struct {
		name string
		env  []byte
		fmt  string
		pol  Policy
		reg  string // the digest the referrer is listed under
		want string
	}{
		{"untrusted chain", stranger.Sign(t, target(d1), notationtest.COSE), notationtest.COSE, pol, d1,
			"the Notation signature does not verify under the " + pol.Notation.Describe + ": the signature's certificate chain does not contain any trusted certificate"},
		{"identity not trusted", chain.Sign(t, target(d1), notationtest.JWS), notationtest.JWS,
			notationPolicy(t, chain, notationtest.Policy{Scopes: []string{"*"}, Level: "strict", Identities: []string{"x509.subject: CN=someone else,O=dockaudit test,ST=Berlin,C=DE"}}), d1,
			"the Notation signature does not verify under the %s: signing certificate from the digital signature does not match the X.509 trusted identities [map[\"C\":\"DE\" \"CN\":\"someone else\" \"O\":\"dockaudit test\" \"ST\":\"Berlin\"]] defined in the trust policy \"test\""},
		{"copied", chain.Sign(t, target(d2), notationtest.JWS), notationtest.JWS, pol, d1,
			`a Notation signature by "CN=signer,O=dockaudit test,ST=Berlin,C=DE", but for ` + d2 + ", not for " + d1 + ": copied from another image"},
		{"expired", expiredEnv, notationtest.JWS, notationPolicy(t, expiring, all), d1,
			"the Notation signature does not verify under the %s: verification time is after certificate \"CN=expiring,O=dockaudit test,ST=Berlin,C=DE\" validity period, it was expired at "},
		{"not in scope", chain.Sign(t, target(d1), notationtest.JWS), notationtest.JWS,
			notationPolicy(t, chain, notationtest.Policy{Scopes: []string{"registry.example/other"}, Level: "strict", Identities: []string{"*"}}), d1,
			"not verified: no statement of the Notation %s covers registry.example/app@" + d1 + " (registryScopes)"},
		{"skip", chain.Sign(t, target(d1), notationtest.JWS), notationtest.JWS, notationPolicy(t, chain, notationtest.Policy{Scopes: []string{"*"}, Level: "skip"}), d1,
			"not verified: the Notation %s skips verification for registry.example/app"},
		{"untrusted chain, audit level", stranger.Sign(t, target(d1), notationtest.COSE), notationtest.COSE,
			notationPolicy(t, chain, notationtest.Policy{Scopes: []string{"*"}, Level: "audit", Identities: []string{"*"}}), d1,
			"the Notation signature fails checks that the %s only logs (level custom): authenticity: the signature's certificate chain does not contain any trusted certificate"},
		{"expired, permissive level", expiredEnv, notationtest.JWS, notationPolicy(t, expiring, notationtest.Policy{Scopes: []string{"*"}, Level: "permissive", Identities: []string{"*"}}), d1,
			"the Notation signature fails checks that the %s only logs (level custom): authenticTimestamp: verification time is after certificate"},
		{"a policy file entry without notation", chain.Sign(t, target(d1), notationtest.JWS), notationtest.JWS, Policy{Source: "trust.yaml, policy 1 (*)"}, d1,
			"not verified: the trust policy trust.yaml, policy 1 (*) names none (notation)"},
		{"no policy", chain.Sign(t, target(d1), notationtest.JWS), notationtest.JWS, Policy{NotationDir: "/home/u/.config/notation"}, d1,
			"not verified: no Notation trust policy in /home/u/.config/notation (trustpolicy.oci.json, or --notation-config DIR)"},
	} {
		tr := Signatures(ctx, fakeRegistry{"referrers:" + tc.reg: {notary(tc.env, tc.fmt, tc.reg)}}, repo, []string{tc.reg}, tc.pol)
		want := tc.want
		if strings.Contains(want, "%s") {
			want = strings.Replace(want, "%s", tc.pol.Notation.Describe, 1)
		}
		if len(tr.Signatures) != 1 || tr.Signatures[0].Verified || !strings.HasPrefix(tr.Signatures[0].Problem, want) {
			t.Errorf("%s: %+v\nwant %s", tc.name, tr.Signatures, want)
		}
	}
	// An envelope of another media type.
	tr := Signatures(ctx, fakeRegistry{"referrers:" + d1: {notary([]byte("x"), "text/plain", d1)}}, repo, []string{d1}, pol)
	if tr.Signatures[0].Problem != `a Notation signature in "text/plain", neither JWS (application/jose+json) nor COSE (application/cose)` {
		t.Errorf("other media type: %+v", tr.Signatures)
	}
}

// TestLoadNotation: no policy is not found; a policy that does not parse or that
// notation-go rejects is one error naming the file; trustpolicy.json is read when
// there is no trustpolicy.oci.json.
func TestLoadNotation(t *testing.T) {
	dir := t.TempDir()
	if _, found, err := LoadNotation(dir); found || err != nil {
		t.Errorf("empty directory: %v %v", found, err)
	}
	p := filepath.Join(dir, "trustpolicy.json")
	os.WriteFile(p, []byte(`{"version":`), 0o644)
	if _, found, err := LoadNotation(dir); !found || err == nil || err.Error() != p+": not a Notation trust policy: unexpected end of JSON input" {
		t.Errorf("junk: %v %v", found, err)
	}
	os.WriteFile(p, []byte(`{"version":"1.0","trustPolicies":[{"name":"p","registryScopes":["*"],"signatureVerification":{"level":"strict"},"trustStores":["ca:x"],"trustedIdentities":[]}]}`), 0o644)
	if _, found, err := LoadNotation(dir); !found || err == nil || !strings.HasPrefix(err.Error(), p+": trust policy: trust policy statement \"p\" is either missing trust stores or trusted identities") {
		t.Errorf("invalid: %v %v", found, err)
	}
}
