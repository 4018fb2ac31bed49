package advisory

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/dockaudit/dockaudit/internal/textsafe"
)

// osvRecord is the part of the OSV schema dockaudit reads.
type osvRecord struct {
	ID        string   `json:"id"`
	Modified  string   `json:"modified"`
	Published string   `json:"published"`
	Withdrawn string   `json:"withdrawn"`
	Aliases   []string `json:"aliases"`
	Upstream  []string `json:"upstream"`
	Related   []string `json:"related"`
	Summary   string   `json:"summary"`
	Details   string   `json:"details"`
	Severity  []struct {
		Type  string `json:"type"`
		Score string `json:"score"`
	} `json:"severity"`
	Affected []struct {
		Package struct {
			Ecosystem string `json:"ecosystem"`
			Name      string `json:"name"`
			PURL      string `json:"purl"`
		} `json:"package"`
		Severity []struct {
			Type  string `json:"type"`
			Score string `json:"score"`
		} `json:"severity"`
		Ranges []struct {
			Type   string  `json:"type"`
			Events []Event `json:"events"`
		} `json:"ranges"`
		Versions          []string       `json:"versions"`
		EcosystemSpecific map[string]any `json:"ecosystem_specific" yaml:"ecosystem_specific"`
		DatabaseSpecific  map[string]any `json:"database_specific" yaml:"database_specific"`
	} `json:"affected"`
	DatabaseSpecific map[string]any `json:"database_specific" yaml:"database_specific"`
}

// ParseOSV reads one OSV record (JSON).
func ParseOSV(b []byte) (Record, error) {
	var o osvRecord
	if err := json.Unmarshal(b, &o); err != nil {
		return Record{}, fmt.Errorf("not an OSV record: %w", err)
	}
	return o.record()
}

// ParseOSVYAML reads one OSV record written as YAML (the PyPA advisory database).
// Decoding straight into the record's string fields keeps a scalar as written: an
// unquoted "fixed: 1.10" stays "1.10", not the number 1.1.
func ParseOSVYAML(b []byte) (Record, error) {
	var o osvRecord
	if err := yaml.Unmarshal(b, &o); err != nil {
		return Record{}, fmt.Errorf("not an OSV record: %w", err)
	}
	return o.record()
}

var errNoID = errors.New("OSV record without an id")

func (o osvRecord) record() (Record, error) {
	if o.ID == "" {
		return Record{}, errNoID
	}
	r := Record{ID: o.ID, Published: o.Published, Modified: o.Modified, Withdrawn: o.Withdrawn, Summary: o.Summary}
	if r.Summary == "" {
		r.Summary = firstLine(o.Details)
	}
	// upstream (Debian, Ubuntu) and related (AlmaLinux) name the CVEs a distribution
	// record stands for: for matching and merging they are aliases.
	r.Aliases = sortedUnique(append(append(append([]string{}, o.Aliases...), o.Upstream...), relatedCVEs(o.Related)...))
	r.Aliases = without(r.Aliases, r.ID)
	for _, s := range o.Severity {
		if strings.HasPrefix(s.Type, "CVSS") {
			r.CVSS = append(r.CVSS, s.Score)
		}
	}
	r.Severity = severityFrom(o.DatabaseSpecific, r.CVSS)
	r.Source = "osv"
	for _, a := range o.Affected {
		if a.Package.Name == "" || a.Package.Ecosystem == "" {
			continue
		}
		af := Affected{Ecosystem: a.Package.Ecosystem, Package: a.Package.Name, Versions: a.Versions}
		af.GOOS, af.GOARCH = goPlatforms(a.EcosystemSpecific)
		for _, rg := range a.Ranges {
			af.Ranges = append(af.Ranges, Range{Type: rg.Type, Events: rg.Events})
		}
		// A distribution's own priority for this package (Ubuntu, Debian urgency).
		for _, key := range []string{"ubuntu_priority", "urgency", "severity"} {
			if s, ok := a.EcosystemSpecific[key].(string); ok && NormalizeSeverity(s) != "" {
				af.Severity = NormalizeSeverity(s)
				break
			}
		}
		if af.Severity == "" {
			if s, ok := a.DatabaseSpecific["severity"].(string); ok {
				af.Severity = NormalizeSeverity(s)
			}
		}
		var cvss []string
		for _, s := range a.Severity {
			if strings.HasPrefix(s.Type, "CVSS") {
				cvss = append(cvss, s.Score)
			}
		}
		if af.Severity == "" && len(cvss) > 0 {
			af.Severity = severityFrom(nil, cvss)
		}
		r.Affected = append(r.Affected, af)
	}
	if len(r.Affected) > 0 {
		r.Source = "osv:" + BaseEcosystem(r.Affected[0].Ecosystem)
	}
	return r, nil
}

func relatedCVEs(rel []string) []string {
	var out []string
	for _, r := range rel {
		if strings.HasPrefix(r, "CVE-") {
			out = append(out, r)
		}
	}
	return out
}

func without(list []string, s string) []string {
	out := list[:0]
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

// severityFrom takes a record's severity word (GHSA's database_specific.severity) or,
// failing that, the worst CVSS v3 base score's rating.
func severityFrom(db map[string]any, cvss []string) string {
	if s, ok := db["severity"].(string); ok && NormalizeSeverity(s) != "" {
		return NormalizeSeverity(s)
	}
	best := ""
	for _, v := range cvss {
		if score, ok := CVSS3Score(v); ok {
			if s := Rating(score); severityRank[s] > severityRank[best] {
				best = s
			}
		}
	}
	return best
}

func firstLine(s string) string { return textsafe.FirstLine(s, 200) }

// goPlatforms reads the Go database's ecosystem_specific.imports: the operating
// systems and architectures the vulnerable packages are limited to, when every import
// is limited (one unlimited import makes the vulnerability apply everywhere).
func goPlatforms(es map[string]any) (goos, goarch []string) {
	imports, _ := es["imports"].([]any)
	if len(imports) == 0 {
		return nil, nil
	}
	collect := func(key string) []string {
		var out []string
		for _, imp := range imports {
			m, _ := imp.(map[string]any)
			list, _ := m[key].([]any)
			if len(list) == 0 {
				return nil
			}
			for _, x := range list {
				if s, ok := x.(string); ok {
					out = append(out, s)
				}
			}
		}
		return sortedUnique(out)
	}
	return collect("goos"), collect("goarch")
}
