package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
)

func htmlReport() *Report {
	rules := []finding.Rule{
		{ID: "CIS-5.5", Title: "Ensure that privileged containers are not used", Description: "d", Remediation: "Do not run with --privileged.", Severity: finding.Critical},
		{ID: "VULN", Title: "Packages have no known vulnerabilities", Severity: finding.High},
	}
	img := finding.Target{Kind: finding.KindImage, Name: "app:1"}
	fs := []finding.Finding{
		{Rule: "CIS-5.5", Status: finding.Fail, Severity: finding.Critical, Target: finding.Target{Kind: finding.KindContainer, Name: "web"},
			Message: `runs privileged <script>alert(1)</script>`, Evidence: []finding.Evidence{{Key: "privileged", Actual: "true", Expected: "false"}},
			Location: &finding.Location{Path: "compose.yaml", Line: 4, Column: 5}},
		{Rule: "CIS-5.5", Status: finding.Pass, Severity: finding.Critical, Target: finding.Target{Kind: finding.KindContainer, Name: "db\u202egnp.exe"}, Message: "not privileged"},
		{Rule: "VULN", Status: finding.Fail, Severity: finding.Low, Target: img, Message: "CVE-1 in a", Vuln: &finding.Vuln{ID: "CVE-1", Package: "a", Installed: "1", Fixed: "2"}},
		{Rule: "VULN", Status: finding.Fail, Severity: finding.Unknown, Target: img, Message: "GO-1 in b", Vuln: &finding.Vuln{ID: "GO-1", Package: "b", Installed: "1"}},
		{Rule: "VULN", Status: finding.Fail, Severity: finding.Critical, Target: img, Message: "CVE-2 in c", Vuln: &finding.Vuln{ID: "CVE-2", Package: "c", Installed: "1", Fixed: "3"}},
	}
	r := Build(Tool{Name: "dockaudit", Version: "1.0.0"}, "image", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Context{Images: 1, Notes: []string{"a note"}},
		rules, []finding.Target{img}, fs, Gate{})
	r.Images = []Inventory{{Target: img, Source: "docker-archive", OS: facts.OS{ID: "debian", VersionID: "12"},
		Packages: []facts.Package{{Name: "zlib", Version: "1", Type: "deb"}, {Name: "a", Version: "1", Type: "deb"}}}}
	return r
}

// TestWriteHTML: one page that needs nothing from elsewhere, whose policy allows only
// its own style and script, with every finding, escaped, and vulnerabilities most
// severe first.
func TestWriteHTML(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteHTML(&buf, htmlReport()); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
	}
	style := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(page)
	script := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindStringSubmatch(page)
	if style == nil || script == nil || strings.Count(page, "<script") != 1 || strings.Count(page, "<style") != 1 {
		t.Fatalf("want one inline style and one inline script")
	}
	csp := `content="default-src 'none'; style-src '` + hash(style[1]) + `'; script-src '` + hash(script[1]) + `'; img-src data:; base-uri 'none'; form-action 'self'"`
	if !strings.Contains(page, csp) {
		t.Errorf("no CSP allowing exactly the inline style and script: want %s", csp)
	}
	for _, bad := range []string{` src=`, ` href=`, `style="`, `url(`, `@import`, `http://`, `https://`} {
		if strings.Contains(page, bad) {
			t.Errorf("the page holds %q: it must need nothing from elsewhere", bad)
		}
	}
	if m := regexp.MustCompile(`<[^>]*\son[a-z]+=`).FindString(page); m != "" {
		t.Errorf("an inline event handler (the policy blocks it): %s", m)
	}
	if n := strings.Count(page, `<tr class="finding"`); n != 5 {
		t.Errorf("%d finding rows, want 5", n)
	}
	if strings.Contains(page, "\u202e") || !strings.Contains(page, `db\u{202e}gnp.exe`) {
		t.Error("a right-to-left override reaches the page as is")
	}
	if strings.Contains(page, "<script>alert") || !strings.Contains(page, "runs privileged &lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("a message is not escaped")
	}
	if !strings.Contains(page, "<code>compose.yaml:4:5</code>") || !strings.Contains(page, "true (expected: false)") || !strings.Contains(page, "Do not run with --privileged.") {
		t.Error("location, evidence or remediation missing")
	}
	// critical, then unknown (counted as high), then low; packages by name.
	vulns := regexp.MustCompile(`<td><span class="sev sv-\w+">\w+</span></td><td>([^<]+)</td>`).FindAllStringSubmatch(page, -1)
	var order []string
	for _, m := range vulns {
		order = append(order, m[1])
	}
	if strings.Join(order, " ") != "CVE-2 GO-1 CVE-1" {
		t.Errorf("vulnerabilities in order %q", order)
	}
	if i, j := strings.Index(page, "<td>a</td>"), strings.Index(page, "<td>zlib</td>"); i < 0 || j < i {
		t.Error("packages are not sorted by name")
	}
}
