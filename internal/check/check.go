package check

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
	"github.com/dockaudit/dockaudit/internal/inventory/secrets"
)

// Check is a rule plus the one small function that decides it. Rule.Scope says what it
// is evaluated for: once per snapshot (host, daemon) or once per container or image.
type Check struct {
	finding.Rule
	// NeedsHost marks checks that read the daemon's host (files, processes, audit rules).
	// When the audit has no host access the runner reports skip without calling Run.
	NeedsHost bool
	// Needs lists the parts of the facts the check reads: of its container or image,
	// or of the snapshot. When one is missing (the daemon answered null, a facts file
	// lacks it) the runner reports skip with the reason without calling Run: absence
	// is never a safe value.
	Needs []facts.Part
	Run   func(p *Pass)
}

// UpTo is the check with its rule's MaxSeverity s.
func (c Check) UpTo(s finding.Severity) Check {
	c.Rule = c.Rule.UpTo(s)
	return c
}

// Config is what the user told the checks (as opposed to what was collected).
type Config struct {
	// TrustedUsers are the accounts allowed in the docker group (CIS-1.1.2); nil means
	// the user gave no list, so membership needs a person's review.
	TrustedUsers []string
}

// Pass is what one evaluation of a check sees and reports into.
type Pass struct {
	Facts  *facts.Snapshot
	Config *Config
	// Container or Image is the target for container- and image-scoped checks.
	Container *facts.Container
	Image     *facts.Image
	// Endpoint and Registry are the target of endpoint- and registry-scoped checks.
	Endpoint *facts.Endpoint
	Registry *facts.Registry
	// Profile is the target of profile-scoped checks.
	Profile *facts.Profile

	rule    *finding.Rule
	target  finding.Target
	results []*finding.Finding
}

// Missing is for a rule that decides some cases without a part it would otherwise
// need (a privileged container is unconfined whatever the daemon): whether the part
// is missing, and why.
func (p *Pass) Missing(part facts.Part) (string, bool) { return p.missing(part) }

// missing asks the target, then the snapshot, whether a part of the facts is missing.
func (p *Pass) missing(part facts.Part) (string, bool) {
	switch part {
	case facts.PartState, facts.PartConfig, facts.PartHostConfig, facts.PartMounts, facts.PartPorts, facts.PartNetworks, facts.PartUser, facts.PartHealthcheck:
		if p.Container == nil {
			return "", false
		}
		return p.Container.Missing(part)
	case facts.PartImageConfig, facts.PartHistory, facts.PartContent, facts.PartRef, facts.PartBuildContext:
		if p.Image == nil {
			return "", false
		}
		return p.Image.Missing(part)
	}
	return p.Facts.Missing(part)
}

// Result is a finding being reported; its methods adjust it before the runner takes it.
type Result struct{ f *finding.Finding }

// Sev overrides the rule's severity for this one finding.
func (r Result) Sev(s finding.Severity) Result { r.f.Severity = s; return r }

// At sets the finding's location.
func (r Result) At(path string) Result {
	if path != "" {
		r.f.Location = &finding.Location{Path: path}
	}
	return r
}

// Vuln attaches the vulnerability a finding reports.
func (r Result) Vuln(v finding.Vuln) Result {
	r.f.Vuln = &v
	return r
}

// Layer sets the layer digest of the finding's location (after At).
func (r Result) Layer(digest string) Result {
	if r.f.Location != nil {
		r.f.Location.Layer = digest
	}
	return r
}

// Line sets the line of the finding's location (after At).
func (r Result) Line(n int) Result {
	if r.f.Location != nil && n > 0 {
		r.f.Location.Line = n
	}
	return r
}

// Column sets the column of the finding's location (after At).
func (r Result) Column(n int) Result {
	if r.f.Location != nil && n > 0 {
		r.f.Location.Column = n
	}
	return r
}

// Step points the finding at where a history step is written, when it is known (an
// image read from its Dockerfile).
func (r Result) Step(h facts.History) Result {
	if h.File != "" {
		return r.At(h.File).Line(h.Line).Column(h.Column)
	}
	return r
}

// StepName names a history step in a message: its Dockerfile line when known, else its
// place in the history (i from 0).
func StepName(h facts.History, i int) string {
	if h.Line > 0 {
		return fmt.Sprintf("line %d", h.Line)
	}
	return fmt.Sprintf("history step %d", i+1)
}

func (p *Pass) add(s finding.Status, msg string, ev []finding.Evidence) Result {
	f := &finding.Finding{
		Rule:     p.rule.ID,
		Status:   s,
		Severity: p.rule.Severity,
		Target:   p.target,
		Message:  msg,
		Evidence: ev,
	}
	p.results = append(p.results, f)
	return Result{f}
}

// Fail reports that the recommendation is not met.
func (p *Pass) Fail(msg string, ev ...finding.Evidence) Result { return p.add(finding.Fail, msg, ev) }

// Warn reports something not met that may be intended and needs review.
func (p *Pass) Warn(msg string, ev ...finding.Evidence) Result { return p.add(finding.Warn, msg, ev) }

// OK reports that the recommendation is met, with the evidence that shows it.
func (p *Pass) OK(msg string, ev ...finding.Evidence) Result { return p.add(finding.Pass, msg, ev) }

// Info reports facts worth knowing that are not a problem.
func (p *Pass) Info(msg string, ev ...finding.Evidence) Result { return p.add(finding.Info, msg, ev) }

// Manual reports that a person must decide; the evidence helps them.
func (p *Pass) Manual(msg string, ev ...finding.Evidence) Result {
	return p.add(finding.Manual, msg, ev)
}

// Skip reports that the check cannot be decided here, and why.
func (p *Pass) Skip(reason string, ev ...finding.Evidence) Result {
	return p.add(finding.Skip, reason, ev)
}

// Error reports that this target could not be evaluated.
func (p *Pass) Error(msg string, ev ...finding.Evidence) Result {
	return p.add(finding.Error, msg, ev)
}

// Reported reports whether this evaluation has reported anything yet.
func (p *Pass) Reported() bool { return len(p.results) > 0 }

// Ev builds one evidence entry.
func Ev(key, actual, expected string) finding.Evidence {
	return finding.Evidence{Key: key, Actual: actual, Expected: expected}
}

// Abbreviate is a build step or command line fit for evidence: secrets redacted,
// whitespace folded, at most 160 bytes (never cutting a character).
func Abbreviate(s string) string {
	s = strings.Join(strings.Fields(secrets.Redact(s)), " ")
	if len(s) > 160 {
		cut := 157
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return s[:cut] + "..."
	}
	return s
}
