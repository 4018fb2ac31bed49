package engine

import (
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dockaudit/dockaudit/internal/certs"
)

// writeContext writes a context the way the docker CLI's store does.
func writeContext(t *testing.T, dir, name, meta string) string {
	t.Helper()
	d := filepath.Join(dir, "contexts", "meta", contextDigest(name))
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, "meta.json"), []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "contexts", "tls", contextDigest(name), "docker")
}

// TestResolve: the docker CLI's order: --context, --host, DOCKER_HOST,
// DOCKER_CONTEXT, config.json's currentContext, the default socket.
func TestResolve(t *testing.T) {
	dir := t.TempDir()
	// The digest is the CLI's: sha256 of the name (docker context create other).
	if d := contextDigest("other"); d != "d9298a10d1b0735837dc4bd85dac641b0f3cef27a47e5d53a54f2f3f5b2fcffa" {
		t.Fatal(d)
	}
	writeContext(t, dir, "other", `{"Name":"other","Metadata":{},"Endpoints":{"docker":{"Host":"tcp://10.0.0.7:2375","SkipTLSVerify":false}}}`)
	writeContext(t, dir, "remote", `{"Name":"remote","Metadata":{},"Endpoints":{"docker":{"Host":"ssh://ops@build-1","SkipTLSVerify":false}}}`)
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"auths":{},"currentContext":"remote"}`), 0o600)
	envOf := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tt := range []struct {
		name          string
		l             Lookup
		host, ctx, by string
	}{
		{"current context", Lookup{}, "ssh://ops@build-1", "remote", "the current context in " + filepath.Join(dir, "config.json")},
		{"DOCKER_CONTEXT", Lookup{Getenv: envOf(map[string]string{"DOCKER_CONTEXT": "other"})}, "tcp://10.0.0.7:2375", "other", "DOCKER_CONTEXT"},
		{"DOCKER_HOST wins over DOCKER_CONTEXT", Lookup{Getenv: envOf(map[string]string{"DOCKER_CONTEXT": "other", "DOCKER_HOST": "unix:///run/d.sock"})}, "unix:///run/d.sock", "", "DOCKER_HOST"},
		{"--host", Lookup{HostFlag: "tcp://1.2.3.4:2376", Getenv: envOf(map[string]string{"DOCKER_HOST": "unix:///run/d.sock"})}, "tcp://1.2.3.4:2376", "", "--host"},
		{"--context wins over DOCKER_HOST", Lookup{ContextFlag: "other", Getenv: envOf(map[string]string{"DOCKER_HOST": "unix:///run/d.sock"})}, "tcp://10.0.0.7:2375", "other", "--context"},
		// The default context is DOCKER_HOST when set, as in the docker CLI (found in review).
		{"--context default", Lookup{ContextFlag: "default", Getenv: envOf(map[string]string{"DOCKER_HOST": "unix:///run/d.sock"})}, "unix:///run/d.sock", "default", "--context"},
		{"--context default alone", Lookup{ContextFlag: "default"}, "", "default", "--context"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.l.ConfigDir = dir
			env, err := Resolve(tt.l)
			if err != nil || env.Host != tt.host || env.Context != tt.ctx || env.From != tt.by {
				t.Errorf("got host %q context %q from %q, %v; want %q %q %q", env.Host, env.Context, env.From, err, tt.host, tt.ctx, tt.by)
			}
		})
	}
	// No config.json, nothing set: the default socket.
	if env, err := Resolve(Lookup{ConfigDir: t.TempDir()}); err != nil || env.Host != "" || env.From != "the default socket" {
		t.Errorf("default: %+v %v", env, err)
	}
	for _, tt := range []struct {
		l    Lookup
		want string
	}{
		{Lookup{ContextFlag: "gone", ConfigDir: dir}, `context "gone" (from --context) does not exist in ` + filepath.Join(dir, "contexts") + " (docker context ls lists them)"},
		{Lookup{ContextFlag: "other", HostFlag: "tcp://x:1", ConfigDir: dir}, "--host and --context both name a daemon: give one"},
		{Lookup{ContextFlag: "../x", ConfigDir: dir}, `context "../x" (from --context) is not a valid context name`},
	} {
		if _, err := Resolve(tt.l); err == nil || err.Error() != tt.want {
			t.Errorf("%+v: %v\nwant %s", tt.l, err, tt.want)
		}
	}
	// A config.json that cannot be parsed: the docker CLI warns and takes the default
	// context; so does this, with a note.
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "config.json"), []byte(`{"currentContext":`), 0o600)
	env, err := Resolve(Lookup{ConfigDir: bad})
	if err != nil || env.Host != "" || !strings.HasPrefix(env.Note, "the docker CLI configuration "+filepath.Join(bad, "config.json")+" does not parse (") ||
		!strings.HasSuffix(env.Note, "): the default context was assumed, as the docker CLI does") {
		t.Errorf("bad config.json: %+v %v", env, err)
	}
}

// TestContextTLS: a context's TLS material is used as the docker CLI uses it, and
// DOCKER_TLS_VERIFY does not apply to it.
func TestContextTLS(t *testing.T) {
	dir := t.TempDir()
	tlsDir := writeContext(t, dir, "secure", `{"Name":"secure","Endpoints":{"docker":{"Host":"tcp://10.0.0.8"}}}`)
	gen := t.TempDir()
	if err := certs.Generate(certs.Options{Dir: gen, IPs: []net.IP{net.ParseIP("10.0.0.8")}}); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(tlsDir, 0o700)
	for _, f := range []string{"ca.pem", "cert.pem", "key.pem"} {
		b, _ := os.ReadFile(filepath.Join(gen, f))
		os.WriteFile(filepath.Join(tlsDir, f), b, 0o600)
	}
	env, err := Resolve(Lookup{ContextFlag: "secure", ConfigDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(env)
	if err != nil || !c.TLS || c.base != "https://10.0.0.8:2376" {
		t.Fatalf("TLS context: %+v %v", c, err)
	}
	if conf := c.http.Transport.(*http.Transport).TLSClientConfig; conf.InsecureSkipVerify || conf.RootCAs == nil || len(conf.Certificates) != 1 {
		t.Errorf("TLS context: skip verify %v, CA %v, %d client certificates", conf.InsecureSkipVerify, conf.RootCAs != nil, len(conf.Certificates))
	}
	plain := t.TempDir()
	writeContext(t, plain, "plain", `{"Name":"plain","Endpoints":{"docker":{"Host":"tcp://10.0.0.9"}}}`)
	env, _ = Resolve(Lookup{ContextFlag: "plain", ConfigDir: plain, Getenv: func(k string) string {
		if k == "DOCKER_TLS_VERIFY" {
			return "1"
		}
		return ""
	}})
	if c, err := New(env); err != nil || c.TLS || c.base != "http://10.0.0.9:2375" {
		t.Errorf("a context without TLS material is plain TCP whatever DOCKER_TLS_VERIFY says: %+v %v", c, err)
	}
}

func TestSSHArgs(t *testing.T) {
	for host, want := range map[string][]string{
		"ssh://box":              {"-o", "ConnectTimeout=30", "-T", "--", "box", "docker", "system", "dial-stdio"},
		"ssh://ops@10.1.2.3:22":  {"-o", "ConnectTimeout=30", "-T", "-l", "ops", "-p", "22", "--", "10.1.2.3", "docker", "system", "dial-stdio"},
		"ssh://-oProxyCommand=x": {"-o", "ConnectTimeout=30", "-T", "--", "-oProxyCommand=x", "docker", "system", "dial-stdio"},
	} {
		u, _ := url.Parse(host)
		got, err := sshArgs(u)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: %q %v", host, got, err)
		}
	}
}
