package trust

import (
	"fmt"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/safefile"
)

// Policy is what signatures are verified against: public keys, for keyless signatures
// a certificate identity under a trusted root, and for Notation signatures a trust
// policy and trust store (NotationDir is where one was looked for). Source names the
// trust policy file entry it came from, when it did; Uncovered says why no entry of
// one applies.
type Policy struct {
	Keys        []Key
	Keyless     *Keyless
	Notation    *Notation
	NotationDir string
	Source      string
	Uncovered   string
}

// Keyless verifies keyless Sigstore bundles: a Fulcio certificate naming the identity,
// chained to the trusted root's CA, its signing time vouched for by a transparency-log
// entry, all checked offline by sigstore-go.
type Keyless struct {
	Describe string // "identity … issuer … (trusted root FILE)"
	root     root.TrustedMaterial
	identity verify.CertificateIdentity
}

// maxTrustedRoot bounds a trusted_root.json (the public-good one is 7 KB).
const maxTrustedRoot = 4 << 20

// NewKeyless reads a trusted root (trusted_root.json, as Sigstore publishes it) and the
// identity a signature's certificate must name: exact values, or regular expressions
// ("" for each that is not given).
func NewKeyless(trustedRoot, identity, identityRegexp, issuer, issuerRegexp string) (*Keyless, error) {
	b, err := safefile.Read(trustedRoot, maxTrustedRoot)
	if err != nil {
		return nil, err
	}
	tr, err := root.NewTrustedRootFromJSON(b)
	if err != nil {
		return nil, fmt.Errorf("%s: not a Sigstore trusted root: %w", trustedRoot, err)
	}
	id, err := verify.NewShortCertificateIdentity(issuer, issuerRegexp, identity, identityRegexp)
	if err != nil {
		return nil, err
	}
	who := identity
	if who == "" {
		who = "matching " + identityRegexp
	}
	from := issuer
	if from == "" {
		from = "matching " + issuerRegexp
	}
	return &Keyless{Describe: fmt.Sprintf("identity %s, issuer %s (trusted root %s)", who, from, trustedRoot), root: tr, identity: id}, nil
}

// verify checks a keyless bundle for an artifact digest; s comes back verified, with
// the signer, or with why not.
func (k *Keyless) verify(s facts.Signature, b *bundle.Bundle, algo string, digest []byte) facts.Signature {
	v, err := verify.NewVerifier(k.root, verify.WithTransparencyLog(1), verify.WithObserverTimestamps(1))
	if err != nil {
		s.Problem = err.Error()
		return s
	}
	res, err := v.Verify(b, verify.NewPolicy(verify.WithArtifactDigest(algo, digest), verify.WithCertificateIdentity(k.identity)))
	if vc, cerr := b.VerificationContent(); cerr == nil && vc.Certificate() != nil {
		c := vc.Certificate()
		s.Expires = c.NotAfter.UTC().Format(time.RFC3339)
		if len(c.URIs) > 0 {
			s.Identity = c.URIs[0].String()
		} else if len(c.EmailAddresses) > 0 {
			s.Identity = c.EmailAddresses[0]
		}
	}
	if entries, terr := b.TlogEntries(); terr == nil && len(entries) > 0 {
		s.TlogIndex = entries[0].LogIndex()
	}
	if err != nil {
		s.Problem = "the keyless signature does not verify under " + k.Describe + ": " + firstLine(err.Error())
		return s
	}
	if res.Signature != nil && res.Signature.Certificate != nil {
		s.Issuer = res.Signature.Certificate.Issuer
	}
	s.Verified, s.Key = true, "keyless "+s.Identity
	return s
}
