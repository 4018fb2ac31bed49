package notationtest

import (
	"crypto/x509"
	"testing"
	"time"
)

// TestNewChain: the leaf chains to the root and is a code-signing certificate.
func TestNewChain(t *testing.T) {
	c := NewChain(t, "signer", time.Now().Add(time.Hour))
	pool := x509.NewCertPool()
	pool.AddCert(c.Root)
	if _, err := c.Leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}); err != nil {
		t.Fatal(err)
	}
	if got := c.Leaf.Subject.String(); got != "CN=signer,O=dockaudit test,ST=Berlin,C=DE" {
		t.Errorf("subject %q", got)
	}
}
