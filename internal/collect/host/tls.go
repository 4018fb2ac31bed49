package host

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/dockaudit/dockaudit/internal/collect/endpoint"
	"github.com/dockaudit/dockaudit/internal/facts"
)

// ReadTLSMaterial reads the daemon's CA and server certificates under root, and
// looks for private keys lying beside the CA certificate.
func ReadTLSMaterial(root string, t facts.TLS) *facts.TLSMaterial {
	if t.CACert == "" && t.Cert == "" {
		return nil
	}
	m := &facts.TLSMaterial{Errors: map[string]string{}}
	read := func(p string) *facts.CertInfo {
		if p == "" {
			return nil
		}
		c, err := readCert(filepath.Join(root, p))
		if err != nil {
			m.Errors[p] = err.Error()
			return nil
		}
		ci := endpoint.CertInfo(c)
		ci.Path = p
		return &ci
	}
	m.CA = read(t.CACert)
	m.Server = read(t.Cert)
	if t.CACert != "" {
		dir := filepath.Dir(t.CACert)
		entries, _ := os.ReadDir(filepath.Join(root, dir))
		for _, e := range entries {
			n := strings.ToLower(e.Name())
			if !e.Type().IsRegular() || !strings.Contains(n, "ca") || !(strings.Contains(n, "key") || strings.HasSuffix(n, ".key")) {
				continue
			}
			p := filepath.Join(dir, e.Name())
			if p == t.Key {
				continue
			}
			if b, err := os.ReadFile(filepath.Join(root, p)); err == nil && strings.Contains(string(b), "PRIVATE KEY") {
				m.CAKeys = append(m.CAKeys, p)
			}
		}
	}
	if len(m.Errors) == 0 {
		m.Errors = nil
	}
	return m
}

func readCert(p string) (*x509.Certificate, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}
