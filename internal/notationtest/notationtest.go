// Package notationtest makes Notation test material: a certificate chain made in the
// test, a trust store and trust policy laid out as the notation CLI keeps them, and
// envelopes signed with notation-go's own signer (the library the CLI is built on).
package notationtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/notaryproject/notation-go"
	"github.com/notaryproject/notation-go/signer"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The envelope formats Notation signs in.
const (
	JWS  = "application/jose+json"
	COSE = "application/cose"
)

// Chain is a root CA and a code-signing certificate it issued.
type Chain struct {
	Root, Leaf *x509.Certificate
	key        *ecdsa.PrivateKey
}

// NewChain makes a root CA named "CN=<name> Root,O=dockaudit test,ST=Berlin,C=DE" and a leaf
// "CN=<name>,O=dockaudit test,ST=Berlin,C=DE" valid from an hour ago until notAfter.
func NewChain(t testing.TB, name string, notAfter time.Time) *Chain {
	t.Helper()
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	from := time.Now().Add(-time.Hour)
	rootTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " Root", Organization: []string{"dockaudit test"}, Province: []string{"Berlin"}, Country: []string{"DE"}},
		NotBefore: from, NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(rootDER)
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name, Organization: []string{"dockaudit test"}, Province: []string{"Berlin"}, Country: []string{"DE"}},
		NotBefore: from, NotAfter: notAfter, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, root, &leafKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(leafDER)
	return &Chain{Root: root, Leaf: leaf, key: leafKey}
}

// Signer is notation-go's generic signer with the chain's leaf key.
func (c *Chain) Signer(t testing.TB) notation.Signer {
	t.Helper()
	s, err := signer.NewGenericSigner(c.key, []*x509.Certificate{c.Leaf, c.Root})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Sign signs a manifest descriptor in an envelope format.
func (c *Chain) Sign(t testing.TB, desc ocispec.Descriptor, format string) []byte {
	t.Helper()
	env, _, err := c.Signer(t).Sign(context.Background(), desc, notation.SignerSignOptions{SignatureMediaType: format})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// Policy is one statement of a trust policy.
type Policy struct {
	Scopes     []string // registryScopes: "registry/repository", or "*"
	Level      string   // strict, permissive, audit or skip
	Identities []string // trustedIdentities: "*" or "x509.subject: CN=…,O=…"
}

// Config lays out dir as the notation CLI keeps its configuration: the root in the
// trust store truststore/x509/ca/test, and trustpolicy.oci.json with one statement
// (revocation checking skipped: the test chain names no OCSP or CRL endpoint).
func Config(t testing.TB, dir string, root *x509.Certificate, p Policy) {
	t.Helper()
	store := filepath.Join(dir, "truststore", "x509", "ca", "test")
	if err := os.MkdirAll(store, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(store, "root.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	sv := map[string]any{"level": p.Level}
	if p.Level != "skip" {
		sv["override"] = map[string]string{"revocation": "skip"}
	}
	st := map[string]any{"name": "test", "registryScopes": p.Scopes, "signatureVerification": sv}
	if p.Level != "skip" {
		st["trustStores"], st["trustedIdentities"] = []string{"ca:test"}, p.Identities
	}
	doc, _ := json.MarshalIndent(map[string]any{"version": "1.0", "trustPolicies": []any{st}}, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "trustpolicy.oci.json"), doc, 0o644); err != nil {
		t.Fatal(err)
	}
}
