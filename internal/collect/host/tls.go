package host

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"path"
	"strings"

	"github.com/dockaudit/dockaudit/internal/collect/endpoint"
	"github.com/dockaudit/dockaudit/internal/collect/hostfs"
	"github.com/dockaudit/dockaudit/internal/facts"
)

// ReadTLSMaterial reads the daemon's CA and server certificates under root, and
// looks for private keys lying beside the CA certificate. Like every host read it
// goes through hostfs: links resolve inside root, reads are bounded, and a FIFO is
// never opened.
func ReadTLSMaterial(root string, t facts.TLS) *facts.TLSMaterial {
	if t.CACert == "" && t.Cert == "" {
		return nil
	}
	fsys := hostfs.New(root)
	m := &facts.TLSMaterial{Errors: map[string]string{}}
	read := func(p string) *facts.CertInfo {
		if p == "" {
			return nil
		}
		c, err := readCert(fsys, p)
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
		dir := path.Dir(t.CACert)
		entries, _ := fsys.ReadDir(dir)
		for _, e := range entries {
			n := strings.ToLower(e.Name())
			if !e.Type().IsRegular() || !strings.Contains(n, "ca") || !(strings.Contains(n, "key") || strings.HasSuffix(n, ".key")) {
				continue
			}
			p := path.Join(dir, e.Name())
			if p == t.Key {
				continue
			}
			if b, err := fsys.ReadFile(p); err == nil && strings.Contains(string(b), "PRIVATE KEY") {
				m.CAKeys = append(m.CAKeys, p)
			}
		}
	}
	if len(m.Errors) == 0 {
		m.Errors = nil
	}
	return m
}

func readCert(fsys *hostfs.FS, p string) (*x509.Certificate, error) {
	b, err := fsys.ReadFile(p)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}
