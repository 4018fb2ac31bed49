package registry

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/collect/endpoint"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/testenv"
)

// tokenRegistry is a Bearer registry whose realm grants anonymous pulls (as Docker Hub
// and public Harbor projects do) and gives alice more. It counts requests.
type tokenRegistry struct {
	mu       sync.Mutex
	hits     map[string]int
	realmKey string // the Authorization the realm saw last
	repos    []string
}

func (f *tokenRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.hits[r.Method+" "+r.URL.Path]++
	f.mu.Unlock()
	auth := r.Header.Get("Authorization")
	if r.URL.Path == "/token" {
		f.mu.Lock()
		f.realmKey = auth
		f.mu.Unlock()
		tok := "anon"
		if u, p, ok := r.BasicAuth(); ok && u == "alice" && p == "s3cret" {
			tok = "alice"
		}
		json.NewEncoder(w).Encode(map[string]string{"token": tok})
		return
	}
	if auth != "Bearer anon" && auth != "Bearer alice" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="http://`+r.Host+`/token",service="reg"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	switch {
	case r.URL.Path == "/v2/":
		w.Write([]byte("{}"))
	case r.URL.Path == "/v2/_catalog":
		json.NewEncoder(w).Encode(map[string][]string{"repositories": f.repos})
	case strings.HasSuffix(r.URL.Path, "/tags/list"):
		w.Write([]byte(`{"tags":["1"]}`))
	case strings.Contains(r.URL.Path, "/manifests/") && r.Method == http.MethodGet:
		w.Write([]byte("{}"))
	case strings.HasSuffix(r.URL.Path, "/blobs/uploads/") && auth == "Bearer alice":
		w.Header().Set("Location", "/v2/lib/app/blobs/uploads/1")
		w.WriteHeader(http.StatusAccepted)
	default:
		w.WriteHeader(http.StatusUnauthorized)
	}
}

func TestProbeBearerAnonymous(t *testing.T) {
	f := &tokenRegistry{hits: map[string]int{}}
	for i := 0; i < 50; i++ {
		f.repos = append(f.repos, fmt.Sprintf("lib/app%02d", i))
	}
	srv := httptest.NewServer(f)
	defer srv.Close()
	r := Probe(context.Background(), srv.URL, ProbeOptions{ProbePush: true})
	want := facts.RegistryAccess{Catalog: true, CatalogStatus: 200, Repositories: f.repos[:20], PullTried: true, Pull: true, PullStatus: 200, PushTried: true, PushStatus: 401}
	if d := cmp.Diff(want, r.Anonymous); d != "" || r.Repository != "lib/app00" || r.Error != "" {
		t.Errorf("anonymous (-want +got):\n%s\nrepository %q, error %q", d, r.Repository, r.Error)
	}
	if f.hits["POST /v2/lib/app00/blobs/uploads/"] != 1 {
		t.Errorf("upload sessions opened: %v", f.hits)
	}
}

// realmSpy is a token realm that records the Authorization headers it is sent.
type realmSpy struct {
	mu   sync.Mutex
	seen []string
}

func (r *realmSpy) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.seen = append(r.seen, req.Header.Get("Authorization"))
	r.mu.Unlock()
	tok := "anon"
	if u, p, ok := req.BasicAuth(); ok && u == "alice" && p == "s3cret" {
		tok = "alice"
	}
	json.NewEncoder(w).Encode(map[string]string{"token": tok})
}

func (r *realmSpy) sawPassword() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, h := range r.seen {
		if strings.HasPrefix(h, "Basic ") {
			return true
		}
	}
	return false
}

// bearerRegistry answers every request without a token with a challenge naming realm.
func bearerRegistry(realm func() string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("Authorization") {
		case "Bearer anon", "Bearer alice":
			w.Write([]byte("{}"))
		default:
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm()+`",service="reg"`)
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
}

func roots(srv *httptest.Server) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(srv.Certificate())
	return p
}

// TestProbeCredentialTransport: a password only travels over a transport as strong as
// the registry URL the user gave; the anonymous findings stay when it is held back.
func TestProbeCredentialTransport(t *testing.T) {
	alice := &Credential{Username: "alice", Password: "s3cret"}
	t.Run("HTTPS registry, plain-HTTP realm", func(t *testing.T) {
		spy := &realmSpy{}
		realm := httptest.NewServer(spy)
		defer realm.Close()
		reg := httptest.NewTLSServer(bearerRegistry(func() string { return realm.URL + "/token" }))
		defer reg.Close()
		r := Probe(context.Background(), reg.URL, ProbeOptions{Credential: alice, TLS: endpoint.Options{Roots: roots(reg)}})
		want := "the token realm " + realm.URL + "/token is plain HTTP while the registry is HTTPS: the password would cross the network in clear, so it was not sent"
		if r.AuthError != want || r.Error != "" || r.Authenticated != nil {
			t.Errorf("auth error %q, error %q, authenticated %v", r.AuthError, r.Error, r.Authenticated)
		}
		if spy.sawPassword() {
			t.Errorf("the plain-HTTP realm saw a password: %q", spy.seen)
		}
		if r.V2Status != 401 || r.AuthRealm != realm.URL+"/token" || r.Identity != "alice" {
			t.Errorf("the anonymous probe is lost: %+v", r)
		}
	})
	t.Run("HTTPS registry whose certificate does not verify", func(t *testing.T) {
		var seen []string
		reg := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen = append(seen, r.Header.Get("Authorization"))
			w.Header().Set("WWW-Authenticate", `Basic realm="reg"`)
			w.WriteHeader(http.StatusUnauthorized)
		}))
		defer reg.Close()
		r := Probe(context.Background(), reg.URL, ProbeOptions{Credential: alice})
		if !strings.HasPrefix(r.AuthError, "the password was not sent: tls: failed to verify certificate: x509: certificate signed by unknown authority") {
			t.Errorf("auth error %q", r.AuthError)
		}
		for _, h := range seen {
			if h != "" {
				t.Errorf("the registry saw %q", h)
			}
		}
		// With the CA, the password goes, and a refusal is said.
		r = Probe(context.Background(), reg.URL, ProbeOptions{Credential: alice, TLS: endpoint.Options{Roots: roots(reg)}})
		if r.AuthError != "the registry refused the credentials of alice (401)" {
			t.Errorf("with the CA: auth error %q", r.AuthError)
		}
	})
	t.Run("plain-HTTP registry, realm on its host", func(t *testing.T) {
		spy := &realmSpy{}
		mux := http.NewServeMux()
		mux.Handle("/token", spy)
		var base string
		mux.Handle("/", bearerRegistry(func() string { return base + "/token" }))
		reg := httptest.NewServer(mux)
		defer reg.Close()
		base = reg.URL
		r := Probe(context.Background(), reg.URL, ProbeOptions{Credential: alice})
		if r.AuthError != "" || r.Authenticated == nil || !spy.sawPassword() {
			t.Errorf("the user named http://: auth error %q, authenticated %v, realm saw %q", r.AuthError, r.Authenticated, spy.seen)
		}
	})
	t.Run("plain-HTTP registry, plain-HTTP realm on another host", func(t *testing.T) {
		spy := &realmSpy{}
		realm := httptest.NewServer(spy)
		defer realm.Close()
		other := strings.Replace(realm.URL, "127.0.0.1", "localhost", 1)
		reg := httptest.NewServer(bearerRegistry(func() string { return other + "/token" }))
		defer reg.Close()
		r := Probe(context.Background(), reg.URL, ProbeOptions{Credential: alice})
		if want := "the token realm " + other + "/token is plain HTTP on another host than the registry: the password was not sent"; r.AuthError != want {
			t.Errorf("auth error %q", r.AuthError)
		}
		if spy.sawPassword() {
			t.Errorf("the realm saw %q", spy.seen)
		}
	})
	t.Run("identity token", func(t *testing.T) {
		reg := httptest.NewServer(bearerRegistry(func() string { return "http://127.0.0.1:1/token" }))
		defer reg.Close()
		r := Probe(context.Background(), reg.URL, ProbeOptions{Credential: &Credential{IdentityToken: "tok"}})
		if r.AuthError != "the credential is an identity token, which dockaudit does not exchange; give a username and password" {
			t.Errorf("identity token: %q", r.AuthError)
		}
	})
}

// TestProbeCatalogNotRead: only a catalog that was read is access, and only a 401 or
// 403 a refusal; an oversized, redirected or unreadable answer is kept as what happened.
func TestProbeCatalogNotRead(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(w http.ResponseWriter)
		want   facts.RegistryAccess
	}{
		{"over 1 MiB", func(w http.ResponseWriter) {
			w.Write([]byte(`{"repositories":["` + strings.Repeat("a", 2<<20) + `"]}`))
		}, facts.RegistryAccess{CatalogStatus: 200, CatalogError: "200 answer larger than 1048576 bytes"}},
		{"redirect", func(w http.ResponseWriter) {
			w.Header().Set("Location", "https://elsewhere.example/catalog")
			w.WriteHeader(http.StatusFound)
		}, facts.RegistryAccess{CatalogStatus: 302, CatalogError: "answered 302 to https://elsewhere.example/catalog, which was not followed"}},
		{"not a catalog", func(w http.ResponseWriter) { w.Write([]byte("<html>")) },
			facts.RegistryAccess{CatalogStatus: 200, CatalogError: "answered 200 with something that is not a catalog"}},
		{"not found", func(w http.ResponseWriter) { w.WriteHeader(http.StatusNotFound) }, facts.RegistryAccess{CatalogStatus: 404}},
		{"refused", func(w http.ResponseWriter) { w.WriteHeader(http.StatusUnauthorized) }, facts.RegistryAccess{CatalogStatus: 401}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/v2/_catalog" {
					tc.answer(w)
					return
				}
				w.WriteHeader(http.StatusNotFound)
			}))
			defer srv.Close()
			r := Probe(context.Background(), srv.URL, ProbeOptions{Repository: "team/app"})
			a := r.Anonymous
			got := facts.RegistryAccess{Catalog: a.Catalog, CatalogStatus: a.CatalogStatus, CatalogError: a.CatalogError, Repositories: a.Repositories}
			if d := cmp.Diff(tc.want, got); d != "" || r.Error != "" {
				t.Errorf("(-want +got):\n%s\nerror %q", d, r.Error)
			}
		})
	}
}

// TestProbeTimeoutBoundsTheWholeProbe: a registry that drips each answer over 400 ms
// is given up on at --timeout 700ms, though no single request takes that long.
func TestProbeTimeoutBoundsTheWholeProbe(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		for i := 0; i < 8; i++ {
			if _, err := w.Write([]byte(" ")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}))
	defer srv.Close()
	start := time.Now()
	r := Probe(context.Background(), srv.URL, ProbeOptions{Timeout: 700 * time.Millisecond})
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the probe took %s with --timeout 700ms", took)
	}
	if r.Error != "no complete answer within --timeout 700ms (it bounds the whole probe)" || r.V2Status != 200 {
		t.Errorf("error %q", r.Error)
	}
}

// TestProbeCredentialsStayOnTheRegistry (found in review): an upload Location that
// names another host gets no credential, and a plain-HTTP registry off this machine
// gets no password without --insecure.
func TestProbeCredentialsStayOnTheRegistry(t *testing.T) {
	var mu sync.Mutex
	var spied []string
	spy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		spied = append(spied, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		mu.Unlock()
	}))
	defer spy.Close()
	alice := basicAuth(Credential{Username: "alice", Password: "s3cret"})
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != alice {
			w.Header().Set("WWW-Authenticate", `Basic realm="reg"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost {
			w.Header().Set("Location", "@"+strings.TrimPrefix(spy.URL, "http://")+"/v2/foo/blobs/uploads/x")
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.Write([]byte("{}"))
	}))
	defer reg.Close()
	r := Probe(context.Background(), reg.URL, ProbeOptions{Repository: "foo", ProbePush: true, Credential: &Credential{Username: "alice", Password: "s3cret"}})
	if r.Authenticated == nil || !r.Authenticated.Push {
		t.Fatalf("authenticated push not probed: %+v %q", r.Authenticated, r.AuthError)
	}
	mu.Lock()
	if len(spied) > 0 {
		t.Errorf("another host was sent %q", spied)
	}
	mu.Unlock()

	// A plain-HTTP registry on an address of this machine that is not loopback.
	var ip string
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			ip = n.IP.String()
			break
		}
	}
	if ip == "" {
		testenv.Missing(t, "no address other than loopback")
	}
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	open := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Get("Authorization"))
		w.Header().Set("WWW-Authenticate", `Basic realm="reg"`)
		w.WriteHeader(http.StatusUnauthorized)
	})}
	go open.Serve(l)
	defer open.Close()
	r = Probe(context.Background(), "http://"+l.Addr().String(), ProbeOptions{Credential: &Credential{Username: "alice", Password: "s3cret"}})
	if r.AuthError != "the registry is plain HTTP and not on loopback: the password would cross the network in clear, so it was not sent (--insecure to send it anyway)" {
		t.Errorf("auth error %q", r.AuthError)
	}
	for _, h := range seen {
		if h != "" {
			t.Errorf("the plain-HTTP registry was sent %q", h)
		}
	}
}
