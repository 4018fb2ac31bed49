package report

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/dockaudit/dockaudit/internal/finding"
)

// SARIF 2.1.0, in the subset GitHub code scanning reads. Only problems (fail and warn)
// become results; error findings become tool execution notifications, since they say
// the audit could not look, not that something is wrong.

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool              sarifTool         `json:"tool"`
	AutomationDetails *sarifAutomation  `json:"automationDetails,omitempty"`
	Invocations       []sarifInvocation `json:"invocations"`
	Results           []sarifResult     `json:"results"`
}

type sarifAutomation struct {
	ID string `json:"id"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version"`
	SemVer         string      `json:"semanticVersion,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 sarifText      `json:"help"`
	HelpURI              string         `json:"helpUri,omitempty"`
	DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
	Properties           sarifRuleProps `json:"properties"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifRuleProps struct {
	Tags             []string `json:"tags"`
	SecuritySeverity string   `json:"security-severity"`
	Precision        string   `json:"precision"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool                `json:"executionSuccessful"`
	Notifications       []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level      string           `json:"level"`
	Message    sarifText        `json:"message"`
	Descriptor *sarifDescriptor `json:"descriptor,omitempty"`
	Locations  []sarifLocation  `json:"locations,omitempty"`
}

type sarifDescriptor struct {
	ID string `json:"id"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          sarifResultProps  `json:"properties"`
}

type sarifResultProps struct {
	Status   string             `json:"status"`
	Severity string             `json:"severity"`
	Target   finding.Target     `json:"target"`
	Evidence []finding.Evidence `json:"evidence,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

// securitySeverity maps severities onto GitHub's 0–10 scale (critical ≥ 9, high ≥ 7,
// medium ≥ 4, low > 0).
var securitySeverity = map[finding.Severity]string{
	finding.Critical: "9.5", finding.High: "8.0", finding.Medium: "5.5", finding.Low: "3.0", finding.SevInfo: "0.0",
	finding.Unknown: "8.0", // unrated is not harmless: GitHub shows it as high, as --fail-on counts it by default
}

func sarifLevel(s finding.Severity) string {
	switch s {
	case finding.Critical, finding.High, finding.Unknown:
		return "error"
	case finding.Medium:
		return "warning"
	}
	return "note"
}

// WriteSARIF writes the report as SARIF 2.1.0.
func WriteSARIF(w io.Writer, r *Report) error {
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			// SARIF wants a version that starts with a number: "v1.2.3" becomes "1.2.3".
			Name: r.Tool.Name, Version: strings.TrimPrefix(r.Tool.Version, "v"), SemVer: strings.TrimPrefix(r.Tool.Version, "v"),
			InformationURI: r.Tool.URI, Rules: []sarifRule{},
		}},
		AutomationDetails: &sarifAutomation{ID: "dockaudit/" + r.Command + "/"},
		Results:           []sarifResult{},
	}
	index := map[string]int{}
	for i, ru := range r.Rules {
		index[ru.ID] = i
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{
			ID:               ru.ID,
			Name:             ruleName(ru.ID),
			ShortDescription: sarifText{Text: ru.Title},
			FullDescription:  sarifText{Text: ru.Description},
			Help: sarifText{
				Text:     ru.Remediation,
				Markdown: "**" + ru.Title + "**\n\n" + ru.Description + "\n\n**Remediation:** " + ru.Remediation,
			},
			HelpURI:              firstRef(ru.References),
			DefaultConfiguration: sarifConfig{Level: sarifLevel(ru.Severity)},
			Properties: sarifRuleProps{
				Tags:             append([]string{"security"}, ru.Tags...),
				SecuritySeverity: securitySeverity[ru.Severity],
				Precision:        "high",
			},
		})
	}
	inv := sarifInvocation{ExecutionSuccessful: true}
	// Results are made one at a time as they are written: a report of a busy host
	// holds hundreds of thousands.
	var problems []int
	for k, f := range r.Findings {
		switch {
		case f.Status == finding.Error:
			inv.Notifications = append(inv.Notifications, sarifNotification{
				Level:      "error",
				Message:    sarifText{Text: f.Target.String() + ": " + f.Message},
				Descriptor: &sarifDescriptor{ID: f.Rule},
				Locations:  []sarifLocation{sarifLocationOf(f)},
			})
		case f.Status.Problem():
			if _, ok := index[f.Rule]; ok {
				problems = append(problems, k)
			}
		}
	}
	result := func(k int) any {
		f := r.Findings[problems[k]]
		return sarifResult{
			RuleID:              f.Rule,
			RuleIndex:           index[f.Rule],
			Level:               sarifLevel(f.Severity),
			Message:             sarifText{Text: f.Target.String() + ": " + f.Message},
			Locations:           []sarifLocation{sarifLocationOf(f)},
			PartialFingerprints: map[string]string{"dockauditFinding/v1": fingerprint(f)},
			Properties:          sarifResultProps{Status: f.Status.String(), Severity: f.Severity.String(), Target: f.Target, Evidence: f.Evidence},
		}
	}
	run.Invocations = []sarifInvocation{inv}
	log := sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0"}
	js := newJSONStream(w)
	err := js.object(&log, 0, "runs", 1, func(int) any {
		return nested(func(depth int) error { return js.object(&run, depth, "results", len(problems), result) })
	})
	return js.finish(err)
}

func sarifLocationOf(f finding.Finding) sarifLocation {
	loc := sarifLocation{PhysicalLocation: sarifPhysical{
		ArtifactLocation: sarifArtifact{URI: artifactURI(f)},
		Region:           sarifRegion{StartLine: 1},
	}}
	if f.Location != nil && f.Location.Line > 0 {
		loc.PhysicalLocation.Region.StartLine = f.Location.Line
		loc.PhysicalLocation.Region.StartColumn = f.Location.Column
	}
	if buildFile(f) {
		// A finding in a file of the project (dockaudit config): its path relative to
		// the source root, so a code scanning upload annotates that line.
		var segs []string
		for _, seg := range strings.Split(strings.TrimPrefix(filepath.ToSlash(filepath.Clean(f.Location.Path)), "./"), "/") {
			segs = append(segs, url.PathEscape(seg))
		}
		loc.PhysicalLocation.ArtifactLocation = sarifArtifact{URI: strings.Join(segs, "/"), URIBaseID: "%SRCROOT%"}
	}
	return loc
}

// buildFile says a finding points into a build file the audit read (a Dockerfile, or
// the Compose file of a service), by a relative path, rather than into an image, a
// container or the host.
func buildFile(f finding.Finding) bool {
	if f.Location == nil || f.Location.Line == 0 || f.Location.Layer != "" || f.Location.Path == "" || filepath.IsAbs(f.Location.Path) {
		return false
	}
	return f.Target.Kind == finding.KindContainer || (f.Target.Kind == finding.KindImage && f.Target.Name == f.Location.Path)
}

// artifactURI names where a finding lives as a stable relative URI: the target kind and
// name, then the file inside it when there is one ("host/vm/etc/docker/daemon.json").
func artifactURI(f finding.Finding) string {
	parts := []string{string(f.Target.Kind), url.PathEscape(uriSafe(f.Target.Name))}
	if f.Location != nil && f.Location.Path != "" {
		for _, seg := range strings.Split(strings.TrimPrefix(f.Location.Path, "/"), "/") {
			parts = append(parts, url.PathEscape(seg)) // a path may hold spaces, '#' or '%'
		}
	}
	return strings.Join(parts, "/")
}

func uriSafe(s string) string {
	if s == "" {
		return "_"
	}
	r := strings.NewReplacer("/", "_", ":", "_", "@", "_", " ", "_")
	return r.Replace(s)
}

func fingerprint(f finding.Finding) string {
	h := sha256.New()
	for _, s := range []string{f.Rule, string(f.Target.Kind), f.Target.Name, artifactURI(f), f.Message} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// ruleName turns "CIS-5.4" into the PascalCase name SARIF suggests ("Cis54").
func ruleName(id string) string {
	var b strings.Builder
	up := true
	for _, r := range strings.ToLower(id) {
		switch {
		case r == '-' || r == '.' || r == '_':
			up = true
		case up && r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
			up = false
		default:
			b.WriteRune(r)
			up = false
		}
	}
	return b.String()
}

func firstRef(refs []string) string {
	if len(refs) == 0 {
		return ""
	}
	return refs[0]
}
