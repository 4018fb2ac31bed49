package report

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
	"github.com/dockaudit/dockaudit/internal/textsafe"
)

// TableOptions shape the human view.
type TableOptions struct {
	Color bool
	// Width is the terminal's width to wrap at; 0 writes each paragraph on one line.
	Width int
	// Quiet lists only the rules that fail, warn or could not be decided (error).
	Quiet bool
	// Passes lists passing targets too, not only the rule line.
	Passes bool
	// Remediation prints the fix under every rule that fails or warns.
	Remediation bool
}

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiBlue   = "\x1b[34m"
	ansiMag    = "\x1b[35m"
	ansiCyan   = "\x1b[36m"
)

var statusColor = map[finding.Status]string{
	finding.Fail: ansiRed, finding.Warn: ansiYellow, finding.Error: ansiMag, finding.Manual: ansiCyan,
	finding.Info: ansiBlue, finding.Pass: ansiGreen, finding.Skip: ansiDim,
}

// WriteTable writes the human view: one line per rule with its aggregate status, grouped
// by section, then a line for every target that did not pass, then a summary.
func WriteTable(w io.Writer, r *Report, opts TableOptions) error {
	bw := bufio.NewWriter(w)
	paint := func(code, s string) string {
		if !opts.Color || code == "" {
			return s
		}
		return code + s + ansiReset
	}

	tw := newTableWriter(bw, opts.Width, paint)
	writeHeader(tw, r)

	byRule := map[string][]finding.Finding{}
	for _, f := range r.Findings {
		byRule[f.Rule] = append(byRule[f.Rule], f)
	}
	agg := RuleStatus(r.Findings)
	unknownAs := summaryUnknownAs(r.Summary)
	totals := map[finding.Kind]int{}
	for _, t := range r.Targets {
		totals[t.Kind]++
	}
	section := ""
	for _, ru := range r.Rules {
		fs := byRule[ru.ID]
		st, ok := agg[ru.ID]
		if !ok {
			st = finding.Skip
		}
		if opts.Quiet && !st.Problem() && st != finding.Error {
			continue
		}
		if ru.Section != section && ru.Section != "" {
			section = ru.Section
			fmt.Fprintf(bw, "\n%s\n", paint(ansiBold, section))
		}
		label := fmt.Sprintf("%-6s", strings.ToUpper(st.String()))
		sev := ru.Severity
		if st.Problem() { // the worst problem found, which --fail-on compares
			sev = worstProblem(fs, unknownAs)
		}
		count := ""
		if n := targetCount(fs); n > 1 {
			count = fmt.Sprintf("[%d %s]", n, kindNoun(fs))
		}
		title := ru.Title
		if count != "" {
			title += "  " + count
		}
		// A long rule ID pushes the title right on its first line only; on a narrow
		// terminal the title's next lines hang at column 6, and when the first line
		// has no room left the title starts on the next one.
		prefix := 2 + 6 + 2 + 8 + 2 + max(10, len(ru.ID)) + 2
		hang := len(detailIndent)
		if opts.Width > 0 && opts.Width < narrow {
			hang = 6
		}
		own := opts.Width > 0 && opts.Width-prefix < 20
		first := prefix
		if own {
			first = hang
		}
		lines := wrapWords(title, first, hang, opts.Width)
		if last := len(lines) - 1; count != "" && strings.HasSuffix(lines[last], count) {
			lines[last] = strings.TrimSuffix(lines[last], count) + paint(ansiDim, count)
		}
		head := fmt.Sprintf("  %s  %-8s  %-10s", paint(statusColor[st], label), sev, ru.ID)
		if own && 2+6+2+8+2+len(ru.ID) > opts.Width {
			fmt.Fprintf(bw, "  %s  %s\n%s%s\n", paint(statusColor[st], label), sev, strings.Repeat(" ", hang), ru.ID)
			lines = append([]string{""}, lines...)
		} else if own {
			fmt.Fprintf(bw, "%s\n", head)
			lines = append([]string{""}, lines...)
		} else {
			fmt.Fprintf(bw, "%s  %s\n", head, lines[0])
		}
		for _, l := range lines[1:] {
			fmt.Fprintf(bw, "%s%s\n", strings.Repeat(" ", hang), l)
		}
		d := tw.detail
		left := leftOutText(r.Summary.LeftOut, ru.ID)
		switch {
		case len(fs) == 0 && left != "":
			tw.para(d, d+2, ansiDim, "every finding was left out: "+left)
		case len(fs) == 0:
			tw.para(d, d+2, ansiDim, noTargets(ru.Scope))
		case left != "":
			tw.para(d, d+2, ansiDim, "also left out: "+left)
		}
		var vulns, others []finding.Finding
		for _, f := range sortTargets(fs) {
			if f.Vuln != nil && (f.Status.Problem() || !opts.Quiet) {
				vulns = append(vulns, f)
			} else if f.Vuln == nil {
				others = append(others, f)
			}
		}
		for _, line := range detailLines(others, st, opts.Passes, opts.Quiet) {
			tw.foldedLine(line, ru.ID, totals)
		}
		if len(vulns) > 0 {
			tw.writeVulns(vulns, unknownAs)
		}
		if opts.Remediation && st.Problem() && ru.Remediation != "" {
			tw.para(d, d+5, ansiDim, "fix: "+ru.Remediation)
		}
	}

	s := r.Summary
	counts := []struct {
		code string
		n    int
		what string
	}{{ansiRed, s.Rules.Fail, "fail"}, {ansiYellow, s.Rules.Warn, "warn"}, {ansiMag, s.Rules.Error, "error"}, {ansiCyan, s.Rules.Manual, "manual"},
		{ansiBlue, s.Rules.Info, "info"}, {ansiGreen, s.Rules.Pass, "pass"}, {ansiDim, s.Rules.Skip, "skip"}}
	plain, painted := make([]string, len(counts)), make([]string, len(counts))
	for i, c := range counts {
		plain[i] = fmt.Sprintf("%d %s", c.n, c.what)
		painted[i] = paint(c.code, plain[i])
	}
	bw.WriteString("\n")
	if line := plural(len(r.Rules), "rule") + ": " + strings.Join(plain, ", "); opts.Width > 0 && utf8.RuneCountInString(line) > opts.Width {
		tw.para(0, 2, "", line)
	} else {
		bw.WriteString(plural(len(r.Rules), "rule") + ": " + strings.Join(painted, ", ") + "\n")
	}
	if s.Suppressed > 0 {
		tw.para(0, 2, "", fmt.Sprintf("%d findings suppressed by --ignore-file or --vex", s.Suppressed))
	}
	unrated := ""
	if n := unratedProblems(r.Findings); n > 0 {
		unrated = fmt.Sprintf(", %d of them unrated (severity unknown, counted as %s: --unknown-as)", n, unknownAs)
	}
	if s.FailOn == "none" {
		tw.para(0, 2, "", fmt.Sprintf("%d findings%s; --fail-on none", len(r.Findings), unrated))
	} else {
		tw.para(0, 2, "", fmt.Sprintf("%d findings%s; %d fail or warn at severity %s or above (--fail-on %s)", len(r.Findings), unrated, s.Failing, s.FailOn, s.FailOn))
	}
	return bw.Flush()
}

// leftOutText says what the filters took out of one rule's findings: "3 by --severity,
// 1 by --ignore-file".
func leftOutText(lo []LeftOut, rule string) string {
	var parts []string
	for _, l := range lo {
		if l.Rule == rule {
			parts = append(parts, fmt.Sprintf("%d by %s", l.Count, l.By))
		}
	}
	return strings.Join(parts, ", ")
}

// summaryUnknownAs is the level the report counted unrated findings as.
func summaryUnknownAs(s Summary) finding.Severity {
	if v, err := finding.ParseLevel(s.UnknownAs); err == nil {
		return v
	}
	return finding.High
}

// worstProblem is the highest severity among the findings that fail or warn, unrated
// ones ranked as unknownAs (and shown as unknown when they are the worst).
func worstProblem(fs []finding.Finding, unknownAs finding.Severity) finding.Severity {
	sev := finding.SevInfo
	for _, f := range fs {
		if f.Status.Problem() && f.Severity.Ranked(unknownAs) > sev.Ranked(unknownAs) {
			sev = f.Severity
		}
	}
	return sev
}

// unratedProblems counts the findings that fail or warn with no severity.
func unratedProblems(fs []finding.Finding) int {
	n := 0
	for _, f := range fs {
		if f.Status.Problem() && f.Severity == finding.Unknown {
			n++
		}
	}
	return n
}

const detailIndent = "                                "

func writeHeader(tw *tableWriter, r *Report) {
	c := r.Context
	head := "dockaudit " + r.Command
	if c.Daemon != "" {
		head += fmt.Sprintf(" · daemon %s (Docker %s, API %s)", printable(c.Daemon), printable(c.ServerVersion), printable(c.APIVersion))
	}
	if c.Endpoint != "" {
		head += " at " + printable(c.Endpoint)
	}
	if c.DockerContext != "" {
		head += " (docker context " + printable(c.DockerContext) + ")"
	}
	lines := wrapWords(head, 0, 2, tw.width)
	lines[0] = tw.paint(ansiBold, "dockaudit") + strings.TrimPrefix(lines[0], "dockaudit")
	for i, l := range lines {
		if i > 0 {
			l = "  " + l
		}
		tw.w.WriteString(l + "\n")
	}
	switch r.Command {
	case "image":
		writeImages(tw, r)
		return
	case "config":
		for _, t := range r.Targets {
			what := "dockerfile "
			switch ext := path.Ext(t.Name); {
			case t.Kind == finding.KindContainer:
				what = "compose service " // named as docker compose will name its container
			case ext == ".yml" || ext == ".yaml":
				what = "compose file " // one that could not be loaded
			}
			tw.para(2, 4, "", what+printable(t.Name))
		}
		for _, n := range c.Notes {
			tw.para(2, 4, ansiYellow, "note: "+printable(n))
		}
		return
	case "endpoint", "registry", "seccomp lint":
		for _, t := range r.Targets {
			tw.para(2, 4, "", string(t.Kind)+" "+printable(t.Name))
		}
		for _, n := range c.Notes {
			tw.para(2, 4, ansiYellow, "note: "+printable(n))
		}
		return
	}
	if c.HostAccess {
		tw.para(2, 4, "", fmt.Sprintf("%s, %s audited; host files and daemon process read on this host", plural(c.Containers, "container"), plural(c.Images, "image")))
	} else {
		tw.para(2, 4, ansiYellow, fmt.Sprintf("%s, %s audited; host checks skipped: %s", plural(c.Containers, "container"), plural(c.Images, "image"), printable(c.HostAccessNote)))
	}
	for _, n := range c.Notes {
		tw.para(2, 4, ansiYellow, "note: "+printable(n))
	}
}

// writeImages prints one line per image read: its name, operating system, platform,
// layers and packages by kind, then what could not be inventoried.
func writeImages(tw *tableWriter, r *Report) {
	for _, im := range r.Images {
		os := im.OS.PrettyName
		if os == "" {
			os = im.OS.ID
		}
		if os == "" {
			os = "unknown OS"
		}
		byType := map[string]int{}
		var types []string
		for _, p := range im.Packages {
			if byType[p.Type] == 0 {
				types = append(types, p.Type)
			}
			byType[p.Type]++
		}
		sort.Strings(types)
		kinds := make([]string, len(types))
		for i, t := range types {
			kinds[i] = fmt.Sprintf("%s %d", t, byType[t])
		}
		pk := fmt.Sprintf("%d packages", len(im.Packages))
		if len(kinds) > 0 {
			pk += " (" + strings.Join(kinds, ", ") + ")"
		}
		parts := []string{os}
		if im.Platform != "" {
			parts = append(parts, im.Platform)
		}
		if im.Source == "sbom" {
			parts = append(parts, "read from an SBOM", pk) // no layers or files were read
		} else {
			parts = append(parts, plural(len(im.Layers), "layer"), plural(im.Entries, "entry"), pk)
		}
		tw.para(2, 4, "", "image "+printable(im.Target.Name)+": "+printable(strings.Join(parts, ", ")))
		if line := trustLine(im); line != "" {
			tw.para(4, 6, "", printable(line))
		}
		for _, n := range im.Notes {
			tw.para(4, 6, ansiYellow, "note: "+printable(n))
		}
		var unchecked []string
		for _, c := range im.Coverage {
			if c.Note != "" && c.Uncovered == "" {
				tw.para(4, 6, ansiYellow, "note: "+printable(c.Ecosystem+": "+c.Note))
			}
			if c.Uncovered != "" && c.Packages > 0 {
				unchecked = append(unchecked, fmt.Sprintf("%d packages (%s)", c.Packages, c.Ecosystem))
			}
		}
		if len(unchecked) > 0 {
			tw.para(4, 6, ansiYellow, "not matched against any advisory source: "+printable(strings.Join(unchecked, ", "))+" (see VULN)")
		}
	}
	if n := r.Context.Images - len(r.Images); n > 0 {
		tw.para(2, 4, ansiMag, plural(n, "image")+" could not be read (see AUDIT-COLLECT)")
	}
	for _, n := range r.Context.Notes {
		tw.para(2, 4, ansiYellow, "note: "+printable(n))
	}
}

// trustLine sums up what vouches for an image: its signatures (IMG-SIGNATURE says
// which verify and why the others do not), its provenance and its base.
func trustLine(im Inventory) string {
	var parts []string
	if n := len(im.Signatures); n > 0 {
		var signers []string
		for _, s := range im.Signatures {
			if s.Verified {
				who := s.Identity
				if who == "" {
					who = s.Key
				}
				signers = append(signers, who)
			}
		}
		sig := fmt.Sprintf("%s, %d verified", plural(n, "signature"), len(signers))
		if len(signers) > 0 {
			sort.Strings(signers)
			sig += " (" + strings.Join(slices.Compact(signers), ", ") + ")"
		}
		parts = append(parts, sig)
	}
	// The provenance IMG-PROVENANCE judges.
	t := &facts.Trust{IndexVerified: im.IndexVerified, Attestations: im.Attestations}
	if prov, ok := t.Provenance(); ok {
		p := "provenance: built by " + prov.Builder
		switch {
		case prov.Problem != "":
			p = "provenance: not readable"
		case prov.Builder == "":
			p = "provenance: an unnamed builder"
		}
		if prov.Problem == "" && !t.Vouched(prov) {
			p += " (unverified)"
		}
		parts = append(parts, p)
	}
	for _, a := range im.Attestations {
		if strings.HasPrefix(a.PredicateType, "https://spdx.dev/Document") || strings.HasPrefix(a.PredicateType, "https://cyclonedx.org/bom") {
			parts = append(parts, "an SBOM attached (dockaudit sbom --attested)")
			break
		}
	}
	if b := im.Base; b != nil {
		base := b.Name
		if b.Digest != "" {
			base += "@" + b.Digest
		}
		parts = append(parts, "base "+base)
	}
	if len(parts) == 0 {
		return ""
	}
	return "trust: " + strings.Join(parts, "; ")
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func targetCount(fs []finding.Finding) int {
	seen := map[finding.Target]bool{}
	for _, f := range fs {
		seen[f.Target] = true
	}
	return len(seen)
}

func kindNoun(fs []finding.Finding) string {
	k := fs[0].Target.Kind
	for _, f := range fs {
		if f.Target.Kind != k {
			return "targets"
		}
	}
	switch k {
	case finding.KindContainer:
		return "containers"
	case finding.KindImage:
		return "images"
	}
	return "findings"
}

type line struct {
	status  finding.Status
	text    string
	targets []string     // the targets of a folded message, when more than three
	kind    finding.Kind // their kind
}

// detailLines lists what did not pass. Findings with the same status and message on
// several targets are folded into one line naming them (or counting them past three).
func detailLines(fs []finding.Finding, ruleStatus finding.Status, passes, quiet bool) []line {
	type group struct {
		status  finding.Status
		msg     string
		targets []string
		kinds   []finding.Finding // one finding per target, for the noun
		seen    map[finding.Target]bool
		where   string
	}
	var groups []*group
	index := map[string]*group{}
	for _, f := range fs {
		if f.Status == finding.Pass && !passes || quiet && !f.Status.Problem() && f.Status != finding.Error {
			continue
		}
		where := ""
		// A build file's line is shown even when the message names the file (a COPY
		// that ships the Dockerfile itself).
		if l := f.Location; l != nil && l.Path != "" && (!strings.Contains(f.Message, l.Path) || (l.Line > 0 && l.Layer == "")) {
			where = f.Location.Path
			if f.Location.Line > 0 && f.Location.Layer == "" {
				where += fmt.Sprintf(":%d", f.Location.Line) // a build file's line: file:line
				if f.Location.Column > 0 {
					where += fmt.Sprintf(":%d", f.Location.Column)
				}
			}
		}
		key := f.Status.String() + "\x00" + f.Message + "\x00" + where
		g, ok := index[key]
		if !ok {
			g = &group{status: f.Status, msg: f.Message, where: where}
			index[key] = g
			groups = append(groups, g)
		}
		if (f.Target.Kind == finding.KindContainer || f.Target.Kind == finding.KindImage) && !g.seen[f.Target] {
			if g.seen == nil {
				g.seen = map[finding.Target]bool{}
			}
			g.seen[f.Target] = true
			g.targets = append(g.targets, f.Target.Name)
			g.kinds = append(g.kinds, f)
		}
	}
	out := make([]line, 0, len(groups))
	for _, g := range groups {
		text := g.msg
		if g.where != "" {
			text = g.where + ": " + text
		}
		switch n := len(g.targets); {
		case n == 1:
			text = g.targets[0] + ": " + text
		case n > 1 && n <= 3:
			text = strings.Join(g.targets, ", ") + ": " + text
		}
		if g.status != ruleStatus {
			text = g.status.String() + ": " + text
		}
		l := line{status: g.status, text: text}
		if n := len(g.targets); n > 3 {
			l.targets, l.kind = g.targets, g.kinds[0].Target.Kind
			for _, k := range g.kinds {
				if k.Target.Kind != l.kind {
					l.kind = "" // containers and images together
				}
			}
		}
		out = append(out, l)
	}
	return out
}

func noTargets(scope finding.Kind) string {
	switch scope {
	case finding.KindContainer:
		return "no containers were audited (only running ones are, unless --all)"
	case finding.KindImage:
		return "no images were audited"
	case finding.KindEndpoint:
		return "no TCP listener was probed (the daemon listens on no TCP address, or its host was not read)"
	case finding.KindRegistry:
		return "no registry was probed"
	case finding.KindProfile:
		return "no custom seccomp profile was found or read"
	}
	return "nothing was evaluated"
}

// printable shows control characters as escapes. Messages carry text from containers
// and images (command lines, paths, history), which must not drive the terminal.
func printable(s string) string { return textsafe.String(s) }

// wrap joins names with commas into lines of at most width characters.
func wrap(names []string, width int) []string {
	var out []string
	cur := ""
	for i, n := range names {
		if i < len(names)-1 {
			n += ","
		}
		if cur != "" && len(cur)+1+len(n) > width {
			out = append(out, cur)
			cur = ""
		}
		if cur != "" {
			cur += " "
		}
		cur += n
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}
