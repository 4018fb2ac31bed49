package endpoint

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockaudit/dockaudit/internal/certs"
)

// engineAPI answers like a Docker 24.0.7 daemon with an authorization plugin.
var engineAPI = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Server", "Docker/24.0.7 (linux)")
	switch r.URL.Path {
	case "/version":
		w.Write([]byte(`{"Version":"24.0.7","ApiVersion":"1.43","Os":"linux"}`))
	case "/info":
		w.Write([]byte(`{"Plugins":{"Authorization":["authz-broker"]}}`))
	default:
		http.NotFound(w, r)
	}
})

type material struct {
	server, client tls.Certificate
	pool           *x509.CertPool
}

func makeCerts(t testing.TB, keyType string) material {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tls")
	if err := certs.Generate(certs.Options{Dir: dir, DNSNames: []string{"localhost"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}, KeyType: keyType}); err != nil {
		t.Fatal(err)
	}
	var m material
	var err error
	if m.server, err = tls.LoadX509KeyPair(filepath.Join(dir, "server-cert.pem"), filepath.Join(dir, "server-key.pem")); err != nil {
		t.Fatal(err)
	}
	if m.client, err = tls.LoadX509KeyPair(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")); err != nil {
		t.Fatal(err)
	}
	ca, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
	m.pool = x509.NewCertPool()
	m.pool.AppendCertsFromPEM(ca)
	return m
}

func serveTLS(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(engineAPI)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point
	srv.TLS = cfg
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return "tcp://" + srv.Listener.Addr().String()
}

func TestProbePlain(t *testing.T) {
	srv := httptest.NewServer(engineAPI)
	defer srv.Close()
	ep := Probe(context.Background(), srv.URL, Options{})
	if ep.Error != "" || ep.TLS != nil || !ep.API.Answered || ep.API.Version != "24.0.7" || ep.API.APIVersion != "1.43" ||
		ep.API.Server != "Docker/24.0.7 (linux)" || strings.Join(ep.API.Authorization, ",") != "authz-broker" {
		t.Errorf("%+v", ep)
	}
	if !strings.HasPrefix(ep.Address, "tcp://127.0.0.1:") {
		t.Errorf("address %s", ep.Address)
	}
}

func TestProbeTLSWithoutClientAuth(t *testing.T) {
	m := makeCerts(t, "ecdsa")
	addr := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{m.server}})
	ep := Probe(context.Background(), addr, Options{Roots: m.pool})
	if ep.Error != "" || ep.TLS == nil || ep.TLS.ClientCertRequested || !ep.API.Answered {
		t.Fatalf("%+v", ep)
	}
	var versions []string
	for _, v := range ep.TLS.Versions {
		if v.Accepted {
			versions = append(versions, v.Name)
		}
	}
	if strings.Join(versions, ",") != "TLS 1.2,TLS 1.3" {
		t.Errorf("versions %v", versions)
	}
	c := ep.TLS.Cert
	if c == nil || c.KeyType != "ECDSA" || c.KeyBits != 256 || !c.NameMatches || c.DialledName != "127.0.0.1" || ep.TLS.ChainError != "" ||
		strings.Join(c.ExtKeyUsage, ",") != "serverAuth" || c.Issuer != "CN=dockaudit Docker daemon CA" {
		t.Errorf("cert %+v, chain %q", c, ep.TLS.ChainError)
	}
	// Without the CA the chain does not verify; the probe says so and goes on.
	ep = Probe(context.Background(), addr, Options{Quick: true})
	if !strings.Contains(ep.TLS.ChainError, "certificate signed by unknown authority") || len(ep.TLS.Versions) != 0 {
		t.Errorf("chain error %q, versions %v", ep.TLS.ChainError, ep.TLS.Versions)
	}
}

func TestProbeMutualTLS(t *testing.T) {
	m := makeCerts(t, "ecdsa")
	for _, max := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		addr := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{m.server}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: m.pool, MaxVersion: max})
		ep := Probe(context.Background(), addr, Options{Roots: m.pool})
		if ep.Error != "" || !ep.TLS.ClientCertRequested || strings.Join(ep.TLS.AcceptableCAs, ";") != "CN=dockaudit Docker daemon CA" || ep.API.Answered {
			t.Errorf("max %x: %+v", max, ep)
		}
		if ep.TLS.Cert == nil || ep.TLS.Cert.Subject != "CN=localhost" {
			t.Errorf("max %x: the certificate was not read: %+v", max, ep.TLS.Cert)
		}
		ep = Probe(context.Background(), addr, Options{Roots: m.pool, ClientCert: &m.client, Quick: true})
		if !ep.API.Answered || !ep.API.WithCert || ep.API.Version != "24.0.7" {
			t.Errorf("max %x, with the client certificate: %+v", max, ep.API)
		}
	}
}

// TestProbeWeakServer: a server that takes TLS 1.0 and 1.1, an insecure suite and a
// CBC-SHA one.
func TestProbeWeakServer(t *testing.T) {
	m := makeCerts(t, "rsa")
	addr := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{m.server}, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_128_GCM_SHA256}})
	ep := Probe(context.Background(), strings.Replace(addr, "127.0.0.1", "localhost", 1), Options{Roots: m.pool})
	got := map[string]bool{}
	for _, v := range append(ep.TLS.Versions, ep.TLS.Suites...) {
		if v.Accepted {
			got[v.Name] = true
		}
	}
	for _, want := range []string{"TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_128_GCM_SHA256"} {
		if !got[want] {
			t.Errorf("%s was not seen as accepted: %v", want, got)
		}
	}
	if got["TLS 1.3"] || len(got) != 6 {
		t.Errorf("accepted %v", got)
	}
	for _, s := range ep.TLS.Suites {
		if s.Name == "TLS_RSA_WITH_AES_128_GCM_SHA256" && !s.Insecure || s.Name == "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA" && !s.CBC {
			t.Errorf("%+v", s)
		}
	}
	if ep.TLS.Cert.KeyType != "RSA" || ep.TLS.Cert.KeyBits != 4096 || !ep.TLS.Cert.NameMatches {
		t.Errorf("cert %+v", ep.TLS.Cert)
	}
}

// TestProbeAnswersOnlyWeakTLS: a daemon that speaks TLS 1.0 with one RSA-key-exchange
// CBC suite and answers anyone is found answering (the API client offers everything).
func TestProbeAnswersOnlyWeakTLS(t *testing.T) {
	m := makeCerts(t, "rsa")
	addr := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{m.server}, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10,
		CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA}})
	ep := Probe(context.Background(), addr, Options{Quick: true})
	if ep.Error != "" || !ep.API.Answered || ep.API.Version != "24.0.7" || !ep.API.InfoRead || strings.Join(ep.API.Authorization, ",") != "authz-broker" {
		t.Errorf("%+v", ep.API)
	}
}

// TestProbeInfoRefused: an authorization plugin that refuses /info leaves the plugins
// unknown, not "none".
func TestProbeInfoRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/info" {
			http.Error(w, `{"message":"authorization denied by plugin authz-broker"}`, http.StatusForbidden)
			return
		}
		engineAPI(w, r)
	}))
	defer srv.Close()
	ep := Probe(context.Background(), srv.URL, Options{})
	if !ep.API.Answered || ep.API.InfoRead || ep.API.Authorization != nil {
		t.Errorf("%+v", ep.API)
	}
}

func TestProbeErrors(t *testing.T) {
	ep := Probe(context.Background(), "tcp://127.0.0.1:1", Options{})
	if ep.Error != "dial tcp 127.0.0.1:1: connect: connection refused" {
		t.Errorf("refused: %q", ep.Error)
	}
	// A port that accepts and never speaks: an error within the timeout, not a hang.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	start := time.Now()
	ep = Probe(context.Background(), l.Addr().String(), Options{Timeout: 300 * time.Millisecond})
	if ep.Error != "connected, but no answer within 300ms: a filtered port, or neither TLS nor HTTP" || time.Since(start) > 2*time.Second {
		t.Errorf("silent port: %q after %s", ep.Error, time.Since(start))
	}
	// A port that accepts and closes at once is not a TLS listener.
	closer, _ := net.Listen("tcp", "127.0.0.1:0")
	defer closer.Close()
	go func() {
		for {
			c, err := closer.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	if ep := Probe(context.Background(), closer.Addr().String(), Options{Timeout: time.Second}); ep.Error != "connected, but no TLS handshake: the server closed the connection" || ep.TLS != nil {
		t.Errorf("closing port: %q, TLS %+v", ep.Error, ep.TLS)
	}
	if _, _, err := ProbeTLS(context.Background(), closer.Addr().String(), Options{Timeout: time.Second}); err == nil || err.Error() != "connected, but no TLS handshake: the server closed the connection" {
		t.Errorf("ProbeTLS of a closing port: %v", err)
	}
	for addr, want := range map[string]string{
		"ssh://host": `"ssh://host": scheme "ssh" is not probed (tcp:// or unix://)`,
		"unix://":    `"unix://" has no socket path`,
		"tcp://":     `"tcp://" has no host`,
	} {
		if ep := Probe(context.Background(), addr, Options{}); ep.Error != want {
			t.Errorf("%s: %q", addr, ep.Error)
		}
	}
	if _, hp, _ := ParseAddress("docker.example"); hp != "docker.example:2375" {
		t.Errorf("default port: %s", hp)
	}
	if _, hp, _ := ParseAddress("https://docker.example"); hp != "docker.example:2376" {
		t.Errorf("https port: %s", hp)
	}
}

// BenchmarkProbeFull is one full probe of a mutual-TLS endpoint on loopback: every
// protocol version and TLS 1.2 suite, the certificate and the API.
func BenchmarkProbeFull(b *testing.B) {
	m := makeCerts(b, "ecdsa")
	srv := httptest.NewUnstartedServer(engineAPI)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{m.server}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: m.pool}
	srv.StartTLS()
	defer srv.Close()
	addr := "tcp://" + srv.Listener.Addr().String()
	var handshakes int
	for b.Loop() {
		ep := Probe(context.Background(), addr, Options{Roots: m.pool})
		handshakes = len(ep.TLS.Versions) + len(ep.TLS.Suites) + 2
	}
	b.ReportMetric(float64(handshakes), "handshakes/op")
}
