package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/dockaudit/dockaudit/internal/certs"
	"github.com/dockaudit/dockaudit/internal/report"
	"github.com/dockaudit/dockaudit/internal/testenv"
)

// linkFindings lists a report's findings of the given rules as "RULE status severity: message".
func linkFindings(rep *report.Report, rules ...string) []string {
	var out []string
	for _, f := range rep.Findings {
		if slices.Contains(rules, f.Rule) {
			out = append(out, fmt.Sprintf("%s %s %s: %s", f.Rule, f.Status, f.Severity, f.Message))
		}
	}
	return out
}

func decode(t *testing.T, r result) *report.Report {
	t.Helper()
	var rep report.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("exit %d, not a report: %v\n%s\n%s", r.code, err, r.stdout, r.stderr)
	}
	return &rep
}

// makeCerts runs dockaudit certs for localhost and 127.0.0.1.
func makeCerts(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tls")
	if r := dockaudit(t, nil, "certs", "--out", dir, "--dns", "localhost", "--ip", "127.0.0.1"); r.code != 0 {
		t.Fatalf("certs: exit %d: %s", r.code, r.stderr)
	}
	return dir
}

var endpointRules = []string{"API-UNAUTHENTICATED", "TLS-ENABLED", "TLS-CLIENT-AUTH", "TLS-VERSIONS", "TLS-CIPHERS", "TLS-CERT"}

// TestEndpointConfigurations probes a second dockerd, in its own network namespace,
// in each TLS configuration, and checks every finding.
func TestEndpointConfigurations(t *testing.T) {
	need(t)
	tlsDir := makeCerts(t)
	f := func(n string) string { return filepath.Join(tlsDir, n) }
	// Docker 20.10 (go-connections' defaults) still takes the ECDHE CBC-SHA suites; with
	// an ECDSA certificate, the ECDSA ones.
	cbc := "TLS-CIPHERS info high: accepts CBC suites with SHA-1 MACs (legacy, not broken): TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"

	t.Run("plain TCP", func(t *testing.T) {
		_, sock := secondDaemon(t, "{}", "-H", "tcp://127.0.0.1:2375")
		rep := decode(t, inNetNS(t, "endpoint", "-f", "json", "--exclude", "ENGINE-CVE", "tcp://127.0.0.1:2375"))
		want := []string{
			"API-UNAUTHENTICATED fail critical: the Engine API answers anyone over plain TCP",
			"TLS-ENABLED fail medium: the daemon listens on tcp://127.0.0.1:2375 without TLS",
			"TLS-CLIENT-AUTH skip high: no TLS (see TLS-ENABLED)",
			"TLS-VERSIONS skip high: no TLS to probe", "TLS-CIPHERS skip high: no TLS to probe", "TLS-CERT skip high: no server certificate was seen",
		}
		if got := linkFindings(rep, endpointRules...); !slices.Equal(want, got) {
			t.Errorf("endpoint:\n got %q\nwant %q", got, want)
		}
		// dockaudit host, outside the namespace, probes the listener from the
		// daemon's own namespace.
		hostRep := jsonReport(t, []string{"DOCKER_HOST=unix://" + sock}, "host", "--include", "API-UNAUTHENTICATED,TLS-ENABLED")
		got := linkFindings(hostRep, "API-UNAUTHENTICATED", "TLS-ENABLED")
		want = []string{"API-UNAUTHENTICATED fail critical: the Engine API answers anyone over plain TCP",
			"TLS-ENABLED fail medium: the daemon listens on tcp://127.0.0.1:2375 without TLS"}
		if !slices.Equal(want, got) {
			t.Errorf("host:\n got %q\nwant %q", got, want)
		}
	})

	t.Run("TLS without client verification", func(t *testing.T) {
		secondDaemon(t, "{}", "-H", "tcp://127.0.0.1:2376", "--tls", "--tlsverify=false", "--tlscert", f("server-cert.pem"), "--tlskey", f("server-key.pem"))
		rep := decode(t, inNetNS(t, "endpoint", "-f", "json", "--exclude", "ENGINE-CVE", "--tlscacert", f("ca.pem"), "tcp://127.0.0.1:2376"))
		got := linkFindings(rep, endpointRules...)
		want := []string{
			"API-UNAUTHENTICATED fail critical: the Engine API answers anyone over TLS: no client certificate is required",
			"TLS-ENABLED pass high: TLS on tcp://127.0.0.1:2376",
			"TLS-CLIENT-AUTH fail high: the daemon does not ask for a client certificate",
			"TLS-VERSIONS pass high: accepts TLS 1.2, TLS 1.3",
			cbc,
			"TLS-CERT pass high: ECDSA 256-bit, ECDSA-SHA256, valid until " + time.Now().AddDate(0, 0, 365).UTC().Format("2006-01-02") + ", names 127.0.0.1",
		}
		if !slices.Equal(want, got) {
			t.Errorf("\n got %q\nwant %q", got, want)
		}
	})

	t.Run("mutual TLS from dockaudit certs", func(t *testing.T) {
		_, sock := secondDaemon(t, "{}", "-H", "tcp://127.0.0.1:2376", "--tlsverify", "--tlscacert", f("ca.pem"), "--tlscert", f("server-cert.pem"), "--tlskey", f("server-key.pem"))
		// dockaudit host reads the daemon's TLS files (dockaudit certs left the CA key
		// beside them, as its output warns) and probes its listener.
		hostRep := jsonReport(t, []string{"DOCKER_HOST=unix://" + sock}, "host", "--include", "TLS-MATERIAL,TLS-CLIENT-AUTH")
		wantHost := []string{
			"TLS-MATERIAL fail high: the CA private key " + f("ca-key.pem") + " is on the daemon host: whoever reads it can mint client certificates",
			"TLS-CLIENT-AUTH pass high: a client certificate is required",
		}
		if got := linkFindings(hostRep, "TLS-MATERIAL", "TLS-CLIENT-AUTH"); !slices.Equal(wantHost, got) {
			t.Errorf("host:\n got %q\nwant %q", got, wantHost)
		}
		r := inNetNS(t, "endpoint", "-f", "json", "--tlscacert", f("ca.pem"), "--tlscert", f("cert.pem"), "--tlskey", f("key.pem"), "tcp://127.0.0.1:2376")
		rep := decode(t, r)
		got := linkFindings(rep, endpointRules...)
		want := []string{
			"API-UNAUTHENTICATED pass critical: the API did not answer without a client certificate",
			"TLS-ENABLED pass high: TLS on tcp://127.0.0.1:2376",
			"TLS-CLIENT-AUTH pass high: a client certificate is required",
			"TLS-VERSIONS pass high: accepts TLS 1.2, TLS 1.3",
			cbc,
			"TLS-CERT pass high: ECDSA 256-bit, ECDSA-SHA256, valid until " + time.Now().AddDate(0, 0, 365).UTC().Format("2006-01-02") + ", names 127.0.0.1",
		}
		if !slices.Equal(want, got) {
			t.Errorf("\n got %q\nwant %q", got, want)
		}
		// With the client certificate the Engine version is read and judged.
		if cve := linkFindings(rep, "ENGINE-CVE"); len(cve) == 0 || !strings.Contains(cve[0], "Docker 20.10.24") {
			t.Errorf("ENGINE-CVE: %q", cve)
		}
		// The set from dockaudit certs passes: nothing fails or warns but the Engine's own age.
		if r := inNetNS(t, "endpoint", "--exclude", "ENGINE-CVE", "--fail-on", "low", "--tlscacert", f("ca.pem"), "tcp://127.0.0.1:2376"); r.code != 0 {
			t.Errorf("dockaudit certs' set: exit %d\n%s", r.code, r.stdout)
		}
	})

	t.Run("expired server certificate", func(t *testing.T) {
		old := filepath.Join(t.TempDir(), "old")
		if err := certs.Generate(certs.Options{Dir: old, DNSNames: []string{"localhost"}, IPs: []net.IP{net.ParseIP("127.0.0.1")},
			Now: time.Now().AddDate(-1, 0, 0), Days: 30}); err != nil {
			t.Fatal(err)
		}
		g := func(n string) string { return filepath.Join(old, n) }
		secondDaemon(t, "{}", "-H", "tcp://127.0.0.1:2376", "--tlsverify", "--tlscacert", g("ca.pem"), "--tlscert", g("server-cert.pem"), "--tlskey", g("server-key.pem"))
		rep := decode(t, inNetNS(t, "endpoint", "-f", "json", "--include", "TLS-CERT", "--tlscacert", g("ca.pem"), "tcp://127.0.0.1:2376"))
		got := linkFindings(rep, "TLS-CERT")
		// The chain verifies but for the expiry, which is reported once.
		if len(got) != 1 || got[0] != "TLS-CERT fail high: the server certificate expired on "+time.Now().AddDate(-1, 0, 30).UTC().Format("2006-01-02") {
			t.Errorf("%q", got)
		}
	})
}

// registryServer runs Debian's docker-registry with a configuration on a free
// loopback port and returns its address.
func registryServer(t *testing.T, config func(addr, dir string) string) string {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		testenv.Missing(t, "no docker-registry (apt-get install docker-registry)")
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yml")
	os.WriteFile(cfg, []byte(config(addr, dir)), 0o644)
	cmd := exec.Command(bin, "serve", cfg)
	log, _ := os.Create(filepath.Join(dir, "registry.log"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); log.Close() })
	for i := 0; i < 100; i++ {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			return addr
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "registry.log"))
	t.Fatalf("docker-registry did not start:\n%s", b)
	return ""
}

var registryRules = []string{"REG-TLS", "REG-ANONYMOUS-PULL", "REG-CATALOG", "REG-DELETE", "REG-AUTH", "REG-ANONYMOUS-PUSH"}

// tree lists every file under dir with its size: the registry's storage, to see that
// a probe changed nothing.
func tree(t *testing.T, dir string) []string {
	var out []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil {
			out = append(out, fmt.Sprintf("%s %d %v", strings.TrimPrefix(p, dir), fi.Size(), fi.IsDir()))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// TestRegistryConfigurations probes Debian's docker-registry in three
// configurations and checks every finding.
func TestRegistryConfigurations(t *testing.T) {
	need(t)
	tlsDir := makeCerts(t)
	f := func(n string) string { return filepath.Join(tlsDir, n) }

	t.Run("open, over HTTP, delete enabled", func(t *testing.T) {
		var storage string
		addr := registryServer(t, func(addr, dir string) string {
			storage = filepath.Join(dir, "data")
			return fmt.Sprintf("version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n", storage, addr)
		})
		tag := "dockaudit-it-busybox:regprobe"
		image(t, tag)
		pushAs(t, tag, addr+"/team/app:1")
		before := tree(t, storage)
		rep := decode(t, dockaudit(t, nil, "registry", "-f", "json", "--probe-push", "http://"+addr))
		want := []string{
			"REG-TLS fail medium: the registry is served over plain HTTP",
			"REG-ANONYMOUS-PULL fail high: anyone can pull team/app",
			"REG-CATALOG fail medium: anyone can list the repositories",
			"REG-DELETE fail medium: manifest deletion is enabled",
			"REG-AUTH skip high: the registry asks for no credentials (see REG-ANONYMOUS-PULL)",
			"REG-ANONYMOUS-PUSH fail critical: anyone can push to team/app",
		}
		if got := linkFindings(rep, registryRules...); !slices.Equal(want, got) {
			t.Errorf("\n got %q\nwant %q", got, want)
		}
		// Repositories, tags, manifests and blobs are as they were. The cancelled
		// upload session leaves only distribution's own hash-state file in _uploads,
		// which its upload purging removes (distribution 2.8 writes it on cancel).
		after := tree(t, storage)
		var added []string
		for _, e := range after {
			if !slices.Contains(before, e) {
				added = append(added, e)
			}
		}
		for _, e := range added {
			if !strings.Contains(e, "/_uploads/") || !(strings.Contains(e, "/hashstates") || strings.HasSuffix(e, " true")) {
				t.Errorf("the probes changed the registry's storage: %s", e)
			}
		}
		for _, e := range before {
			if !slices.Contains(after, e) {
				t.Errorf("the probes removed %s", e)
			}
		}
	})

	t.Run("TLS, htpasswd, delete disabled", func(t *testing.T) {
		hash, _ := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
		addr := registryServer(t, func(addr, dir string) string {
			os.WriteFile(filepath.Join(dir, "htpasswd"), []byte("alice:"+string(hash)+"\n"), 0o600)
			return fmt.Sprintf("version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: false\nhttp:\n  addr: %s\n  tls:\n    certificate: %s\n    key: %s\n    minimumtls: tls1.2\nauth:\n  htpasswd:\n    realm: dockaudit-test\n    path: %s\n",
				filepath.Join(dir, "data"), addr, f("server-cert.pem"), f("server-key.pem"), filepath.Join(dir, "htpasswd"))
		})
		cmd := exec.Command(binary, "registry", "-f", "json", "--tlscacert", f("ca.pem"), "--username", "alice", "--password-stdin", "https://"+addr)
		cmd.Stdin = strings.NewReader("s3cret\n")
		out, _ := cmd.Output()
		rep := decode(t, result{stdout: string(out)})
		got := linkFindings(rep, registryRules...)
		wantPrefix := []string{
			"REG-TLS ",
			"REG-ANONYMOUS-PULL info high: alice can: list the catalog",
			"REG-ANONYMOUS-PULL pass high: the registry asks for credentials (Basic)",
			"REG-CATALOG pass medium: the catalog needs credentials",
			"REG-DELETE pass medium: manifest deletion is disabled",
			"REG-AUTH pass high: Basic authentication over HTTPS",
			"REG-ANONYMOUS-PUSH skip critical: push was not probed",
		}
		if len(got) != len(wantPrefix) {
			t.Fatalf("got %q", got)
		}
		for i, w := range wantPrefix {
			if !strings.HasPrefix(got[i], w) {
				t.Errorf("finding %d: %q, want %q…", i, got[i], w)
			}
		}
		if !strings.HasPrefix(got[0], "REG-TLS pass high: HTTPS, TLS 1.2, TLS 1.3") && !strings.HasPrefix(got[0], "REG-TLS info high: accepts CBC suites") {
			t.Errorf("REG-TLS: %q", got[0])
		}
	})

	t.Run("token auth with an HTTP realm", func(t *testing.T) {
		addr := registryServer(t, func(addr, dir string) string {
			return fmt.Sprintf("version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\nauth:\n  token:\n    realm: http://127.0.0.1:1/token\n    service: dockaudit-test\n    issuer: dockaudit-test\n    rootcertbundle: %s\n",
				filepath.Join(dir, "data"), addr, f("ca.pem"))
		})
		rep := decode(t, dockaudit(t, nil, "registry", "-f", "json", "http://"+addr))
		got := linkFindings(rep, "REG-ANONYMOUS-PULL", "REG-AUTH", "REG-CATALOG")
		want := []string{
			"REG-ANONYMOUS-PULL pass high: the registry asks for credentials (Bearer); an anonymous pull of dockaudit/probe was refused",
			"REG-CATALOG pass medium: the catalog needs credentials",
			"REG-AUTH fail high: the token realm is plain HTTP: credentials go to http://127.0.0.1:1/token in clear",
		}
		if !slices.Equal(want, got) {
			t.Errorf("\n got %q\nwant %q", got, want)
		}
	})

	// A registry on verified HTTPS whose token realm is plain HTTP: neither dockaudit
	// registry nor dockaudit image sends the password there; the realm sees no
	// Authorization, and the anonymous findings stay in the report.
	t.Run("verified TLS with a plain-HTTP realm", func(t *testing.T) {
		var mu sync.Mutex
		var seen []string
		realm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen = append(seen, r.Header.Get("Authorization"))
			mu.Unlock()
			w.WriteHeader(http.StatusUnauthorized)
		}))
		defer realm.Close()
		addr := registryServer(t, func(addr, dir string) string {
			return fmt.Sprintf("version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n  tls:\n    certificate: %s\n    key: %s\nauth:\n  token:\n    realm: %s/token\n    service: dockaudit-test\n    issuer: dockaudit-test\n    rootcertbundle: %s\n",
				filepath.Join(dir, "data"), addr, f("server-cert.pem"), f("server-key.pem"), realm.URL, f("ca.pem"))
		})
		cmd := exec.Command(binary, "registry", "-f", "json", "--tlscacert", f("ca.pem"), "--username", "alice", "--password-stdin", "https://"+addr)
		cmd.Stdin = strings.NewReader("s3cret\n")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Errorf("registry: %v", err)
		}
		held := "the token realm " + realm.URL + "/token is plain HTTP while the registry is HTTPS: the password would cross the network in clear, so it was not sent"
		if want := "dockaudit registry: https://" + addr + ": the credentials of alice were not probed: " + held + "\n"; stderr.String() != want {
			t.Errorf("stderr %q\nwant   %q", stderr.String(), want)
		}
		got := linkFindings(decode(t, result{stdout: string(out)}), "REG-ANONYMOUS-PULL", "REG-AUTH")
		want := []string{
			"REG-ANONYMOUS-PULL error high: the credentials of alice were not probed: " + held,
			"REG-ANONYMOUS-PULL pass high: the registry asks for credentials (Bearer); an anonymous pull of dockaudit/probe was refused",
			"REG-AUTH fail high: the token realm is plain HTTP: credentials go to " + realm.URL + "/token in clear",
		}
		if !slices.Equal(want, got) {
			t.Errorf("\n got %q\nwant %q", got, want)
		}
		// dockaudit image with the password in DOCKER_CONFIG (--insecure, as the test CA
		// is not in the system roots: it does not cover the realm).
		cfg := t.TempDir()
		os.WriteFile(filepath.Join(cfg, "config.json"), []byte(`{"auths":{"`+addr+`":{"auth":"YWxpY2U6czNjcmV0"}}}`), 0o600)
		r := dockaudit(t, []string{"DOCKER_CONFIG=" + cfg}, "image", "--insecure", "registry:"+addr+"/team/app:1")
		if r.code != 1 || !strings.Contains(r.stderr, held) {
			t.Errorf("image: exit %d, stderr %q", r.code, r.stderr)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, h := range seen {
			if h != "" {
				t.Errorf("the plain-HTTP realm was sent %q", h)
			}
		}
	})

	// An address where nothing listens: one line, exit 1, quickly.
	r := dockaudit(t, nil, "registry", "--timeout", "1s", "https://127.0.0.1:1")
	if r.code != 1 || r.stderr != "dockaudit registry: https://127.0.0.1:1: dial tcp 127.0.0.1:1: connect: connection refused\n" {
		t.Errorf("refused: exit %d, %q", r.code, r.stderr)
	}
}
