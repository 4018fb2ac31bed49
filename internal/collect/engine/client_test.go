package engine

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockaudit/dockaudit/internal/facts"
)

func serveUnix(t *testing.T, h http.Handler) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return sock
}

func TestNegotiateAndGet(t *testing.T) {
	var paths []string
	sock := serveUnix(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.Method+" "+r.URL.Path)
		switch r.URL.Path {
		case "/_ping":
			w.Header().Set("Api-Version", "1.52")
			w.Write([]byte("OK"))
		case "/v1.47/version":
			w.Write([]byte(`{"Version":"29.0.0","ApiVersion":"1.52"}`))
		default:
			w.WriteHeader(404)
			w.Write([]byte(`{"message":"page not found"}`))
		}
	}))
	c, err := New(Env{Host: "unix://" + sock})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Negotiate(ctx); err != nil {
		t.Fatal(err)
	}
	// A newer daemon is spoken to in the newest version this client knows.
	if c.APIVersion() != "1.47" {
		t.Errorf("APIVersion = %q, want 1.47", c.APIVersion())
	}
	var v wireVersion
	if err := c.Get(ctx, "/version", nil, &v); err != nil || v.Version != "29.0.0" {
		t.Errorf("Get /version = %+v, %v", v, err)
	}
	err = c.Get(ctx, "/nope", nil, &v)
	if !IsNotFound(err) || err.Error() != "GET /nope: 404 page not found" {
		t.Errorf("Get /nope = %v", err)
	}
	for _, p := range paths {
		if !strings.HasPrefix(p, "GET ") {
			t.Errorf("the client sent %s; it must only read", p)
		}
	}
}

// TestAnswerTooLarge: an answer past the cap is said to be too large, not "unexpected
// EOF".
func TestAnswerTooLarge(t *testing.T) {
	sock := serveUnix(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_ping" {
			w.Header().Set("Api-Version", "1.41")
			return
		}
		w.Write([]byte("[" + strings.Repeat(`{"Id":"x"},`, 1000) + `{"Id":"y"}]`))
	}))
	c, _ := New(Env{Host: "unix://" + sock})
	if err := c.Negotiate(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.maxBody = 4096
	var list []wireContainerSummary
	err := c.Get(context.Background(), "/containers/json", nil, &list)
	if err == nil || err.Error() != "GET /containers/json: the answer is larger than 4 KiB, more than dockaudit reads of one answer" {
		t.Errorf("err = %v", err)
	}
	c.maxBody = 1 << 20
	if err := c.Get(context.Background(), "/containers/json", nil, &list); err != nil || len(list) != 1001 {
		t.Errorf("under the cap: %d, %v", len(list), err)
	}
}

func TestNegotiateOldDaemon(t *testing.T) {
	sock := serveUnix(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", "1.41")
		w.Write([]byte("OK"))
	}))
	c, _ := New(Env{Host: "unix://" + sock})
	if err := c.Negotiate(context.Background()); err != nil || c.APIVersion() != "1.41" {
		t.Errorf("Negotiate = %v, version %q", err, c.APIVersion())
	}
}

// TestNegotiateBadVersion: an Api-Version header that is not MAJOR.MINOR never goes
// into a request path.
func TestNegotiateBadVersion(t *testing.T) {
	sock := serveUnix(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", "1.41/../../containers")
		w.Write([]byte("OK"))
	}))
	c, _ := New(Env{Host: "unix://" + sock})
	err := c.Negotiate(context.Background())
	if want := `daemon at unix://` + sock + ` answered /_ping with API version "1.41/../../containers", which is not MAJOR.MINOR`; err == nil || err.Error() != want {
		t.Errorf("Negotiate = %v", err)
	}
}

func TestUnreachable(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.sock")
	c, err := New(Env{Host: "unix://" + missing})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Negotiate(context.Background())
	want := "cannot reach the Docker daemon at unix://" + missing + ": dial unix " + missing + ": connect: no such file or directory"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

// TestTimeout: a daemon that accepts but never answers must not hang the audit.
func TestTimeout(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "mute.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
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
	c, _ := New(Env{Host: "unix://" + sock})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = c.Negotiate(ctx)
	if err == nil || err.Error() != "cannot reach the Docker daemon at unix://"+sock+": no answer before the timeout" {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Negotiate took %s past a 200ms deadline", d)
	}
}

func TestNewErrors(t *testing.T) {
	tests := map[string]string{
		"tcp://[::1":       `DOCKER_HOST "tcp://[::1" is not an address like unix:///var/run/docker.sock or tcp://host:2376`,
		"unix://":          `DOCKER_HOST "unix://" has no socket path`,
		"tcp://":           `DOCKER_HOST "tcp://" has no host:port`,
		"ssh://me:pw@box":  `DOCKER_HOST ssh://me:xxxxx@box: an ssh:// address with a password is not taken: use a key or an ssh agent`,
		"ssh://box/var/x":  `DOCKER_HOST ssh://box/var/x: ssh:// address with a path ("/var/x"): give only [user@]host[:port]`,
		"npipe:////./pipe": `DOCKER_HOST "npipe:////./pipe": the npipe:// transport is not supported; use unix:// or tcp://`,
		// An address that does not parse never shows its password (found in review).
		"ssh://bob:s3cretPW@host:abc": `DOCKER_HOST "ssh://xxxxx@host:abc" is not an address like unix:///var/run/docker.sock or tcp://host:2376`,
		"tcp://bob:s3cretPW@[::1":     `DOCKER_HOST "tcp://xxxxx@[::1" is not an address like unix:///var/run/docker.sock or tcp://host:2376`,
		"gopher://x":                  `DOCKER_HOST "gopher://x": unknown scheme "gopher"`,
		// A password in DOCKER_HOST is refused and never echoed.
		"tcp://user:s3cret@127.0.0.1:2375": "DOCKER_HOST holds a user name or password, which the Engine API does not take: remove it (use TLS client certificates)",
	}
	for host, want := range tests {
		_, err := New(Env{Host: host})
		if err == nil || err.Error() != want {
			t.Errorf("New(%q) = %v\nwant %s", host, err, want)
		}
	}
	_, err := New(Env{Host: "tcp://127.0.0.1:2376", TLSVerify: "1", CertPath: t.TempDir()})
	if err == nil || !strings.HasPrefix(err.Error(), "DOCKER_TLS_VERIFY is set but the CA certificate cannot be read") {
		t.Errorf("TLS without ca.pem: %v", err)
	}
}

func TestTCPDefaults(t *testing.T) {
	if c, err := New(Env{Host: "localhost:2375"}); err != nil || c.base != "http://localhost:2375" || c.Host != "tcp://localhost:2375" {
		t.Errorf("bare host:port: %+v %v", c, err)
	}
	c, err := New(Env{Host: "tcp://10.1.2.3"})
	if err != nil || c.base != "http://10.1.2.3:2375" || c.TLS {
		t.Errorf("plain tcp: %+v %v", c, err)
	}
	dir := t.TempDir()
	c, err = New(Env{Host: "tcp://10.1.2.3", CertPath: dir}) // cert path alone: TLS, server not verified
	if err != nil || c.base != "https://10.1.2.3:2376" || !c.TLS {
		t.Errorf("tls tcp: %+v %v", c, err)
	}
}

func TestVersionLess(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{{"1.9", "1.41", true}, {"1.41", "1.9", false}, {"1.47", "1.47", false}, {"1.47", "2.0", true}} {
		if got := facts.VersionLess(tt.a, tt.b); got != tt.want {
			t.Errorf("VersionLess(%s, %s) = %v", tt.a, tt.b, got)
		}
	}
}

func TestQuoteAddr(t *testing.T) {
	for in, want := range map[string]string{
		"ssh://bob:pw@host:abc/run/d.sock":    `"ssh://xxxxx@host:abc/run/d.sock"`,
		"bob:pw@host:abc":                     `"xxxxx@host:abc"`,
		"unix:///var/run/docker.sock":         `"unix:///var/run/docker.sock"`,
		"tcp://h:1/a@b":                       `"tcp://h:1/a@b"`,
		"bogus://" + strings.Repeat("x", 300): `"bogus://` + strings.Repeat("x", 192) + `…"`,
	} {
		if got := quoteAddr(in); got != want {
			t.Errorf("quoteAddr(%.40q) = %.60s, want %.60s", in, got, want)
		}
	}
}
