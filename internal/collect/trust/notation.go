package trust

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/notaryproject/notation-go"
	"github.com/notaryproject/notation-go/dir"
	"github.com/notaryproject/notation-go/verifier"
	"github.com/notaryproject/notation-go/verifier/trustpolicy"
	"github.com/notaryproject/notation-go/verifier/truststore"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/dockaudit/dockaudit/internal/collect/registry"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/safefile"
)

// Notation verifies Notation signatures (JWS and COSE envelopes attached as referrers)
// with notation-go, against a trust policy and trust store laid out as the notation CLI
// keeps them: DIR/trustpolicy.oci.json (or the older DIR/trustpolicy.json) and
// DIR/truststore/x509/{ca,signingAuthority,tsa}/NAME/*.crt.
type Notation struct {
	Describe string // "trust policy DIR/trustpolicy.oci.json"
	v        notation.Verifier
}

// maxNotationPolicy bounds a trust policy file.
const maxNotationPolicy = 1 << 20

// NotationDir is where the notation CLI keeps its configuration on Linux:
// $XDG_CONFIG_HOME/notation, else $HOME/.config/notation ("" without either).
func NotationDir(getenv func(string) string) string {
	switch {
	case getenv("XDG_CONFIG_HOME") != "":
		return filepath.Join(getenv("XDG_CONFIG_HOME"), "notation")
	case getenv("HOME") != "":
		return filepath.Join(getenv("HOME"), ".config", "notation")
	}
	return ""
}

// LoadNotation reads the trust policy and trust store under dir. found is false when
// dir holds no trust policy (Notation is not configured there).
func LoadNotation(configDir string) (n *Notation, found bool, err error) {
	var path string
	var b []byte
	for _, f := range []string{"trustpolicy.oci.json", dir.PathTrustPolicy} {
		path = filepath.Join(configDir, f)
		if b, err = safefile.Read(path, maxNotationPolicy); err == nil {
			break
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, true, err
		}
	}
	if err != nil {
		return nil, false, nil
	}
	var doc trustpolicy.Document
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, true, fmt.Errorf("%s: not a Notation trust policy: %w", path, err)
	}
	// No plugins: a policy that names a verification plugin fails on it, said.
	v, err := verifier.New(&doc, truststore.NewX509TrustStore(dir.NewSysFS(configDir)), nil)
	if err != nil {
		return nil, true, fmt.Errorf("%s: %w", path, err)
	}
	return &Notation{Describe: "trust policy " + path, v: v}, true, nil
}

// notationFormats names the envelope media types Notation signs in.
var notationFormats = map[string]string{"application/jose+json": "notation-jws", "application/cose": "notation-cose"}

// judgeNotation verifies one Notation envelope attached to the manifest desc.
func judgeNotation(ctx context.Context, l registry.SignedLayer, repo name.Repository, desc v1.Descriptor, pol Policy) facts.Signature {
	s := facts.Signature{Format: notationFormats[l.MediaType]}
	if s.Format == "" {
		s.Format = "notation"
		s.Problem = fmt.Sprintf("a Notation signature in %q, neither JWS (application/jose+json) nor COSE (application/cose)", l.MediaType)
		return s
	}
	if pol.Notation == nil {
		where := pol.NotationDir
		if where == "" {
			where = "the notation CLI's configuration directory"
		}
		s.Problem = "not verified: " + pol.missing("no Notation trust policy in "+where+" (trustpolicy.oci.json, or --notation-config DIR)", "notation")
		return s
	}
	ref := RepositoryName(repo) + "@" + desc.Digest.String()
	target := ocispec.Descriptor{MediaType: string(desc.MediaType), Digest: digest.Digest(desc.Digest.String()), Size: desc.Size}
	out, err := pol.Notation.v.Verify(ctx, target, l.Payload, notation.VerifierVerifyOptions{ArtifactReference: ref, SignatureMediaType: l.MediaType})
	if out != nil && out.EnvelopeContent != nil {
		var p struct {
			Target struct {
				Digest string `json:"digest"`
			} `json:"targetArtifact"`
		}
		if json.Unmarshal(out.EnvelopeContent.Payload.Content, &p) == nil {
			s.Signs = p.Target.Digest
		}
		if chain := out.EnvelopeContent.SignerInfo.CertificateChain; len(chain) > 0 {
			leaf := chain[0]
			s.Identity, s.Issuer = leaf.Subject.String(), chain[len(chain)-1].Subject.String()
			s.Expires = leaf.NotAfter.UTC().Format(time.RFC3339)
			s.Key = "x509 " + fingerprint(leaf.Raw)
		}
	}
	var noPolicy notation.ErrorNoApplicableTrustPolicy
	switch {
	case errors.As(err, &noPolicy):
		s.Key = ""
		s.Problem = fmt.Sprintf("not verified: no statement of the Notation %s covers %s (registryScopes)", pol.Notation.Describe, ref)
	case err != nil && s.Signs != "" && s.Signs != desc.Digest.String():
		s.Problem = fmt.Sprintf("a Notation signature by %q, but for %s, not for %s: copied from another image", s.Identity, s.Signs, desc.Digest)
	case err != nil:
		s.Problem = "the Notation signature does not verify under the " + pol.Notation.Describe + ": " + firstLine(err.Error())
	case out == nil || out.VerificationLevel == nil || out.VerificationLevel.Name == trustpolicy.LevelSkip.Name:
		s.Key = ""
		s.Problem = fmt.Sprintf("not verified: the Notation %s skips verification for %s", pol.Notation.Describe, repo)
	default:
		// A policy at the permissive or audit level only logs some failed checks (an
		// untrusted signer, a revoked or expired certificate) and notation-go returns
		// no error: the notation CLI then passes with a warning. A signature whose
		// checks failed is never counted as verified here.
		var logged []string
		for _, r := range out.VerificationResults {
			if r != nil && r.Error != nil {
				logged = append(logged, string(r.Type)+": "+firstLine(r.Error.Error()))
			}
		}
		if len(logged) > 0 {
			s.Problem = "the Notation signature fails checks that the " + pol.Notation.Describe + " only logs (level " + out.VerificationLevel.Name + "): " + strings.Join(logged, "; ")
			return s
		}
		s.Verified = true
	}
	return s
}
