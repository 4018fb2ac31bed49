package serve

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockaudit/dockaudit/internal/finding"
	"github.com/dockaudit/dockaudit/internal/report"

	"github.com/dockaudit/dockaudit/internal/pgtest"
	"github.com/dockaudit/dockaudit/internal/store"
)

func secretFile(t *testing.T, body string) string {
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestParseConfig: the smallest configuration of the issue is accepted as written, and
// each mistake is one clear error.
func TestParseConfig(t *testing.T) {
	hook := secretFile(t, "k\n")
	ok := `registries:
  - url: http://127.0.0.1:5000
    repositories: ["*"]
    poll: 30s
advisories:
  update: 6h
  import_dir: /var/lib/dockaudit/import
webhooks:
  - url: https://hooks.example/dockaudit
    secret_file: ` + hook + "\n"
	c, err := ParseConfig([]byte(ok), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if c.Registries[0].host != "127.0.0.1:5000" || time.Duration(c.Registries[0].Poll) != 30*time.Second ||
		time.Duration(c.Advisories.Update) != 6*time.Hour || string(c.Webhooks[0].secret) != "k" || c.Workers != 2 ||
		time.Duration(c.Events.Retention) != 720*time.Hour {
		t.Fatalf("parsed %+v", c)
	}
	for _, bad := range []struct{ yaml, want string }{
		{"registries:\n  - url: http://registry.example:5000\n", "configuration: registry http://registry.example:5000: plain HTTP only for a registry on loopback, or with insecure: true"},
		{"registries:\n  - url: registry.example\n", `configuration: registry "registry.example": want http(s)://HOST[:PORT]`},
		{"registries:\n  - url: https://r.example\n    poll: soon\n", `configuration: line 3: "soon" is not a duration (30s, 5m, 6h, or 0)`},
		{"registries:\n  - url: https://r.example\n    pol: 1s\n", "configuration: yaml: unmarshal errors:\n  line 3: field pol not found in type serve.RegistryConfig"},
		{"registries:\n  - url: https://r.example\n  - url: https://r.example/\n", "configuration: registry r.example is listed twice"},
		{"registries:\n  - url: https://r.example\n    password_env: NOPE\n    username: u\n", "configuration: registry https://r.example: $NOPE is empty or not set"},
		{"registries:\n  - url: https://r.example\n    repositories: [\"[\"]\n", `configuration: registry https://r.example: repository glob "[": syntax error in pattern`},
		{"webhooks:\n  - url: http://hooks.example/x\n    secret_file: " + hook + "\n", "configuration: webhook http://hooks.example/x: https:// only (plain http:// for loopback)"},
		{"webhooks:\n  - url: https://hooks.example/x\n", "configuration: webhook https://hooks.example/x: secret_file is required (events are signed with it)"},
		{"webhooks:\n  - url: https://hooks.example/x\n    secret_file: /dev/zero\n", "configuration: webhook https://hooks.example/x: /dev/zero is a character device, not a regular file"},
		{"webhooks:\n  - url: https://hooks.example/x\n    secret_file: " + hook + "\n    events: [image.pushed]\n", `configuration: webhook https://hooks.example/x: unknown event kind "image.pushed" (image.scanned, image.uncovered, image.failed, image.unsigned, vulnerability.new, vulnerability.fixed, vulnerability.withdrawn, host.report)`},
		{"trust_policy: /nonexistent.yaml\n", "configuration: trust_policy: open /nonexistent.yaml: no such file or directory"},
		{"advisories:\n  update: 10s\n", "configuration: advisories: update 10s is too often (at least 1m, or 0)"},
		{"workers: 1000\n", "configuration: workers 1000: use 1 to 64"},
		{"events:\n  retention: 5m\n", "configuration: events: retention 5m0s: keep events at least 1h"},
		{"advisories:\n  updateinfo_repos: [\"ftp://x/\"]\n", `configuration: advisories: updateinfo_repos "ftp://x/": want an http(s):// repository URL`},
	} {
		_, err := ParseConfig([]byte(bad.yaml), func(string) string { return "" })
		if err == nil || err.Error() != bad.want {
			t.Errorf("%q:\n got %v\nwant %s", bad.yaml, err, bad.want)
		}
	}
	if c, err := ParseConfig(nil, nil); err != nil || c.Workers != 2 {
		t.Errorf("an empty configuration: %v", err)
	}
}

func TestSignature(t *testing.T) {
	// printf '1700000000.{"id":"x"}' | openssl dgst -sha256 -hmac key
	if got := Signature([]byte("key"), 1700000000, []byte(`{"id":"x"}`)); got != "sha256=c275209bfed50f54f9b0d8dafaf250f3f08155fdaadece7fc4d3f5c7e3c8b6ba" {
		t.Fatal(got)
	}
	a := Signature([]byte("key"), 1, []byte("b"))
	if a == Signature([]byte("key"), 2, []byte("b")) || a == Signature([]byte("other"), 1, []byte("b")) {
		t.Fatal("the signature does not cover the timestamp and the key")
	}
}

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 5 * time.Second, 2: 10 * time.Second, 5: 80 * time.Second, 30: time.Hour} {
		if got := backoff(n); got != want {
			t.Errorf("backoff(%d) = %s, want %s", n, got, want)
		}
	}
}

func TestHarborCredential(t *testing.T) {
	c, err := harborCredential("Basic cm9ib3Q6c2VjcmV0")
	if err != nil || c.Username != "robot" || c.Password != "secret" {
		t.Fatal(c, err)
	}
	for _, bad := range []string{"Bearer x", "Basic !!!", "Basic " + "bm9jb2xvbg=="} {
		if _, err := harborCredential(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// testServer is a Server on a test database with a read and a submit token.
func testServer(t *testing.T) (*Server, http.Handler, map[string]string) {
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	secret := secretFile(t, "notify")
	cfg, err := ParseConfig([]byte("registries:\n  - url: http://127.0.0.1:5000\n    notify_secret_file: "+secret+"\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Store: st, Config: cfg, DataDir: t.TempDir(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	toks := map[string]string{}
	for _, scope := range store.Scopes {
		tok, _, err := st.CreateToken(ctx, scope, "")
		if err != nil {
			t.Fatal(err)
		}
		toks[scope] = tok
	}
	return s, s.Handler(false), toks
}

// TestAPIHostileInput: oversized and malformed bodies, bad tokens and bad parameters
// each get one clear error and the status that says it; nothing is stored.
func TestAPIHostileInput(t *testing.T) {
	s, h, toks := testServer(t)
	do := func(method, path, tok, body string) (int, string) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		var e Error
		json.Unmarshal(w.Body.Bytes(), &e)
		return w.Code, e.Error
	}
	big := `{"host":"h","report":"` + strings.Repeat("x", maxReportBody) + `"}`
	for _, c := range []struct {
		method, path, tok, body string
		code                    int
		msg                     string
	}{
		{"GET", "/api/v1/images", "", "", 401, "an API token is required: Authorization: Bearer TOKEN (dockaudit serve token create)"},
		{"GET", "/api/v1/images", "dat_nope", "", 401, "unknown or revoked token"},
		{"GET", "/api/v1/images", "Bearer", "", 401, "unknown or revoked token"},
		{"POST", "/api/v1/reports", toks["read"], "{}", 403, "this token's scope is read; this needs submit"},
		{"POST", "/api/v1/reports", toks["submit"], big, 413, "the report is larger than 64 MiB"},
		{"POST", "/api/v1/reports", toks["submit"], `{"host":`, 400, "not a submission: unexpected end of JSON input"},
		{"POST", "/api/v1/reports", toks["submit"], `{"host":"a/b","report":{}}`, 400, "host: a name of 1 to 253 characters without /"},
		{"POST", "/api/v1/reports", toks["submit"], `{"host":"h","report":{"schemaVersion":"1","command":"image"}}`, 400, `report: want a dockaudit host report of schema 1 (got command "image", schema "1")`},
		{"POST", "/api/v1/reports", toks["submit"], `{"host":"h","report":[1]}`, 400, "report: not a dockaudit JSON report: json: cannot unmarshal array into Go value of type report.Report"},
		{"POST", "/api/v1/reports", toks["submit"], `{"host":"h","report":{"schemaVersion":"1","command":"host"},"containers":[{"name":"web","id":"c1","image_id":"nginx"}]}`, 400, "containers[0]: image_id: not an image ID (sha256: and 64 hex digits)"},
		{"POST", "/api/v1/reports", toks["submit"], `{"host":"h","report":{"schemaVersion":"1","command":"host"},"containers":[{"name":"web","id":"","image_id":"sha256:` + strings.Repeat("a", 64) + `"}]}`, 400, "containers[0]: an id of 1 to 128 characters, a name, state and image of bounded length"},
		{"POST", "/api/v1/reports", toks["submit"], `{"host":"h","report":{"schemaVersion":"1","command":"host"},"containers":[{"name":"web","id":"c1","image_id":"sha256:` + strings.Repeat("a", 64) + `","digests":["../x"]}]}`, 400, `containers[0]: digests: "../x" is not a manifest digest (sha256: and 64 hex digits)`},
		{"GET", "/api/v1/images?limit=0", toks["read"], "", 400, `limit "0": use 1 to 1000`},
		{"GET", "/api/v1/images?limit=99999", toks["read"], "", 400, `limit "99999": use 1 to 1000`},
		{"GET", "/api/v1/images/latest", toks["read"], "", 400, "not an image digest (sha256: and 64 hex digits)"},
		{"GET", "/api/v1/images/sha256:" + strings.Repeat("a", 64), toks["read"], "", 404, "not found"},
		{"GET", "/api/v1/events?after=x", toks["read"], "", 400, "after: not an event id"},
		{"GET", "/api/v1/vulnerabilities/" + strings.Repeat("C", 300), toks["read"], "", 400, "not a vulnerability ID"},
		{"POST", "/api/v1/scan", toks["scan"], `{"reference":"169.254.169.254/x:1"}`, 403, `registry "169.254.169.254" is not one this server watches`},
		{"POST", "/api/v1/scan", toks["scan"], `not json`, 400, `want {"reference": "HOST/REPOSITORY:TAG"}`},
		{"POST", "/api/v1/scan", toks["scan"], `{"reference":"127.0.0.1:5000/app:../../v2/_catalog"}`, 400, `"../../v2/_catalog" is neither a tag nor a sha256 digest`},
		{"POST", "/hooks/registry", "", `{"events":[]}`, 401, "unknown notification secret"},
		{"POST", "/hooks/registry", "wrong", `{"events":[]}`, 401, "unknown notification secret"},
		{"POST", "/hooks/registry", "notify", `{"events":` + strings.Repeat("[", maxHookBody), 400, "not a registry notification envelope"},
		{"GET", "/api/v2/images", toks["read"], "", 404, "no such endpoint: GET /api/v2/images (see docs/api.md)"},
		{"POST", "/api/v1/images", toks["submit"], `{"images":[]}`, 400, "images: 1 to 100 per submission"},
		{"POST", "/api/v1/images", toks["submit"], `{"images":[{"ref":"app:1","id":"latest"}]}`, 400, `image "app:1": not an image as dockaudit image reads one (a sha256 digest or ID, and its content)`},
		{"POST", "/api/v1/images", toks["read"], `{}`, 403, "this token's scope is read; this needs submit"},
	} {
		code, msg := do(c.method, c.path, c.tok, c.body)
		if code != c.code || msg != c.msg {
			t.Errorf("%s %.60s: %d %q, want %d %q", c.method, c.path, code, msg, c.code, c.msg)
		}
	}
	n, err := s.store.Totals(context.Background())
	if err != nil || n.Hosts != 0 || n.Images != 0 {
		t.Errorf("something was stored: %+v %v", n, err)
	}
	// A push notification queues a resolve job on the registry its secret names; a
	// blob push and another repository's pull do not.
	code, _ := do("POST", "/hooks/registry", "notify", `{"events":[
		{"action":"push","target":{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"sha256:`+strings.Repeat("b", 64)+`","repository":"app","tag":"1"}},
		{"action":"push","target":{"mediaType":"application/octet-stream","digest":"sha256:`+strings.Repeat("c", 64)+`","repository":"app"}},
		{"action":"pull","target":{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","repository":"app","tag":"1"}}]}`)
	depth, _ := s.store.QueueDepth(context.Background())
	if code != 202 || depth[jobRef] != 1 {
		t.Errorf("notification: %d, queue %v", code, depth)
	}
}

// TestRecurringJobsNeverFail: a registry that stays unreachable keeps its poll job
// queued (with backoff) however many times it fails; a scan gives up after 8; an
// update job left from a configuration that no longer updates ends.
func TestRecurringJobsNeverFail(t *testing.T) {
	s, _, _ := testServer(t)
	ctx := context.Background()
	cfg, err := ParseConfig([]byte("registries:\n  - url: http://127.0.0.1:1\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	s.cfg = cfg
	st := s.store
	st.EnqueueAt(ctx, jobPoll, "poll:127.0.0.1:1", pollPayload{Host: "127.0.0.1:1"}, time.Now())
	st.EnqueueAt(ctx, jobUpdate, "advisories:update", struct{}{}, time.Now())
	st.EnqueueAt(ctx, jobScan, "scan:x", ScanPayload{Host: "127.0.0.1:1", Repository: "app", Digest: "sha256:" + strings.Repeat("a", 64)}, time.Now())
	for range 10 {
		if _, err := st.Pool.Exec(ctx, "UPDATE jobs SET run_at = now() WHERE state = 'queued'"); err != nil {
			t.Fatal(err)
		}
		for {
			j, err := st.Lease(ctx, s.owner, jobKinds, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if j == nil {
				break
			}
			s.run(ctx, j)
		}
	}
	states := map[string]string{}
	rows, _ := st.Pool.Query(ctx, "SELECT kind, state FROM jobs")
	for rows.Next() {
		var k, v string
		rows.Scan(&k, &v)
		states[k] = v
	}
	rows.Close()
	if states[jobPoll] != "queued" || states[jobScan] != "failed" || states[jobUpdate] != "done" {
		t.Fatalf("after 10 rounds: %v, want poll queued, scan failed, update done", states)
	}
	var n int
	st.Pool.QueryRow(ctx, "SELECT count(*) FROM events WHERE kind = 'image.failed'").Scan(&n)
	if n != 1 {
		t.Errorf("%d image.failed events, want 1", n)
	}
}

// TestHarborSeverity: a report whose VULN rule skipped (no database, or packages no
// source covers) is never "None" to Harbor.
func TestHarborSeverity(t *testing.T) {
	f := func(status finding.Status, sev finding.Severity, v *finding.Vuln) finding.Finding {
		return finding.Finding{Rule: "VULN", Status: status, Severity: sev, Vuln: v}
	}
	for _, c := range []struct {
		name string
		fs   []finding.Finding
		want string
	}{
		{"all matched, none found", []finding.Finding{f(finding.Pass, finding.High, nil)}, "None"},
		{"no database", []finding.Finding{f(finding.Skip, finding.High, nil)}, "Unknown"},
		{"partly uncovered, a low one found", []finding.Finding{f(finding.Skip, finding.High, nil),
			f(finding.Fail, finding.Low, &finding.Vuln{ID: "CVE-1", Package: "p", Installed: "1"})}, "Low"},
		{"a high one", []finding.Finding{f(finding.Warn, finding.High, &finding.Vuln{ID: "CVE-2", Package: "p", Installed: "1"})}, "High"},
	} {
		got := harborReportOf(&report.Report{Findings: c.fs}, HarborArtifact{})
		if got.Severity != c.want {
			t.Errorf("%s: %s, want %s", c.name, got.Severity, c.want)
		}
	}
}

// TestReceiverName: a webhook's secret path or query never reaches a log line.
func TestReceiverName(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.slack.com/services/T0/B0/s3cr3t": "https://hooks.slack.com/…",
		"https://h.example?token=s3cr3t":                "https://h.example/…",
		"https://u:p@h.example":                         "https://h.example/…",
		"http://127.0.0.1:9000":                         "http://127.0.0.1:9000",
		"::":                                            "a webhook receiver",
	} {
		if got := receiverName(in); got != want {
			t.Errorf("receiverName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestUnsigned: an image.unsigned event carries IMG-SIGNATURE's message when the rule
// fails or warns, and there is none when it passes or skips.
func TestUnsigned(t *testing.T) {
	rep := func(st finding.Status) *report.Report {
		return &report.Report{Findings: []finding.Finding{{Rule: "VULN", Status: finding.Fail, Message: "x"}, {Rule: "IMG-SIGNATURE", Status: st, Message: "not signed: no signature (cosign or Notation) is stored for sha256:11"}}}
	}
	for st, want := range map[finding.Status]string{
		finding.Fail: "not signed: no signature (cosign or Notation) is stored for sha256:11",
		finding.Warn: "not signed: no signature (cosign or Notation) is stored for sha256:11",
		finding.Pass: "", finding.Skip: "",
	} {
		if got := unsigned(rep(st)); got != want {
			t.Errorf("%s: %q", st, got)
		}
	}
	if unsigned(nil) != "" {
		t.Error("a nil report")
	}
}
