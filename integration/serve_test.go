package integration

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/pgtest"
	"github.com/dockaudit/dockaudit/internal/report"
	"github.com/dockaudit/dockaudit/internal/serve"
	"github.com/dockaudit/dockaudit/internal/store"
	"github.com/dockaudit/dockaudit/internal/testenv"
)

// receiver is a webhook receiver that records what it gets and can be down.
type receiver struct {
	mu     sync.Mutex
	secret []byte
	down   bool
	got    []serve.EventPayload
	raw    [][]byte
	keys   map[string]int
	bad    []string
	failed int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.down {
		rc.failed++
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	ts, _ := strconv.ParseInt(r.Header.Get("X-Dockaudit-Timestamp"), 10, 64)
	if want := serve.Signature(rc.secret, ts, body); !hmac.Equal([]byte(want), []byte(r.Header.Get("X-Dockaudit-Signature"))) {
		rc.bad = append(rc.bad, "bad signature on "+r.Header.Get("X-Dockaudit-Delivery"))
	}
	var e serve.EventPayload
	if err := json.Unmarshal(body, &e); err != nil {
		rc.bad = append(rc.bad, "undecodable: "+string(body))
	}
	if e.ID != r.Header.Get("Idempotency-Key") {
		rc.bad = append(rc.bad, "key header "+r.Header.Get("Idempotency-Key")+" for event "+e.ID)
	}
	rc.keys[e.ID]++
	rc.got = append(rc.got, e)
	rc.raw = append(rc.raw, body)
}

func (rc *receiver) events(kind string) []serve.EventPayload {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []serve.EventPayload
	for _, e := range rc.got {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// server is a running dockaudit serve.
type server struct {
	url, token string
	cmd        *exec.Cmd
	log        *syncWriter
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startServe starts the binary's serve on a free loopback port.
func startServe(t *testing.T, dsn, config, dataDir string, port int, extra ...string) *server {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	args := append([]string{"serve", "--database", dsn, "--config", config, "--listen", addr, "--data-dir", dataDir}, extra...)
	cmd := exec.Command(binary, args...)
	log := &syncWriter{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{url: "http://" + addr, cmd: cmd, log: log}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("serve log (%s):\n%s", addr, tail(log.String(), 80))
		}
	})
	for i := 0; i < 200; i++ {
		if healthy(s.url) {
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("dockaudit serve did not answer:\n%s", log.String())
	return nil
}

// healthy reports whether a dockaudit serve at url answers /healthz with 200.
func healthy(url string) bool {
	resp, err := http.Get(url + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

// syncWriter is a log both of a process's output streams write to.
type syncWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// schemaFor names the OpenAPI schema of an API path's answer.
func schemaFor(path string, code int) string {
	p, _, _ := strings.Cut(path, "?")
	switch {
	case code != 200:
		return "Error"
	case p == "/api/v1/images":
		return "ImagePage"
	case strings.HasPrefix(p, "/api/v1/images/"):
		return "Report"
	case strings.HasPrefix(p, "/api/v1/vulnerabilities/"):
		return "Where"
	case strings.HasPrefix(p, "/api/v1/hosts"):
		return "HostPage"
	case p == "/api/v1/summary":
		return "Summary"
	case p == "/api/v1/events":
		return "EventPage"
	}
	return ""
}

var (
	apiOnce   sync.Once
	apiSchema func(string, []byte) error
)

// validAPI checks an answer against docs/openapi.yaml.
func validAPI(t *testing.T, schema string, body []byte) {
	t.Helper()
	apiOnce.Do(func() { apiSchema = testenv.OpenAPI(t, "../docs/openapi.yaml") })
	if apiSchema == nil {
		t.Fatal("docs/openapi.yaml did not load")
	}
	if err := apiSchema(schema, body); err != nil {
		t.Errorf("answer does not match docs/openapi.yaml %s: %v\n%.500s", schema, err, body)
	}
}

// get GETs an API path with the server's token, checks the answer against the
// OpenAPI file, and decodes a 200 answer into into.
func (s *server) get(t *testing.T, path string, into any) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.url+path, nil)
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if name := schemaFor(path, resp.StatusCode); name != "" && strings.HasPrefix(path, "/api/") && resp.StatusCode != 503 {
		validAPI(t, name, b)
	}
	if into != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(b, into); err != nil {
			t.Fatalf("GET %s: %v\n%s", path, err, b)
		}
	}
	return resp.StatusCode
}

// do sends a request with the server's token (or tok, when given).
func (s *server) do(t *testing.T, method, path, tok string, hdr map[string]string, body string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if tok == "" {
		tok = s.token
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// eventually polls cond until it holds or the time is up.
func eventually(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("after %s: %s", d, what)
}

// comparable is what the invariant compares: every finding (rule, status, severity,
// target, message, evidence, vulnerability) and every package of each image.
func comparable(r *report.Report) (fs []string, pkgs []string) {
	for _, f := range r.Findings {
		b, _ := json.Marshal(struct {
			R, S, Sev, T, M string
			E               any
			V               any
		}{f.Rule, f.Status.String(), f.Severity.String(), f.Target.Name, f.Message, f.Evidence, f.Vuln})
		fs = append(fs, string(b))
	}
	for _, im := range r.Images {
		for _, p := range im.Packages {
			pkgs = append(pkgs, fmt.Sprintf("%s %s %s %s %d", p.Type, p.Name, p.Version, p.Path, p.Layer))
		}
	}
	sort.Strings(fs)
	return fs, pkgs
}

// serveImages builds the images the service test pushes: the debootstrap bookworm
// root, and three images on it whose later layers replace the package database, delete
// it, and add then delete a secret.
func serveImages(t *testing.T) (base string, derived map[string]string) {
	root := bookwormRoot(t)
	base = "dockaudit-it-serve-base:1"
	importRoot(t, root, base)
	status, err := os.ReadFile(filepath.Join(root, "var/lib/dpkg/status"))
	if err != nil {
		t.Fatal(err)
	}
	// The trimmed database keeps the first half of the packages (bash, tar and sed among them).
	paras := strings.Split(strings.TrimSpace(string(status)), "\n\n")
	var kept []string
	for _, p := range paras {
		name := strings.TrimPrefix(strings.SplitN(p, "\n", 2)[0], "Package: ")
		if len(kept) < len(paras)/2 || slices.Contains([]string{"bash", "tar", "sed"}, name) {
			kept = append(kept, p)
		}
	}
	derived = map[string]string{
		"trimmed": "FROM " + base + "\nCOPY status /var/lib/dpkg/status\n",
		"nodpkg":  "FROM " + base + "\nRUN [\"/bin/rm\", \"-rf\", \"/var/lib/dpkg\"]\n",
		"secret":  "FROM " + base + "\nCOPY dot-env /app/.env\nRUN [\"/bin/rm\", \"/app/.env\"]\nUSER 65532\n",
	}
	for name, df := range derived {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644)
		os.WriteFile(filepath.Join(dir, "status"), []byte(strings.Join(kept, "\n\n")+"\n"), 0o644)
		os.WriteFile(filepath.Join(dir, "dot-env"), []byte("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"), 0o644)
		tag := "dockaudit-it-serve-" + name + ":1"
		dockerBuild(t, dir, tag)
		derived[name] = tag
	}
	return base, derived
}

// tracker writes Debian security tracker data for the bookworm root's bash, tar and
// sed into dir as name.
func tracker(t *testing.T, dir, name string, cves map[string]map[string]any) {
	b, _ := json.Marshal(cves)
	tmp := filepath.Join(dir, "."+name)
	os.WriteFile(tmp, b, 0o644)
	old := time.Now().Add(-10 * time.Second)
	os.Chtimes(tmp, old, old)
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

func trackerRelease(status, fixed, urgency string) map[string]any {
	r := map[string]any{"status": status, "urgency": urgency, "repositories": map[string]string{"bookworm": "1"}}
	if fixed != "" {
		r["fixed_version"] = fixed
	}
	return map[string]any{"releases": map[string]any{"bookworm": r}}
}

// TestServeRegistry is the service end to end against the real parts: Debian's
// docker-registry sending push notifications, dockerd pushing, PostgreSQL, the
// advisory import directory and a webhook receiver. It asserts the store's invariant
// (for each digest the service's findings and packages equal dockaudit image's with
// the same database), that each distinct layer is read once, and that an advisory
// update re-judges only the images it touches and becomes signed events, delivered
// once each even when the receiver was down.
func TestServeRegistry(t *testing.T) {
	need(t)
	dsn := pgtest.New(t)
	base, derived := serveImages(t)
	installed := map[string]string{}
	for _, line := range dpkgQuery(t, bookwormRoot(t)) {
		f := strings.Split(line, "\t")
		installed[f[3]] = f[4]
	}

	work := t.TempDir()
	secret := filepath.Join(work, "notify.secret")
	os.WriteFile(secret, []byte("notify-"+strconv.Itoa(os.Getpid())+"\n"), 0o600)
	hookSecret := filepath.Join(work, "hook.secret")
	os.WriteFile(hookSecret, []byte("hmac-key\n"), 0o600)
	rc := &receiver{secret: []byte("hmac-key"), keys: map[string]int{}, down: true}
	hooks := httptest.NewServer(rc)
	defer hooks.Close()

	port := freePort(t)
	reg := registryServer(t, func(addr, dir string) string {
		return fmt.Sprintf(`version: 0.1
storage:
  filesystem:
    rootdirectory: %s
http:
  addr: %s
notifications:
  endpoints:
    - name: dockaudit
      url: http://127.0.0.1:%d/hooks/registry
      headers:
        Authorization: [Bearer notify-%d]
      timeout: 2s
      threshold: 5
      backoff: 1s
`, filepath.Join(dir, "data"), addr, port, os.Getpid())
	})
	importDir := filepath.Join(work, "import")
	os.MkdirAll(importDir, 0o755)
	tracker(t, importDir, "tracker-1.json", map[string]map[string]any{
		"bash": {"CVE-2099-2001": trackerRelease("resolved", installed["bash"]+"+fix1", "high")},
		"tar":  {"CVE-2099-2002": trackerRelease("open", "", "medium")},
	})
	config := filepath.Join(work, "serve.yaml")
	os.WriteFile(config, []byte(fmt.Sprintf(`registries:
  - url: http://%s
    repositories: ["it/*"]
    poll: 1h
    notify_secret_file: %s
advisories:
  update: 0
  import_dir: %s
webhooks:
  - url: %s/dockaudit
    secret_file: %s
`, reg, secret, importDir, hooks.URL, hookSecret)), 0o644)

	if r := dockaudit(t, nil, "serve", "--database", dsn, "--migrate-only"); r.code != 0 || r.stdout != "database schema at version 5 (5 applied now)\n" {
		t.Fatalf("--migrate-only: exit %d %q %s", r.code, r.stdout, r.stderr)
	}
	tok := dockaudit(t, nil, "serve", "token", "create", "--database", dsn, "--scope", "read", "--name", "it")
	if tok.code != 0 {
		t.Fatalf("token create: %s", tok.stderr)
	}
	dataDir := filepath.Join(work, "data")
	srv := startServe(t, dsn, config, dataDir, port)
	if code := srv.get(t, "/api/v1/images", nil); code != 401 {
		t.Fatalf("without a token: %d", code)
	}
	srv.token = strings.TrimSpace(tok.stdout)

	// The import directory's tracker data is published before anything is pushed.
	var sum struct {
		store.Counts
		Database *store.AdvisoryState `json:"database"`
	}
	eventually(t, "the imported database is published", 60*time.Second, func() bool {
		return srv.get(t, "/api/v1/summary", &sum) == 200 && sum.Database != nil
	})
	if _, err := os.Stat(filepath.Join(importDir, "tracker-1.json")); !os.IsNotExist(err) {
		t.Errorf("the imported file is still in the import directory: %v", err)
	}

	names := map[string]string{"base": base}
	for k, v := range derived {
		names[k] = v
	}
	for name, tag := range names {
		pushAs(t, tag, reg+"/it/"+name+":1")
	}
	var page serve.Page[store.ImageSummary]
	eventually(t, "the four pushed images are scanned (from the registry's notifications; polling is hourly)", 180*time.Second, func() bool {
		return srv.get(t, "/api/v1/images", &page) == 200 && len(page.Items) == 4
	})

	// The invariant, image by image, against dockaudit image with the same database.
	dbDir := filepath.Join(dataDir, "db")
	check := func(when string) map[string][]string {
		vulnsBy := map[string][]string{}
		for _, im := range page.Items {
			var got report.Report
			if code := srv.get(t, "/api/v1/images/"+im.Digest, &got); code != 200 {
				t.Fatalf("GET image %s: %d", im.Digest, code)
			}
			ref := "registry:" + reg + "/" + im.Repository + "@" + im.Digest
			want := jsonReport(t, []string{"DOCKER_CONFIG=" + t.TempDir()}, "image", "--db-dir", dbDir, ref)
			wf, wp := comparable(want)
			gf, gp := comparable(&got)
			if d := cmp.Diff(wf, gf); d != "" {
				t.Errorf("%s, %s: findings differ from dockaudit image (-cli +serve):\n%s", when, im.Repository, d)
			}
			if d := cmp.Diff(wp, gp); d != "" {
				t.Errorf("%s, %s: packages differ from dockaudit image (-cli +serve):\n%s", when, im.Repository, d)
			}
			vulnsBy[im.Repository] = vulns(&got)
		}
		return vulnsBy
	}
	before := check("first scan")
	if n := len(before["it/nodpkg"]); n != 0 {
		t.Errorf("it/nodpkg, whose package database a later layer deleted: %d vulnerabilities", n)
	}
	for _, repo := range []string{"it/base", "it/trimmed", "it/secret"} {
		if !slices.ContainsFunc(before[repo], func(s string) bool { return strings.HasPrefix(s, "bash CVE-2099-2001 fix-pending") }) {
			t.Errorf("%s: no bash CVE-2099-2001 in %q", repo, before[repo])
		}
	}

	// Every distinct layer was read once: the base layer is shared by all four.
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	distinct := map[string]bool{}
	for _, im := range page.Items {
		var rep report.Report
		srv.get(t, "/api/v1/images/"+im.Digest, &rep)
		for _, l := range rep.Images[0].Layers {
			distinct[l.Digest] = true
		}
	}
	records, reads, err := st.Layers(ctx)
	if err != nil || reads != records {
		t.Errorf("layers: %d records, %d reads: each layer must be read once (%v)", records, reads, err)
	}
	if records != len(distinct) {
		t.Errorf("%d layer records for %d distinct layers", records, len(distinct))
	}

	// The receiver was down: nothing is lost. Once up, each event arrives once.
	eventually(t, "delivery attempts while the receiver is down", 30*time.Second, func() bool {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		return rc.failed > 0
	})
	rc.mu.Lock()
	rc.down = false
	rc.mu.Unlock()
	eventually(t, "an image.scanned event per image", 60*time.Second, func() bool { return len(rc.events(serve.KindScanned)) == 4 })

	// An advisory update: bash's fix is now the installed version (fixed), tar's
	// advisory is gone (withdrawn), sed has a new one. Only the three images with a
	// package database are judged again.
	var matchedBefore string
	for _, im := range page.Items {
		if im.Repository == "it/nodpkg" {
			matchedBefore = im.MatchedAt.String()
		}
	}
	tracker(t, importDir, "tracker-2.json", map[string]map[string]any{
		"bash": {"CVE-2099-2001": trackerRelease("resolved", installed["bash"], "high")},
		"sed":  {"CVE-2099-2003": trackerRelease("open", "", "high")},
	})
	counts := func() string {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		n := map[string]int{}
		for _, e := range rc.got {
			n[e.Kind]++
		}
		return fmt.Sprint(n)
	}
	want := fmt.Sprint(map[string]int{serve.KindScanned: 4, serve.KindUnsigned: 4, serve.KindNew: 3, serve.KindFixed: 3, serve.KindWithdrawn: 3})
	deadline := time.Now().Add(90 * time.Second)
	for counts() != want && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if got := counts(); got != want {
		t.Fatalf("events %s, want %s", got, want)
	}
	// Nothing signed the pushed images: each is an image.unsigned event, saying so.
	for _, e := range rc.events(serve.KindUnsigned) {
		if e.Image == nil || e.Reason != "not signed: no signature (cosign or Notation) is stored for "+e.Image.Digest {
			t.Errorf("image.unsigned: %+v", e)
		}
	}
	for _, e := range rc.events(serve.KindNew) {
		if e.Vulnerability.ID != "CVE-2099-2003" || e.Vulnerability.Package != "sed" || e.Image == nil || e.Image.Digest == "" {
			t.Errorf("vulnerability.new: %+v", e)
		}
	}
	for _, e := range rc.events(serve.KindWithdrawn) {
		if e.Vulnerability.ID != "CVE-2099-2002" {
			t.Errorf("vulnerability.withdrawn: %+v", e)
		}
	}
	srv.get(t, "/api/v1/images", &page)
	for _, im := range page.Items {
		if im.Repository == "it/nodpkg" && im.MatchedAt.String() != matchedBefore {
			t.Errorf("it/nodpkg was judged again although the update touched none of its packages")
		}
	}
	after := check("after the update")
	if got := after["it/base"]; !slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "sed CVE-2099-2003") }) {
		t.Errorf("it/base after the update: %q", got)
	}
	// "Where is CVE-2099-2003": the three images, with package and versions.
	var where serve.Where
	if code := srv.get(t, "/api/v1/vulnerabilities/CVE-2099-2003", &where); code != 200 || len(where.Images) != 3 {
		t.Errorf("where is CVE-2099-2003: %d, %+v", code, where)
	}
	for _, a := range where.Images {
		if a.Package != "sed" || a.Installed != installed["sed"] || len(a.Tags) != 1 || a.Tags[0] != "1" {
			t.Errorf("where is: %+v", a)
		}
	}
	// Harbor's pluggable scanner API: an image the watcher does not cover (another
	// repository) is scanned on Harbor's request with the credentials Harbor sends; a
	// registry the configuration does not name is refused (no SSRF).
	scanTok := strings.TrimSpace(dockaudit(t, nil, "serve", "token", "create", "--database", dsn, "--scope", "scan").stdout)
	other := reg + "/other/base:1"
	hdir := t.TempDir()
	os.WriteFile(filepath.Join(hdir, "Dockerfile"), []byte("FROM "+base+"\nLABEL purpose=harbor\n"), 0o644)
	dockerBuild(t, hdir, other)
	docker(t, "push", other)
	var otherDigest string
	for _, rd := range strings.Split(docker(t, "inspect", "--format", "{{join .RepoDigests \"\\n\"}}", other), "\n") {
		if strings.HasPrefix(rd, reg+"/other/base@") {
			otherDigest = strings.TrimPrefix(rd, reg+"/other/base@")
		}
	}
	code, _, body := srv.do(t, "GET", "/harbor/api/v1/metadata", scanTok, nil, "")
	if code != 200 || !strings.Contains(string(body), `"name":"dockaudit"`) || !strings.Contains(string(body), "vulnerability-database-updated-at") {
		t.Errorf("harbor metadata: %d %s", code, body)
	}
	if code, _, _ := srv.do(t, "GET", "/harbor/api/v1/metadata", "", nil, ""); code != 403 {
		t.Errorf("harbor metadata with a read token: %d", code)
	}
	hreq := func(registryURL string) string {
		return fmt.Sprintf(`{"registry":{"url":%q,"authorization":"Basic cm9ib3Q6c2VjcmV0"},"artifact":{"repository":"other/base","digest":%q,"tag":"1","mime_type":"application/vnd.docker.distribution.manifest.v2+json"}}`, registryURL, otherDigest)
	}
	ct := map[string]string{"Content-Type": "application/vnd.scanner.adapter.scan.request+json; version=1.0"}
	code, _, body = srv.do(t, "POST", "/harbor/api/v1/scan", scanTok, ct, hreq("http://169.254.169.254"))
	if code != 400 || !strings.Contains(string(body), "is not one this scanner may fetch from") {
		t.Errorf("harbor scan of an unconfigured registry: %d %s", code, body)
	}
	code, _, body = srv.do(t, "POST", "/harbor/api/v1/scan", scanTok, ct, hreq("http://"+reg))
	var sr struct{ ID string }
	if code != 202 || json.Unmarshal(body, &sr) != nil || sr.ID == "" {
		t.Fatalf("harbor scan: %d %s", code, body)
	}
	var hr serve.HarborReport
	acc := map[string]string{"Accept": "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0"}
	eventually(t, "the Harbor report", 60*time.Second, func() bool {
		code, hdr, body := srv.do(t, "GET", "/harbor/api/v1/scan/"+sr.ID+"/report", scanTok, acc, "")
		if code == 302 && hdr.Get("Refresh-After") == "" {
			t.Fatalf("302 without Refresh-After")
		}
		return code == 200 && json.Unmarshal(body, &hr) == nil
	})
	var hs store.HarborScan
	if hs, err = st.HarborScanByID(ctx, sr.ID); err != nil || hs.State != "done" {
		t.Errorf("harbor scan record: %+v %v", hs, err)
	}
	if have, _ := st.HasImage(ctx, otherDigest); !have {
		t.Errorf("the image Harbor asked for is not stored")
	}
	var hv []string
	for _, v := range hr.Vulnerabilities {
		hv = append(hv, v.ID+" "+v.Package+" "+v.Severity)
	}
	sort.Strings(hv)
	// After the update: bash's advisory is fixed in the installed version, tar's is gone.
	if want := []string{"CVE-2099-2003 sed High"}; !slices.Equal(hv, want) || hr.Severity != "High" || hr.Artifact.Digest != otherDigest {
		t.Errorf("harbor report: %q (severity %s), want %q", hv, hr.Severity, want)
	}

	var events serve.Page[store.EventRow]
	if code := srv.get(t, "/api/v1/events?limit=1000", &events); code != 200 || len(events.Items) == 0 {
		t.Errorf("events: %d, %d", code, len(events.Items))
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, b := range rc.raw {
		validAPI(t, "Event", b)
	}
	for k, n := range rc.keys {
		if n != 1 {
			t.Errorf("event %s delivered %d times", k, n)
		}
	}
	if len(rc.bad) > 0 {
		t.Errorf("receiver: %q", rc.bad)
	}
}

// TestServeHostSubmit: dockaudit host --submit sends the report, which the service keeps
// in the host's history; a token of the wrong scope, a revoked one and plain HTTP to
// another machine are refused with one line each.
// serviceDB is a migrated database for dockaudit serve, a work directory with a
// one-worker serve.yaml, and a maker of tokens: each is written to WORK/SCOPE.token,
// whose path is returned.
func serviceDB(t *testing.T) (dsn, work, config string, token func(scope string) string) {
	t.Helper()
	dsn = pgtest.New(t)
	work = t.TempDir()
	config = filepath.Join(work, "serve.yaml")
	os.WriteFile(config, []byte("workers: 1\n"), 0o644)
	if r := dockaudit(t, nil, "serve", "--database", dsn, "--migrate-only"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	token = func(scope string) string {
		t.Helper()
		r := dockaudit(t, nil, "serve", "token", "create", "--database", dsn, "--scope", scope)
		if r.code != 0 {
			t.Fatal(r.stderr)
		}
		p := filepath.Join(work, scope+".token")
		os.WriteFile(p, []byte(r.stdout), 0o600)
		return p
	}
	return dsn, work, config, token
}

func TestServeHostSubmit(t *testing.T) {
	need(t)
	dsn, work, config, token := serviceDB(t)
	submitTok, readTok := token("submit"), token("read")
	srv := startServe(t, dsn, config, filepath.Join(work, "data"), freePort(t))
	b, _ := os.ReadFile(readTok)
	srv.token = strings.TrimSpace(string(b))

	for i := range 2 {
		r := dockaudit(t, nil, "host", "--submit", srv.url, "--token-file", submitTok, "--submit-name", "web-1", "--format", "json", "--include", "CIS-2")
		if r.code != 0 && r.code != 3 {
			t.Fatalf("submit %d: exit %d: %s", i, r.code, r.stderr)
		}
	}
	var hosts serve.Page[store.HostReport]
	if code := srv.get(t, "/api/v1/hosts", &hosts); code != 200 || len(hosts.Items) != 1 || hosts.Items[0].Host != "web-1" {
		t.Fatalf("hosts: %d %+v", code, hosts)
	}
	var hist serve.Page[store.HostReport]
	if code := srv.get(t, "/api/v1/hosts/web-1", &hist); code != 200 || len(hist.Items) != 2 || hist.Items[0].Report == nil || hist.Items[1].Report != nil {
		t.Fatalf("history: %d, %d reports", code, len(hist.Items))
	}
	var rep report.Report
	if err := json.Unmarshal(hist.Items[0].Report, &rep); err != nil || rep.Command != "host" || len(rep.Findings) == 0 {
		t.Fatalf("stored report: %v, %d findings", err, len(rep.Findings))
	}
	for _, f := range rep.Findings {
		if !strings.HasPrefix(f.Rule, "CIS-2") {
			t.Errorf("stored report has %s, the audit included CIS-2 only", f.Rule)
		}
	}
	if code := srv.get(t, "/api/v1/hosts/web-2", nil); code != 404 {
		t.Errorf("an unknown host: %d", code)
	}

	// dockaudit image --submit: the images as read go to the service, which judges and
	// keeps them; the packages and every finding but the vulnerability rule's equal the
	// CLI's (the service has no advisory database here; the CLI may have one).
	tag := "dockaudit-it-submit:1"
	image(t, tag)
	local := jsonReport(t, nil, "image", "--submit", srv.url, "--token-file", submitTok, tag)
	var imgs serve.Page[store.ImageSummary]
	if code := srv.get(t, "/api/v1/images", &imgs); code != 200 || len(imgs.Items) != 1 {
		t.Fatalf("submitted images: %d %+v", code, imgs)
	}
	it := imgs.Items[0]
	if it.Registry != serve.SubmittedRegistry || it.Repository != "dockaudit-it-submit" || len(it.Tags) != 1 || it.Tags[0] != "1" || it.Covered {
		t.Errorf("submitted image listed as %+v", it)
	}
	var kept report.Report
	if code := srv.get(t, "/api/v1/images/"+it.Digest, &kept); code != 200 {
		t.Fatalf("submitted image: %d", code)
	}
	strip := func(r *report.Report) *report.Report {
		out := *r
		out.Findings = nil
		for _, f := range r.Findings {
			if f.Rule != "VULN" {
				out.Findings = append(out.Findings, f)
			}
		}
		return &out
	}
	lf, lp := comparable(strip(local))
	kf, kp := comparable(strip(&kept))
	if d := cmp.Diff(lf, kf); d != "" {
		t.Errorf("submitted image's findings (-cli +serve):\n%s", d)
	}
	if d := cmp.Diff(lp, kp); d != "" || len(kp) == 0 {
		t.Errorf("submitted image's packages (-cli +serve):\n%s", d)
	}

	// The containers a report was made with go with it: a container of the submitted
	// image is listed under the host with the image ID the service keeps it by.
	cname := fmt.Sprintf("dasubmit%d", time.Now().UnixNano()%1e6)
	docker(t, "run", "-d", "--name", cname, tag, "sleep", "60")
	t.Cleanup(func() { exec.Command("docker", "rm", "-f", cname).Run() })
	if r := dockaudit(t, nil, "host", "--submit", srv.url, "--token-file", submitTok, "--submit-name", "web-1", "--include", "CIS-2.1"); r.code != 0 && r.code != 3 {
		t.Fatalf("submit with a container: exit %d: %s", r.code, r.stderr)
	}
	var latest serve.Page[store.HostReport]
	if code := srv.get(t, "/api/v1/hosts/web-1?limit=1", &latest); code != 200 || len(latest.Items) != 1 {
		t.Fatalf("latest: %d %+v", code, latest)
	}
	var found []store.HostContainer
	for _, c := range latest.Items[0].Containers {
		if c.Name == cname {
			found = append(found, c)
		}
	}
	if len(found) != 1 || found[0].ImageID != it.Digest || found[0].State != "running" || found[0].Image != tag || len(found[0].ID) != 64 {
		t.Errorf("container %s of the latest report: %+v (want image %s)", cname, found, it.Digest)
	}

	r := dockaudit(t, nil, "host", "--submit", srv.url, "--token-file", readTok, "--include", "CIS-2.1")
	if r.code != 1 || !strings.Contains(r.stderr, "403 Forbidden: this token's scope is read; this needs submit") {
		t.Errorf("a read token: exit %d: %s", r.code, r.stderr)
	}
	r = dockaudit(t, nil, "host", "--submit", "http://192.0.2.1:8080", "--token-file", submitTok)
	if r.code != 2 || r.stderr != "dockaudit host: --submit http://192.0.2.1:8080: the token would travel in clear; use https:// (plain http:// only on loopback)\n" {
		t.Errorf("plain HTTP: exit %d: %q", r.code, r.stderr)
	}
	if r := dockaudit(t, nil, "serve", "token", "revoke", "--database", dsn, "1"); r.code != 0 || r.stdout != "token 1 revoked\n" {
		t.Fatalf("revoke: %d %q %s", r.code, r.stdout, r.stderr)
	}
	r = dockaudit(t, nil, "host", "--submit", srv.url, "--token-file", submitTok, "--include", "CIS-2.1")
	if r.code != 1 || !strings.Contains(r.stderr, "401 Unauthorized: unknown or revoked token") {
		t.Errorf("a revoked token: exit %d: %s", r.code, r.stderr)
	}
}

// gate is a reverse proxy in front of a registry that can hold blob downloads (an
// image mid-scan) or answer 503 to everything (a registry that is down).
type gate struct {
	mu      sync.Mutex
	hold    chan struct{} // closed: blobs flow
	down    bool
	waiting int
	proxy   http.Handler
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	down, hold := g.down, g.hold
	if strings.Contains(r.URL.Path, "/blobs/") {
		g.waiting++
	}
	g.mu.Unlock()
	if down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	if strings.Contains(r.URL.Path, "/blobs/") {
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
	}
	g.proxy.ServeHTTP(w, r)
}

// TestServeReplicas: two replicas on one PostgreSQL. One is killed (SIGKILL) while it
// holds a scan; the other takes the job over when the lease runs out and finishes it,
// and every image is stored once. Then PostgreSQL restarts and the registry goes
// down for a while: the replica carries on and finds the image pushed meanwhile.
func TestServeReplicas(t *testing.T) {
	need(t)
	pg := pgtest.NewCluster(t)
	regAddr := registryServer(t, func(addr, dir string) string {
		return fmt.Sprintf("version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n", filepath.Join(dir, "data"), addr)
	})
	target, _ := url.Parse("http://" + regAddr)
	g := &gate{hold: make(chan struct{}), proxy: httputil.NewSingleHostReverseProxy(target)}
	front := httptest.NewServer(g)
	defer front.Close()

	push := func(name string) {
		tag := "dockaudit-it-replica-" + name + ":1"
		dir := busyboxContext(t, "COPY name /etc/name\n")
		os.WriteFile(filepath.Join(dir, "name"), []byte(name), 0o644)
		dockerBuild(t, dir, tag)
		pushAs(t, tag, regAddr+"/it/"+name+":1")
	}
	push("one")
	push("two")

	work := t.TempDir()
	config := filepath.Join(work, "serve.yaml")
	os.WriteFile(config, []byte(fmt.Sprintf("workers: 1\nregistries:\n  - url: %s\n    poll: 2s\n", front.URL)), 0o644)
	if r := dockaudit(t, nil, "serve", "--database", pg.DSN, "--migrate-only"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	tok := dockaudit(t, nil, "serve", "token", "create", "--database", pg.DSN, "--scope", "read")
	a := startServe(t, pg.DSN, config, filepath.Join(work, "a"), freePort(t), "--lease", "4s")
	b := startServe(t, pg.DSN, config, filepath.Join(work, "b"), freePort(t), "--lease", "4s")
	a.token, b.token = strings.TrimSpace(tok.stdout), strings.TrimSpace(tok.stdout)

	ctx := context.Background()
	st, err := store.Open(ctx, pg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		rows, err := st.Pool.Query(context.Background(), "SELECT id, kind, key, state, attempts, coalesce(lease_owner, ''), coalesce(last_error, ''), run_at, lease_until FROM jobs ORDER BY id")
		if err != nil {
			t.Logf("jobs: %v", err)
			return
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var kind, key, state, owner, last string
			var attempts int
			var runAt time.Time
			var until *time.Time
			rows.Scan(&id, &kind, &key, &state, &attempts, &owner, &last, &runAt, &until)
			t.Logf("job %d %s %s %s attempts=%d owner=%s run_at=%s lease_until=%v error=%q", id, kind, key, state, attempts, owner, runAt.Format(time.TimeOnly), until, last)
		}
	})
	// Wait for a replica to be mid-scan, held at a blob, and kill it.
	var owner string
	eventually(t, "a replica holds a scan", 60*time.Second, func() bool {
		g.mu.Lock()
		w := g.waiting
		g.mu.Unlock()
		return w > 0 && st.Pool.QueryRow(ctx, "SELECT lease_owner FROM jobs WHERE kind = 'scan' AND state = 'running' ORDER BY id LIMIT 1").Scan(&owner) == nil
	})
	var killed, survivor *server
	for _, s := range []*server{a, b} {
		if strings.Contains(owner, fmt.Sprintf("/%d/", s.cmd.Process.Pid)) {
			killed = s
		} else {
			survivor = s
		}
	}
	if killed == nil {
		t.Fatalf("the lease owner %q is neither replica", owner)
	}
	var killedJob int64
	st.Pool.QueryRow(ctx, "SELECT id FROM jobs WHERE lease_owner = $1 AND kind = 'scan'", owner).Scan(&killedJob)
	killed.cmd.Process.Kill() // SIGKILL: no goodbye, the lease just stops being renewed
	killed.cmd.Wait()
	close(g.hold)

	var page serve.Page[store.ImageSummary]
	eventually(t, "the survivor stores both images", 60*time.Second, func() bool {
		return survivor.get(t, "/api/v1/images", &page) == 200 && len(page.Items) == 2
	})
	var state, finalOwner string
	var attempts int
	if err := st.Pool.QueryRow(ctx, "SELECT state, attempts, coalesce(lease_owner, '') FROM jobs WHERE id = $1", killedJob).Scan(&state, &attempts, &finalOwner); err != nil {
		t.Fatal(err)
	}
	if state != "done" || attempts != 2 {
		t.Errorf("the killed replica's job: %s after %d attempts, want done after 2", state, attempts)
	}
	var running int
	st.Pool.QueryRow(ctx, "SELECT count(*) FROM jobs WHERE kind = 'scan' AND state <> 'done'").Scan(&running)
	if running != 0 {
		t.Errorf("%d scan jobs not done", running)
	}

	// PostgreSQL restarts: the survivor waits for it and carries on.
	pg.Stop(t)
	if code := survivor.get(t, "/healthz", nil); code != 503 {
		t.Errorf("/healthz with the database down: %d", code)
	}
	time.Sleep(2 * time.Second)
	pg.Start(t)
	// The registry is down while an image is pushed, then comes back.
	g.mu.Lock()
	g.down = true
	g.mu.Unlock()
	push("three")
	time.Sleep(3 * time.Second)
	g.mu.Lock()
	g.down = false
	g.mu.Unlock()
	eventually(t, "the image pushed while the registry was unreachable is found and stored", 90*time.Second, func() bool {
		return survivor.get(t, "/api/v1/images", &page) == 200 && len(page.Items) == 3
	})
	if !strings.Contains(survivor.log.String(), "503 down") {
		t.Errorf("the survivor never saw the registry down:\n%s", tail(survivor.log.String(), 20))
	}
}

// TestServeTrust: dockaudit serve under a trust_policy, against Debian's
// docker-registry: an image signed by the real cosign CLI before the service starts is
// verified (its report's IMG-SIGNATURE passes, as dockaudit image says), an unsigned
// one is an image.unsigned event with the reason, and the .sig manifest cosign pushed
// beside the image is not taken for an image to scan.
func TestServeTrust(t *testing.T) {
	need(t)
	cosignCLI(t) // skips at once when the CLI is missing
	dsn := pgtest.New(t)
	host := "127.0.0.1:" + registry(t)
	digests := map[string]string{}
	for _, n := range []string{"signed", "unsigned"} {
		dir := busyboxContext(t, "LABEL serve-trust="+n+"\n")
		dockerBuild(t, dir, "dockaudit-it-servetrust:"+n)
		pushAs(t, "dockaudit-it-servetrust:"+n, host+"/it/"+n+":1")
		digests[n] = manifestDigest(t, host, "it/"+n, "1")
	}
	work := t.TempDir()
	run := cosignRunner(t, work)
	run("generate-key-pair")
	run("sign", "--key", "cosign.key", "--tlog-upload=false", "--use-signing-config=false", "--new-bundle-format=false", "--allow-http-registry", "--yes", host+"/it/signed@"+digests["signed"])
	pub := filepath.Join(work, "cosign.pub")
	policy := filepath.Join(work, "trust.yaml")
	os.WriteFile(policy, []byte("version: 1\npolicies:\n  - repositories: [\""+host+"/it/*\"]\n    cosign: {keys: [cosign.pub]}\n"), 0o644)
	hookSecret := filepath.Join(work, "hook.secret")
	os.WriteFile(hookSecret, []byte("hmac-key\n"), 0o600)
	rc := &receiver{secret: []byte("hmac-key"), keys: map[string]int{}}
	hooks := httptest.NewServer(rc)
	defer hooks.Close()
	config := filepath.Join(work, "serve.yaml")
	os.WriteFile(config, []byte(fmt.Sprintf("registries:\n  - url: http://%s\n    repositories: [\"it/*\"]\n    poll: 1h\nadvisories:\n  update: 0\nwebhooks:\n  - url: %s/dockaudit\n    secret_file: %s\ntrust_policy: %s\n",
		host, hooks.URL, hookSecret, policy)), 0o644)
	if r := dockaudit(t, nil, "serve", "--database", dsn, "--migrate-only"); r.code != 0 {
		t.Fatalf("--migrate-only: %s", r.stderr)
	}
	tok := dockaudit(t, nil, "serve", "token", "create", "--database", dsn, "--scope", "read", "--name", "it")
	if tok.code != 0 {
		t.Fatalf("token create: %s", tok.stderr)
	}
	srv := startServe(t, dsn, config, filepath.Join(work, "data"), freePort(t))
	srv.token = strings.TrimSpace(tok.stdout)
	var page serve.Page[store.ImageSummary]
	eventually(t, "the two images are scanned by the first poll", 120*time.Second, func() bool {
		return srv.get(t, "/api/v1/images", &page) == 200 && len(page.Items) == 2
	})
	eventually(t, "an image.unsigned event", 60*time.Second, func() bool { return len(rc.events(serve.KindUnsigned)) >= 1 })
	time.Sleep(time.Second) // a second one, if there were any, would have come by now
	if got := rc.events(serve.KindUnsigned); len(got) != 1 || got[0].Image == nil || got[0].Image.Digest != digests["unsigned"] ||
		got[0].Reason != "not signed: no signature (cosign or Notation) is stored for "+digests["unsigned"] {
		t.Errorf("image.unsigned events: %+v", got)
	}
	for _, im := range page.Items {
		if im.Digest != digests["signed"] && im.Digest != digests["unsigned"] {
			t.Errorf("scanned as an image: %s %s", im.Repository, im.Digest)
		}
	}
	// Two scans queued: none for the sha256-HEX.sig manifest.
	_, _, metrics := srv.do(t, http.MethodGet, "/metrics", "", nil, "")
	if !strings.Contains(string(metrics), "\ndockaudit_queued_total 2\n") {
		t.Errorf("scans queued:\n%s", metrics)
	}
	var rep report.Report
	if code := srv.get(t, "/api/v1/images/"+digests["signed"], &rep); code != 200 {
		t.Fatalf("GET the signed image: %d", code)
	}
	want := "pass: signed: verified with " + pub + " (" + keyID(t, pub) + ")"
	for _, f := range rep.Findings {
		if f.Rule == "IMG-SIGNATURE" {
			if got := f.Status.String() + ": " + f.Message; got != want {
				t.Errorf("the signed image's IMG-SIGNATURE: %s, want %s", got, want)
			}
			want = ""
		}
	}
	if want != "" || len(rep.Images) != 1 || len(rep.Images[0].Signatures) != 1 || !rep.Images[0].Signatures[0].Verified {
		t.Errorf("the signed image's report: %+v", rep.Images)
	}
}
