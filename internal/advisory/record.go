package advisory

import (
	"sort"
	"strings"
)

// Record is one advisory, normalised from any source.
type Record struct {
	ID        string     `json:"id"`
	Aliases   []string   `json:"aliases,omitempty"` // the same vulnerability elsewhere (CVE, GHSA, DSA…)
	Summary   string     `json:"summary,omitempty"`
	Severity  string     `json:"severity,omitempty"` // critical, high, medium, low, negligible, or "" when unknown
	CVSS      []string   `json:"cvss,omitempty"`     // vectors
	Published string     `json:"published,omitempty"`
	Modified  string     `json:"modified,omitempty"`
	Withdrawn string     `json:"withdrawn,omitempty"`
	Source    string     `json:"source"` // osv:Debian, debian-tracker, alpine-secdb, debian-dsa…
	Affected  []Affected `json:"affected,omitempty"`
}

// Affected says which versions of one package in one ecosystem a record affects.
type Affected struct {
	Ecosystem string   `json:"ecosystem"` // OSV style: "Debian:12", "Alpine:v3.20", "Go", "PyPI", "AlmaLinux:9"
	Package   string   `json:"package"`   // source package for Debian and Ubuntu, origin for Alpine
	Ranges    []Range  `json:"ranges,omitempty"`
	Versions  []string `json:"versions,omitempty"` // affected versions listed one by one
	// Status is the distribution's verdict where it gives one: fixed, unfixed,
	// wont-fix, fix-deferred, no-dsa, end-of-life, undetermined, not-affected.
	Status   string `json:"status,omitempty"`
	Severity string `json:"severity,omitempty"` // the distribution's own (Debian urgency, Ubuntu priority)
	Note     string `json:"note,omitempty"`
	// Released lists the versions the distribution ships for this release (Debian's
	// repositories): a fix newer than all of them is not yet released.
	Released []string `json:"released,omitempty"`
	// GOOS and GOARCH, when set, are the only platforms the vulnerable code is built
	// for (the Go database's imports): a binary for another is not affected.
	GOOS   []string `json:"goos,omitempty"`
	GOARCH []string `json:"goarch,omitempty"`
	// Module is the rpm module stream ("nodejs:18") an entry is about: it applies
	// only to packages built in that stream (Red Hat's CSAF names it).
	Module string `json:"module,omitempty"`
}

// Range is an OSV range: events in any order.
type Range struct {
	Type   string  `json:"type"` // ECOSYSTEM, SEMVER, GIT
	Events []Event `json:"events"`
}

// Event is one OSV range event; exactly one field is set.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty" yaml:"last_affected"`
	Limit        string `json:"limit,omitempty"`
}

// Fixed returns the first fixed version of the affected entry, or "" (a GIT range's
// fix is a commit, not a version).
func (a Affected) Fixed() string {
	for _, r := range a.Ranges {
		if r.Type == "GIT" {
			continue
		}
		for _, e := range r.Events {
			if e.Fixed != "" {
				return e.Fixed
			}
		}
	}
	return ""
}

// BaseEcosystem is an ecosystem without its release: "Debian:12" → "Debian".
func BaseEcosystem(e string) string {
	b, _, _ := strings.Cut(e, ":")
	return b
}

// normalizeName is how package names are compared in an ecosystem: PyPI names are
// case- and separator-insensitive (PEP 503), NuGet IDs and Composer names
// case-insensitive; the others are compared as written.
func normalizeName(ecosystem, name string) string {
	switch BaseEcosystem(ecosystem) {
	case "PyPI":
		n := strings.ToLower(name)
		return strings.NewReplacer("_", "-", ".", "-").Replace(n)
	case "NuGet", "Packagist":
		return strings.ToLower(name)
	}
	return name
}

// sortedUnique sorts strings and drops duplicates and empties.
func sortedUnique(in []string) []string {
	m := map[string]bool{}
	for _, s := range in {
		if s != "" {
			m[s] = true
		}
	}
	out := make([]string, 0, len(m))
	for s := range m {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// severityRank orders severities for choosing the worst.
var severityRank = map[string]int{"": 0, "negligible": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}

// NormalizeSeverity maps a source's severity word to critical, high, medium, low,
// negligible or "" (unknown).
func NormalizeSeverity(s string) string {
	s = strings.ToLower(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "**")))
	switch s {
	case "critical":
		return "critical"
	case "high", "important":
		return "high"
	case "medium", "moderate":
		return "medium"
	case "low":
		return "low"
	case "unimportant", "negligible", "none":
		return "negligible"
	}
	return ""
}
