package report

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dockaudit/dockaudit/internal/finding"
)

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

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
	// No room for a title column at 80: the title goes under the row's columns.
	want := "        critical  fixed         CVE-2024-0010  → 1.2\n" +
		"          a critical one with a title long enough to wrap on a narrow terminal,\n" +
		"          as real advisory titles do\n"
	if !strings.Contains(out, want) {
		t.Errorf("width 80: the advisory title is not under its row:\n%s", out)
	}
	// At 200 it is a column of its own.
	out = table(t, TableOptions{Width: 200})
	if !strings.Contains(out, "    critical  fixed         CVE-2024-0010  → 1.2  a critical one with a title long enough to wrap on a narrow terminal, as real advisory titles do\n") {
		t.Errorf("width 200:\n%s", out)
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

// TestTableNarrow (found in review): at any width from 40, nothing passes the edge:
// long rule IDs, long advisory IDs and fixed versions, the summary line.
func TestTableNarrow(t *testing.T) {
	r := tableReport()
	r.Rules = append(r.Rules, finding.Rule{ID: "SECCOMP-UNKNOWN-SYSCALL", Title: "Every syscall name exists in the kernel's tables", Severity: finding.Low, Section: "S", Scope: finding.KindHost})
	im := finding.Target{Kind: finding.KindImage, Name: "app:1"}
	r.Findings = append(r.Findings,
		finding.Finding{Rule: "VULN", Status: finding.Fail, Severity: finding.High, Target: im,
			Vuln: &finding.Vuln{ID: "GHSA-4v7x-pqxf-cx7m", Package: "golang.org/x/net", Installed: "v0.17.0", Status: "fixed", Fixed: "0.23.0",
				Summary: "HTTP/2 rapid reset can cause excessive work in net/http, a long title as advisories have"}},
		finding.Finding{Rule: "VULN", Status: finding.Fail, Severity: finding.Critical, Target: im,
			Vuln: &finding.Vuln{ID: "CVE-2024-45490", Package: "libexpat1", Installed: "2.5.0-1", Status: "fixed", Fixed: "2.5.0-1+deb12u1",
				Summary: "An issue was discovered in libexpat before 2.6.3. xmlparse.c does not reject a negative length for XML_ParseBuffer."}})
	for _, w := range []int{40, 41, 52, 60, 72, 79, 80, 119, 120} {
		for _, color := range []bool{false, true} {
			var buf bytes.Buffer
			if err := WriteTable(&buf, r, TableOptions{Width: w, Color: color, Remediation: true, Passes: true}); err != nil {
				t.Fatal(err)
			}
			for _, l := range strings.Split(buf.String(), "\n") {
				if n := utf8.RuneCountInString(ansi.ReplaceAllString(l, "")); n > w {
					t.Errorf("width %d (colour %v): a line of %d: %q", w, color, n, l)
				}
			}
		}
	}
}

// TestTableMixedKinds (found in review): a message shared by containers and images
// is counted as targets, never "all N images"; a target reported twice counts once.
func TestTableMixedKinds(t *testing.T) {
	rule := finding.Rule{ID: "M", Title: "mixed", Severity: finding.High, Section: "S", Scope: finding.KindContainer}
	var targets []finding.Target
	var fs []finding.Finding
	for _, n := range []string{"c1", "c2", "c3", "c4"} {
		targets = append(targets, finding.Target{Kind: finding.KindContainer, Name: n})
	}
	targets = append(targets, finding.Target{Kind: finding.KindImage, Name: "app:1"})
	for _, tg := range []finding.Target{targets[0], targets[1], targets[2], targets[4]} {
		fs = append(fs, finding.Finding{Rule: "M", Status: finding.Fail, Severity: finding.High, Target: tg, Message: "runs as root"})
	}
	for _, tg := range []finding.Target{targets[0], targets[0], targets[1], targets[1]} {
		fs = append(fs, finding.Finding{Rule: "M", Status: finding.Fail, Severity: finding.High, Target: tg, Message: "mount is writable"})
	}
	r := Build(Tool{Name: "dockaudit"}, "host", time.Time{}, Context{}, []finding.Rule{rule}, targets, fs, Gate{})
	var buf bytes.Buffer
	WriteTable(&buf, r, TableOptions{})
	out := buf.String()
	for _, want := range []string{"runs as root (4 targets):\n", "c1, c2: mount is writable\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
}
