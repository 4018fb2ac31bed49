package link

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
)

var ev = check.Ev

const (
	sectionDaemon   = "Daemon link"
	sectionRegistry = "Registries"
)

func rule(id string, scope finding.Kind, sev finding.Severity, title, desc, fix string, tags ...string) finding.Rule {
	section := sectionDaemon
	if scope == finding.KindRegistry {
		section = sectionRegistry
	}
	return finding.Rule{ID: id, Title: title, Description: desc, Remediation: fix, Severity: sev, Section: section, Scope: scope,
		Tags:       append([]string{"network", string(scope)}, tags...),
		References: []string{"https://docs.docker.com/engine/security/protect-access/"}}
}

// Checks returns the daemon-link and registry checks, in report order.
func Checks() []check.Check {
	return []check.Check{
		{Rule: rule("API-UNAUTHENTICATED", finding.KindEndpoint, finding.Critical, "The Engine API does not answer anonymous clients",
			"Whoever reaches an Engine API that answers without a client certificate can start a privileged container that mounts the host's root: it is root on the host.",
			"Listen on TCP only with --tlsverify and a client CA (dockaudit certs makes the set), or not at all: use the unix socket or ssh:// (docker context).", "tls"),
			Run: unauthenticated},
		{Rule: rule("TLS-ENABLED", finding.KindEndpoint, finding.High, "A TCP daemon listener uses TLS",
			"Without TLS, API traffic (including registry credentials sent for pulls) crosses the network in clear, and nothing proves the client is talking to the right daemon.",
			"Start dockerd with --tlsverify, --tlscacert, --tlscert and --tlskey (or the same keys in daemon.json) and listen on port 2376.", "tls"),
			Run: tlsEnabled},
		{Rule: rule("TLS-CLIENT-AUTH", finding.KindEndpoint, finding.High, "The daemon requires a client certificate",
			"TLS without client verification encrypts the link but lets anyone use the API. Docker 20.10 needs --tlsverify=false for this; 27.0 refuses to start so on non-local addresses.",
			"Use --tlsverify (not --tls alone with --tlsverify=false) and --tlscacert naming the CA of your client certificates.", "tls"),
			Run: clientAuth},
		{Rule: rule("TLS-VERSIONS", finding.KindEndpoint, finding.High, "Only TLS 1.2 and 1.3 are accepted",
			"TLS 1.0 and 1.1 have known weaknesses (BEAST, weak MACs) and are deprecated by RFC 8996.",
			"Run a current dockerd (its Go TLS stack refuses 1.0 and 1.1), or terminate TLS in a proxy configured for TLS 1.2+.", "tls"),
			Run: func(p *check.Pass) { versionsRule(p, endpointTLS(p)) }},
		{Rule: rule("TLS-CIPHERS", finding.KindEndpoint, finding.High, "No insecure cipher suites are accepted",
			"Suites with RC4, 3DES or no forward secrecy can be broken or decrypted later; CBC suites with SHA-1 MACs are legacy.",
			"Restrict the server to AEAD suites (AES-GCM, ChaCha20-Poly1305) with ECDHE key exchange.", "tls"),
			Run: func(p *check.Pass) { ciphersRule(p, endpointTLS(p)) }},
		{Rule: rule("TLS-CERT", finding.KindEndpoint, finding.High, "The server certificate is current, strong and names the address",
			"An expired certificate breaks clients or trains them to skip verification; a short RSA key or a SHA-1 signature can be forged; a certificate without the dialled name fails verification.",
			"Issue a new server certificate (dockaudit certs --dns NAME --ip ADDR) with every name clients dial, ECDSA P-256 or RSA ≥ 2048 and SHA-256.", "tls"),
			Run: func(p *check.Pass) { certRule(p, endpointTLS(p), p.Facts.CollectedAt) }},
		{Rule: rule("ENGINE-CVE", finding.KindEndpoint, finding.High, "The Engine version has no known security advisory",
			"Engine releases fix vulnerabilities in the daemon itself; the version the API reports is matched against Docker's published advisories.",
			"Upgrade the Engine to a fixed release of your line (or to a supported line).", "engine").UpTo(finding.Critical),
			Run: engineCVE},
		{Rule: rule("REG-TLS", finding.KindRegistry, finding.High, "The registry uses TLS with modern versions, suites and a valid certificate",
			"A registry over plain HTTP exposes credentials and lets anyone on the path swap image layers (the digest check happens only when pulling by digest).",
			"Serve the registry over HTTPS (http.tls in distribution's config) with TLS 1.2+ (http.tls.minimumtls) and a certificate for its name.", "tls"),
			Run: registryTLS},
		{Rule: rule("REG-ANONYMOUS-PULL", finding.KindRegistry, finding.High, "Images cannot be pulled anonymously",
			"An open registry gives anyone every image: code, embedded secrets and the internal names they reveal.",
			"Require authentication (auth.htpasswd or auth.token in distribution's config), or put the registry behind an authenticating proxy.", "access"),
			Run: anonymousPull},
		{Rule: rule("REG-CATALOG", finding.KindRegistry, finding.Medium, "The catalog is not exposed anonymously",
			"/v2/_catalog lists every repository, which maps what to attack and pull.",
			"Require authentication for the catalog (token auth scopes registry:catalog:*), or disable it at the proxy.", "access"),
			Run: catalog},
		{Rule: rule("REG-DELETE", finding.KindRegistry, finding.Medium, "Manifest deletion is disabled, or requires authentication",
			"With storage.delete.enabled, anyone allowed to push can delete tags and manifests; with no authentication, anyone at all.",
			"Set storage.delete.enabled: false unless garbage collection needs it, and require authentication for DELETE.", "access"),
			Run: deleteRule},
		{Rule: rule("REG-AUTH", finding.KindRegistry, finding.High, "Registry authentication is not sent in clear",
			"Basic authentication over HTTP, or a token realm on http://, sends passwords readable by anyone on the path.",
			"Serve the registry and its token service over HTTPS.", "access"),
			Run: authRule},
		{Rule: rule("REG-ANONYMOUS-PUSH", finding.KindRegistry, finding.Critical, "Anonymous clients cannot push",
			"A registry that accepts anonymous uploads lets anyone replace the images your hosts run.",
			"Require authentication for push; grant push to CI identities only.", "access"),
			Run: anonymousPush},
	}
}

func endpointTLS(p *check.Pass) *facts.TLSProbe { return p.Endpoint.TLS }

func isTCP(addr string) bool { return strings.HasPrefix(addr, "tcp://") }

func loopbackAddr(addr string) bool {
	h := strings.TrimPrefix(addr, "tcp://")
	return strings.HasPrefix(h, "127.") || strings.HasPrefix(h, "localhost:") || strings.HasPrefix(h, "[::1]:")
}

func unauthenticated(p *check.Pass) {
	ep := p.Endpoint
	if !isTCP(ep.Address) {
		if ep.API.Answered {
			p.Info("the unix socket answers anyone who can open it: access is its file mode and owner (see CIS-3.15 and CIS-3.16)",
				ev("API", "Docker "+ep.API.Version+" (API "+ep.API.APIVersion+")", ""))
		} else {
			p.Skip("the unix socket did not answer: " + ep.API.Error)
		}
		return
	}
	switch {
	case ep.API.Answered && !ep.API.WithCert && ep.TLS == nil:
		p.Fail("the Engine API answers anyone over plain TCP", ev("/version", fmt.Sprintf("%d: Docker %s (API %s)", ep.API.Status, ep.API.Version, ep.API.APIVersion), "no answer without a client certificate"))
	case ep.API.Answered && !ep.API.WithCert:
		p.Fail("the Engine API answers anyone over TLS: no client certificate is required", ev("/version", fmt.Sprintf("%d: Docker %s (API %s)", ep.API.Status, ep.API.Version, ep.API.APIVersion), "no answer without a client certificate"))
	case ep.API.Status != 0 && ep.API.Status != 200:
		p.OK(fmt.Sprintf("the API refused an anonymous client (%d)", ep.API.Status), ev("/version", ep.API.Error, ""))
	case ep.TLS != nil && ep.TLS.ClientCertRequested:
		p.OK("the API did not answer without a client certificate", ev("/version", ep.API.Error, ""))
	default:
		// No answer, and nothing that explains it (a reset, a timeout, a handshake
		// this client could not complete): undecided, not safe.
		p.Skip("the API did not answer, and the server asked for no client certificate: "+ep.API.Error, ev("/version", ep.API.Error, ""))
	}
}

func tlsEnabled(p *check.Pass) {
	ep := p.Endpoint
	switch {
	case !isTCP(ep.Address):
		p.Skip("not a TCP listener")
		return
	case !ep.Probed():
		p.Skip("the address was not probed")
		return
	}
	if ep.TLS == nil {
		r := p.Fail("the daemon listens on "+ep.Address+" without TLS", ev("TLS", "none (plain HTTP)", "TLS 1.2+"))
		if loopbackAddr(ep.Address) {
			r.Sev(finding.Medium) // reachable from this host only, but by every local user and container with host networking
		}
		return
	}
	p.OK("TLS on " + ep.Address)
}

func clientAuth(p *check.Pass) {
	ep := p.Endpoint
	switch {
	case !isTCP(ep.Address):
		p.Skip("not a TCP listener")
	case ep.TLS == nil:
		p.Skip("no TLS (see TLS-ENABLED)")
	case !ep.TLS.ClientCertRequested:
		p.Fail("the daemon does not ask for a client certificate", ev("client certificate", "not requested", "required (--tlsverify)"))
	default:
		cas := strings.Join(ep.TLS.AcceptableCAs, "; ")
		if cas == "" {
			cas = "(no CA names sent)"
		}
		p.OK("a client certificate is required", ev("client CAs the server names", cas, ""))
	}
}

func versionsRule(p *check.Pass, t *facts.TLSProbe) {
	if t == nil || len(t.Versions) == 0 {
		p.Skip("no TLS to probe")
		return
	}
	if summary, ok := versionProblems(p, t); ok {
		p.OK("accepts "+summary, ev("accepted versions", summary, "TLS 1.2, TLS 1.3"))
	}
}

// versionProblems reports old protocol versions; ok is true when there are none, with
// the accepted versions.
func versionProblems(p *check.Pass, t *facts.TLSProbe) (string, bool) {
	var old, all []string
	for _, v := range t.Versions {
		if v.Accepted {
			all = append(all, v.Name)
			if v.Name == "TLS 1.0" || v.Name == "TLS 1.1" {
				old = append(old, v.Name)
			}
		}
	}
	if len(old) > 0 {
		p.Fail("accepts "+strings.Join(old, " and "), ev("accepted versions", strings.Join(all, ", "), "TLS 1.2, TLS 1.3"))
		return "", false
	}
	return strings.Join(all, ", "), true
}

func ciphersRule(p *check.Pass, t *facts.TLSProbe) {
	if t == nil || len(t.Suites) == 0 {
		p.Skip("no TLS to probe")
		return
	}
	if summary, ok := cipherProblems(p, t); ok {
		p.OK(summary)
	}
}

// cipherProblems reports insecure (fail) and CBC-SHA (info) suites; ok is true when
// there are neither, with a summary of what is accepted.
func cipherProblems(p *check.Pass, t *facts.TLSProbe) (string, bool) {
	var insecure, cbc, accepted []string
	for _, s := range t.Suites {
		if !s.Accepted {
			continue
		}
		accepted = append(accepted, s.Name)
		switch {
		case s.Insecure:
			insecure = append(insecure, s.Name)
		case s.CBC:
			cbc = append(cbc, s.Name)
		}
	}
	if len(insecure) > 0 {
		p.Fail("accepts insecure cipher suites: "+strings.Join(insecure, ", "), ev("insecure suites", strings.Join(insecure, ", "), "none"))
	}
	if len(cbc) > 0 {
		p.Info("accepts CBC suites with SHA-1 MACs (legacy, not broken): "+strings.Join(cbc, ", "), ev("CBC-SHA suites", strings.Join(cbc, ", "), "AEAD suites only"))
	}
	if len(insecure) > 0 || len(cbc) > 0 {
		return "", false
	}
	return fmt.Sprintf("accepts %d TLS 1.2 suites, all AEAD: %s", len(accepted), strings.Join(accepted, ", ")), true
}

func certRule(p *check.Pass, t *facts.TLSProbe, now time.Time) {
	if t == nil || t.Cert == nil {
		p.Skip("no server certificate was seen")
		return
	}
	CertProblems(p, *t.Cert, now, "server", true)
	// An expiry is reported above; the chain's error would say it again.
	if t.ChainError != "" && !(now.After(t.Cert.NotAfter) && strings.Contains(t.ChainError, "expired")) {
		p.Info("the chain does not verify against the trusted roots (normal for a private CA: clients must trust it explicitly): "+t.ChainError,
			ev("issuer", t.Cert.Issuer, ""))
	}
	if !p.Reported() {
		p.OK(fmt.Sprintf("%s %d-bit, %s, valid until %s, names %s", t.Cert.KeyType, t.Cert.KeyBits, t.Cert.SigAlg,
			t.Cert.NotAfter.Format("2006-01-02"), t.Cert.DialledName))
	}
}

// CertProblems reports what is wrong with a certificate: expiry, key strength,
// signature, and for a server the name it was dialled by; role is "server" or
// "client" and decides the extended key usage required.
func CertProblems(p *check.Pass, c facts.CertInfo, now time.Time, role string, checkName bool) {
	at := func(r check.Result) check.Result {
		if c.Path != "" {
			return r.At(c.Path)
		}
		return r
	}
	days := int(c.NotAfter.Sub(now).Hours() / 24)
	switch {
	case now.After(c.NotAfter):
		at(p.Fail(fmt.Sprintf("the %s certificate expired on %s", role, c.NotAfter.Format("2006-01-02")), ev("notAfter", c.NotAfter.Format(time.RFC3339), "in the future")))
	case now.Before(c.NotBefore):
		at(p.Fail(fmt.Sprintf("the %s certificate is not valid before %s", role, c.NotBefore.Format("2006-01-02")), ev("notBefore", c.NotBefore.Format(time.RFC3339), "in the past")))
	case days < 30:
		at(p.Warn(fmt.Sprintf("the %s certificate expires in %d days (%s)", role, days, c.NotAfter.Format("2006-01-02")), ev("notAfter", c.NotAfter.Format(time.RFC3339), "more than 30 days away"))).Sev(finding.Medium)
	}
	if (c.KeyType == "RSA" && c.KeyBits < 2048) || (c.KeyType == "ECDSA" && c.KeyBits < 256) {
		at(p.Fail(fmt.Sprintf("the %s key is %s %d bits", role, c.KeyType, c.KeyBits), ev("key", fmt.Sprintf("%s %d", c.KeyType, c.KeyBits), "RSA ≥ 2048 or ECDSA ≥ 256")))
	}
	if strings.Contains(c.SigAlg, "SHA1") || strings.Contains(c.SigAlg, "MD5") {
		at(p.Fail(fmt.Sprintf("the %s certificate is signed with %s", role, c.SigAlg), ev("signature", c.SigAlg, "SHA-256 or better")))
	}
	if checkName && !c.NameMatches {
		names := strings.Join(slices.Concat(c.DNSNames, c.IPs), ", ")
		at(p.Fail(fmt.Sprintf("the certificate does not name %s (it names %s)", c.DialledName, orNone(names)), ev("subjectAltName", orNone(names), c.DialledName))).Sev(finding.Medium)
	}
	// A CA's extended key usage constrains what it signs, not what it is: only leaf
	// certificates need theirs.
	want := role + "Auth"
	if role != "CA" && len(c.ExtKeyUsage) > 0 && !contains(c.ExtKeyUsage, want) && !contains(c.ExtKeyUsage, "any") {
		at(p.Fail(fmt.Sprintf("the %s certificate's extended key usage does not include %s", role, want), ev("extKeyUsage", strings.Join(c.ExtKeyUsage, ", "), want))).Sev(finding.Medium)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
