package finding

import (
	"fmt"
	"strings"
)

// Status is the outcome of one rule for one target.
type Status int

// Statuses, ordered from least to most urgent so that the aggregate status of a rule
// over many targets is the maximum (see Worse).
const (
	Skip   Status = iota // could not be decided or does not apply: the message says why
	Pass                 // the recommendation is met
	Info                 // nothing wrong; facts worth knowing
	Manual               // needs human judgement; evidence attached where there is any
	Error                // the audit could not read this target
	Warn                 // not met, but may be intended: review
	Fail                 // not met
)

var statusNames = [...]string{"skip", "pass", "info", "manual", "error", "warn", "fail"}

func (s Status) String() string {
	if int(s) < len(statusNames) && s >= 0 {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// ParseStatus is the inverse of String.
func ParseStatus(s string) (Status, error) {
	for i, n := range statusNames {
		if n == s {
			return Status(i), nil
		}
	}
	return 0, fmt.Errorf("unknown status %q (want one of %s)", s, strings.Join(statusNames[:], ", "))
}

// Problem reports whether the status is one that --fail-on counts: fail or warn.
func (s Status) Problem() bool { return s == Fail || s == Warn }

// Worse returns the more urgent of two statuses.
func Worse(a, b Status) Status {
	if b > a {
		return b
	}
	return a
}

func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s *Status) UnmarshalText(b []byte) error {
	v, err := ParseStatus(string(b))
	*s = v
	return err
}

// Severity ranks how bad a problem is. Pass findings carry the rule's severity too.
type Severity int

const (
	SevInfo Severity = iota
	Low
	Medium
	High
	Critical
	// Unknown is a problem nobody has rated (the Go database rates nothing; many
	// CVEs wait weeks for a score). It is not ranked among the others: --fail-on
	// counts it as --unknown-as says (high unless told otherwise), never as harmless.
	Unknown
)

var severityNames = [...]string{"info", "low", "medium", "high", "critical", "unknown"}

// Ranked is s, or unknownAs when s is Unknown: the severity thresholds compare.
func (s Severity) Ranked(unknownAs Severity) Severity {
	if s == Unknown {
		return unknownAs
	}
	return s
}

// ParseLevel is ParseSeverity for a threshold: unknown is not one.
func ParseLevel(s string) (Severity, error) {
	v, err := ParseSeverity(s)
	if err != nil || v == Unknown {
		return 0, fmt.Errorf("%q is not a severity threshold (want one of info, low, medium, high, critical)", s)
	}
	return v, nil
}

func (s Severity) String() string {
	if int(s) < len(severityNames) && s >= 0 {
		return severityNames[s]
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// ParseSeverity accepts the names above, case-insensitively.
func ParseSeverity(s string) (Severity, error) {
	l := strings.ToLower(s)
	for i, n := range severityNames {
		if n == l {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want one of %s)", s, strings.Join(severityNames[:], ", "))
}

func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	*s = v
	return err
}

// UpTo is the rule with MaxSeverity s.
func (r Rule) UpTo(s Severity) Rule {
	r.MaxSeverity = s
	return r
}

// Worst is the worst severity a finding of the rule can have.
func (r Rule) Worst() Severity { return max(r.Severity, r.MaxSeverity) }

// SeverityText is the rule's severity as `rules` lists it: "high", or "high-critical"
// when one finding can be worse than the usual.
func (r Rule) SeverityText() string {
	if r.MaxSeverity > r.Severity {
		return r.Severity.String() + "-" + r.MaxSeverity.String()
	}
	return r.Severity.String()
}

// Kind is what a target is.
type Kind string

const (
	KindHost      Kind = "host"
	KindDaemon    Kind = "daemon"
	KindContainer Kind = "container"
	KindImage     Kind = "image"
	KindEndpoint  Kind = "endpoint"
	KindRegistry  Kind = "registry"
	KindProfile   Kind = "profile"
)

// Target names what a finding is about.
type Target struct {
	Kind Kind   `json:"kind"`
	Name string `json:"name"`
	ID   string `json:"id,omitempty"`
}

func (t Target) String() string {
	if t.Name == "" {
		return string(t.Kind)
	}
	return string(t.Kind) + " " + t.Name
}

// Evidence is one observed fact behind a finding: what was looked at, what it was and,
// where there is a single right answer, what it should be.
type Evidence struct {
	Key      string `json:"key"`
	Actual   string `json:"actual"`
	Expected string `json:"expected,omitempty"`
}

// Location points inside a target: a file on the host, a file in an image layer.
type Location struct {
	Path   string `json:"path,omitempty"`
	Layer  string `json:"layer,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
}

// Vuln describes a known vulnerability in a package; only vulnerability rules set it.
type Vuln struct {
	ID        string   `json:"id"`
	Aliases   []string `json:"aliases,omitempty"`
	Package   string   `json:"package"`
	Ecosystem string   `json:"ecosystem"`
	Installed string   `json:"installed"`
	Fixed     string   `json:"fixed,omitempty"`
	Status    string   `json:"status,omitempty"`
	Source    string   `json:"source,omitempty"`
	// SourcePackage and SourceVersion are what was matched when they differ from the
	// binary package (Debian and Ubuntu match source packages, Alpine origins).
	SourcePackage string `json:"sourcePackage,omitempty"`
	SourceVersion string `json:"sourceVersion,omitempty"`
	// Rating is the source's own severity word (negligible, unknown…), which the
	// finding's severity maps onto dockaudit's scale.
	Rating  string `json:"rating,omitempty"`
	PURL    string `json:"purl,omitempty"`
	Summary string `json:"summary,omitempty"`
	Note    string `json:"note,omitempty"`
}

// Finding is the result of one rule for one target (the JSON contract in DESIGN.md).
type Finding struct {
	Rule     string     `json:"rule"`
	Status   Status     `json:"status"`
	Severity Severity   `json:"severity"`
	Target   Target     `json:"target"`
	Message  string     `json:"message"`
	Evidence []Evidence `json:"evidence,omitempty"`
	Location *Location  `json:"location,omitempty"`
	Vuln     *Vuln      `json:"vuln,omitempty"`
}

// CIS ties a rule to the CIS Docker Benchmark.
type CIS struct {
	Version   string `json:"version"`          // benchmark version the ID belongs to, "1.6.0"
	ID        string `json:"id"`               // "5.4"
	Level     int    `json:"level"`            // profile level 1 or 2
	Automated bool   `json:"automated"`        // CIS assessment status
	V180      string `json:"v1_8_0,omitempty"` // the same item's number in v1.8.0, where known
}

// Rule is a check's metadata: everything a report needs to explain a finding.
type Rule struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Remediation string   `json:"remediation"`
	Severity    Severity `json:"severity"`
	// MaxSeverity, when above Severity, is the worst a single finding of the rule can
	// be (a private key among secrets, --privileged among capabilities); findings are
	// never worse than it, nor than Severity without it. Unknown (an unrated CVE) is
	// outside the ranking.
	MaxSeverity Severity `json:"maxSeverity,omitempty"`
	Section     string   `json:"section"` // human section name, used to group the table view
	Scope       Kind     `json:"scope"`   // the kind of target the rule is evaluated for
	Tags        []string `json:"tags,omitempty"`
	References  []string `json:"references,omitempty"`
	CIS         *CIS     `json:"cis,omitempty"`
}
