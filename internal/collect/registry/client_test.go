package registry

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockaudit/dockaudit/internal/imagetest"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

// push uploads an image with the raw distribution API and returns its digest.
func push(t *testing.T, base, repo, tag string, img v1.Image) string {
	return imagetest.Push(t, base, repo, tag, img)
}

// guarded wraps the registry in an authentication challenge: Basic, or Bearer with a
// token endpoint, both for alice/s3cret.
func guarded(t *testing.T, scheme string) (*httptest.Server, *int) {
	t.Helper()
	inner := registry.New()
	tokens := 0
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			u, p, ok := r.BasicAuth()
			if !ok || u != "alice" || p != "s3cret" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			tokens++
			json.NewEncoder(w).Encode(map[string]string{"token": "t0k3n"})
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			inner.ServeHTTP(w, r) // the test pushes without auth
			return
		}
		h := r.Header.Get("Authorization")
		ok := (scheme == "basic" && h == "Basic "+base64.StdEncoding.EncodeToString([]byte("alice:s3cret"))) ||
			(scheme == "bearer" && h == "Bearer t0k3n")
		if !ok {
			if scheme == "basic" {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			} else {
				w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token",service="test"`, srv.URL))
			}
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &tokens
}

func ref(t *testing.T, srv *httptest.Server, repo string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(strings.TrimPrefix(strings.TrimPrefix(srv.URL, "http://"), "https://")+"/"+repo, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func alice(string) (Credential, error) { return Credential{Username: "alice", Password: "s3cret"}, nil }

func TestPull(t *testing.T) {
	img, _ := random.Image(1024, 2)
	for _, scheme := range []string{"basic", "bearer"} {
		t.Run(scheme, func(t *testing.T) {
			srv, tokens := guarded(t, scheme)
			digest := push(t, srv.URL, "team/app", "v1", img)
			c := &Client{Credentials: alice}
			got, gotDigest, err := c.Pull(context.Background(), ref(t, srv, "team/app:v1"), v1.Platform{OS: "linux", Architecture: "amd64"})
			if err != nil {
				t.Fatal(err)
			}
			if gotDigest != digest {
				t.Errorf("digest %s, want %s", gotDigest, digest)
			}
			ls, _ := got.Layers()
			for _, l := range ls {
				rc, err := l.Uncompressed()
				if err != nil {
					t.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, rc); err != nil {
					t.Errorf("layer: %v", err)
				}
				rc.Close()
			}
			if scheme == "bearer" && *tokens != 1 {
				t.Errorf("%d token requests, want 1 (the token is reused)", *tokens)
			}
			// Without credentials the registry refuses, with a clear message.
			_, _, err = (&Client{}).Pull(context.Background(), ref(t, srv, "team/app:v1"), v1.Platform{OS: "linux", Architecture: "amd64"})
			if err == nil {
				t.Error("pull without credentials succeeded")
			}
		})
	}
}

// TestTamperedBlob: a registry that serves other bytes for a digest is caught.
func TestTamperedBlob(t *testing.T) {
	img, _ := random.Image(512, 1)
	inner := registry.New()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
			rec := httptest.NewRecorder()
			inner.ServeHTTP(rec, r)
			b := rec.Body.Bytes()
			if len(b) > 100 {
				b[len(b)/2] ^= 1
			}
			w.WriteHeader(rec.Code)
			w.Write(b)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	defer srv.Close()
	push(t, srv.URL, "x", "v1", img)
	got, _, err := (&Client{}).Pull(context.Background(), ref(t, srv, "x:v1"), v1.Platform{OS: "linux", Architecture: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	ls, _ := got.Layers()
	rc, _ := ls[0].Compressed()
	_, err = io.ReadAll(rc)
	if err == nil || !strings.Contains(err.Error(), "content has digest") {
		t.Errorf("tampered layer: %v", err)
	}
}

func TestIndexPlatform(t *testing.T) {
	srv := httptest.NewServer(registry.New())
	defer srv.Close()
	amd, _ := random.Image(256, 1)
	arm, _ := random.Image(256, 1)
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}})
	push(t, srv.URL, "multi", "amd", amd)
	armDigest := push(t, srv.URL, "multi", "arm", arm)
	m, _ := idx.RawManifest()
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/v2/multi/manifests/latest", bytes.NewReader(m))
	req.Header.Set("Content-Type", "application/vnd.oci.image.index.v1+json")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("put index: %v %v", err, resp)
	}
	_, d, err := (&Client{}).Pull(context.Background(), ref(t, srv, "multi:latest"), v1.Platform{OS: "linux", Architecture: "arm64"})
	if err != nil || d != armDigest {
		t.Errorf("arm64: %s %v, want %s", d, err, armDigest)
	}
	_, _, err = (&Client{}).Pull(context.Background(), ref(t, srv, "multi:latest"), v1.Platform{OS: "linux", Architecture: "s390x"})
	if err == nil || !strings.Contains(err.Error(), "has no image for linux/s390x (it has linux/amd64, linux/arm64)") {
		t.Errorf("missing platform: %v", err)
	}
}

func TestChallenge(t *testing.T) {
	s, p := ParseChallenge(`Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push"`)
	if s != "Bearer" || p["realm"] != "https://auth.example.com/token" || p["service"] != "registry.example.com" || p["scope"] != "repository:a/b:pull,push" {
		t.Errorf("%s %v", s, p)
	}
	// Spaces around '=', and a tab after the scheme.
	s, p = ParseChallenge("Bearer\trealm = \"https://a/t\" , service= reg")
	if s != "Bearer" || p["realm"] != "https://a/t" || p["service"] != "reg" {
		t.Errorf("loose spacing: %s %v", s, p)
	}
}

func TestDockerConfig(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"auths":{"https://index.docker.io/v1/":{"auth":"Ym9iOmh1bnRlcjI="},"registry.local:5000":{"auth":"YWxpY2U6czNjcmV0"}}}`), 0o600)
	cfg, err := LoadDockerConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]Credential{
		"index.docker.io":      {Username: "bob", Password: "hunter2"},
		"registry-1.docker.io": {Username: "bob", Password: "hunter2"},
		"registry.local:5000":  {Username: "alice", Password: "s3cret"},
		"other.example.com":    {},
	} {
		got, err := cfg.Credentials(host)
		if err != nil || got != want {
			t.Errorf("%s: %+v %v", host, got, err)
		}
	}
	// A credential helper is a program; here a shell script answering for one host.
	bin := t.TempDir()
	os.WriteFile(filepath.Join(bin, "docker-credential-fake"), []byte("#!/bin/sh\nread host\n[ \"$host\" = \"registry.local:5000\" ] && echo '{\"Username\":\"helper\",\"Secret\":\"pw\"}' && exit 0\necho 'credentials not found in native keychain'; exit 1\n"), 0o755)
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	cfg.CredHelpers = map[string]string{"registry.local:5000": "fake"}
	if got, err := cfg.Credentials("registry.local:5000"); err != nil || got.Username != "helper" || got.Password != "pw" {
		t.Errorf("helper: %+v %v", got, err)
	}
	cfg.CredsStore, cfg.CredHelpers = "fake", nil
	if got, err := cfg.Credentials("other.example.com"); err != nil || got != (Credential{}) {
		t.Errorf("store without an entry: %+v %v", got, err)
	}
}

// TestPlainHTTPOnlyForLoopback: like dockerd, and unlike go-containerregistry's
// default, a private address is HTTPS unless --insecure.
func TestPlainHTTPOnlyForLoopback(t *testing.T) {
	for host, want := range map[string]bool{"localhost:5000": true, "127.0.0.1:5000": true, "127.8.9.1": true, "[::1]:5000": true,
		"172.17.0.1:5000": false, "10.0.0.1": false, "192.168.1.2:443": false, "registry.example.com": false, "localhost.example.com": false} {
		if got := Loopback(host); got != want {
			t.Errorf("Loopback(%q) = %v", host, got)
		}
	}
	c := &Client{}
	if s := c.scheme(context.Background(), "172.17.0.1:5000"); s != "https" {
		t.Errorf("private address without --insecure: %s", s)
	}
}

// TestIndexWithoutPlatform: an index of one image with no platform is that image.
func TestIndexWithoutPlatform(t *testing.T) {
	srv := httptest.NewServer(registry.New())
	defer srv.Close()
	img, _ := random.Image(256, 1)
	digest := push(t, srv.URL, "bare", "img", img)
	idx := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img})
	m, _ := idx.RawManifest()
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/v2/bare/manifests/noplat", bytes.NewReader(m))
	req.Header.Set("Content-Type", "application/vnd.oci.image.index.v1+json")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("put index: %v %v", err, resp)
	}
	_, d, err := (&Client{}).Pull(context.Background(), ref(t, srv, "bare:noplat"), v1.Platform{OS: "linux", Architecture: "amd64"})
	if err != nil || d != digest {
		t.Errorf("got %s %v, want %s", d, err, digest)
	}
}

// FuzzChallenge: a WWW-Authenticate header is the server's to write; parsing never
// panics and never invents a scheme with spaces in it.
func FuzzChallenge(f *testing.F) {
	f.Add(`Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"`)
	f.Add(`Basic realm="x"`)
	f.Add(`Bearer realm = "x", error="invalid_token"`)
	f.Fuzz(func(t *testing.T, h string) {
		scheme, _ := ParseChallenge(h)
		if strings.ContainsAny(scheme, " \t") {
			t.Fatalf("scheme %q from %q", scheme, h)
		}
	})
}

// TestPullKeepsPasswordsOnStrongTransports: image pulls send the configured password
// to a token realm only over a transport as strong as the registry's own, --insecure
// or not; a realm on another host needs a certificate that verifies.
func TestPullKeepsPasswordsOnStrongTransports(t *testing.T) {
	spy := &realmSpy{}
	plainRealm := httptest.NewServer(spy)
	defer plainRealm.Close()
	tlsRealm := httptest.NewTLSServer(spy)
	defer tlsRealm.Close()
	plat := v1.Platform{OS: "linux", Architecture: "amd64"}
	for _, tc := range []struct{ name, realm, want string }{
		{"plain-HTTP realm", plainRealm.URL + "/token",
			"the token realm " + plainRealm.URL + "/token is plain HTTP while the registry is HTTPS: the password would cross the network in clear, so it was not sent"},
		{"realm on another host, unverified", strings.Replace(tlsRealm.URL, "127.0.0.1", "localhost", 1) + "/token",
			"tls: failed to verify certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := httptest.NewTLSServer(bearerRegistry(func() string { return tc.realm }))
			defer reg.Close()
			c := &Client{Insecure: true, Credentials: alice}
			_, _, err := c.Pull(context.Background(), ref(t, reg, "team/app:v1"), plat)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
			if spy.sawPassword() {
				t.Errorf("a realm saw %q", spy.seen)
			}
		})
	}
	// A realm on the registry's own host is as good as the registry: with --insecure,
	// its unverified certificate is what the user accepted.
	mux := http.NewServeMux()
	mux.Handle("/token", spy)
	var base string
	mux.Handle("/", bearerRegistry(func() string { return base + "/token" }))
	reg := httptest.NewTLSServer(mux)
	defer reg.Close()
	base = reg.URL
	_, _, err := (&Client{Insecure: true, Credentials: alice}).Pull(context.Background(), ref(t, reg, "team/app:v1"), plat)
	if !spy.sawPassword() {
		t.Errorf("the registry's own realm got no password (err %v)", err)
	}
}

// manyLayers stores an image whose manifest lists n layers (all one empty blob) in an
// in-process registry and returns its reference.
func manyLayers(t testing.TB, n int) (*httptest.Server, string) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	put := func(path, ct string, body []byte) {
		req, _ := http.NewRequest(http.MethodPut, srv.URL+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode >= 300 {
			t.Fatalf("PUT %s: %v %v", path, err, resp)
		}
	}
	blob := func(b []byte) v1.Hash {
		h, _, _ := v1.SHA256(bytes.NewReader(b))
		resp, err := http.Post(srv.URL+"/v2/many/blobs/uploads/", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		loc, _ := url.Parse(resp.Header.Get("Location"))
		q := loc.Query()
		q.Set("digest", h.String())
		put(loc.Path+"?"+q.Encode(), "application/octet-stream", b)
		return h
	}
	var tb bytes.Buffer
	tar.NewWriter(&tb).Close()
	layer := blob(tb.Bytes())
	diffIDs := make([]string, n)
	descs := make([]map[string]any, n)
	for i := range n {
		diffIDs[i] = layer.String()
		descs[i] = map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer.String(), "size": tb.Len()}
	}
	cfg, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux", "rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs}})
	ch := blob(cfg)
	m, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": ch.String(), "size": len(cfg)}, "layers": descs})
	put("/v2/many/manifests/1", "application/vnd.oci.image.manifest.v1+json", m)
	return srv, strings.TrimPrefix(srv.URL, "http://") + "/many:1"
}

// TestPullManyLayers: a manifest of 15,000 layers (under the 4 MiB cap) is parsed once,
// not once per layer; its layers list at once, and a cancelled pull stops.
func TestPullManyLayers(t *testing.T) {
	_, r := manyLayers(t, 15000)
	ref, _ := name.ParseReference(r, name.Insecure)
	done := make(chan error, 1)
	go func() {
		img, _, err := (&Client{}).Pull(context.Background(), ref, v1.Platform{OS: "linux", Architecture: "amd64"})
		if err == nil {
			var ls []v1.Layer
			if ls, err = img.Layers(); err == nil && len(ls) != 15000 {
				err = fmt.Errorf("%d layers", len(ls))
			}
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("listing 15,000 layers took more than 30 s (it took minutes when the manifest was parsed per layer)")
	}
	ctx, cancel := context.WithCancel(context.Background())
	img, _, err := (&Client{}).Pull(ctx, ref, v1.Platform{OS: "linux", Architecture: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := img.Layers(); !errors.Is(err, context.Canceled) {
		t.Errorf("layers after cancel: %v", err)
	}
}

func BenchmarkPullManyLayers(b *testing.B) {
	_, r := manyLayers(b, 5000)
	ref, _ := name.ParseReference(r, name.Insecure)
	for b.Loop() {
		img, _, err := (&Client{}).Pull(context.Background(), ref, v1.Platform{OS: "linux", Architecture: "amd64"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := img.Layers(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBlobRedirectChallenge (found in review): blob storage a registry redirects to
// cannot choose where the password goes by answering 401 with a realm of its own.
func TestBlobRedirectChallenge(t *testing.T) {
	spy := &realmSpy{}
	realm := httptest.NewTLSServer(spy)
	defer realm.Close()
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm.URL+`/token"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer storage.Close()
	img, _ := random.Image(256, 1)
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
			http.Redirect(w, r, storage.URL+r.URL.Path, http.StatusTemporaryRedirect)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	defer reg.Close()
	push(t, reg.URL, "team/app", "v1", img)
	got, _, err := (&Client{Credentials: alice}).Pull(context.Background(), ref(t, reg, "team/app:v1"), v1.Platform{OS: "linux", Architecture: "amd64"})
	if err == nil {
		_, err = got.ConfigFile()
	}
	if err == nil || !strings.Contains(err.Error(), "which answered 401; credentials go only to the registry itself") {
		t.Errorf("err = %v", err)
	}
	if len(spy.seen) > 0 {
		t.Errorf("the storage's realm was asked: %q", spy.seen)
	}
}
