package vuln

import (
	"fmt"
	"strings"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/finding"
)

// Rule is the rule every vulnerability finding belongs to.
var Rule = finding.Rule{
	ID:          "VULN",
	Title:       "Packages have no known vulnerabilities",
	Description: "A package with a published vulnerability is a known way in. Findings name the advisory and its aliases, the installed and fixed versions, and the distribution's own status and severity.",
	Remediation: "Update the package to the fixed version (rebuild on a patched base image: docker build --pull). Where there is no fix, judge the exposure and record the decision in an ignore file or a VEX statement.",
	Severity:    finding.High,
	MaxSeverity: finding.Critical,
	Section:     "Vulnerabilities",
	Scope:       finding.KindImage,
	Tags:        []string{"image", "vuln"},
}

// Checks returns the vulnerability check.
func Checks() []check.Check { return []check.Check{{Rule: Rule, Run: run}} }

// Severity maps an advisory's severity onto dockaudit's scale. A severity nobody gave
// (the Go database rates nothing) stays unknown, its own level: --fail-on counts it as
// --unknown-as says, high by default, so unrated CVEs cannot slip through a gate.
func Severity(s string) finding.Severity {
	switch s {
	case "critical":
		return finding.Critical
	case "high":
		return finding.High
	case "low":
		return finding.Low
	case "medium":
		return finding.Medium
	case "negligible":
		return finding.SevInfo
	}
	return finding.Unknown
}

// statusText says what a status means for the user.
var statusText = map[string]string{
	"fix-pending":  "fixed by the distribution, but the fix is not yet released",
	"unfixed":      "no fix yet",
	"no-dsa":       "no fix planned as a security update (minor issue)",
	"fix-deferred": "fix postponed by the distribution",
	"wont-fix":     "the distribution will not fix it",
	"end-of-life":  "the package is no longer supported by the distribution",
	"undetermined": "the distribution has not decided whether it is affected",
}

func run(p *check.Pass) {
	im := p.Image
	switch {
	case im.VulnDB == nil:
		p.Skip("vulnerabilities were not matched: no database was given")
		return
	case im.VulnDB.Error != "":
		p.Skip(im.VulnDB.Error)
		return
	case im.Content == nil:
		p.Skip("the image's files were not read")
		return
	}
	// What no source covers is said, package group by group: never a pass.
	var checked []string
	uncovered := false
	for _, c := range im.VulnDB.Coverage {
		if c.Uncovered == "" {
			line := fmt.Sprintf("%s: %d against %s", c.Ecosystem, c.Packages, strings.Join(c.Sources, ", "))
			if c.Note != "" {
				line += " (" + c.Note + ")"
			}
			checked = append(checked, line)
			continue
		}
		uncovered = true
		what := "not checked"
		if c.Packages > 0 {
			what = fmt.Sprintf("%d packages (%s) not checked", c.Packages, c.Ecosystem)
		}
		p.Skip(c.Uncovered+": "+what, check.Ev("not checked", c.Ecosystem, "an advisory source for it"))
	}
	for _, v := range im.Vulns {
		pkg := v.Package + " " + v.Version
		if v.SourceName != "" && v.SourceName != v.Package {
			pkg += " (source " + v.SourceName + ")"
		}
		msg := fmt.Sprintf("%s: %s", pkg, v.ID)
		ev := []finding.Evidence{check.Ev("installed", v.Version, "")}
		if v.Fixed != "" {
			ev[0].Expected = v.Fixed + " or later"
		}
		rating := v.Severity
		if rating == "" {
			rating = "unknown"
		}
		var r check.Result
		if v.Status == "fixed" {
			msg += ", fixed in " + v.Fixed
			r = p.Fail(msg, ev...)
		} else {
			text := statusText[v.Status]
			if text == "" {
				text = v.Status
			}
			if v.Fixed != "" && v.Status == "fix-pending" {
				text += " (" + v.Fixed + ")"
			}
			msg += ": " + text
			r = p.Warn(msg, ev...)
		}
		r.Sev(Severity(v.Severity))
		loc := r.At(v.Path)
		if v.Layer >= 0 && v.Layer < len(im.Layers) { // a facts file may say anything
			loc.Layer(im.Layers[v.Layer].Digest)
		}
		vv := finding.Vuln{ID: v.ID, Aliases: v.Aliases, Package: v.Package, Ecosystem: v.Ecosystem, Installed: v.Version,
			Fixed: v.Fixed, Status: v.Status, Source: strings.Join(v.Sources, ","), SourcePackage: v.SourceName,
			SourceVersion: v.SourceVersion, Rating: rating, PURL: v.PURL, Summary: v.Summary, Note: v.Note}
		r.Vuln(vv)
	}
	switch {
	case uncovered || p.Reported():
	case len(checked) == 0:
		p.OK("the image has no packages to match (" + cmpOr(im.Content.OS.ID, "no OS") + ")")
	default:
		p.OK(fmt.Sprintf("none of the %d packages has a known vulnerability in the database written %s", len(im.Content.Packages), im.VulnDB.Built.UTC().Format("2006-01-02 15:04 UTC")),
			check.Ev("matched", strings.Join(checked, "; "), ""))
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
