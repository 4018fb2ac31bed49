package app

import (
	"encoding/json"

	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dockaudit/dockaudit/internal/finding"
	"github.com/dockaudit/dockaudit/internal/safefile"
)

// IgnoreEntry is one accepted finding: a rule ID or vulnerability ID (or alias),
// optionally narrowed to packages and targets by glob, with the reason and an
// optional expiry date after which it stops applying.
type IgnoreEntry struct {
	ID      string `yaml:"id" json:"id"`
	Package string `yaml:"package,omitempty" json:"package,omitempty"`
	Target  string `yaml:"target,omitempty" json:"target,omitempty"` // glob on the target's name (image, container…)
	Reason  string `yaml:"reason" json:"reason"`
	Expires string `yaml:"expires,omitempty" json:"expires,omitempty"` // YYYY-MM-DD, the last day it applies
	expires time.Time
}

// IgnoreFile is a list of accepted findings (--ignore-file), YAML or JSON:
//
//	ignore:
//	  - id: CVE-2023-4911
//	    package: libc6
//	    target: "registry.example/app:*"
//	    reason: not reachable, the binary never runs setuid
//	    expires: 2027-01-31
type IgnoreFile struct {
	Ignore []IgnoreEntry `yaml:"ignore" json:"ignore"`
}

// maxIgnoreFile and maxVEXFile bound what is read of an ignore file (thousands of
// entries are kilobytes) and of an OpenVEX document.
const (
	maxIgnoreFile = 4 << 20
	maxVEXFile    = 16 << 20
)

// LoadIgnoreFile reads and checks an ignore file: every entry needs an id and a
// reason, globs must be valid and dates YYYY-MM-DD.
func LoadIgnoreFile(p string) (*IgnoreFile, error) {
	b, err := safefile.Read(p, maxIgnoreFile)
	if err != nil {
		return nil, err
	}
	var f IgnoreFile
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %v", p, err)
	}
	for i := range f.Ignore {
		e := &f.Ignore[i]
		switch {
		case e.ID == "":
			return nil, fmt.Errorf("%s: entry %d has no id", p, i+1)
		case strings.TrimSpace(e.Reason) == "":
			return nil, fmt.Errorf("%s: entry %d (%s) has no reason: say why the finding is accepted", p, i+1, e.ID)
		}
		for _, g := range []string{e.Package, e.Target} {
			if _, err := path.Match(g, ""); err != nil {
				return nil, fmt.Errorf("%s: entry %d (%s): bad glob %q", p, i+1, e.ID, g)
			}
		}
		if e.Expires != "" {
			t, err := time.Parse("2006-01-02", e.Expires)
			if err != nil {
				return nil, fmt.Errorf("%s: entry %d (%s): expires %q is not a date like 2027-01-31", p, i+1, e.ID, e.Expires)
			}
			e.expires = t
		}
	}
	return &f, nil
}

// VEXStatement is the part of an OpenVEX statement dockaudit applies.
// VEXProduct is what a statement is about: a product (a PURL, an image name or
// digest) and, when it names them, the components inside it the statement covers.
type VEXProduct struct {
	ID            string
	Subcomponents []string
}

type VEXStatement struct {
	Vulnerabilities []string // name and aliases
	Products        []VEXProduct
	Status          string // not_affected, fixed, affected, under_investigation
	Justification   string
}

// LoadOpenVEX reads an OpenVEX document (v0.2.0, and the v0.0.x form whose
// vulnerability and products are plain strings).
func LoadOpenVEX(p string) ([]VEXStatement, error) {
	b, err := safefile.Read(p, maxVEXFile)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Context    string `json:"@context"`
		Statements []struct {
			Vulnerability json.RawMessage   `json:"vulnerability"`
			Products      []json.RawMessage `json:"products"`
			Status        string            `json:"status"`
			Justification string            `json:"justification"`
			Impact        string            `json:"impact_statement"`
		} `json:"statements"`
	}
	if err := json.Unmarshal(b, &doc); err != nil || !strings.Contains(doc.Context, "openvex") {
		return nil, fmt.Errorf("%s: not an OpenVEX document", p)
	}
	var out []VEXStatement
	for i, s := range doc.Statements {
		st := VEXStatement{Status: s.Status, Justification: firstNonEmpty(s.Justification, s.Impact)}
		var name string
		var v struct {
			Name    string   `json:"name"`
			ID      string   `json:"@id"`
			Aliases []string `json:"aliases"`
		}
		if json.Unmarshal(s.Vulnerability, &name) == nil {
			st.Vulnerabilities = []string{name}
		} else if json.Unmarshal(s.Vulnerability, &v) == nil {
			st.Vulnerabilities = append([]string{v.Name, v.ID}, v.Aliases...)
		}
		for _, raw := range s.Products {
			var id string
			var prod struct {
				ID            string `json:"@id"`
				Subcomponents []struct {
					ID string `json:"@id"`
				} `json:"subcomponents"`
			}
			if json.Unmarshal(raw, &id) == nil {
				st.Products = append(st.Products, VEXProduct{ID: id})
			} else if json.Unmarshal(raw, &prod) == nil {
				vp := VEXProduct{ID: prod.ID}
				for _, sc := range prod.Subcomponents {
					vp.Subcomponents = append(vp.Subcomponents, sc.ID)
				}
				st.Products = append(st.Products, vp)
			}
		}
		if len(st.Vulnerabilities) == 0 || st.Status == "" {
			return nil, fmt.Errorf("%s: statement %d has no vulnerability or status", p, i+1)
		}
		out = append(out, st)
	}
	return out, nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// IgnoreRule carries the findings about the ignore file itself: entries past their
// expiry date, which no longer apply.
var IgnoreRule = finding.Rule{
	ID:          "AUDIT-IGNORE",
	Title:       "Every ignore entry is current",
	Description: "An ignore entry past its expiry date no longer hides its findings; the acceptance needs a fresh decision.",
	Remediation: "Review the finding again: fix it, or renew the entry with a new expiry date and reason.",
	Severity:    finding.Low,
	Section:     "Audit",
	Tags:        []string{"audit"},
}

// Suppression is what --ignore-file and --vex do to a list of findings.
type Suppression struct {
	Ignore *IgnoreFile
	VEX    []VEXStatement
	Now    time.Time
}

// Apply removes accepted findings and returns the rest, how many were suppressed, and
// a finding per expired ignore entry.
func (s Suppression) Apply(fs []finding.Finding) (kept []finding.Finding, suppressed int, expired []finding.Finding) {
	today := s.Now.UTC().Truncate(24 * time.Hour)
	if s.Ignore != nil {
		for _, e := range s.Ignore.Ignore {
			if !e.expires.IsZero() && today.After(e.expires) {
				expired = append(expired, finding.Finding{Rule: IgnoreRule.ID, Status: finding.Warn, Severity: IgnoreRule.Severity,
					Target:  finding.Target{Kind: finding.KindHost, Name: "ignore file"},
					Message: fmt.Sprintf("the entry for %s expired on %s and no longer applies (reason given: %s)", e.ID, e.Expires, e.Reason)})
			}
		}
	}
	for _, f := range fs {
		if f.Status.Problem() && f.Status != finding.Error && (s.ignored(f, today) || s.vexed(f)) {
			suppressed++
			continue
		}
		kept = append(kept, f)
	}
	return kept, suppressed, expired
}

// ids is what an entry's id may name: the rule, the vulnerability and its aliases.
func ids(f finding.Finding) []string {
	out := []string{f.Rule}
	if f.Vuln != nil {
		out = append(append(out, f.Vuln.ID), f.Vuln.Aliases...)
	}
	return out
}

func (s Suppression) ignored(f finding.Finding, today time.Time) bool {
	if s.Ignore == nil {
		return false
	}
	for _, e := range s.Ignore.Ignore {
		if !e.expires.IsZero() && today.After(e.expires) {
			continue
		}
		if !slices.Contains(ids(f), e.ID) {
			continue
		}
		if e.Package != "" {
			if f.Vuln == nil {
				continue
			}
			m1, _ := path.Match(e.Package, f.Vuln.Package)
			m2, _ := path.Match(e.Package, f.Vuln.SourcePackage)
			if !m1 && !m2 {
				continue
			}
		}
		if e.Target != "" {
			if m, _ := path.Match(e.Target, f.Target.Name); !m {
				continue
			}
		}
		return true
	}
	return false
}

// vexed reports a vulnerability finding a VEX statement declares not_affected or
// fixed for its package (by PURL, any version when the statement's has none) or its
// image (by name, ID or digest).
func (s Suppression) vexed(f finding.Finding) bool {
	if f.Vuln == nil {
		return false
	}
	for _, st := range s.VEX {
		if st.Status != "not_affected" && st.Status != "fixed" {
			continue
		}
		if !slices.ContainsFunc(ids(f)[1:], func(id string) bool { return slices.Contains(st.Vulnerabilities, id) }) {
			continue
		}
		for _, prod := range st.Products {
			isTarget := prod.ID == f.Target.Name || (f.Target.ID != "" && strings.Contains(prod.ID, strings.TrimPrefix(f.Target.ID, "sha256:")))
			switch {
			case !isTarget && !purlMatch(prod.ID, f.Vuln.PURL):
			case len(prod.Subcomponents) == 0:
				return true
			case slices.ContainsFunc(prod.Subcomponents, func(sc string) bool { return purlMatch(sc, f.Vuln.PURL) }):
				// Only the components the statement names, inside that product.
				return true
			}
		}
	}
	return false
}

// purlMatch compares a VEX product PURL with a package's: type, namespace and name
// must agree; a version, when the product gives one, too. Qualifiers are ignored.
func purlMatch(product, pkg string) bool {
	if !strings.HasPrefix(product, "pkg:") || pkg == "" {
		return false
	}
	strip := func(p string) (string, string) {
		p, _, _ = strings.Cut(p, "?")
		p, _, _ = strings.Cut(p, "#")
		base, ver, _ := strings.Cut(p, "@")
		return base, ver
	}
	pb, pv := strip(product)
	kb, kv := strip(pkg)
	return pb == kb && (pv == "" || pv == kv)
}
