package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Options describe the set to make.
type Options struct {
	Dir        string
	DNSNames   []string // server names clients dial
	IPs        []net.IP // server addresses clients dial
	ClientName string   // the client certificate's CN (authorization plugins see it as the user)
	KeyType    string   // ecdsa (P-256, default) or rsa (4096 bits)
	CADays     int      // default 1095
	Days       int      // server and client, default 365
	Now        time.Time
}

// Files are the files written, relative to Options.Dir; the client's three have the
// names the docker CLI looks for in DOCKER_CERT_PATH.
var Files = struct {
	CA, CAKey, ServerCert, ServerKey, ClientCert, ClientKey string
}{"ca.pem", "ca-key.pem", "server-cert.pem", "server-key.pem", "cert.pem", "key.pem"}

// Generate writes the set. It refuses to overwrite anything: when any file exists
// nothing is written, and a failure midway removes what it wrote.
func Generate(o Options) error {
	if len(o.DNSNames) == 0 && len(o.IPs) == 0 {
		return errors.New("name the server: at least one DNS name or IP address clients will dial")
	}
	if o.ClientName == "" {
		o.ClientName = "client"
	}
	if o.CADays <= 0 {
		o.CADays = 1095
	}
	if o.Days <= 0 {
		o.Days = 365
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return err
	}
	names := []string{Files.CA, Files.CAKey, Files.ServerCert, Files.ServerKey, Files.ClientCert, Files.ClientKey}
	for _, n := range names {
		if _, err := os.Lstat(filepath.Join(o.Dir, n)); err == nil {
			return fmt.Errorf("%s exists; dockaudit certs never overwrites (choose another --out directory)", filepath.Join(o.Dir, n))
		}
	}
	caKey, err := newKey(o.KeyType)
	if err != nil {
		return err
	}
	caTmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "dockaudit Docker daemon CA"},
		NotBefore:             o.Now.Add(-time.Minute),
		NotAfter:              o.Now.AddDate(0, 0, o.CADays),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, caCert, err := sign(caTmpl, caKey, nil, caKey)
	if err != nil {
		return err
	}
	cn := o.ClientName
	serverCN := "docker-daemon"
	if len(o.DNSNames) > 0 {
		serverCN = o.DNSNames[0]
	}
	serverKey, err := newKey(o.KeyType)
	if err != nil {
		return err
	}
	usage := x509.KeyUsageDigitalSignature
	if o.KeyType == "rsa" {
		usage |= x509.KeyUsageKeyEncipherment
	}
	serverDER, _, err := sign(&x509.Certificate{
		Subject: pkix.Name{CommonName: serverCN}, NotBefore: o.Now.Add(-time.Minute), NotAfter: o.Now.AddDate(0, 0, o.Days),
		KeyUsage: usage, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, DNSNames: o.DNSNames, IPAddresses: o.IPs,
		BasicConstraintsValid: true,
	}, serverKey, caCert, caKey)
	if err != nil {
		return err
	}
	clientKey, err := newKey(o.KeyType)
	if err != nil {
		return err
	}
	clientDER, _, err := sign(&x509.Certificate{
		Subject: pkix.Name{CommonName: cn}, NotBefore: o.Now.Add(-time.Minute), NotAfter: o.Now.AddDate(0, 0, o.Days),
		KeyUsage: usage, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, BasicConstraintsValid: true,
	}, clientKey, caCert, caKey)
	if err != nil {
		return err
	}
	var written []string
	write := func(name string, block *pem.Block, mode fs.FileMode) error {
		p := filepath.Join(o.Dir, name)
		f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
		if err != nil {
			return err
		}
		written = append(written, p)
		if err := pem.Encode(f, block); err != nil {
			f.Close()
			return err
		}
		if err := f.Chmod(mode); err != nil { // the umask must not widen or narrow it
			f.Close()
			return err
		}
		return f.Close()
	}
	files := []struct {
		name  string
		block *pem.Block
		mode  fs.FileMode
	}{
		{Files.CA, &pem.Block{Type: "CERTIFICATE", Bytes: caDER}, 0o444},
		{Files.CAKey, keyBlock(caKey), 0o400},
		{Files.ServerCert, &pem.Block{Type: "CERTIFICATE", Bytes: serverDER}, 0o444},
		{Files.ServerKey, keyBlock(serverKey), 0o400},
		{Files.ClientCert, &pem.Block{Type: "CERTIFICATE", Bytes: clientDER}, 0o444},
		{Files.ClientKey, keyBlock(clientKey), 0o400},
	}
	for _, f := range files {
		if err := write(f.name, f.block, f.mode); err != nil {
			for _, p := range written {
				os.Remove(p)
			}
			return err
		}
	}
	return nil
}

func newKey(kind string) (crypto.Signer, error) {
	switch kind {
	case "", "ecdsa":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "rsa":
		return rsa.GenerateKey(rand.Reader, 4096)
	}
	return nil, fmt.Errorf("key type %q: want ecdsa or rsa", kind)
}

func keyBlock(k crypto.Signer) *pem.Block {
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	return &pem.Block{Type: "PRIVATE KEY", Bytes: der}
}

func sign(tmpl *x509.Certificate, key crypto.Signer, parent *x509.Certificate, parentKey crypto.Signer) ([]byte, *x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	tmpl.SerialNumber = serial
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		return nil, nil, err
	}
	c, err := x509.ParseCertificate(der)
	return der, c, err
}
