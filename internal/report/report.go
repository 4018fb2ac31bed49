package report

import (
	"sort"
	"time"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
)

// SchemaVersion is the version of the JSON report; it changes only when a field changes
// meaning or disappears (adding fields does not change it).
const SchemaVersion = "1"

// Report is everything a writer needs. Each output format is a pure function of it.
type Report struct {
	SchemaVersion string    `json:"schemaVersion"`
	Tool          Tool      `json:"tool"`
	Command       string    `json:"command"`
	GeneratedAt   time.Time `json:"generatedAt"`
	// Context describes what was audited, for headers.
	Context  Context           `json:"context"`
	Targets  []finding.Target  `json:"targets"`
	Rules    []finding.Rule    `json:"rules"`
	Findings []finding.Finding `json:"findings"`
	Summary  Summary           `json:"summary"`
	// Images is what dockaudit image read in each image it could read.
	Images []Inventory `json:"images,omitempty"`
}

// Inventory is one image as dockaudit image read it: where it came from, its layers,
// its operating system and its packages.
type Inventory struct {
	Target   finding.Target     `json:"target"`
	Source   string             `json:"source"` // daemon, docker-archive, oci, registry, dir
	Digest   string             `json:"digest,omitempty"`
	Platform string             `json:"platform,omitempty"`
	OS       facts.OS           `json:"os"`
	Layers   []facts.ImageLayer `json:"layers"`
	Entries  int                `json:"entries"`
	Packages []facts.Package    `json:"packages"`
	// Notes say what could not be inventoried.
	Notes []string `json:"notes,omitempty"`
	// Coverage says which packages were matched against which advisory sources, and
	// which were not (nil when no database was used).
	Coverage []facts.Coverage `json:"coverage,omitempty"`
	// Base is what the image says it is built on; Signatures what was found of its
	// signatures, each verified or with why not (registry images).
	Base         *facts.Base         `json:"base,omitempty"`
	Signatures   []facts.Signature   `json:"signatures,omitempty"`
	Attestations []facts.Attestation `json:"attestations,omitempty"`
	// IndexVerified says a verified signature covers the index that lists BuildKit's
	// attestations (which carry no signature of their own).
	IndexVerified bool `json:"indexVerified,omitempty"`
}

// Tool identifies dockaudit.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	URI     string `json:"informationUri"`
}

// Context is what the audit ran against.
type Context struct {
	Endpoint string `json:"endpoint,omitempty"`
	// DockerContext is the docker CLI context the endpoint came from, when one was
	// named; EndpointFrom what chose the endpoint (--host, DOCKER_HOST, DOCKER_CONTEXT…).
	DockerContext string `json:"dockerContext,omitempty"`
	EndpointFrom  string `json:"endpointFrom,omitempty"`
	Daemon        string `json:"daemon,omitempty"`
	ServerVersion string `json:"serverVersion,omitempty"`
	APIVersion    string `json:"apiVersion,omitempty"`
	HostAccess    bool   `json:"hostAccess"`
	// HostAccessNote says why host checks were skipped when HostAccess is false.
	HostAccessNote string `json:"hostAccessNote,omitempty"`
	Containers     int    `json:"containers"`
	Images         int    `json:"images"`
	// Notes say what could not be read and which checks that weakens.
	Notes []string `json:"notes,omitempty"`
}

// Counts tallies statuses.
type Counts struct {
	Fail   int `json:"fail"`
	Warn   int `json:"warn"`
	Error  int `json:"error"`
	Manual int `json:"manual"`
	Info   int `json:"info"`
	Pass   int `json:"pass"`
	Skip   int `json:"skip"`
}

// Add counts one status.
func (c *Counts) Add(s finding.Status) {
	switch s {
	case finding.Fail:
		c.Fail++
	case finding.Warn:
		c.Warn++
	case finding.Error:
		c.Error++
	case finding.Manual:
		c.Manual++
	case finding.Info:
		c.Info++
	case finding.Pass:
		c.Pass++
	case finding.Skip:
		c.Skip++
	}
}

// Summary counts findings, and rules by their aggregate status (the worst over targets).
type Summary struct {
	Rules    Counts `json:"rules"`
	Findings Counts `json:"findings"`
	// FailOn is the --fail-on threshold and Failing the findings at or above it that made
	// the run exit 3.
	FailOn  string `json:"failOn"`
	Failing int    `json:"failing"`
	// UnknownAs is the severity --fail-on counted unrated findings (severity unknown) as.
	UnknownAs string `json:"unknownAs"`
	// Suppressed counts findings an ignore file or VEX statement accepted; they are
	// not in the report.
	Suppressed int `json:"suppressed"`
	// LeftOut counts, per rule, the findings a filter took out of the report, and which.
	LeftOut []LeftOut `json:"leftOut,omitempty"`
}

// LeftOut is how many of a rule's findings a filter took out of the report: By is
// the flag (--severity, --ignore-unfixed, --ignore-file or --vex).
type LeftOut struct {
	Rule  string `json:"rule"`
	By    string `json:"by"`
	Count int    `json:"count"`
}

// RuleCounts counts findings per rule.
func RuleCounts(fs []finding.Finding) map[string]int {
	out := map[string]int{}
	for _, f := range fs {
		out[f.Rule]++
	}
	return out
}

// LeftOutBy is what a filter named by took out: the per-rule counts before it ran,
// less what is left, in rule order.
func LeftOutBy(before map[string]int, after []finding.Finding, by string) []LeftOut {
	left := RuleCounts(after)
	var out []LeftOut
	for rule, n := range before {
		if d := n - left[rule]; d > 0 {
			out = append(out, LeftOut{Rule: rule, By: by, Count: d})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Rule < out[j].Rule })
	return out
}

// Gate is what makes a run exit 3: findings that fail or warn at FailOn or above (nil:
// none), unrated ones counted as UnknownAs (nil: high).
type Gate struct {
	FailOn    *finding.Severity
	UnknownAs *finding.Severity
}

// unknownAs is the level an unrated finding counts as.
func (g Gate) unknownAs() finding.Severity {
	if g.UnknownAs != nil {
		return *g.UnknownAs
	}
	return finding.High
}

// Build assembles a report. rules are those that ran, in order; a rule that produced
// no finding at all (none of its targets exist) still counts, as skip.
func Build(tool Tool, command string, now time.Time, ctx Context, rules []finding.Rule,
	targets []finding.Target, findings []finding.Finding, gate Gate) *Report {
	r := &Report{
		SchemaVersion: SchemaVersion, Tool: tool, Command: command, GeneratedAt: now.UTC(),
		Context: ctx, Targets: targets, Rules: rules, Findings: findings,
	}
	if r.Targets == nil {
		r.Targets = []finding.Target{}
	}
	if r.Findings == nil {
		r.Findings = []finding.Finding{}
	}
	agg := RuleStatus(findings)
	for _, ru := range rules {
		s, ok := agg[ru.ID]
		if !ok {
			s = finding.Skip
		}
		r.Summary.Rules.Add(s)
	}
	r.Summary.FailOn = "none"
	if gate.FailOn != nil {
		r.Summary.FailOn = gate.FailOn.String()
	}
	unknownAs := gate.unknownAs()
	r.Summary.UnknownAs = unknownAs.String()
	for _, f := range findings {
		r.Summary.Findings.Add(f.Status)
		if gate.FailOn != nil && f.Status.Problem() && f.Severity.Ranked(unknownAs) >= *gate.FailOn {
			r.Summary.Failing++
		}
	}
	return r
}

// RuleStatus is each rule's aggregate status: the most urgent over its findings.
func RuleStatus(findings []finding.Finding) map[string]finding.Status {
	out := map[string]finding.Status{}
	for _, f := range findings {
		if s, ok := out[f.Rule]; ok {
			out[f.Rule] = finding.Worse(s, f.Status)
		} else {
			out[f.Rule] = f.Status
		}
	}
	return out
}
