package report

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
	"github.com/dockaudit/dockaudit/internal/textsafe"
)

// WriteHTML writes the report as one self-contained page: no script, style, font or
// image comes from anywhere else, and its Content-Security-Policy allows only its own
// inline style and script (by hash), so it opens from disk or a mail attachment alike.
// It shows the summary as SVG charts, the findings by rule and target with evidence
// and remediation, filters by status, severity and rule that run in the page, and
// each image's packages and vulnerabilities. Every text comes from the report, which
// holds secrets redacted; the template escapes it.
func WriteHTML(w io.Writer, r *Report) error {
	v := htmlView(r)
	var body bytes.Buffer
	if err := htmlTemplate.Execute(&body, v); err != nil {
		return err
	}
	return WritePage(w, v.Title, body.Bytes(), htmlScript)
}

// Script is the report page's own script (its filters), for a policy sent as a header.
func Script() string { return htmlScript }

// PageCSP is the Content-Security-Policy of a page with the report's style and the
// given inline script ("" for none).
func PageCSP(script string) string {
	src := "'none'"
	if script != "" {
		src = "'" + cspHash(script) + "'"
	}
	return fmt.Sprintf("default-src 'none'; style-src '%s'; script-src %s; img-src data:; base-uri 'none'; form-action 'self'", cspHash(htmlStyle), src)
}

// WritePage writes body (HTML the caller escaped) as a page with the report's style
// and the given inline script, under PageCSP: dockaudit serve's dashboard pages are
// written with it too, so they look and are confined alike.
func WritePage(w io.Writer, title string, body []byte, script string) error {
	tail := "</body>\n</html>\n"
	if script != "" {
		tail = "<script>" + script + "</script>\n" + tail
	}
	_, err := fmt.Fprintf(w, `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="%s">
<title>%s</title>
<style>%s</style>
</head>
<body>
%s%s`, PageCSP(script), template.HTMLEscapeString(title), htmlStyle, body, tail)
	return err
}

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

type htmlPage struct {
	Title, Command, Generated, Tool string
	Context                         []htmlKV
	Notes                           []string
	Gate                            string
	StatusBars, SeverityBars        []htmlBar
	Statuses, Severities            []string
	Rules                           []htmlRule
	Images                          []htmlImage
	Total                           int
}

type htmlKV struct{ Key, Value string }

// htmlBar is one bar of a chart: its label, count and length in pixels.
type htmlBar struct {
	Label, Class string
	Count, Width int
	Y, TextY     int
}

type htmlRule struct {
	ID, Title, Description, Remediation, Status, Severity string
	Findings                                              []htmlFinding
	Open                                                  bool
}

type htmlFinding struct {
	Status, Severity, Target, Location, Message string
	Evidence                                    []htmlKV
}

type htmlImage struct {
	Name, Source, OS, Digest string
	Packages                 []facts.Package
	Vulns                    []htmlVuln
}

type htmlVuln struct {
	ID, Package, Installed, Fixed, Status, Severity string
	rank                                            finding.Severity
}

var htmlStatuses = []finding.Status{finding.Fail, finding.Warn, finding.Error, finding.Manual, finding.Info, finding.Pass, finding.Skip}

var htmlSeverities = []finding.Severity{finding.Critical, finding.High, finding.Medium, finding.Low, finding.SevInfo, finding.Unknown}

func htmlView(r *Report) htmlPage {
	p := htmlPage{Command: r.Command, Generated: r.GeneratedAt.UTC().Format("2006-01-02 15:04:05 UTC"), Tool: r.Tool.Name + " " + r.Tool.Version,
		Total: len(r.Findings)}
	for _, n := range r.Context.Notes {
		p.Notes = append(p.Notes, textsafe.String(n))
	}
	p.Title = "dockaudit " + r.Command + " report, " + p.Generated
	c := r.Context
	for _, kv := range []htmlKV{{"endpoint", c.Endpoint}, {"docker context", c.DockerContext}, {"daemon", c.Daemon}, {"engine", c.ServerVersion},
		{"host access", map[bool]string{true: "yes", false: c.HostAccessNote}[c.HostAccess]}} {
		if kv.Value != "" {
			p.Context = append(p.Context, kv)
		}
	}
	if c.Containers > 0 {
		p.Context = append(p.Context, htmlKV{"containers", fmt.Sprint(c.Containers)})
	}
	if c.Images > 0 {
		p.Context = append(p.Context, htmlKV{"images", fmt.Sprint(c.Images)})
	}
	p.Gate = "--fail-on " + r.Summary.FailOn
	if r.Summary.FailOn != "none" {
		p.Gate = fmt.Sprintf("%d findings fail or warn at %s or above (--fail-on %s)", r.Summary.Failing, r.Summary.FailOn, r.Summary.FailOn)
	}
	// Charts: findings by status, and problems (fail, warn) by severity.
	byStatus := map[finding.Status]int{}
	bySev := map[finding.Severity]int{}
	for _, f := range r.Findings {
		byStatus[f.Status]++
		if f.Status.Problem() {
			bySev[f.Severity]++
		}
	}
	for _, s := range htmlStatuses {
		p.Statuses = append(p.Statuses, s.String())
		p.StatusBars = append(p.StatusBars, htmlBar{Label: s.String(), Class: "st-" + s.String(), Count: byStatus[s]})
	}
	for _, s := range htmlSeverities {
		p.Severities = append(p.Severities, s.String())
		p.SeverityBars = append(p.SeverityBars, htmlBar{Label: s.String(), Class: "sv-" + s.String(), Count: bySev[s]})
	}
	scale(p.StatusBars)
	scale(p.SeverityBars)

	byRule := map[string][]finding.Finding{}
	for _, f := range r.Findings {
		byRule[f.Rule] = append(byRule[f.Rule], f)
	}
	agg := RuleStatus(r.Findings)
	for _, ru := range r.Rules {
		fs := byRule[ru.ID]
		if len(fs) == 0 {
			continue
		}
		hr := htmlRule{ID: ru.ID, Title: ru.Title, Description: ru.Description, Remediation: ru.Remediation, Status: agg[ru.ID].String(), Severity: ru.Severity.String()}
		hr.Open = agg[ru.ID].Problem() || agg[ru.ID] == finding.Error
		for _, f := range fs {
			hf := htmlFinding{Status: f.Status.String(), Severity: f.Severity.String(), Target: textsafe.String(f.Target.String()), Message: textsafe.String(f.Message)}
			if l := f.Location; l != nil {
				hf.Location = textsafe.String(l.Path)
				if l.Line > 0 {
					hf.Location += fmt.Sprintf(":%d", l.Line)
					if l.Column > 0 {
						hf.Location += fmt.Sprintf(":%d", l.Column)
					}
				}
			}
			for _, e := range f.Evidence {
				val := e.Actual
				if e.Expected != "" {
					val += " (expected: " + e.Expected + ")"
				}
				hf.Evidence = append(hf.Evidence, htmlKV{e.Key, textsafe.String(val)})
			}
			hr.Findings = append(hr.Findings, hf)
		}
		p.Rules = append(p.Rules, hr)
	}

	for _, im := range r.Images {
		hi := htmlImage{Name: textsafe.String(im.Target.Name), Source: im.Source, OS: cmp.Or(im.OS.PrettyName, strings.TrimSpace(im.OS.ID+" "+im.OS.VersionID)), Digest: im.Digest}
		hi.Packages = slices.Clone(im.Packages)
		for i := range hi.Packages { // names come from the image: no control or bidi character acts
			p := &hi.Packages[i]
			p.Name, p.Version, p.SourceName, p.PURL = textsafe.String(p.Name), textsafe.String(p.Version), textsafe.String(p.SourceName), textsafe.String(p.PURL)
		}
		slices.SortFunc(hi.Packages, func(a, b facts.Package) int {
			return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Version, b.Version))
		})
		for _, f := range r.Findings {
			if f.Vuln == nil || f.Target != im.Target {
				continue
			}
			hi.Vulns = append(hi.Vulns, htmlVuln{ID: f.Vuln.ID, Package: f.Vuln.Package, Installed: f.Vuln.Installed, Fixed: f.Vuln.Fixed,
				Status: cmp.Or(f.Vuln.Status, f.Status.String()), Severity: f.Severity.String(), rank: f.Severity.Ranked(finding.High)})
		}
		// Most severe first; unrated ones among the high, as --fail-on counts them.
		slices.SortStableFunc(hi.Vulns, func(a, b htmlVuln) int {
			return cmp.Or(cmp.Compare(b.rank, a.rank), cmp.Compare(a.Package, b.Package), cmp.Compare(a.ID, b.ID))
		})
		p.Images = append(p.Images, hi)
	}
	return p
}

// scale sets each bar's length (up to 240 pixels for the largest) and place.
func scale(bars []htmlBar) {
	top := 0
	for _, b := range bars {
		top = max(top, b.Count)
	}
	for i := range bars {
		if top > 0 {
			bars[i].Width = bars[i].Count * 240 / top
		}
		if bars[i].Count > 0 && bars[i].Width < 2 {
			bars[i].Width = 2
		}
		bars[i].Y = i * 26
		bars[i].TextY = i*26 + 15
	}
}

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"height": func(n int) int { return n*26 + 4 },
}).Parse(`<header>
<h1>dockaudit {{.Command}}</h1>
<p class="meta">{{.Generated}} · {{.Tool}}</p>
{{if .Context}}<dl class="context">{{range .Context}}<dt>{{.Key}}</dt><dd>{{.Value}}</dd>{{end}}</dl>{{end}}
{{if .Notes}}<ul class="notes">{{range .Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
</header>
<section id="summary" aria-label="Summary">
<figure><figcaption>Findings by status ({{.Total}})</figcaption>
<svg role="img" aria-label="Findings by status" width="360" height="{{height (len .StatusBars)}}" viewBox="0 0 360 {{height (len .StatusBars)}}">{{range .StatusBars}}
<text x="0" y="{{.TextY}}" class="lbl">{{.Label}}</text><rect x="64" y="{{.Y}}" width="{{.Width}}" height="20" class="{{.Class}}"></rect><text x="{{.Width}}" dx="70" y="{{.TextY}}" class="num">{{.Count}}</text>{{end}}
</svg></figure>
<figure><figcaption>Fail and warn findings by severity</figcaption>
<svg role="img" aria-label="Problems by severity" width="360" height="{{height (len .SeverityBars)}}" viewBox="0 0 360 {{height (len .SeverityBars)}}">{{range .SeverityBars}}
<text x="0" y="{{.TextY}}" class="lbl">{{.Label}}</text><rect x="64" y="{{.Y}}" width="{{.Width}}" height="20" class="{{.Class}}"></rect><text x="{{.Width}}" dx="70" y="{{.TextY}}" class="num">{{.Count}}</text>{{end}}
</svg></figure>
<p class="gate">{{.Gate}}</p>
</section>
<section id="filters" aria-label="Filters">
<fieldset><legend>Status</legend>{{range .Statuses}}<label><input type="checkbox" name="status" value="{{.}}"{{if ne . "pass"}} checked{{end}}> {{.}}</label>{{end}}</fieldset>
<fieldset><legend>Severity</legend>{{range .Severities}}<label><input type="checkbox" name="severity" value="{{.}}" checked> {{.}}</label>{{end}}</fieldset>
<fieldset><legend>Rule</legend><input type="search" id="rule-filter" placeholder="ID or words of the title" aria-label="Rule"></fieldset>
<p id="shown" aria-live="polite"></p>
</section>
<main id="findings">
{{range .Rules}}<details class="rule st-{{.Status}}" data-rule="{{.ID}}" data-title="{{.Title}}"{{if .Open}} open{{end}}>
<summary><span class="badge st-{{.Status}}">{{.Status}}</span> <span class="sev sv-{{.Severity}}">{{.Severity}}</span> <b>{{.ID}}</b> {{.Title}} <span class="count"></span></summary>
<p class="desc">{{.Description}}</p>
{{if .Remediation}}<p class="fix"><b>Fix:</b> {{.Remediation}}</p>{{end}}
<div class="scroll"><table>
<thead><tr><th>Status</th><th>Severity</th><th>Target</th><th>Finding</th></tr></thead>
<tbody>{{range .Findings}}
<tr class="finding" data-status="{{.Status}}" data-severity="{{.Severity}}"><td><span class="badge st-{{.Status}}">{{.Status}}</span></td><td><span class="sev sv-{{.Severity}}">{{.Severity}}</span></td><td class="target">{{.Target}}{{if .Location}}<br><code>{{.Location}}</code>{{end}}</td><td>{{.Message}}{{if .Evidence}}<dl class="ev">{{range .Evidence}}<dt>{{.Key}}</dt><dd>{{.Value}}</dd>{{end}}</dl>{{end}}</td></tr>{{end}}
</tbody></table></div>
</details>
{{end}}</main>
{{if .Images}}<section id="images" aria-label="Images">
<h2>Images</h2>
{{range .Images}}<details class="image" open>
<summary><b>{{.Name}}</b> · {{.OS}} · {{.Source}} · {{len .Packages}} packages · {{len .Vulns}} vulnerabilities</summary>
{{if .Digest}}<p><code>{{.Digest}}</code></p>{{end}}
{{if .Vulns}}<h3>Vulnerabilities, most severe first</h3>
<div class="scroll"><table class="vulns"><thead><tr><th>Severity</th><th>Advisory</th><th>Package</th><th>Installed</th><th>Fixed</th><th>Status</th></tr></thead>
<tbody>{{range .Vulns}}<tr><td><span class="sev sv-{{.Severity}}">{{.Severity}}</span></td><td>{{.ID}}</td><td>{{.Package}}</td><td>{{.Installed}}</td><td>{{.Fixed}}</td><td>{{.Status}}</td></tr>{{end}}</tbody></table></div>{{end}}
<h3>Packages</h3>
<div class="scroll"><table class="packages"><thead><tr><th>Type</th><th>Name</th><th>Version</th><th>Source</th><th>PURL</th></tr></thead>
<tbody>{{range .Packages}}<tr><td>{{.Type}}</td><td>{{.Name}}</td><td>{{.Version}}</td><td>{{.SourceName}}</td><td><code>{{.PURL}}</code></td></tr>{{end}}</tbody></table></div>
</details>
{{end}}</section>{{end}}
`))

const htmlStyle = `
:root{--fg:#1d2330;--muted:#5b6475;--bg:#fff;--line:#dfe3ea;--fail:#c62828;--warn:#ef6c00;--error:#6a1b9a;--manual:#1565c0;--info:#00838f;--pass:#2e7d32;--skip:#9e9e9e;--crit:#7f0000;--high:#c62828;--med:#ef6c00;--low:#f9a825;--sinfo:#00838f;--unk:#616161}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1200px;padding:16px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
h1{margin:0 0 4px;font-size:22px}h2{font-size:18px}h3{font-size:15px;margin:12px 0 6px}
.meta{color:var(--muted);margin:0 0 8px}
dl.context{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0}
dl.context dt{color:var(--muted)}dl.context dd{margin:0;overflow-wrap:anywhere}
.notes{background:#fff8e1;border:1px solid #ffe082;border-radius:6px;padding:8px 8px 8px 28px;margin:8px 0}
#summary{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start;border-top:1px solid var(--line);padding-top:12px}
figure{margin:0}figcaption{font-weight:600;margin-bottom:6px}
svg text{font-size:12px;fill:var(--fg)}
.gate{flex-basis:100%;margin:0;font-weight:600}
#filters{display:flex;flex-wrap:wrap;gap:8px;margin:12px 0;position:sticky;top:0;background:var(--bg);padding:8px 0;border-bottom:1px solid var(--line);z-index:1}
fieldset{border:1px solid var(--line);border-radius:6px;padding:4px 8px;margin:0}
fieldset label{margin-right:8px;white-space:nowrap}
#rule-filter{width:16em;max-width:100%}
#shown{margin:0;align-self:center;color:var(--muted)}
details.rule,details.image{border:1px solid var(--line);border-radius:6px;margin:8px 0;padding:6px 10px}
details summary{cursor:pointer}
.desc,.fix{margin:6px 0}.fix{background:#f1f8e9;border-radius:4px;padding:4px 8px}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;margin:6px 0}
th,td{text-align:left;vertical-align:top;border-bottom:1px solid var(--line);padding:4px 6px}
th{background:#f5f6f8;font-weight:600}
td.target{white-space:nowrap}
code{font:12px ui-monospace,Menlo,Consolas,monospace;overflow-wrap:anywhere}
dl.ev{display:grid;grid-template-columns:max-content 1fr;gap:0 8px;margin:4px 0 0;color:var(--muted);font-size:13px}
dl.ev dd{margin:0;overflow-wrap:anywhere}
.badge,.sev{display:inline-block;border-radius:3px;padding:0 6px;font-size:12px;font-weight:600;color:#fff}
.count{color:var(--muted);font-size:12px}
.hidden{display:none}
.st-fail{background:var(--fail);fill:var(--fail)}.st-warn{background:var(--warn);fill:var(--warn)}.st-error{background:var(--error);fill:var(--error)}
.st-manual{background:var(--manual);fill:var(--manual)}.st-info{background:var(--info);fill:var(--info)}.st-pass{background:var(--pass);fill:var(--pass)}.st-skip{background:var(--skip);fill:var(--skip)}
details.rule.st-fail,details.rule.st-warn,details.rule.st-error,details.rule.st-manual,details.rule.st-info,details.rule.st-pass,details.rule.st-skip{background:none}
.sv-critical{background:var(--crit);fill:var(--crit)}.sv-high{background:var(--high);fill:var(--high)}.sv-medium{background:var(--med);fill:var(--med)}
.sv-low{background:var(--low);fill:var(--low);color:#1d2330}.sv-info{background:var(--sinfo);fill:var(--sinfo)}.sv-unknown{background:var(--unk);fill:var(--unk)}
@media (max-width:640px){body{padding:8px}#filters{position:static}td.target{white-space:normal}#summary svg{width:100%;height:auto}th:nth-child(2),td:nth-child(2){display:none}}
`

const htmlScript = `
(function () {
  "use strict";
  var boxes = document.querySelectorAll("#filters input[type=checkbox]");
  var ruleFilter = document.getElementById("rule-filter");
  var shown = document.getElementById("shown");
  function checked(name) {
    var out = {};
    document.querySelectorAll("#filters input[name=" + name + "]").forEach(function (b) { out[b.value] = b.checked; });
    return out;
  }
  function apply() {
    var st = checked("status"), sv = checked("severity");
    var words = ruleFilter.value.trim().toLowerCase();
    var total = 0;
    document.querySelectorAll("details.rule").forEach(function (d) {
      var text = (d.dataset.rule + " " + d.dataset.title).toLowerCase();
      var ruleOK = words === "" || text.indexOf(words) >= 0;
      var n = 0;
      d.querySelectorAll("tr.finding").forEach(function (tr) {
        var ok = ruleOK && st[tr.dataset.status] && sv[tr.dataset.severity];
        tr.classList.toggle("hidden", !ok);
        if (ok) { n++; }
      });
      d.classList.toggle("hidden", n === 0);
      d.querySelector(".count").textContent = "(" + n + ")";
      total += n;
    });
    shown.textContent = total + " findings shown";
  }
  boxes.forEach(function (b) { b.addEventListener("change", apply); });
  ruleFilter.addEventListener("input", apply);
  apply();
})();
`
