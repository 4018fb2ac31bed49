package endpoint

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/textsafe"
)

// Options tune a probe.
type Options struct {
	Timeout time.Duration // per dial and request (default 3s)
	// Roots verifies the server's chain (nil: the system roots).
	Roots *x509.CertPool
	// ClientCert, when set, is presented to read the API of an mTLS daemon (its
	// version and authorization plugins); the unauthenticated probes run without it.
	ClientCert *tls.Certificate
	// Quick probes the certificate and client authentication only, not every TLS
	// version and suite.
	Quick bool
	// NetNS, when set, is a network namespace (/proc/PID/ns/net) to dial from: a
	// daemon's loopback listener lives in the daemon's namespace.
	NetNS string
}

// dial opens a TCP connection, from Options.NetNS when set.
func (o Options) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: o.Timeout}
	if o.NetNS != "" {
		return dialInNetNS(ctx, o.NetNS, network, addr, d)
	}
	return d.DialContext(ctx, network, addr)
}

// ParseAddress reads tcp://host[:port], host:port, https://… or unix:///path; a tcp
// address without a port gets 2376 (TLS) when tls is true, else 2375.
func ParseAddress(addr string) (network, hostport string, err error) {
	if !strings.Contains(addr, "://") {
		addr = "tcp://" + addr
	}
	u, err := url.Parse(addr)
	if err != nil {
		return "", "", fmt.Errorf("%q is not an address like tcp://host:2376 or unix:///var/run/docker.sock", addr)
	}
	switch u.Scheme {
	case "unix":
		if u.Path == "" {
			return "", "", fmt.Errorf("%q has no socket path", addr)
		}
		return "unix", u.Path, nil
	case "tcp", "https", "http":
		if u.Host == "" {
			return "", "", fmt.Errorf("%q has no host", addr)
		}
		if u.Port() == "" {
			port := "2375"
			if u.Scheme == "https" {
				port = "2376"
			}
			return "tcp", net.JoinHostPort(u.Hostname(), port), nil
		}
		return "tcp", u.Host, nil
	}
	return "", "", fmt.Errorf("%q: scheme %q is not probed (tcp:// or unix://)", addr, u.Scheme)
}

// Probe probes one address.
func Probe(ctx context.Context, addr string, o Options) facts.Endpoint {
	start := time.Now()
	if o.Timeout <= 0 {
		o.Timeout = 3 * time.Second
	}
	ep := facts.Endpoint{Address: addr}
	network, hostport, err := ParseAddress(addr)
	if err != nil {
		ep.Error = err.Error()
		return ep
	}
	if network == "unix" {
		ep.Address = "unix://" + hostport
		ep.API = apiProbe(ctx, unixClient(hostport, o.Timeout), "http://docker")
		if ep.API.Error != "" && !ep.API.Answered {
			ep.Error = ep.API.Error
		}
		ep.TookMS = time.Since(start).Milliseconds()
		return ep
	}
	ep.Address = "tcp://" + hostport
	host, _, _ := net.SplitHostPort(hostport)
	first := handshake(ctx, hostport, host, 0, 0, nil, o)
	var ne net.Error
	switch {
	case first.dialErr != nil:
		ep.Error = first.dialErr.Error()
	case !first.ok && !first.certAsked && errors.As(first.handshakeErr, &ne) && ne.Timeout():
		ep.Error = fmt.Sprintf("connected, but no answer within %s: a filtered port, or neither TLS nor HTTP", o.Timeout)
	case first.notTLS:
		ep.API = apiProbe(ctx, plainClient(o), "http://"+hostport)
	case !first.negotiated() && len(first.peer) == 0:
		// It took the connection and then neither spoke TLS nor sent a certificate.
		ep.Error = "connected, but no TLS handshake: " + shortErr(first.handshakeErr)
	default:
		ep.TLS = tlsProbe(ctx, hostport, host, first, o)
		ep.API = apiProbe(ctx, tlsClient(host, nil, o), "https://"+hostport)
		if !ep.API.Answered && o.ClientCert != nil {
			withCert := apiProbe(ctx, tlsClient(host, o.ClientCert, o), "https://"+hostport)
			if withCert.Answered {
				withCert.WithCert = true
				ep.API = withCert
			}
		}
	}
	ep.TookMS = time.Since(start).Milliseconds()
	return ep
}

// hs is the outcome of one handshake.
type hs struct {
	dialErr      error // the TCP connection failed
	notTLS       bool  // the server answered, but not with TLS
	ok           bool  // the handshake completed
	certAsked    bool  // the server sent a CertificateRequest
	acceptable   [][]byte
	peer         []*x509.Certificate // the server's chain, seen even when the handshake then fails
	state        tls.ConnectionState
	handshakeErr error
}

// negotiated reports whether the server agreed to the version and suite offered: the
// handshake completed, or failed only because no client certificate was given.
func (h hs) negotiated() bool { return h.ok || h.certAsked }

func handshake(ctx context.Context, hostport, host string, version uint16, suite uint16, cert *tls.Certificate, o Options) hs {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	raw, err := o.dial(ctx, "tcp", hostport)
	if err != nil {
		return hs{dialErr: err}
	}
	defer raw.Close()
	var out hs
	cfg := &tls.Config{
		ServerName:         host,
		InsecureSkipVerify: true, // #nosec G402 -- the probe reads the chain; verification is done and reported separately
		MinVersion:         tls.VersionTLS10,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			for _, der := range raw {
				if c, err := x509.ParseCertificate(der); err == nil {
					out.peer = append(out.peer, c)
				}
			}
			return nil
		},
		GetClientCertificate: func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			out.certAsked = true
			out.acceptable = cri.AcceptableCAs
			if cert != nil {
				return cert, nil
			}
			return &tls.Certificate{}, nil
		},
	}
	if version != 0 {
		cfg.MinVersion, cfg.MaxVersion = version, version
	}
	cfg.CipherSuites = allSuites() // a server with only weak suites is still a TLS server
	if suite != 0 {
		cfg.CipherSuites = []uint16{suite}
		cfg.MaxVersion = tls.VersionTLS12
	}
	c := tls.Client(raw, cfg)
	err = c.HandshakeContext(ctx)
	out.handshakeErr = err
	if err == nil {
		out.ok = true
		out.state = c.ConnectionState()
		return out
	}
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) {
		out.notTLS = true
	}
	return out
}

var versions = []struct {
	name string
	v    uint16
}{{"TLS 1.0", tls.VersionTLS10}, {"TLS 1.1", tls.VersionTLS11}, {"TLS 1.2", tls.VersionTLS12}, {"TLS 1.3", tls.VersionTLS13}}

// cbcSHA reports a CBC suite with a SHA-1 MAC (no AEAD): legacy, worth a note.
func cbcSHA(name string) bool {
	return strings.Contains(name, "_CBC_SHA") && !strings.HasSuffix(name, "SHA256") && !strings.HasSuffix(name, "SHA384")
}

func tlsProbe(ctx context.Context, hostport, host string, first hs, o Options) *facts.TLSProbe {
	t := &facts.TLSProbe{ClientCertRequested: first.certAsked}
	for _, dn := range first.acceptable {
		t.AcceptableCAs = append(t.AcceptableCAs, rdnString(dn))
	}
	// The server's chain arrives before it asks for a client certificate, so it is
	// seen even when the handshake fails for want of one.
	if peer := first.peer; len(peer) > 0 {
		leaf := peer[0]
		ci := CertInfo(leaf)
		ci.DialledName = host
		ci.NameMatches = leaf.VerifyHostname(host) == nil
		t.Cert = &ci
		inter := x509.NewCertPool()
		for _, c := range peer[1:] {
			inter.AddCert(c)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: o.Roots, Intermediates: inter, DNSName: host}); err != nil {
			t.ChainError = err.Error()
		}
	}
	if o.Quick {
		return t
	}
	for _, v := range versions {
		h := handshake(ctx, hostport, host, v.v, 0, nil, o)
		t.Versions = append(t.Versions, facts.TLSItem{Name: v.name, Accepted: h.negotiated()})
	}
	insecure := map[uint16]bool{}
	for _, s := range tls.InsecureCipherSuites() {
		insecure[s.ID] = true
	}
	for _, s := range slices.Concat(tls.CipherSuites(), tls.InsecureCipherSuites()) {
		tls12 := false
		for _, v := range s.SupportedVersions {
			tls12 = tls12 || v == tls.VersionTLS12
		}
		if !tls12 {
			continue
		}
		h := handshake(ctx, hostport, host, 0, s.ID, nil, o)
		t.Suites = append(t.Suites, facts.TLSItem{Name: s.Name, Accepted: h.negotiated(), Insecure: insecure[s.ID], CBC: cbcSHA(s.Name)})
	}
	return t
}

// allSuites are the IDs of every cipher suite Go implements, secure first.
func allSuites() []uint16 {
	var ids []uint16
	for _, s := range slices.Concat(tls.CipherSuites(), tls.InsecureCipherSuites()) {
		ids = append(ids, s.ID)
	}
	return ids
}

// CertInfo describes a certificate.
func CertInfo(c *x509.Certificate) facts.CertInfo {
	ci := facts.CertInfo{Subject: c.Subject.String(), Issuer: c.Issuer.String(), NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(),
		SigAlg: c.SignatureAlgorithm.String(), DNSNames: c.DNSNames, IsCA: c.IsCA}
	for _, ip := range c.IPAddresses {
		ci.IPs = append(ci.IPs, ip.String())
	}
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		ci.KeyType, ci.KeyBits = "RSA", k.N.BitLen()
	case *ecdsa.PublicKey:
		ci.KeyType, ci.KeyBits = "ECDSA", k.Curve.Params().BitSize
	case ed25519.PublicKey:
		ci.KeyType, ci.KeyBits = "Ed25519", 256
	default:
		ci.KeyType = fmt.Sprintf("%T", k)
	}
	ci.SelfSigned = c.Subject.String() == c.Issuer.String() && c.CheckSignatureFrom(c) == nil
	for _, u := range c.ExtKeyUsage {
		switch u {
		case x509.ExtKeyUsageServerAuth:
			ci.ExtKeyUsage = append(ci.ExtKeyUsage, "serverAuth")
		case x509.ExtKeyUsageClientAuth:
			ci.ExtKeyUsage = append(ci.ExtKeyUsage, "clientAuth")
		case x509.ExtKeyUsageAny:
			ci.ExtKeyUsage = append(ci.ExtKeyUsage, "any")
		}
	}
	return ci
}

// rdnString renders a DER-encoded distinguished name from a CertificateRequest.
func rdnString(der []byte) string {
	var seq pkix.RDNSequence
	if rest, err := asn1.Unmarshal(der, &seq); err != nil || len(rest) > 0 {
		return fmt.Sprintf("(%d bytes, unreadable)", len(der))
	}
	var n pkix.Name
	n.FillFromRDNSequence(&seq)
	return n.String()
}

func plainClient(o Options) *http.Client {
	return &http.Client{Timeout: o.Timeout, Transport: &http.Transport{DialContext: o.dial, Proxy: nil}}
}

func unixClient(path string, timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{Timeout: timeout}).DialContext(ctx, "unix", path)
	}}}
}

// tlsClient asks the API as an anonymous client. It offers every version and suite
// Go has, weak ones included: a daemon that speaks only TLS 1.0 or an RSA-key-exchange
// suite must still be found answering anyone.
func tlsClient(host string, cert *tls.Certificate, o Options) *http.Client {
	cfg := &tls.Config{ServerName: host, InsecureSkipVerify: true, MinVersion: tls.VersionTLS10, CipherSuites: allSuites()} // #nosec G402 -- probing, not trusting
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return &http.Client{Timeout: o.Timeout, Transport: &http.Transport{TLSClientConfig: cfg, DialContext: o.dial, Proxy: nil}}
}

// apiProbe asks /version (and /info for authorization plugins) as an anonymous
// client would.
func apiProbe(ctx context.Context, c *http.Client, base string) facts.APIProbe {
	var p facts.APIProbe
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/version", nil)
	resp, err := c.Do(req)
	if err != nil {
		p.Error = shortErr(err)
		return p
	}
	defer resp.Body.Close()
	p.Status, p.Server = resp.StatusCode, resp.Header.Get("Server")
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		p.Error = fmt.Sprintf("/version: %s: %s", resp.Status, firstLine(string(body)))
		return p
	}
	var v struct {
		Version, APIVersion, Os string
	}
	if json.Unmarshal(body, &v) != nil || v.Version == "" {
		p.Error = "/version answered 200, but not as the Engine API does"
		return p
	}
	p.Answered, p.Version, p.APIVersion, p.OS = true, v.Version, v.APIVersion, v.Os
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, base+"/info", nil)
	if resp, err := c.Do(req); err == nil {
		var info struct {
			Plugins struct{ Authorization []string }
		}
		// An authorization plugin may refuse /info: then whether one is configured
		// stays unknown, which is not "none".
		if resp.StatusCode == http.StatusOK && json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&info) == nil {
			p.InfoRead, p.Authorization = true, info.Plugins.Authorization
		}
		resp.Body.Close()
	}
	return p
}

func shortErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	// A server that accepts and closes at once gives EOF or a reset, as timing
	// falls: the same fact.
	if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
		return "the server closed the connection"
	}
	return err.Error()
}

func firstLine(s string) string { return textsafe.FirstLine(s, 200) }

// ProbeTLS probes TLS on host:port as Probe does; notTLS reports a server that
// answered without TLS, err one that could not be reached.
func ProbeTLS(ctx context.Context, hostport string, o Options) (t *facts.TLSProbe, notTLS bool, err error) {
	if o.Timeout <= 0 {
		o.Timeout = 3 * time.Second
	}
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, false, err
	}
	first := handshake(ctx, hostport, host, 0, 0, nil, o)
	switch {
	case first.dialErr != nil:
		return nil, false, first.dialErr
	case first.notTLS:
		return nil, true, nil
	case !first.negotiated() && len(first.peer) == 0:
		return nil, false, errors.New("connected, but no TLS handshake: " + shortErr(first.handshakeErr))
	}
	return tlsProbe(ctx, hostport, host, first, o), false, nil
}
