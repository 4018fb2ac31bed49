package trust

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/bundle"

	"github.com/dockaudit/dockaudit/internal/facts"
)

const (
	realRoot     = "testdata/sigstore-go/trusted-root-public-good.json"
	realIdentity = "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"
	realIssuer   = "https://token.actions.githubusercontent.com"
)

// realBundle is sigstore-go's example bundle (a keyless signature from the public-good
// instance), and the sha512 digest its statement names.
func realBundle(t *testing.T, alter func(map[string]any)) (*bundle.Bundle, []byte) {
	t.Helper()
	raw, err := os.ReadFile("testdata/sigstore-go/bundle-provenance.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	json.Unmarshal(raw, &doc)
	env := doc["dsseEnvelope"].(map[string]any)
	payload, _ := base64.StdEncoding.DecodeString(env["payload"].(string))
	var st struct {
		Subject []struct {
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
	}
	json.Unmarshal(payload, &st)
	digest, _ := hex.DecodeString(st.Subject[0].Digest["sha512"])
	if alter != nil {
		alter(doc)
		raw, _ = json.Marshal(doc)
	}
	var b bundle.Bundle
	if err := b.UnmarshalJSON(raw); err != nil {
		t.Fatal(err)
	}
	return &b, digest
}

// TestKeylessRealBundle: a real keyless Sigstore bundle verified offline by sigstore-go
// under the trusted root it was made under, at the time its log entry records: the
// signer, issuer, certificate expiry and log index; another identity, another digest
// and an altered statement each fail with sigstore-go's reason.
func TestKeylessRealBundle(t *testing.T) {
	k, err := NewKeyless(realRoot, realIdentity, "", realIssuer, "")
	if err != nil {
		t.Fatal(err)
	}
	b, digest := realBundle(t, nil)
	s := k.verify(facts.Signature{Format: "sigstore-bundle"}, b, "sha512", digest)
	want := facts.Signature{Format: "sigstore-bundle", Verified: true, Key: "keyless " + realIdentity, Identity: realIdentity, Issuer: realIssuer,
		Expires: "2023-04-18T17:55:11Z", TlogIndex: 18300934}
	if s != want {
		t.Errorf("verified:\n got %+v\nwant %+v", s, want)
	}
	// By regular expression.
	if k2, err := NewKeyless(realRoot, "", `^https://github\.com/sigstore/`, "", `^https://token\.actions\.`); err != nil || !k2.verify(facts.Signature{}, b, "sha512", digest).Verified {
		t.Errorf("by regexp: %v", err)
	}
	other, _ := NewKeyless(realRoot, "https://github.com/someone/else/.github/workflows/release.yml@refs/heads/main", "", realIssuer, "")
	bad := append([]byte{}, digest...)
	bad[0] ^= 1
	altered, d2 := realBundle(t, func(doc map[string]any) {
		env := doc["dsseEnvelope"].(map[string]any)
		p, _ := base64.StdEncoding.DecodeString(env["payload"].(string))
		env["payload"] = base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(p), "sigstore@1.3.0", "sigstore@6.6.6", 1)))
	})
	for name, got := range map[string]facts.Signature{
		"another identity":     other.verify(facts.Signature{}, b, "sha512", digest),
		"another digest":       k.verify(facts.Signature{}, b, "sha512", bad),
		"an altered statement": k.verify(facts.Signature{}, altered, "sha512", d2),
	} {
		if got.Verified || !strings.HasPrefix(got.Problem, "the keyless signature does not verify under "+k.Describe[:9]) {
			t.Errorf("%s: %+v", name, got)
		}
	}
	for _, bad := range []struct{ root, id, issuer, want string }{
		{"testdata/sigstore-go/LICENSE", realIdentity, realIssuer, "testdata/sigstore-go/LICENSE: not a Sigstore trusted root: "},
		{realRoot, "", realIssuer, ""},
	} {
		_, err := NewKeyless(bad.root, bad.id, "", bad.issuer, "")
		if err == nil || (bad.want != "" && !strings.HasPrefix(err.Error(), bad.want)) {
			t.Errorf("%s %q: %v", bad.root, bad.id, err)
		}
	}
}
