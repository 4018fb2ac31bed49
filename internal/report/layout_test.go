package report

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dockaudit/dockaudit/internal/finding"
)

func TestWrapWords(t *testing.T) {
	for _, tt := range []struct {
		text                string
		indent, hang, width int
		want                []string
	}{
		{"one two three", 0, 0, 0, []string{"one two three"}},
		{"aaa bbb ccc ddd eee fff ggg hhh iii jjj kkk", 4, 6, 30, []string{"aaa bbb ccc ddd eee fff", "ggg hhh iii jjj kkk"}},
		{strings.Repeat("x", 30), 2, 2, 24, []string{strings.Repeat("x", 22), strings.Repeat("x", 8)}},
		{"", 0, 0, 40, []string{""}},
		{"héllo wörld ünïcode wraps by rune", 0, 0, 20, []string{"héllo wörld ünïcode", "wraps by rune"}},
	} {
		if got := wrapWords(tt.text, tt.indent, tt.hang, tt.width); !slices.Equal(got, tt.want) {
			t.Errorf("wrapWords(%q, %d, %d, %d) = %q, want %q", tt.text, tt.indent, tt.hang, tt.width, got, tt.want)
		}
	}
}

func TestNaturalLess(t *testing.T) {
	names := []string{"hx-10", "hx-2", "hx-1", "web", "hx-02", "db-3", "hx-100", "hx-9b", "hx-9a"}
	sort.SliceStable(names, func(i, j int) bool { return naturalLess(names[i], names[j]) })
	want := []string{"db-3", "hx-1", "hx-2", "hx-02", "hx-9a", "hx-9b", "hx-10", "hx-100", "web"}
	if !slices.Equal(names, want) {
		t.Errorf("%q, want %q", names, want)
	}
}

// tableReport has 12 containers hx-1…hx-12 failing two rules alike, one rule failing
// on all of them, a rule that passes, and vulnerabilities of two packages.
func tableReport() *Report {
	ru := func(id string, sev finding.Severity, scope finding.Kind) finding.Rule {
		return finding.Rule{ID: id, Title: "the rule " + id + " holds for every target it is evaluated for", Severity: sev, Section: "S", Scope: scope}
	}
	rules := []finding.Rule{ru("R-1", finding.High, finding.KindContainer), ru("R-2", finding.Medium, finding.KindContainer),
		ru("R-ALL", finding.Low, finding.KindContainer), ru("R-OK", finding.Low, finding.KindContainer), ru("VULN", finding.High, finding.KindImage)}
	rules[4].MaxSeverity = finding.Critical
	var targets []finding.Target
	var fs []finding.Finding
	for i := 12; i >= 1; i-- { // reported in reverse: the table orders them
		ct := finding.Target{Kind: finding.KindContainer, Name: fmt.Sprintf("hx-%d", i)}
		targets = append(targets, ct)
		st := finding.Fail
		if i == 12 {
			st = finding.Pass
		}
		for _, r := range []string{"R-1", "R-2"} {
			fs = append(fs, finding.Finding{Rule: r, Status: st, Severity: finding.Medium, Target: ct, Message: "has no limit"})
		}
		fs = append(fs, finding.Finding{Rule: "R-ALL", Status: finding.Warn, Severity: finding.Low, Target: ct, Message: "runs as root"})
		fs = append(fs, finding.Finding{Rule: "R-OK", Status: finding.Pass, Severity: finding.Low, Target: ct, Message: "fine"})
	}
	im := finding.Target{Kind: finding.KindImage, Name: "app:1"}
	targets = append(targets, im)
	vuln := func(pkg, id string, sev finding.Severity, status, fixed, title string) finding.Finding {
		st := finding.Warn
		if status == "fixed" {
			st = finding.Fail
		}
		return finding.Finding{Rule: "VULN", Status: st, Severity: sev, Target: im, Message: pkg + ": " + id,
			Location: &finding.Location{Path: "/var/lib/dpkg/status"},
			Vuln:     &finding.Vuln{ID: id, Package: pkg, Installed: "1.0", Status: status, Fixed: fixed, Summary: title}}
	}
	fs = append(fs,
		vuln("zlib1g", "CVE-2024-0100", finding.Low, "unfixed", "", "a low one"),
		vuln("libssl3", "CVE-2024-0009", finding.Medium, "fixed", "1.1", "a medium one"),
		vuln("libssl3", "CVE-2024-0010", finding.Critical, "fixed", "1.2", "a critical one with a title long enough to wrap on a narrow terminal, as real advisory titles do"),
		vuln("zlib1g", "GO-2024-0001", finding.Unknown, "fixed", "1.3", "unrated, counted as high"),
	)
	return Build(Tool{Name: "dockaudit"}, "host", time.Time{}, Context{Endpoint: "unix:///var/run/docker.sock", HostAccess: true}, rules, targets, fs, Gate{})
}

func table(t *testing.T, opts TableOptions) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteTable(&buf, tableReport(), opts); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestTableLayout: targets in natural order, a list named once and then referred to,
// "all N" for every audited target, vulnerabilities per package worst first.
func TestTableLayout(t *testing.T) {
	out := table(t, TableOptions{})
	for _, want := range []string{
		"                                has no limit (11 containers):\n" +
			"                                  hx-1, hx-2, hx-3, hx-4, hx-5, hx-6, hx-7, hx-8, hx-9, hx-10, hx-11\n",
		"                                has no limit (11 containers: the same as R-1)\n",
		"                                runs as root (all 12 containers)\n",
		"                                image app:1: 1 critical, 1 medium, 1 low, 1 unknown (4 vulnerabilities in 2 packages)\n" +
			"                                  libssl3 1.0 in /var/lib/dpkg/status\n" +
			"                                    critical  fixed         CVE-2024-0010  → 1.2  a critical one with a title long enough to wrap on a narrow terminal, as real advisory titles do\n" +
			"                                    medium    fixed         CVE-2024-0009  → 1.1  a medium one\n" +
			"                                  zlib1g 1.0 in /var/lib/dpkg/status\n" +
			"                                    unknown   fixed         GO-2024-0001   → 1.3   unrated, counted as high\n" +
			"                                    low       unfixed       CVE-2024-0100  no fix  a low one\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks\n%s\n%s", want, out)
		}
	}
}

// TestTableWidth: at 80 columns nothing passes the width, details move to column 4,
// and wrapped lines hang under their text.
func TestTableWidth(t *testing.T) {
	for _, w := range []int{80, 200} {
		out := table(t, TableOptions{Width: w, Remediation: true})
		for _, l := range strings.Split(out, "\n") {
			if n := utf8.RuneCountInString(l); n > w {
				t.Errorf("width %d: a line of %d: %q", w, n, l)
			}
		}
		if w == 80 && !strings.Contains(out, "    has no limit (11 containers: the same as R-1)\n") {
			t.Errorf("width 80: details not at column 4:\n%s", out)
		}
	}
	out := table(t, TableOptions{Width: 80})
	want := "        critical  fixed         CVE-2024-0010  → 1.2  a critical one with a\n" +
		"                                                      title long enough to wrap\n"
	if !strings.Contains(out, want) {
		t.Errorf("width 80: the advisory title does not hang under itself:\n%s", out)
	}
}

// TestTableQuiet: --quiet keeps the rules that fail, warn or err, and the summary.
func TestTableQuiet(t *testing.T) {
	out := table(t, TableOptions{Quiet: true})
	if strings.Contains(out, "R-OK") || !strings.Contains(out, "R-ALL") || !strings.Contains(out, "5 rules: 3 fail, 1 warn") {
		t.Errorf("quiet:\n%s", out)
	}
	if out := table(t, TableOptions{Passes: true}); !strings.Contains(out, "pass: hx-12: has no limit") {
		t.Errorf("--show-passes:\n%s", out)
	}
}
