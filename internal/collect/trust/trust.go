// Package trust finds and verifies what vouches for an image: its cosign signatures and
// Sigstore bundles, verified with Sigstore's own libraries, and its Notation
// signatures, verified with notation-go (no signature logic of our own).
package trust

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/dockaudit/dockaudit/internal/collect/registry"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/safefile"
	"github.com/dockaudit/dockaudit/internal/textsafe"
)

// Key is a public key signatures are verified with.
type Key struct {
	Path string
	ID   string // sha256: of the key's DER encoding, as cosign's fingerprints are taken
	v    signature.Verifier
}

func (k Key) String() string { return k.Path + " (" + k.ID + ")" }

// LoadKey reads a PEM public key (ECDSA, Ed25519 or RSA, as cosign generate-key-pair
// and openssl write them).
func LoadKey(path string) (Key, error) {
	b, err := safefile.PEM(path)
	if err != nil {
		return Key{}, err
	}
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(b)
	if err != nil {
		return Key{}, fmt.Errorf("%s: not a PEM public key: %w", path, err)
	}
	v, err := signature.LoadVerifier(pub, crypto.SHA256)
	if err != nil {
		return Key{}, fmt.Errorf("%s: %w", path, err)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return Key{}, fmt.Errorf("%s: %w", path, err)
	}
	return Key{Path: path, ID: fingerprint(der), v: v}, nil
}

// fingerprint is sha256:HEX of DER bytes, as cosign and notation print fingerprints.
func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Lister reads the signatures stored for a manifest digest (registry.Client).
type Lister interface {
	CosignSignatures(ctx context.Context, repo name.Repository, digest string) ([]registry.SignedLayer, bool, error)
	CosignAttestations(ctx context.Context, repo name.Repository, digest string) ([]registry.SignedLayer, bool, error)
	SignatureReferrers(ctx context.Context, repo name.Repository, digest string) ([]registry.SignedLayer, error)
	Descriptor(ctx context.Context, repo name.Repository, digest string) (v1.Descriptor, error)
}

// cosign's layer annotations and payload type.
const (
	annSignature   = "dev.cosignproject.cosign/signature"
	annCertificate = "dev.sigstore.cosign/certificate"
	payloadType    = "cosign container image signature"
)

// Signatures finds the signatures stored for each of digests in the repository (the
// image's manifest digest, and the indexes' the pull went through): cosign's .sig tag,
// and Sigstore bundles and Notation envelopes attached as referrers; each is verified
// under the policy.
func Signatures(ctx context.Context, l Lister, repo name.Repository, digests []string, pol Policy) *facts.Trust {
	t := &facts.Trust{Looked: true, Policy: pol.Describe()}
	for _, d := range digests {
		layers, _, err := l.CosignSignatures(ctx, repo, d)
		if err != nil {
			t.Looked, t.Why = false, "the signatures could not be read: "+err.Error()
			return t
		}
		where := repo.String() + ":sha256-" + strings.TrimPrefix(d, "sha256:") + ".sig"
		for i, layer := range layers {
			s := facts.Signature{Format: "cosign", Problem: layer.Problem}
			if layer.Problem == "" {
				s = judge(layer, d, pol)
			}
			s.Location = fmt.Sprintf("%s (layer %d)", where, i)
			if layer.Location != "" {
				s.Location = layer.Location
			}
			t.Signatures = append(t.Signatures, s)
		}
		// cosign attest's legacy form: DSSE envelopes under sha256-HEX.att.
		atts, _, err := l.CosignAttestations(ctx, repo, d)
		if err != nil {
			t.Looked, t.Why = false, "the attestations could not be read: "+err.Error()
			return t
		}
		for i, layer := range atts {
			a := cosignAttestation(layer, digests, pol)
			a.From = fmt.Sprintf("cosign attestation %s:sha256-%s.att (layer %d)", repo, strings.TrimPrefix(d, "sha256:"), i)
			if layer.Location != "" {
				a.From = layer.Location
			}
			t.Attestations = append(t.Attestations, a)
		}
		// cosign 3's default, Sigstore bundles, and Notation's signatures: referrers.
		refs, err := l.SignatureReferrers(ctx, repo, d)
		if err != nil {
			t.Looked, t.Why = false, "the signature referrers could not be read: "+err.Error()
			return t
		}
		var desc *v1.Descriptor
		for _, b := range refs {
			s := facts.Signature{Format: "sigstore-bundle", Problem: b.Problem}
			if b.ArtifactType == registry.NotationType {
				s.Format = "notation"
			}
			switch {
			case b.Problem != "":
			case b.ArtifactType != registry.NotationType:
				if a, ok := bundleAttestation(b.Payload, d, digests, pol); ok {
					// cosign 3's attest: an attestation, not a signature.
					a.From, a.Digest = "cosign attestation "+repo.String()+"@"+b.Digest+" (referrer)", b.Digest
					if b.Location != "" {
						a.From = b.Location
					}
					t.Attestations = append(t.Attestations, a)
					continue
				}
				s = judgeBundle(b.Payload, d, pol)
			case desc == nil && pol.Notation != nil:
				// Notation signs a descriptor: the manifest's media type and size too.
				dd, err := l.Descriptor(ctx, repo, d)
				if err != nil {
					s.Problem = "the signed manifest could not be read again: " + firstLine(err.Error())
					break
				}
				desc = &dd
				fallthrough
			default:
				s = judgeNotation(ctx, b, repo, descOr(desc, d), pol)
			}
			s.Location = repo.String() + "@" + b.Digest + " (referrer)"
			if b.Location != "" {
				s.Location = b.Location
			}
			if b.Subject != d && s.Problem == "" {
				// Listed among this image's referrers, made for another.
				s.Verified, s.Problem = false, fmt.Sprintf("listed as a referrer of %s, but its subject is %s: copied from another image", d, b.Subject)
			}
			t.Signatures = append(t.Signatures, s)
		}
	}
	return t
}

// judgeBundle verifies a Sigstore bundle attached to digest with sigstore-go: with each
// key, and for this digest; a valid signature of another digest is said to be one.
func judgeBundle(data []byte, digest string, pol Policy) facts.Signature {
	s := facts.Signature{Format: "sigstore-bundle"}
	var b bundle.Bundle
	if err := b.UnmarshalJSON(data); err != nil {
		s.Problem = "not a Sigstore bundle: " + firstLine(err.Error())
		return s
	}
	s.Signs = bundleSubject(&b, digest)
	raw, err := hex.DecodeString(strings.TrimPrefix(digest, "sha256:"))
	if err != nil {
		s.Problem = "the image digest is not sha256"
		return s
	}
	if vc, err := b.VerificationContent(); err == nil && vc.Certificate() != nil {
		if pol.Keyless == nil {
			s.Problem = "a keyless signature (with a Fulcio certificate): not verified, " + pol.missing("no identity policy was given (--certificate-identity, --certificate-oidc-issuer, --trusted-root)", "cosign: keyless")
			return s
		}
		return pol.Keyless.verify(s, &b, "sha256", raw)
	}
	keys := pol.Keys
	if len(keys) == 0 {
		s.Problem = "not verified: " + pol.missing("no key was given (--key)", "cosign: keys")
		return s
	}
	var tried []string
	for _, k := range keys {
		v, err := verifierFor(k)
		if err != nil {
			s.Problem = err.Error()
			return s
		}
		if _, err := v.Verify(&b, verify.NewPolicy(verify.WithArtifactDigest("sha256", raw), verify.WithKey())); err == nil {
			s.Key, s.Verified = k.String(), true
			return s
		}
		// Valid, but for another image?
		if _, err := v.Verify(&b, verify.NewPolicy(verify.WithoutArtifactUnsafe(), verify.WithKey())); err == nil {
			s.Key = k.String()
			s.Problem = fmt.Sprintf("a valid signature by %s, but for %s, not for %s: copied from another image", s.Key, s.Signs, digest)
			return s
		}
		tried = append(tried, k.String())
	}
	s.Problem = "the signature does not verify with " + strings.Join(tried, ", ") + " (another key signed it, or the payload was altered)"
	return s
}

// verifierFor is sigstore-go's verifier for bundles signed with one key and no
// transparency log or timestamp (cosign sign --key with the log off): the key is the
// trusted material, whatever hint the bundle gives.
func verifierFor(k Key) (*verify.Verifier, error) {
	tm := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
		return root.NewExpiringKey(k.v, time.Time{}, time.Time{}), nil
	})
	return verify.NewVerifier(tm, verify.WithNoObserverTimestamps())
}

// cosignSign is the predicate type of cosign 3's signature statements.
const cosignSign = "https://sigstore.dev/cosign/sign/v1"

// bundleStatement is the in-toto statement of a DSSE bundle, when it has one.
func bundleStatement(b *bundle.Bundle) (st struct {
	PredicateType string `json:"predicateType"`
	Subject       []struct {
		Digest map[string]string `json:"digest"`
	} `json:"subject"`
}, ok bool) {
	env := b.GetDsseEnvelope()
	if env == nil || env.GetPayloadType() != "application/vnd.in-toto+json" {
		return st, false
	}
	return st, json.Unmarshal(env.GetPayload(), &st) == nil
}

func bundlePredicate(b *bundle.Bundle) string {
	st, _ := bundleStatement(b)
	return st.PredicateType
}

// bundleSubject is the digest a bundle's statement (or message signature) names:
// want when it is among its subjects, else the first; "" when it names none.
func bundleSubject(b *bundle.Bundle, want string) string {
	if st, ok := bundleStatement(b); ok {
		first := ""
		for _, sub := range st.Subject {
			if h := sub.Digest["sha256"]; h != "" {
				if "sha256:"+h == want {
					return want
				}
				if first == "" {
					first = "sha256:" + h
				}
			}
		}
		if first != "" {
			return first
		}
	}
	if ms := b.GetMessageSignature(); ms != nil && ms.GetMessageDigest() != nil {
		return "sha256:" + hex.EncodeToString(ms.GetMessageDigest().GetDigest())
	}
	return ""
}

// Describe lists what the policy verifies against ("key FILE (sha256:…)", "keyless …",
// "notation …"); nil for no policy.
func (p Policy) Describe() []string {
	var out []string
	for _, k := range p.Keys {
		out = append(out, "key "+k.String())
	}
	if p.Keyless != nil {
		out = append(out, "keyless "+p.Keyless.Describe)
	}
	if p.Notation != nil {
		out = append(out, "notation "+p.Notation.Describe)
	}
	return out
}

// missing says what the policy lacks to verify a signature: flags not given, or what
// its trust policy file entry does not name.
func (p Policy) missing(flags, field string) string {
	if p.Uncovered != "" {
		return p.Uncovered
	}
	if p.Source != "" {
		return "the trust policy " + p.Source + " names none (" + field + ")"
	}
	return flags
}

// descOr is desc, else a descriptor of the digest alone.
func descOr(desc *v1.Descriptor, d string) v1.Descriptor {
	if desc != nil {
		return *desc
	}
	h, _ := v1.NewHash(d)
	return v1.Descriptor{Digest: h}
}

func firstLine(s string) string { return textsafe.FirstLine(s, 200) }

// judge verifies one signature layer stored for digest.
func judge(layer registry.SignedLayer, digest string, pol Policy) facts.Signature {
	keys := pol.Keys
	s := facts.Signature{Format: "cosign"}
	var payload struct {
		Critical struct {
			Image struct {
				Digest string `json:"docker-manifest-digest"`
			} `json:"image"`
			Type string `json:"type"`
		} `json:"critical"`
	}
	if err := json.Unmarshal(layer.Payload, &payload); err != nil {
		s.Problem = "the signed payload is not a simple-signing document: " + err.Error()
		return s
	}
	s.Signs = payload.Critical.Image.Digest
	sig, err := base64.StdEncoding.DecodeString(layer.Annotations[annSignature])
	switch {
	case layer.Annotations[annSignature] == "":
		s.Problem = "the layer carries no signature (" + annSignature + ")"
		return s
	case err != nil:
		s.Problem = "the signature is not base64: " + err.Error()
		return s
	case payload.Critical.Type != payloadType:
		s.Problem = fmt.Sprintf("the payload's type is %q, not %q", payload.Critical.Type, payloadType)
		return s
	}
	if layer.Annotations[annCertificate] != "" && len(keys) == 0 {
		if pol.Keyless == nil {
			s.Problem = "a keyless signature (with a Fulcio certificate): not verified, " + pol.missing("no identity policy was given (--certificate-identity, --certificate-oidc-issuer, --trusted-root)", "cosign: keyless")
			return s
		}
		b, sum, err := legacyBundle(layer, sig)
		if err != nil {
			s.Problem = "a keyless signature that cannot be verified: " + err.Error()
			return s
		}
		signs := s.Signs
		s = pol.Keyless.verify(s, b, "sha256", sum)
		if s.Verified && signs != digest {
			// A valid signature of another image, stored beside this one.
			s.Verified, s.Problem = false, fmt.Sprintf("a valid signature by %s, but for %s, not for %s: copied from another image", s.Key, signs, digest)
		}
		return s
	}
	if len(keys) == 0 {
		s.Problem = "not verified: " + pol.missing("no key was given (--key)", "cosign: keys")
		return s
	}
	var tried []string
	for _, k := range keys {
		if k.v.VerifySignature(bytes.NewReader(sig), bytes.NewReader(layer.Payload)) == nil {
			s.Key = k.String()
			break
		}
		tried = append(tried, k.String())
	}
	switch {
	case s.Key == "":
		s.Problem = "the signature does not verify with " + strings.Join(tried, ", ") + " (another key signed it, or the payload was altered)"
	case s.Signs != digest:
		// A valid signature of another image, stored beside this one.
		s.Problem = fmt.Sprintf("a valid signature by %s, but for %s, not for %s: copied from another image", s.Key, s.Signs, digest)
	default:
		s.Verified = true
	}
	return s
}
