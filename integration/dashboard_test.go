package integration

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dockaudit/dockaudit/internal/testenv"
)

// TestServeDashboard: dockaudit serve's pages, with what the service holds (two host
// reports of one host, an image submitted): the sign-in with a read token through a
// cookie, and, opened in headless Chromium like the CLI's HTML, the overview, the
// host (its report and trend), the image and "where is".
func TestServeDashboard(t *testing.T) {
	need(t)
	dsn, work, config, token := serviceDB(t)
	tokFile := token("submit")
	b, _ := os.ReadFile(token("read"))
	read := strings.TrimSpace(string(b))
	srv := startServe(t, dsn, config, filepath.Join(work, "data"), freePort(t))
	for range 2 {
		if r := dockaudit(t, nil, "host", "--submit", srv.url, "--token-file", tokFile, "--submit-name", "web-1", "--format", "json", "--include", "CIS-2,CIS-5"); r.code != 0 && r.code != 3 {
			t.Fatalf("host --submit: exit %d: %s", r.code, r.stderr)
		}
	}
	tag := "dockaudit-it-dashboard:1"
	image(t, tag)
	if r := dockaudit(t, nil, "image", "--submit", srv.url, "--token-file", tokFile, "--format", "json", tag); r.code != 0 && r.code != 3 {
		t.Fatalf("image --submit: exit %d: %s", r.code, r.stderr)
	}

	// Sign-in: without the cookie the dashboard sends the browser to it; a wrong
	// token is refused; a read token opens it.
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	get := func(path string) (int, string, string) {
		t.Helper()
		resp, err := c.Get(srv.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Request.URL.Path, string(b)
	}
	if code, at, _ := get("/ui/"); code != 200 || at != "/ui/login" {
		t.Errorf("without a token: %d at %s, want the sign-in page", code, at)
	}
	post := func(tok string) int {
		resp, err := c.PostForm(srv.url+"/ui/login", url.Values{"token": {tok}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("nope"); code != 401 {
		t.Errorf("a wrong token: %d", code)
	}
	if code := post(read); code != 200 {
		t.Errorf("a read token: %d", code)
	}
	code, at, home := get("/ui/")
	if code != 200 || at != "/ui/" || !strings.Contains(home, ">web-1</a>") || !strings.Contains(home, "/dashboard/busybox") && !strings.Contains(home, "dockaudit-it-dashboard") {
		t.Fatalf("the overview: %d at %s\n%s", code, at, home)
	}
	for _, cookie := range jar.Cookies(mustURL(t, srv.url+"/ui/")) {
		if cookie.Name == "dockaudit_token" && cookie.Value != read {
			t.Errorf("cookie %q", cookie.Value)
		}
	}

	// The pages, in Chromium: a second replica without tokens on loopback (a browser
	// started from a test cannot sign in), on the same database.
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		testenv.Missing(t, "no chromium (apt-get install chromium)")
	}
	open := startServe(t, dsn, config, filepath.Join(work, "data2"), freePort(t), "--insecure-no-auth")
	digest := between(home, `<a href="/ui/images/`, `"`)
	for path, want := range map[string][]string{
		"/ui/":                                {`<table id="images">`, ">web-1</a>"},
		"/ui/hosts/web-1":                     {`<section id="trend"`, `<tr class="finding"`, "dockaudit host"},
		"/ui/images/" + digest:                {`<tr class="finding"`, `<table class="packages">`},
		"/ui/vulnerabilities?id=CVE-2099-404": {`<table id="affected">`, "No stored image is affected."},
	} {
		page := filepath.Join(t.TempDir(), "page.html")
		resp, err := http.Get(open.url + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: %d, CSP %q", path, resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
			continue
		}
		os.WriteFile(page, b, 0o644)
		dom, console := chrome(t, chromium, page, "--dump-dom")
		if console != "" {
			t.Errorf("%s: console messages:\n%s", path, console)
		}
		for _, w := range want {
			if !strings.Contains(dom, w) {
				t.Errorf("%s: the page lacks %s", path, w)
			}
		}
		for _, width := range []int{1280, 390} {
			shot := filepath.Join(t.TempDir(), "shot.png")
			chrome(t, chromium, page, "--window-size="+strconv.Itoa(width)+",1200", "--screenshot="+shot)
			checkPage(t, shot, width)
		}
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// between is the text of s between the first start and the end after it.
func between(s, start, end string) string {
	_, rest, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, end)
	return v
}
