package host

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/facts"
)

// TestReadTLSMaterialStaysInRoot: an absolute symlink resolves inside the host root, a
// FIFO in place of a certificate is refused without blocking, and a CA key beside
// the CA certificate is found.
func TestReadTLSMaterialStaysInRoot(t *testing.T) {
	root := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"}, IsCA: true, BasicConstraintsValid: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(p string, b []byte) {
		os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755)
		if err := os.WriteFile(filepath.Join(root, p), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("/srv/pki/ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	write("/etc/docker/tls/ca-key.pem", []byte("-----BEGIN EC PRIVATE KEY-----\nx\n-----END EC PRIVATE KEY-----\n"))
	// ca.pem is an absolute link: it must resolve under root, not on this machine.
	if err := os.Symlink("/srv/pki/ca.pem", filepath.Join(root, "etc/docker/tls/ca.pem")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "etc/docker/tls/server.pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan *facts.TLSMaterial)
	go func() {
		done <- ReadTLSMaterial(root, facts.TLS{CACert: "/etc/docker/tls/ca.pem", Cert: "/etc/docker/tls/server.pem", Key: "/etc/docker/tls/server-key.pem"})
	}()
	var m *facts.TLSMaterial
	select {
	case m = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("ReadTLSMaterial blocked on a FIFO")
	}
	if m.CA == nil || m.CA.Subject != "CN=test-ca" || m.CA.Path != "/etc/docker/tls/ca.pem" {
		t.Errorf("CA = %+v", m.CA)
	}
	if d := cmp.Diff(map[string]string{"/etc/docker/tls/server.pem": "/etc/docker/tls/server.pem is not a regular file"}, m.Errors); d != "" {
		t.Errorf("errors (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"/etc/docker/tls/ca-key.pem"}, m.CAKeys); d != "" {
		t.Errorf("CA keys (-want +got):\n%s", d)
	}
}
