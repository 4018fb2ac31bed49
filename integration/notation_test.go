package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/notaryproject/notation-go"
	notationregistry "github.com/notaryproject/notation-go/registry"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/dockaudit/dockaudit/internal/finding"
	"github.com/dockaudit/dockaudit/internal/notationtest"
)

// TestImageNotation: images in Debian's docker-registry signed with notation-go's own
// signing API (what the notation CLI does), in both envelope formats, attached as
// referrers through the referrers tag schema (distribution 2.8 has no referrers API);
// dockaudit image verifies them under a trust policy and trust store laid out as the
// CLI keeps them, found where the CLI looks ($XDG_CONFIG_HOME/notation) or named with
// --notation-config. An untrusted chain, an expired certificate, a signature copied onto
// another image and no trust policy each say why they do not count.
func TestImageNotation(t *testing.T) {
	need(t)
	port := registry(t)
	host := "127.0.0.1:" + port
	names := []string{"jws", "cose", "stranger", "expired", "copied"}
	digests := map[string]string{}
	for _, n := range names {
		dir := busyboxContext(t, "LABEL notation="+n+"\n")
		dockerBuild(t, dir, "dockaudit-it-notation:"+n)
		pushAs(t, "dockaudit-it-notation:"+n, host+"/trust/notation:"+n)
		digests[n] = manifestDigest(t, host, "trust/notation", n)
	}
	chain := notationtest.NewChain(t, "signer", time.Now().Add(time.Hour))
	stranger := notationtest.NewChain(t, "stranger", time.Now().Add(time.Hour))
	expiring := notationtest.NewChain(t, "expiring", time.Now().Add(2*time.Second))
	sign := func(c *notationtest.Chain, n, format string) {
		t.Helper()
		r, err := remote.NewRepository(host + "/trust/notation")
		if err != nil {
			t.Fatal(err)
		}
		r.PlainHTTP = true
		ref := host + "/trust/notation@" + digests[n]
		opts := notation.SignOptions{ArtifactReference: ref, SignerSignOptions: notation.SignerSignOptions{SignatureMediaType: format}}
		if _, err := notation.Sign(context.Background(), c.Signer(t), notationregistry.NewRepository(r), opts); err != nil {
			t.Fatalf("notation sign %s: %v", ref, err)
		}
	}
	sign(expiring, "expired", notationtest.JWS)
	sign(chain, "jws", notationtest.JWS)
	sign(chain, "cose", notationtest.COSE)
	sign(stranger, "stranger", notationtest.COSE)
	// image "jws"'s signature listed among image "copied"'s referrers.
	tagOf := func(d string) string { return "sha256-" + strings.TrimPrefix(d, "sha256:") }
	putIndex(t, host, "trust/notation", tagOf(digests["copied"]), manifestBody(t, host, "trust/notation", tagOf(digests["jws"])))
	referrer := func(n string) string {
		var idx struct {
			Manifests []struct {
				Digest       string `json:"digest"`
				ArtifactType string `json:"artifactType"`
			} `json:"manifests"`
		}
		json.Unmarshal(manifestBody(t, host, "trust/notation", tagOf(digests[n])), &idx)
		if len(idx.Manifests) != 1 || idx.Manifests[0].ArtifactType != "application/vnd.cncf.notary.signature" {
			t.Fatalf("the referrers of %s: %+v", n, idx)
		}
		return host + "/trust/notation@" + idx.Manifests[0].Digest + " (referrer)"
	}

	xdg := t.TempDir()
	cfg := filepath.Join(xdg, "notation")
	notationtest.Config(t, cfg, chain.Root, notationtest.Policy{Scopes: []string{host + "/trust/notation"}, Level: "strict", Identities: []string{"*"}})
	expCfg := t.TempDir()
	notationtest.Config(t, expCfg, expiring.Root, notationtest.Policy{Scopes: []string{"*"}, Level: "strict", Identities: []string{"*"}})
	policy := filepath.Join(cfg, "trustpolicy.oci.json")
	audit := func(n string, env []string, args ...string) finding.Finding {
		t.Helper()
		rep := jsonReport(t, env, append(append([]string{"image", "--fail-on", "none", "--include", "IMG-SIGNATURE"}, args...), "registry:"+host+"/trust/notation:"+n)...)
		for _, f := range rep.Findings {
			if f.Rule == "IMG-SIGNATURE" {
				return f
			}
		}
		t.Fatalf("%s: no IMG-SIGNATURE finding", n)
		return finding.Finding{}
	}
	signer := fmt.Sprintf(`Notation signer "CN=signer,O=dockaudit test,ST=Berlin,C=DE" (certificate %s)`, sha256Hex(chain.Leaf.Raw))
	time.Sleep(time.Until(expiring.Leaf.NotAfter.Add(1100 * time.Millisecond)))
	found := []string{"XDG_CONFIG_HOME=" + xdg}
	none := []string{"XDG_CONFIG_HOME=" + t.TempDir()}
	for _, tc := range []struct {
		name, image string
		env, args   []string
		want        string
	}{
		{"JWS, the CLI's directory", "jws", found, nil, "pass high: signed: verified with " + signer},
		{"COSE, --notation-config", "cose", none, []string{"--notation-config", cfg}, "pass high: signed: verified with " + signer},
		{"untrusted chain", "stranger", found, nil, "fail high: 1 signatures, none verifies: " + referrer("stranger") +
			": the Notation signature does not verify under the trust policy " + policy + ": the signature's certificate chain does not contain any trusted certificate"},
		{"expired", "expired", none, []string{"--notation-config", expCfg}, "fail high: 1 signatures, none verifies: " + referrer("expired") +
			": the Notation signature does not verify under the trust policy " + filepath.Join(expCfg, "trustpolicy.oci.json") +
			`: verification time is after certificate "CN=expiring,O=dockaudit test,ST=Berlin,C=DE" validity period, it was expired at "` +
			expiring.Leaf.NotAfter.UTC().Format(time.RFC1123Z) + `"`},
		{"copied", "copied", found, nil, "fail high: 1 signatures, none verifies: " + referrer("copied") +
			`: a Notation signature by "CN=signer,O=dockaudit test,ST=Berlin,C=DE", but for ` + digests["jws"] + ", not for " + digests["copied"] + ": copied from another image"},
		{"no trust policy", "jws", none, nil, "warn low: 1 signatures, not verified: " + referrer("jws") +
			": not verified: no Notation trust policy in " + filepath.Join(strings.TrimPrefix(none[0], "XDG_CONFIG_HOME="), "notation") + " (trustpolicy.oci.json, or --notation-config DIR)"},
	} {
		f := audit(tc.image, tc.env, tc.args...)
		if got := f.Status.String() + " " + f.Severity.String() + ": " + f.Message; got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
	if r := dockaudit(t, none, "image", "--notation-config", filepath.Join(xdg, "missing"), "registry:"+host+"/trust/notation:jws"); r.code != 2 ||
		r.stderr != "dockaudit image: --notation-config "+filepath.Join(xdg, "missing")+": no trust policy there (trustpolicy.oci.json or trustpolicy.json, as the notation CLI keeps them)\n" {
		t.Errorf("a directory without a policy: exit %d, %q", r.code, r.stderr)
	}
}
