package trust

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature/dsse"

	"github.com/dockaudit/dockaudit/internal/collect/registry"
	"github.com/dockaudit/dockaudit/internal/facts"
)

// inToto is the DSSE payload type of an in-toto statement.
const inToto = "application/vnd.in-toto+json"

// cosignAttestation reads one layer of cosign's sha256-HEX.att tag, a DSSE envelope over
// an in-toto statement about one of the digests, and verifies its signature with the
// policy's keys (sigstore's DSSE verifier).
func cosignAttestation(l registry.SignedLayer, about []string, pol Policy) facts.Attestation {
	// The predicate type is the signed statement's, never the layer's unsigned
	// annotation.
	a := facts.Attestation{Digest: l.Digest, Size: int64(len(l.Payload))}
	if l.Problem != "" {
		a.Problem = l.Problem
		return a
	}
	var env struct {
		PayloadType string `json:"payloadType"`
		Payload     []byte `json:"payload"`
	}
	if err := json.Unmarshal(l.Payload, &env); err != nil || env.PayloadType != inToto {
		a.Problem = "not a DSSE envelope of an in-toto statement"
		return a
	}
	if a = statement(a, env.Payload, about); a.Problem != "" {
		return a // not this image's, or no statement: nothing to verify
	}
	switch {
	case l.Annotations[annCertificate] != "" && len(pol.Keys) == 0:
		if pol.Keyless == nil {
			a.Unverified = "a keyless attestation (with a Fulcio certificate): not verified, " + pol.missing("no identity policy was given (--certificate-identity, --certificate-oidc-issuer, --trusted-root)", "cosign: keyless")
			return a
		}
		b, err := legacyAttestationBundle(l)
		if err != nil {
			a.Unverified = "a keyless attestation that cannot be verified: " + err.Error()
			return a
		}
		// Verified for the digest its statement is about (the image's, or an index's
		// that lists it).
		for _, d := range about {
			raw, err := hex.DecodeString(strings.TrimPrefix(d, "sha256:"))
			if err != nil {
				continue
			}
			s := pol.Keyless.verify(facts.Signature{}, b, "sha256", raw)
			a.Verified, a.Key, a.Unverified = s.Verified, s.Key, s.Problem
			if s.Verified {
				break
			}
		}
		return a
	case len(pol.Keys) == 0:
		a.Unverified = "not verified: " + pol.missing("no key was given (--key)", "cosign: keys")
		return a
	}
	var tried []string
	for _, k := range pol.Keys {
		v := dsse.WrapVerifier(k.v, dsse.WithExpectedPayloadType(inToto))
		if v.VerifySignature(bytes.NewReader(l.Payload), nil) == nil {
			a.Verified, a.Key = true, k.String()
			return a
		}
		tried = append(tried, k.String())
	}
	a.Unverified = "the attestation's signature does not verify with " + strings.Join(tried, ", ") + " (another key signed it, or the statement was altered)"
	return a
}

// bundleAttestation reads a Sigstore bundle that holds an in-toto statement other than
// cosign's signature statement (what cosign 3's attest attaches) and verifies it for
// the digest it is attached to, with sigstore-go. ok is false for a bundle that is no
// attestation (judgeBundle judges it as a signature).
func bundleAttestation(data []byte, d string, about []string, pol Policy) (a facts.Attestation, ok bool) {
	var b bundle.Bundle
	if err := b.UnmarshalJSON(data); err != nil {
		return a, false
	}
	pt := bundlePredicate(&b)
	if pt == "" || pt == cosignSign {
		return a, false
	}
	a = statement(facts.Attestation{PredicateType: pt, Size: int64(len(data))}, b.GetDsseEnvelope().GetPayload(), about)
	if a.Problem != "" {
		return a, true // not this image's: nothing to verify
	}
	raw, err := hex.DecodeString(strings.TrimPrefix(d, "sha256:"))
	if err != nil {
		a.Problem = "the image digest is not sha256"
		return a, true
	}
	if vc, err := b.VerificationContent(); err == nil && vc.Certificate() != nil {
		if pol.Keyless == nil {
			a.Unverified = "a keyless attestation (with a Fulcio certificate): not verified, " + pol.missing("no identity policy was given (--certificate-identity, --certificate-oidc-issuer, --trusted-root)", "cosign: keyless")
			return a, true
		}
		s := pol.Keyless.verify(facts.Signature{}, &b, "sha256", raw)
		a.Verified, a.Key, a.Unverified = s.Verified, s.Key, s.Problem
		return a, true
	}
	if len(pol.Keys) == 0 {
		a.Unverified = "not verified: " + pol.missing("no key was given (--key)", "cosign: keys")
		return a, true
	}
	var tried []string
	for _, k := range pol.Keys {
		v, err := verifierFor(k)
		if err != nil {
			a.Unverified = err.Error()
			return a, true
		}
		if _, err := v.Verify(&b, verify.NewPolicy(verify.WithArtifactDigest("sha256", raw), verify.WithKey())); err == nil {
			a.Verified, a.Key = true, k.String()
			return a, true
		}
		tried = append(tried, k.String())
	}
	a.Unverified = "the attestation does not verify with " + strings.Join(tried, ", ") + " for " + d + " (another key signed it, it is about another image, or it was altered)"
	return a, true
}
