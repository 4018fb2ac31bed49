package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dockaudit/dockaudit/internal/report"
	"github.com/dockaudit/dockaudit/internal/store"
)

// The dashboard: the same pages dockaudit writes with --format html, for what the
// service holds. A browser cannot send a bearer token, so /ui/login takes one (a read
// token or better) and keeps it in an HttpOnly, SameSite=Strict cookie scoped to /ui.

const uiCookie = "dockaudit_token"

// uiRoutes adds the dashboard to mux.
func (s *Server) uiRoutes(mux *http.ServeMux, noAuth bool) {
	mux.HandleFunc("GET /ui/login", s.uiLoginForm)
	mux.HandleFunc("POST /ui/login", s.uiLogin)
	mux.HandleFunc("GET /ui/{$}", s.uiAuth(noAuth, s.uiHome))
	mux.HandleFunc("GET /ui/images/{digest}", s.uiAuth(noAuth, s.uiImage))
	mux.HandleFunc("GET /ui/hosts/{name}", s.uiAuth(noAuth, s.uiHost))
	mux.HandleFunc("GET /ui/vulnerabilities", s.uiAuth(noAuth, s.uiWhereIs))
}

// uiAuth lets a request through with the cookie of a read token (or none needed);
// else it sends the browser to the login page.
func (s *Server) uiAuth(noAuth bool, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !noAuth {
			c, err := r.Cookie(uiCookie)
			if err != nil {
				http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
				return
			}
			t, err := s.store.Authenticate(r.Context(), c.Value)
			if errors.Is(err, store.ErrBadToken) || (err == nil && !store.Allows(t.Scope, "read")) {
				http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
				return
			}
			if err != nil {
				s.uiError(w, http.StatusServiceUnavailable, err)
				return
			}
		}
		h(w, r)
	}
}

var uiLoginPage = template.Must(template.New("login").Parse(`<header><h1>dockaudit serve</h1></header>
<main><form method="post" action="/ui/login">
<p>{{if .}}<b>{{.}}</b>{{else}}A token of scope read or higher (dockaudit serve token create --scope read).{{end}}</p>
<p><label>Token <input type="password" name="token" autocomplete="off" required></label> <button type="submit">Open the dashboard</button></p>
</form></main>`))

func (s *Server) uiLoginForm(w http.ResponseWriter, r *http.Request) {
	s.uiPage(w, http.StatusOK, "dockaudit serve: sign in", uiLoginPage, "")
}

func (s *Server) uiLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil {
		s.uiPage(w, http.StatusBadRequest, "dockaudit serve: sign in", uiLoginPage, "the form could not be read")
		return
	}
	tok := strings.TrimSpace(r.PostForm.Get("token"))
	t, err := s.store.Authenticate(r.Context(), tok)
	switch {
	case errors.Is(err, store.ErrBadToken) || tok == "":
		s.uiPage(w, http.StatusUnauthorized, "dockaudit serve: sign in", uiLoginPage, "unknown or revoked token")
		return
	case err != nil:
		s.uiError(w, http.StatusServiceUnavailable, err)
		return
	case !store.Allows(t.Scope, "read"):
		s.uiPage(w, http.StatusForbidden, "dockaudit serve: sign in", uiLoginPage, "this token's scope is "+t.Scope+": the dashboard needs read")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: uiCookie, Value: tok, Path: "/ui", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, MaxAge: int((8 * time.Hour).Seconds())})
	http.Redirect(w, r, "/ui/", http.StatusSeeOther)
}

// uiPage writes a dashboard page: a template and its data, with the report's style,
// no script, under the same policy (also sent as a header).
func (s *Server) uiPage(w http.ResponseWriter, code int, title string, t *template.Template, data any) {
	var body bytes.Buffer
	if err := t.Execute(&body, data); err != nil {
		s.uiError(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Security-Policy", report.PageCSP(""))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	report.WritePage(w, title, body.Bytes(), "")
}

var uiErrorPage = template.Must(template.New("error").Parse(`<header><h1>dockaudit serve</h1></header><main><p><b>{{.}}</b></p><p><a href="/ui/">Back to the dashboard</a></p></main>`))

func (s *Server) uiError(w http.ResponseWriter, code int, err error) {
	msg := err.Error()
	if errors.Is(err, store.ErrNotFound) {
		code, msg = http.StatusNotFound, "not found"
	}
	s.uiPage(w, code, "dockaudit serve: error", uiErrorPage, msg)
}

type uiHomeData struct {
	Totals store.Counts
	Images []uiImageRow
	Hosts  []uiHostRow
}

type uiImageRow struct {
	Digest, Name, Link, Findings, Vulns string
}

type uiHostRow struct {
	Host, Link, Submitted, Findings string
}

var uiHomePage = template.Must(template.New("home").Parse(`<header><h1>dockaudit serve</h1>
<dl class="context"><dt>images</dt><dd>{{.Totals.Images}} ({{.Totals.Vulnerable}} with vulnerabilities, {{.Totals.Uncovered}} not covered by the database)</dd>
<dt>vulnerabilities</dt><dd>{{.Totals.Vulns}}</dd><dt>hosts</dt><dd>{{.Totals.Hosts}}</dd></dl></header>
<section id="filters"><form method="get" action="/ui/vulnerabilities"><fieldset><legend>Where is</legend><input type="search" name="id" placeholder="CVE-2024-3094 or GHSA-…" aria-label="Vulnerability ID" required> <button type="submit">Find</button></fieldset></form></section>
<main>
<h2>Images</h2>
<div class="scroll"><table id="images"><thead><tr><th>Image</th><th>Vulnerabilities</th><th>Other findings</th></tr></thead>
<tbody>{{range .Images}}<tr><td><a href="{{.Link}}">{{.Name}}</a><br><code>{{.Digest}}</code></td><td>{{.Vulns}}</td><td>{{.Findings}}</td></tr>{{else}}<tr><td colspan="3">No image yet.</td></tr>{{end}}</tbody></table></div>
<h2>Hosts</h2>
<div class="scroll"><table id="hosts"><thead><tr><th>Host</th><th>Latest report</th><th>Findings</th></tr></thead>
<tbody>{{range .Hosts}}<tr><td><a href="{{.Link}}">{{.Host}}</a></td><td>{{.Submitted}}</td><td>{{.Findings}}</td></tr>{{else}}<tr><td colspan="3">No host report yet.</td></tr>{{end}}</tbody></table></div>
</main>`))

func (s *Server) uiHome(w http.ResponseWriter, r *http.Request) {
	var d uiHomeData
	var err error
	if d.Totals, err = s.store.Totals(r.Context()); err != nil {
		s.uiError(w, http.StatusServiceUnavailable, err)
		return
	}
	imgs, err := s.store.ListImages(r.Context(), store.ImageFilter{Limit: 200})
	if err != nil {
		s.uiError(w, http.StatusServiceUnavailable, err)
		return
	}
	for _, im := range imgs {
		name := im.Registry + "/" + im.Repository
		if len(im.Tags) > 0 {
			name += ":" + strings.Join(im.Tags, ", ")
		}
		d.Images = append(d.Images, uiImageRow{Digest: im.Digest, Name: name, Link: "/ui/images/" + url.PathEscape(im.Digest),
			Vulns: severityCounts(im.Vulnerabilities), Findings: statusCounts(im.Findings)})
	}
	hosts, err := s.store.Hosts(r.Context(), "", 200)
	if err != nil {
		s.uiError(w, http.StatusServiceUnavailable, err)
		return
	}
	for _, h := range hosts {
		d.Hosts = append(d.Hosts, uiHostRow{Host: h.Host, Link: "/ui/hosts/" + url.PathEscape(h.Host),
			Submitted: h.SubmittedAt.UTC().Format("2006-01-02 15:04 UTC"), Findings: summaryCounts(h.Summary)})
	}
	s.uiPage(w, http.StatusOK, "dockaudit serve", uiHomePage, d)
}

// severityCounts is "2 critical, 5 high" ("none" for none), most severe first.
func severityCounts(m map[string]int) string {
	var parts []string
	for _, sev := range []string{"critical", "high", "medium", "low", "info", "unknown"} {
		if m[sev] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", m[sev], sev))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// statusCounts is "3 fail, 2 warn" of a report.Counts in JSON.
func statusCounts(raw json.RawMessage) string {
	var c report.Counts
	if json.Unmarshal(raw, &c) != nil {
		return ""
	}
	return fmt.Sprintf("%d fail, %d warn, %d pass, %d skip", c.Fail, c.Warn, c.Pass, c.Skip)
}

// summaryCounts is statusCounts of a report.Summary's findings.
func summaryCounts(raw json.RawMessage) string {
	var sum report.Summary
	if json.Unmarshal(raw, &sum) != nil {
		return ""
	}
	b, _ := json.Marshal(sum.Findings)
	return statusCounts(b)
}

// uiImage is an image's stored report, as dockaudit image --format html writes it.
func (s *Server) uiImage(w http.ResponseWriter, r *http.Request) {
	d := r.PathValue("digest")
	if !validDigest(d) {
		s.uiError(w, http.StatusBadRequest, errors.New("not an image digest (sha256: and 64 hex digits)"))
		return
	}
	b, err := s.imageReport(r.Context(), d)
	if err != nil {
		s.uiError(w, http.StatusServiceUnavailable, err)
		return
	}
	s.uiReport(w, b, nil)
}

// uiReport writes a stored report as the CLI's HTML page, with the host's trend first
// when there is one.
func (s *Server) uiReport(w http.ResponseWriter, raw []byte, trend []store.HostReport) {
	var rep report.Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		s.uiError(w, http.StatusInternalServerError, fmt.Errorf("the stored report could not be read: %v", err))
		return
	}
	var page bytes.Buffer
	if err := report.WriteHTML(&page, &rep); err != nil {
		s.uiError(w, http.StatusInternalServerError, err)
		return
	}
	out := page.Bytes()
	if len(trend) > 0 {
		var t bytes.Buffer
		if err := uiTrend.Execute(&t, trendBars(trend)); err == nil {
			out = bytes.Replace(out, []byte(`<section id="summary"`), append(t.Bytes(), []byte(`<section id="summary"`)...), 1)
		}
	}
	w.Header().Set("Content-Security-Policy", report.PageCSP(report.Script()))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(out)
}

// trendBar is one report of a host's history in the trend chart.
type trendBar struct {
	X, Y, Height, Fail, Warn int
	When                     string
}

var uiTrend = template.Must(template.New("trend").Parse(`<section id="trend" aria-label="Trend"><figure><figcaption>Fail and warn findings per report, oldest first</figcaption>
<svg role="img" aria-label="Findings over time" width="{{.Width}}" height="130" viewBox="0 0 {{.Width}} 130">{{range .Bars}}
<rect x="{{.X}}" y="{{.Y}}" width="14" height="{{.Height}}" class="st-fail"><title>{{.When}}: {{.Fail}} fail, {{.Warn}} warn</title></rect>{{end}}
<line x1="0" y1="120" x2="{{.Width}}" y2="120" stroke="#5b6475"></line></svg></figure></section>
`))

func trendBars(history []store.HostReport) any {
	type chart struct {
		Width int
		Bars  []trendBar
	}
	var bars []trendBar
	top := 1
	for i := len(history) - 1; i >= 0; i-- { // history is newest first
		var sum report.Summary
		json.Unmarshal(history[i].Summary, &sum)
		b := trendBar{Fail: sum.Findings.Fail, Warn: sum.Findings.Warn, When: history[i].SubmittedAt.UTC().Format("2006-01-02 15:04")}
		top = max(top, b.Fail+b.Warn)
		bars = append(bars, b)
	}
	for i := range bars {
		bars[i].X = 4 + i*18
		bars[i].Height = max(1, (bars[i].Fail+bars[i].Warn)*110/top)
		bars[i].Y = 120 - bars[i].Height
	}
	return chart{Width: max(120, 8+len(bars)*18), Bars: bars}
}

// uiHost is a host's latest report, as dockaudit host --format html writes it, after
// its trend over the reports kept.
func (s *Server) uiHost(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if name == "" || len(name) > 253 || !utf8.ValidString(name) {
		s.uiError(w, http.StatusBadRequest, errors.New("not a host name"))
		return
	}
	hs, err := s.store.HostHistory(r.Context(), name, 50)
	if err != nil {
		s.uiError(w, http.StatusServiceUnavailable, err)
		return
	}
	if len(hs) == 0 || len(hs[0].Report) == 0 {
		s.uiError(w, http.StatusNotFound, store.ErrNotFound)
		return
	}
	s.uiReport(w, hs[0].Report, hs)
}

type uiWhere struct {
	ID     string
	Images []store.Affected
	Hosts  []store.HostHit
}

var uiWherePage = template.Must(template.New("where").Parse(`<header><h1>Where is {{.ID}}</h1><p><a href="/ui/">Back to the dashboard</a></p></header>
<main><h2>Images ({{len .Images}})</h2>
<div class="scroll"><table id="affected"><thead><tr><th>Image</th><th>Package</th><th>Installed</th><th>Fixed</th><th>Severity</th></tr></thead>
<tbody>{{range .Images}}<tr><td><a href="/ui/images/{{.Digest}}">{{.Registry}}/{{.Repository}}</a><br><code>{{.Digest}}</code></td><td>{{.Package}}</td><td>{{.Installed}}</td><td>{{.Fixed}}</td><td><span class="sev sv-{{.Severity}}">{{.Severity}}</span></td></tr>{{else}}<tr><td colspan="5">No stored image is affected.</td></tr>{{end}}</tbody></table></div>
<h2>Running on hosts ({{len .Hosts}})</h2>
<div class="scroll"><table id="running"><thead><tr><th>Host</th><th>Container</th><th>State</th><th>Image</th></tr></thead>
<tbody>{{range .Hosts}}<tr><td><a href="/ui/hosts/{{.Host}}">{{.Host}}</a></td><td>{{.Container}}</td><td>{{.State}}</td><td>{{.Image}}</td></tr>{{else}}<tr><td colspan="4">No host's latest report runs an affected image.</td></tr>{{end}}</tbody></table></div></main>`))

func (s *Server) uiWhereIs(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimSpace(r.URL.Query().Get("id"))
	if id == "" || len(id) > 200 || !utf8.ValidString(id) {
		s.uiError(w, http.StatusBadRequest, errors.New("not a vulnerability ID"))
		return
	}
	imgs, err := s.store.WhereIs(r.Context(), id)
	if err != nil {
		s.uiError(w, http.StatusServiceUnavailable, err)
		return
	}
	var digests []string
	for _, a := range imgs {
		digests = append(digests, a.Digest)
	}
	hosts, err := s.store.HostsRunning(r.Context(), slices.Compact(slices.Sorted(slices.Values(digests))))
	if err != nil {
		s.uiError(w, http.StatusServiceUnavailable, err)
		return
	}
	s.uiPage(w, http.StatusOK, "Where is "+id, uiWherePage, uiWhere{ID: id, Images: imgs, Hosts: hosts})
}
