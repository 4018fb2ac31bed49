package link

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
)

// HostChecks are the daemon-link checks dockaudit host adds to the benchmark: the
// Engine's advisories, its TLS material, registry mirrors, and the client's settings.
func HostChecks() []check.Check {
	return []check.Check{
		{Rule: rule("DAEMON-CVE", finding.KindDaemon, finding.High, "The daemon's Engine version has no known security advisory",
			"Engine releases fix vulnerabilities in the daemon itself; the version the daemon reports is matched against Docker's published advisories.",
			"Upgrade the Engine to a fixed release of your line (or to a supported line).", "engine").UpTo(finding.Critical),
			Needs: []facts.Part{facts.PartEngine},
			Run: func(p *check.Pass) {
				e := p.Facts.Engine
				EngineAdvisories(p, e.ServerVersion, e.AuthorizationPlugins, true)
			}},
		{Rule: rule("TLS-MATERIAL", finding.KindDaemon, finding.High, "The daemon's TLS certificates are current and strong, and the CA key is not on the host",
			"The daemon's CA decides who is root on this host: its private key on the daemon host lets anyone who reads it mint client certificates. Expired or weak certificates break clients or can be forged.",
			"Keep the CA key offline (dockaudit certs prints where each file goes); renew certificates before they expire; use ECDSA P-256 or RSA ≥ 2048 with SHA-256.", "tls"),
			NeedsHost: true, Run: tlsMaterial},
		{Rule: rule("REG-MIRROR-HTTP", finding.KindDaemon, finding.Medium, "Registry mirrors are reached over HTTPS",
			"A mirror over plain HTTP serves images anyone on the path can replace (tags are not signed).",
			"Use https:// registry-mirrors in daemon.json.", "registry"),
			Needs: []facts.Part{facts.PartEngine}, Run: mirrors},
		{Rule: rule("CLIENT-PLAIN-TCP", finding.KindHost, finding.High, "The docker client does not talk to a daemon over plain TCP",
			"DOCKER_HOST=tcp://… without DOCKER_TLS_VERIFY sends every command, and the registry credentials pulls carry, in clear, to whoever answers on that address.",
			"Set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH (with ca.pem, cert.pem, key.pem), or use ssh:// or the unix socket.", "client"),
			Needs: []facts.Part{facts.PartClient}, Run: clientTCP},
		{Rule: rule("CLIENT-CREDENTIALS", finding.KindHost, finding.Medium, "Registry credentials are kept in a credential store",
			"docker login without a credential helper writes base64 user:password into config.json, readable by whoever reads the file (and by every backup of it).",
			"Configure credsStore (or credHelpers per registry) in config.json, e.g. \"credsStore\": \"pass\", then log in again; remove the auth entries.", "client"),
			NeedsHost: true, Needs: []facts.Part{facts.PartClient}, Run: clientCredentials},
	}
}

func tlsMaterial(p *check.Pass) {
	m := p.Facts.Daemon.TLSMaterial
	if m == nil {
		p.Skip("the daemon has no TLS certificate files configured")
		return
	}
	now := p.Facts.CollectedAt
	if m.CA != nil {
		CertProblems(p, *m.CA, now, "CA", false)
	}
	if m.Server != nil {
		CertProblems(p, *m.Server, now, "server", false)
	}
	for _, path := range slices.Sorted(maps.Keys(m.Errors)) {
		err := m.Errors[path]
		p.Warn("cannot read "+path+": "+err, ev(path, err, "a readable PEM certificate")).At(path)
	}
	for _, k := range m.CAKeys {
		p.Fail("the CA private key "+k+" is on the daemon host: whoever reads it can mint client certificates", ev("CA key", k, "kept off the daemon host")).At(k)
	}
	if !p.Reported() {
		var parts []string
		if m.CA != nil {
			parts = append(parts, fmt.Sprintf("CA %s until %s", m.CA.KeyType, m.CA.NotAfter.Format("2006-01-02")))
		}
		if m.Server != nil {
			parts = append(parts, fmt.Sprintf("server %s %d until %s", m.Server.KeyType, m.Server.KeyBits, m.Server.NotAfter.Format("2006-01-02")))
		}
		p.OK(strings.Join(parts, "; ") + "; no CA key beside the CA certificate")
	}
}

func mirrors(p *check.Pass) {
	for _, m := range p.Facts.Engine.RegistryMirrors {
		if strings.HasPrefix(strings.ToLower(m), "http://") {
			p.Fail("registry mirror "+m+" is plain HTTP", ev("registry-mirrors", m, "https://…"))
		}
	}
	if !p.Reported() {
		if len(p.Facts.Engine.RegistryMirrors) == 0 {
			p.OK("no registry mirrors are configured")
			return
		}
		p.OK("every registry mirror is HTTPS", ev("registry-mirrors", strings.Join(p.Facts.Engine.RegistryMirrors, ", "), ""))
	}
}

func clientTCP(p *check.Pass) {
	c := p.Facts.Client
	if c.Context != "" {
		ctx := "docker context " + c.Context
		switch {
		case !strings.HasPrefix(c.DockerHost, "tcp://"):
			p.OK(ctx+"'s endpoint is not plain TCP", ev("endpoint", orNone(c.DockerHost), ""))
		case c.ContextTLS == "none":
			p.Fail(ctx+" reaches "+c.DockerHost+" without TLS", ev("TLS", "none", "the context's ca.pem, cert.pem and key.pem (docker context create --docker host=…,ca=…,cert=…,key=…)"))
		case c.ContextTLS == "unverified":
			p.Fail(ctx+" reaches "+c.DockerHost+" over TLS without verifying the server (SkipTLSVerify)", ev("SkipTLSVerify", "true", "false")).Sev(finding.Medium)
		case c.ContextTLS == "verified":
			p.OK(ctx+" reaches "+c.DockerHost+" over verified TLS", ev("TLS", c.ContextTLS, "verified"))
		default: // a facts file that does not say
			p.Skip(ctx + "'s TLS was not recorded")
		}
		return
	}
	switch {
	case !strings.HasPrefix(c.DockerHost, "tcp://"):
		p.OK("DOCKER_HOST is not plain TCP", ev("DOCKER_HOST", orNone(c.DockerHost), ""))
	case c.TLSVerify == "" || c.TLSVerify == "0" || strings.EqualFold(c.TLSVerify, "false"):
		r := p.Fail("DOCKER_HOST="+c.DockerHost+" without DOCKER_TLS_VERIFY", ev("DOCKER_TLS_VERIFY", orNone(c.TLSVerify), "1"))
		if c.CertPath != "" {
			r.Sev(finding.Medium) // TLS, but the server is not verified
		}
	default:
		p.OK("DOCKER_HOST="+c.DockerHost+" with DOCKER_TLS_VERIFY", ev("DOCKER_TLS_VERIFY", c.TLSVerify, "1"))
	}
}

func clientCredentials(p *check.Pass) {
	cfg := p.Facts.Client.Config
	switch {
	case cfg == nil:
		p.Skip("no docker CLI configuration was found")
	case cfg.Error != "":
		p.Skip("the docker CLI configuration " + cfg.Path + " could not be read: " + cfg.Error)
	case len(cfg.PlaintextAuths) > 0:
		p.Fail(fmt.Sprintf("%s holds credentials for %s in the file itself", cfg.Path, strings.Join(cfg.PlaintextAuths, ", ")),
			ev("registries with stored credentials", strings.Join(cfg.PlaintextAuths, ", "), "none (a credential store)")).At(cfg.Path)
	case cfg.CredsStore != "":
		p.OK("credentials go to the " + cfg.CredsStore + " credential store")
	default:
		p.OK("no credentials are stored in " + cfg.Path)
	}
}
