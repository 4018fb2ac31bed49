package certs

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func parse(t *testing.T, p string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGenerate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	if err := Generate(Options{Dir: dir, DNSNames: []string{"docker.internal"}, IPs: []net.IP{net.ParseIP("10.0.0.5")}, ClientName: "ci", Now: now}); err != nil {
		t.Fatal(err)
	}
	for name, mode := range map[string]os.FileMode{"ca.pem": 0o444, "ca-key.pem": 0o400, "server-cert.pem": 0o444, "server-key.pem": 0o400, "cert.pem": 0o444, "key.pem": 0o400} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v %v, want %v", name, err, fi.Mode().Perm(), mode)
		}
	}
	ca, server, client := parse(t, filepath.Join(dir, "ca.pem")), parse(t, filepath.Join(dir, "server-cert.pem")), parse(t, filepath.Join(dir, "cert.pem"))
	if !ca.IsCA || ca.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign || !ca.NotAfter.Equal(now.AddDate(0, 0, 1095).Truncate(time.Second)) {
		t.Errorf("CA: isCA %v usage %v until %v", ca.IsCA, ca.KeyUsage, ca.NotAfter)
	}
	if server.Subject.CommonName != "docker.internal" || len(server.ExtKeyUsage) != 1 || server.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth ||
		server.DNSNames[0] != "docker.internal" || !server.IPAddresses[0].Equal(net.ParseIP("10.0.0.5")) || server.IsCA {
		t.Errorf("server: %v %v %v %v", server.Subject, server.ExtKeyUsage, server.DNSNames, server.IPAddresses)
	}
	if client.Subject.CommonName != "ci" || len(client.ExtKeyUsage) != 1 || client.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
		t.Errorf("client: %v %v", client.Subject, client.ExtKeyUsage)
	}
	// The chain verifies for its purposes, and the pairs load as docker would load them.
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	if _, err := server.Verify(x509.VerifyOptions{Roots: pool, DNSName: "docker.internal", CurrentTime: now.Add(time.Hour)}); err != nil {
		t.Error(err)
	}
	if _, err := client.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, CurrentTime: now.Add(time.Hour)}); err != nil {
		t.Error(err)
	}
	if _, err := server.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, CurrentTime: now.Add(time.Hour)}); err == nil {
		t.Error("the server certificate is usable as a client certificate")
	}
	if _, err := tls.LoadX509KeyPair(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")); err != nil {
		t.Error(err)
	}
	// Never overwrites: nothing changes on a second run.
	before, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
	err := Generate(Options{Dir: dir, DNSNames: []string{"x"}})
	if err == nil || !strings.Contains(err.Error(), "ca.pem exists; dockaudit certs never overwrites") {
		t.Errorf("second run: %v", err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "ca.pem")); string(after) != string(before) {
		t.Error("ca.pem was overwritten")
	}
	if err := Generate(Options{Dir: t.TempDir()}); err == nil || err.Error() != "name the server: at least one DNS name or IP address clients will dial" {
		t.Errorf("no names: %v", err)
	}
	if err := Generate(Options{Dir: t.TempDir(), DNSNames: []string{"a"}, KeyType: "dsa"}); err == nil || err.Error() != `key type "dsa": want ecdsa or rsa` {
		t.Errorf("key type: %v", err)
	}
}
