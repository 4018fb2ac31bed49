package link

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/facts"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func run(t *testing.T, snap *facts.Snapshot, ids ...string) []string {
	t.Helper()
	snap.CollectedAt = now
	all := append(Checks(), HostChecks()...)
	sel, err := check.Selection{Include: ids}.Apply(all)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range check.Run(sel, snap, check.Options{}) {
		out = append(out, f.Rule+" "+f.Status.String()+" "+f.Severity.String()+": "+f.Message)
	}
	return out
}

func expect(t *testing.T, got []string, want ...string) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func goodCert() *facts.CertInfo {
	return &facts.CertInfo{Subject: "CN=localhost", Issuer: "CN=ca", NotBefore: now.AddDate(0, -1, 0), NotAfter: now.AddDate(1, 0, 0),
		KeyType: "ECDSA", KeyBits: 256, SigAlg: "ECDSA-SHA256", DNSNames: []string{"localhost"}, IPs: []string{"127.0.0.1"},
		ExtKeyUsage: []string{"serverAuth"}, NameMatches: true, DialledName: "127.0.0.1"}
}

func modernTLS() *facts.TLSProbe {
	return &facts.TLSProbe{ClientCertRequested: true, AcceptableCAs: []string{"CN=ca"},
		Versions: []facts.TLSItem{{Name: "TLS 1.0"}, {Name: "TLS 1.1"}, {Name: "TLS 1.2", Accepted: true}, {Name: "TLS 1.3", Accepted: true}},
		Suites:   []facts.TLSItem{{Name: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", Accepted: true}, {Name: "TLS_RSA_WITH_RC4_128_SHA", Insecure: true}},
		Cert:     goodCert()}
}

func endpoints(eps ...facts.Endpoint) *facts.Snapshot { return &facts.Snapshot{Endpoints: eps} }

func TestEndpointRules(t *testing.T) {
	ids := []string{"API-UNAUTHENTICATED", "TLS-ENABLED", "TLS-CLIENT-AUTH", "TLS-VERSIONS", "TLS-CIPHERS", "TLS-CERT"}
	// Plain TCP on all addresses, answering.
	plain := facts.Endpoint{Address: "tcp://10.0.0.5:2375", API: facts.APIProbe{Answered: true, Status: 200, Version: "24.0.7", APIVersion: "1.43"}}
	expect(t, run(t, endpoints(plain), ids...),
		"API-UNAUTHENTICATED fail critical: the Engine API answers anyone over plain TCP",
		"TLS-ENABLED fail high: the daemon listens on tcp://10.0.0.5:2375 without TLS",
		"TLS-CLIENT-AUTH skip high: no TLS (see TLS-ENABLED)",
		"TLS-VERSIONS skip high: no TLS to probe", "TLS-CIPHERS skip high: no TLS to probe", "TLS-CERT skip high: no server certificate was seen")
	plain.Address = "tcp://127.0.0.1:2375"
	if got := run(t, endpoints(plain), "TLS-ENABLED"); got[0] != "TLS-ENABLED fail medium: the daemon listens on tcp://127.0.0.1:2375 without TLS" {
		t.Errorf("loopback: %q", got)
	}
	// TLS without client authentication.
	open := facts.Endpoint{Address: "tcp://10.0.0.5:2376", TLS: modernTLS(), API: plain.API}
	open.TLS.ClientCertRequested, open.TLS.AcceptableCAs = false, nil
	open.TLS.Suites[1].Accepted = true
	expect(t, run(t, endpoints(open), ids...),
		"API-UNAUTHENTICATED fail critical: the Engine API answers anyone over TLS: no client certificate is required",
		"TLS-ENABLED pass high: TLS on tcp://10.0.0.5:2376",
		"TLS-CLIENT-AUTH fail high: the daemon does not ask for a client certificate",
		"TLS-VERSIONS pass high: accepts TLS 1.2, TLS 1.3",
		"TLS-CIPHERS fail high: accepts insecure cipher suites: TLS_RSA_WITH_RC4_128_SHA",
		"TLS-CERT pass high: ECDSA 256-bit, ECDSA-SHA256, valid until 2027-11-26, names 127.0.0.1")
	// Mutual TLS, but old versions, a CBC suite and a poor certificate.
	weak := facts.Endpoint{Address: "tcp://docker.internal:2376", TLS: modernTLS(), API: facts.APIProbe{Status: 0, Error: "remote error: tls: certificate required"}}
	weak.TLS.Versions[0].Accepted, weak.TLS.Versions[1].Accepted = true, true
	weak.TLS.Suites = append(weak.TLS.Suites, facts.TLSItem{Name: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", Accepted: true, CBC: true})
	c := weak.TLS.Cert
	c.NotAfter, c.KeyType, c.KeyBits, c.SigAlg, c.NameMatches, c.DialledName = now.AddDate(0, 0, -3), "RSA", 1024, "SHA1-RSA", false, "docker.internal"
	weak.TLS.ChainError = "x509: certificate signed by unknown authority"
	expect(t, run(t, endpoints(weak), ids...),
		"API-UNAUTHENTICATED pass critical: the API did not answer without a client certificate",
		"TLS-ENABLED pass high: TLS on tcp://docker.internal:2376",
		"TLS-CLIENT-AUTH pass high: a client certificate is required",
		"TLS-VERSIONS fail high: accepts TLS 1.0 and TLS 1.1",
		"TLS-CIPHERS info high: accepts CBC suites with SHA-1 MACs (legacy, not broken): TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
		"TLS-CERT fail medium: the certificate does not name docker.internal (it names localhost, 127.0.0.1)",
		"TLS-CERT info high: the chain does not verify against the trusted roots (normal for a private CA: clients must trust it explicitly): x509: certificate signed by unknown authority",
		"TLS-CERT fail high: the server certificate expired on 2026-11-23",
		"TLS-CERT fail high: the server certificate is signed with SHA1-RSA",
		"TLS-CERT fail high: the server key is RSA 1024 bits")
	// TLS without a client certificate request and no answer (a reset, a handshake the
	// client could not finish): undecided, not a pass.
	mute := facts.Endpoint{Address: "tcp://10.0.0.7:2376", TLS: modernTLS(), API: facts.APIProbe{Error: "read: connection reset by peer"}}
	mute.TLS.ClientCertRequested = false
	expect(t, run(t, endpoints(mute), "API-UNAUTHENTICATED"),
		"API-UNAUTHENTICATED skip critical: the API did not answer, and the server asked for no client certificate: read: connection reset by peer")
	// ENGINE-CVE: a refused /info leaves the authorization plugins unknown, so the
	// plugin-only advisories are not waved through as "no plugin configured".
	ans := facts.Endpoint{Address: "tcp://10.0.0.8:2375", API: facts.APIProbe{Answered: true, Status: 200, Version: "25.0.10", APIVersion: "1.44"}}
	oversized := "Docker 25.0.10: CVE-2026-34040: authorization plugins can be bypassed with oversized request bodies (incomplete fix of CVE-2024-41110); fixed in 25.0.16; " +
		"it applies with an authorization plugin that inspects request bodies"
	authz := func(fs []string) []string {
		return slices.DeleteFunc(fs, func(f string) bool { return !strings.Contains(f, "CVE-2026-34040") })
	}
	expect(t, authz(run(t, endpoints(ans), "ENGINE-CVE")), "ENGINE-CVE fail high: "+oversized)
	ans.API.InfoRead = true
	expect(t, authz(run(t, endpoints(ans), "ENGINE-CVE")), "ENGINE-CVE info high: "+oversized+"; no authorization plugin is configured")
	// The unix socket, and an address that could not be probed.
	sock := facts.Endpoint{Address: "unix:///var/run/docker.sock", API: facts.APIProbe{Answered: true, Version: "24.0.7", APIVersion: "1.43"}}
	gone := facts.Endpoint{Address: "tcp://10.0.0.9:2376", Error: "dial tcp 10.0.0.9:2376: i/o timeout"}
	got := run(t, endpoints(sock, gone), "API-UNAUTHENTICATED")
	expect(t, got,
		"AUDIT-COLLECT error medium: dial tcp 10.0.0.9:2376: i/o timeout",
		"API-UNAUTHENTICATED info critical: the unix socket answers anyone who can open it: access is its file mode and owner (see CIS-3.15 and CIS-3.16)")
}

func TestEngineAdvisories(t *testing.T) {
	for v, want := range map[string][]string{
		"27.1.1":         {"CVE-2026-33997", "CVE-2026-34040", "CVE-2026-41567", "CVE-2026-41568", "CVE-2026-42306"},
		"27.1.0":         {"CVE-2024-41110", "CVE-2026-33997", "CVE-2026-34040", "CVE-2026-41567", "CVE-2026-41568", "CVE-2026-42306"},
		"26.1.4":         {"CVE-2024-41110", "CVE-2026-33997", "CVE-2026-34040", "CVE-2026-41567", "CVE-2026-41568", "CVE-2026-42306"},
		"25.0.17":        nil,
		"29.5.1":         nil,
		"28.3.2":         {"CVE-2025-54388", "CVE-2026-33997", "CVE-2026-34040", "CVE-2026-41567", "CVE-2026-41568", "CVE-2026-42306"},
		"19.03.0":        {"CVE-2019-14271", "CVE-2021-21284", "CVE-2021-21285", "CVE-2021-41091", "CVE-2022-24769", "CVE-2022-36109", "CVE-2023-28840", "CVE-2023-28841", "CVE-2023-28842", "CVE-2024-24557", "CVE-2024-29018", "CVE-2024-36621", "CVE-2024-41110", "CVE-2026-33997", "CVE-2026-34040", "CVE-2026-41567", "CVE-2026-41568", "CVE-2026-42306", "GHSA-jq35-85cj-fj4p"},
		"20.10.24+dfsg1": {"CVE-2024-24557", "CVE-2024-29018", "CVE-2024-36621", "CVE-2024-41110", "CVE-2026-33997", "CVE-2026-34040", "CVE-2026-41567", "CVE-2026-41568", "CVE-2026-42306", "GHSA-jq35-85cj-fj4p"},
	} {
		ev, _ := engineVersion(v)
		var got []string
		for _, a := range engineAdvisories {
			if a.affects(ev) {
				id := a.CVE
				if id == "" {
					id = a.GHSA
				}
				got = append(got, id)
			}
		}
		slices.Sort(got)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", v, d)
		}
	}
	// An authorization-plugin advisory without a plugin, and Debian's backport, are info;
	// with a plugin the first is a failure.
	authz := func(fs []string) []string {
		return slices.DeleteFunc(fs, func(f string) bool { return !strings.Contains(f, "authorization plugins can be bypassed") })
	}
	snap := &facts.Snapshot{Engine: facts.Engine{Info: true, ServerVersion: "20.10.24+dfsg1"}}
	backport := "DAEMON-CVE info high: Docker 20.10.24+dfsg1: CVE-2024-41110: authorization plugins can be bypassed with a request whose Content-Length is 0; fixed in 23.0.15; " +
		"it applies with an authorization plugin that inspects request bodies; fixed by the distribution in Debian bookworm's docker.io 20.10.24+dfsg1-1+deb12u1 and later: check the installed package"
	oversized := "Docker 20.10.24+dfsg1: CVE-2026-34040: authorization plugins can be bypassed with oversized request bodies (incomplete fix of CVE-2024-41110); fixed in 25.0.16; " +
		"it applies with an authorization plugin that inspects request bodies"
	expect(t, authz(run(t, snap, "DAEMON-CVE")), backport, "DAEMON-CVE info high: "+oversized+"; no authorization plugin is configured")
	snap.Engine.AuthorizationPlugins = []string{"opa-docker-authz"}
	expect(t, authz(run(t, snap, "DAEMON-CVE")), backport, "DAEMON-CVE fail high: "+oversized)
	expect(t, run(t, &facts.Snapshot{Engine: facts.Engine{Info: true, ServerVersion: "dev"}}, "DAEMON-CVE"), `DAEMON-CVE skip high: the Engine version "dev" is not MAJOR.MINOR.PATCH`)
	expect(t, run(t, &facts.Snapshot{Engine: facts.Engine{Info: true, ServerVersion: "29.5.1"}}, "DAEMON-CVE"), "DAEMON-CVE pass high: Docker 29.5.1 has none of the 21 known Engine advisories")
}

func TestRegistryRules(t *testing.T) {
	ids := []string{"REG-TLS", "REG-ANONYMOUS-PULL", "REG-CATALOG", "REG-DELETE", "REG-AUTH", "REG-ANONYMOUS-PUSH"}
	open := facts.Registry{URL: "http://10.0.0.9:5000", V2Status: 200, Repository: "team/app", DeleteStatus: 404,
		Anonymous: facts.RegistryAccess{Catalog: true, Repositories: []string{"team/app"}, PullTried: true, Pull: true, PushTried: true, Push: true}}
	expect(t, run(t, &facts.Snapshot{Registries: []facts.Registry{open}}, ids...),
		"REG-TLS fail high: the registry is served over plain HTTP",
		"REG-ANONYMOUS-PULL fail high: anyone can pull team/app",
		"REG-CATALOG fail medium: anyone can list the repositories",
		"REG-DELETE fail medium: manifest deletion is enabled",
		"REG-AUTH skip high: the registry asks for no credentials (see REG-ANONYMOUS-PULL)",
		"REG-ANONYMOUS-PUSH fail critical: anyone can push to team/app")
	secure := facts.Registry{URL: "https://registry.internal:5000", TLS: modernTLS(), V2Status: 401, AuthScheme: "Basic", AuthRealm: "registry",
		Repository: "dockaudit/probe", DeleteStatus: 405, Anonymous: facts.RegistryAccess{PullTried: true, PullStatus: 401, CatalogStatus: 401},
		Authenticated: &facts.RegistryAccess{Catalog: true, PullTried: true, Pull: true}, Identity: "alice"}
	secure.TLS.Suites[1].Accepted = false
	secure.TLS.Cert.DialledName = "registry.internal"
	expect(t, run(t, &facts.Snapshot{Registries: []facts.Registry{secure}}, ids...),
		"REG-TLS pass high: HTTPS, TLS 1.2, TLS 1.3, certificate valid until 2027-11-26",
		"REG-ANONYMOUS-PULL info high: alice can: list the catalog, pull",
		"REG-ANONYMOUS-PULL pass high: the registry asks for credentials (Basic); an anonymous pull of dockaudit/probe was refused",
		"REG-CATALOG pass medium: the catalog needs credentials",
		"REG-DELETE pass medium: manifest deletion is disabled",
		"REG-AUTH pass high: Basic authentication over HTTPS",
		"REG-ANONYMOUS-PUSH skip critical: push was not probed (dockaudit registry --probe-push opens an upload session and cancels it)")
	token := facts.Registry{URL: "http://10.0.0.9:5001", V2Status: 401, AuthScheme: "Bearer", AuthRealm: "http://auth.internal/token", DeleteStatus: 401}
	expect(t, run(t, &facts.Snapshot{Registries: []facts.Registry{token}}, "REG-AUTH", "REG-DELETE"),
		"REG-DELETE pass medium: deletion needs credentials (401); whether it is enabled was not probed further",
		"REG-AUTH fail high: the token realm is plain HTTP: credentials go to http://auth.internal/token in clear")

	// The catalog passes on a refusal only; what was not read is an error or a warning.
	for _, tc := range []struct {
		a    facts.RegistryAccess
		want string
	}{
		{facts.RegistryAccess{CatalogStatus: 200, CatalogError: "200 answer larger than 1048576 bytes"}, "REG-CATALOG error medium: the catalog was not read: 200 answer larger than 1048576 bytes"},
		{facts.RegistryAccess{CatalogError: "no complete answer within --timeout 3s"}, "REG-CATALOG error medium: the catalog was not read: no complete answer within --timeout 3s"},
		{facts.RegistryAccess{CatalogStatus: 302}, "REG-CATALOG warn medium: GET /v2/_catalog answered 302, neither the catalog nor a refusal: whether it needs credentials is not known"},
		{facts.RegistryAccess{CatalogStatus: 404}, "REG-CATALOG warn medium: GET /v2/_catalog answered 404, neither the catalog nor a refusal: whether it needs credentials is not known"},
		{facts.RegistryAccess{CatalogStatus: 403}, "REG-CATALOG pass medium: the catalog needs credentials"},
		{facts.RegistryAccess{}, "REG-CATALOG skip medium: the catalog probe did not run"},
	} {
		reg := token
		reg.Anonymous = tc.a
		expect(t, run(t, &facts.Snapshot{Registries: []facts.Registry{reg}}, "REG-CATALOG"), tc.want)
	}
	// Credentials held back are an error of the pull rule; the anonymous verdict stays.
	held := token
	held.Identity, held.AuthError = "alice", "the token realm http://auth.internal/token is plain HTTP while the registry is HTTPS: the password would cross the network in clear, so it was not sent"
	held.DeleteStatus, held.DeleteError = 0, "no complete answer within --timeout 3s"
	expect(t, run(t, &facts.Snapshot{Registries: []facts.Registry{held}}, "REG-ANONYMOUS-PULL", "REG-DELETE"),
		"REG-ANONYMOUS-PULL error high: the credentials of alice were not probed: the token realm http://auth.internal/token is plain HTTP while the registry is HTTPS: the password would cross the network in clear, so it was not sent",
		"REG-ANONYMOUS-PULL skip high: the registry asks for credentials (Bearer); an anonymous pull was not probed",
		"REG-DELETE error medium: the delete probe got no answer: no complete answer within --timeout 3s")

	// Pull and push pass only on a refusal of the probe itself (found in review: a
	// failing tag list, or a 500 to the upload, passed).
	for _, tc := range []struct {
		a    facts.RegistryAccess
		want []string
	}{
		{facts.RegistryAccess{PullTried: true, PullStatus: 500, PushTried: true, PushStatus: 500}, []string{
			"REG-ANONYMOUS-PULL warn high: the anonymous pull of team/app answered 500, neither the manifest nor a refusal",
			"REG-ANONYMOUS-PUSH warn critical: the anonymous upload answered 500, neither a session nor a refusal"}},
		{facts.RegistryAccess{PullTried: true, PullError: "no complete answer within --timeout 3s", PushTried: true, PushError: "connection reset"}, []string{
			"REG-ANONYMOUS-PULL error high: the anonymous pull probe got no answer: no complete answer within --timeout 3s",
			"REG-ANONYMOUS-PUSH error critical: the anonymous push probe got no answer: connection reset"}},
		{facts.RegistryAccess{PullTried: true, PullStatus: 404, PushTried: true, PushStatus: 202, Push: true, PushError: "the upload session could not be cancelled: its Location points elsewhere (@evil/x)"}, []string{
			"REG-ANONYMOUS-PULL skip high: the registry asks for credentials (Basic), but team/app has no manifest to pull, so an anonymous pull was not shown refused (name a repository with --repository)",
			"REG-ANONYMOUS-PUSH fail critical: anyone can push to team/app; the upload session could not be cancelled: its Location points elsewhere (@evil/x)"}},
	} {
		reg := facts.Registry{URL: "https://registry.internal", TLS: modernTLS(), V2Status: 401, AuthScheme: "Basic", Repository: "team/app", Anonymous: tc.a}
		expect(t, run(t, &facts.Snapshot{Registries: []facts.Registry{reg}}, "REG-ANONYMOUS-PULL", "REG-ANONYMOUS-PUSH"), tc.want...)
	}
}

func TestHostRules(t *testing.T) {
	ca := goodCert()
	ca.Path, ca.IsCA, ca.ExtKeyUsage = "/etc/docker/tls/ca.pem", true, nil
	server := goodCert()
	server.Path, server.NotAfter = "/etc/docker/tls/server-cert.pem", now.AddDate(0, 0, 10)
	snap := &facts.Snapshot{HostAccess: facts.HostAccess{Local: true}, Daemon: &facts.DaemonProcess{TLSMaterial: &facts.TLSMaterial{CA: ca, Server: server,
		CAKeys: []string{"/etc/docker/tls/ca-key.pem"}}},
		Engine: facts.Engine{Info: true, ServerVersion: "29.0.0", RegistryMirrors: []string{"https://mirror.internal", "http://10.0.0.3:5000"}},
		Client: &facts.Client{DockerHost: "tcp://10.0.0.5:2375", Config: &facts.ClientConfig{Path: "/root/.docker/config.json", PlaintextAuths: []string{"registry.internal:5000"}}}}
	expect(t, run(t, snap, "TLS-MATERIAL", "REG-MIRROR-HTTP", "CLIENT-PLAIN-TCP", "CLIENT-CREDENTIALS"),
		"TLS-MATERIAL fail high: the CA private key /etc/docker/tls/ca-key.pem is on the daemon host: whoever reads it can mint client certificates",
		"TLS-MATERIAL warn medium: the server certificate expires in 10 days (2026-12-06)",
		"REG-MIRROR-HTTP fail medium: registry mirror http://10.0.0.3:5000 is plain HTTP",
		"CLIENT-PLAIN-TCP fail high: DOCKER_HOST=tcp://10.0.0.5:2375 without DOCKER_TLS_VERIFY",
		"CLIENT-CREDENTIALS fail medium: /root/.docker/config.json holds credentials for registry.internal:5000 in the file itself")
	snap.Daemon.TLSMaterial.CAKeys = nil
	snap.Daemon.TLSMaterial.Server.NotAfter = now.AddDate(1, 0, 0)
	snap.Client = &facts.Client{DockerHost: "tcp://10.0.0.5:2376", TLSVerify: "1", Config: &facts.ClientConfig{Path: "/root/.docker/config.json", CredsStore: "pass", PlaintextAuths: []string{}}}
	expect(t, run(t, snap, "TLS-MATERIAL", "CLIENT-PLAIN-TCP", "CLIENT-CREDENTIALS"),
		"TLS-MATERIAL pass high: CA ECDSA until 2027-11-26; server ECDSA 256 until 2027-11-26; no CA key beside the CA certificate",
		"CLIENT-PLAIN-TCP pass high: DOCKER_HOST=tcp://10.0.0.5:2376 with DOCKER_TLS_VERIFY",
		"CLIENT-CREDENTIALS pass medium: credentials go to the pass credential store")
	// A CA whose extended key usage lists serverAuth and clientAuth (cfssl does) is
	// fine; unreadable files are reported in path order.
	snap.Daemon.TLSMaterial.CA.ExtKeyUsage = []string{"serverAuth", "clientAuth"}
	snap.Daemon.TLSMaterial.Errors = map[string]string{"/etc/docker/tls/z.pem": "permission denied", "/etc/docker/tls/a.pem": "no PEM certificate"}
	expect(t, run(t, snap, "TLS-MATERIAL"),
		"TLS-MATERIAL warn high: cannot read /etc/docker/tls/a.pem: no PEM certificate",
		"TLS-MATERIAL warn high: cannot read /etc/docker/tls/z.pem: permission denied")
}

// TestClientContext: with a named docker context, its endpoint and TLS decide
// CLIENT-PLAIN-TCP; DOCKER_TLS_VERIFY does not apply to it.
func TestClientContext(t *testing.T) {
	snap := &facts.Snapshot{HostAccess: facts.HostAccess{Local: true}}
	for _, tt := range []struct {
		c    facts.Client
		want string
	}{
		{facts.Client{Context: "prod", DockerHost: "tcp://10.0.0.5:2375", ContextTLS: "none", TLSVerify: ""},
			"CLIENT-PLAIN-TCP fail high: docker context prod reaches tcp://10.0.0.5:2375 without TLS"},
		{facts.Client{Context: "prod", DockerHost: "tcp://10.0.0.5:2376", ContextTLS: "unverified"},
			"CLIENT-PLAIN-TCP fail medium: docker context prod reaches tcp://10.0.0.5:2376 over TLS without verifying the server (SkipTLSVerify)"},
		{facts.Client{Context: "prod", DockerHost: "tcp://10.0.0.5:2376", ContextTLS: "verified"},
			"CLIENT-PLAIN-TCP pass high: docker context prod reaches tcp://10.0.0.5:2376 over verified TLS"},
		{facts.Client{Context: "build", DockerHost: "ssh://ops@build-1", ContextTLS: "none"},
			"CLIENT-PLAIN-TCP pass high: docker context build's endpoint is not plain TCP"},
		// A facts file with a context but no TLS state is not a pass.
		{facts.Client{Context: "prod", DockerHost: "tcp://10.0.0.5:2376"},
			"CLIENT-PLAIN-TCP skip high: docker context prod's TLS was not recorded"},
	} {
		c := tt.c
		snap.Client = &c
		expect(t, run(t, snap, "CLIENT-PLAIN-TCP"), tt.want)
	}
}

// TestClientConfigNotRead (found in review): an unreadable config.json is not "no
// configuration".
func TestClientConfigNotRead(t *testing.T) {
	snap := &facts.Snapshot{HostAccess: facts.HostAccess{Local: true}, Client: &facts.Client{Config: &facts.ClientConfig{Path: "/root/.docker/config.json", Error: "/root/.docker/config.json is larger than 4 MiB"}}}
	expect(t, run(t, snap, "CLIENT-CREDENTIALS"), "CLIENT-CREDENTIALS skip medium: the docker CLI configuration /root/.docker/config.json could not be read: /root/.docker/config.json is larger than 4 MiB")
}
