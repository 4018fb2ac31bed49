package report

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/dockaudit/dockaudit/internal/finding"
	"github.com/dockaudit/dockaudit/internal/textsafe"
)

// TableOptions shape the human view.
type TableOptions struct {
	Color bool
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

	writeHeader(bw, r, paint)

	byRule := map[string][]finding.Finding{}
	for _, f := range r.Findings {
		byRule[f.Rule] = append(byRule[f.Rule], f)
	}
	agg := RuleStatus(r.Findings)
	unknownAs := summaryUnknownAs(r.Summary)
	section := ""
	for _, ru := range r.Rules {
		if ru.Section != section {
			section = ru.Section
			fmt.Fprintf(bw, "\n%s\n", paint(ansiBold, section))
		}
		fs := byRule[ru.ID]
		st, ok := agg[ru.ID]
		if !ok {
			st = finding.Skip
		}
		label := fmt.Sprintf("%-6s", strings.ToUpper(st.String()))
		sev := ru.Severity
		if st.Problem() { // the worst problem found, which --fail-on compares
			sev = worstProblem(fs, unknownAs)
		}
		count := ""
		if n := targetCount(fs); n > 1 {
			count = "  " + paint(ansiDim, fmt.Sprintf("[%d %s]", n, kindNoun(fs)))
		}
		fmt.Fprintf(bw, "  %s  %-8s  %-10s  %s%s\n", paint(statusColor[st], label), sev, ru.ID, ru.Title, count)
		left := leftOutText(r.Summary.LeftOut, ru.ID)
		switch {
		case len(fs) == 0 && left != "":
			fmt.Fprintf(bw, "%s%s\n", detailIndent, paint(ansiDim, "every finding was left out: "+left))
		case len(fs) == 0:
			fmt.Fprintf(bw, "%s%s\n", detailIndent, paint(ansiDim, noTargets(ru.Scope)))
		case left != "":
			fmt.Fprintf(bw, "%s%s\n", detailIndent, paint(ansiDim, "also left out: "+left))
		}
		for _, line := range detailLines(fs, st, opts.Passes) {
			fmt.Fprintf(bw, "%s%s\n", detailIndent, paint(statusColor[line.status], printable(line.text)))
			for _, more := range line.names {
				fmt.Fprintf(bw, "%s  %s\n", detailIndent, paint(ansiDim, printable(more)))
			}
		}
		if opts.Remediation && st.Problem() && ru.Remediation != "" {
			fmt.Fprintf(bw, "%s%s\n", detailIndent, paint(ansiDim, "fix: "+ru.Remediation))
		}
	}

	s := r.Summary
	fmt.Fprintf(bw, "\n%d rules: %s, %s, %s, %s, %s, %s, %s\n", len(r.Rules),
		paint(ansiRed, fmt.Sprintf("%d fail", s.Rules.Fail)), paint(ansiYellow, fmt.Sprintf("%d warn", s.Rules.Warn)),
		paint(ansiMag, fmt.Sprintf("%d error", s.Rules.Error)), paint(ansiCyan, fmt.Sprintf("%d manual", s.Rules.Manual)),
		paint(ansiBlue, fmt.Sprintf("%d info", s.Rules.Info)), paint(ansiGreen, fmt.Sprintf("%d pass", s.Rules.Pass)),
		paint(ansiDim, fmt.Sprintf("%d skip", s.Rules.Skip)))
	if s.Suppressed > 0 {
		fmt.Fprintf(bw, "%d findings suppressed by --ignore-file or --vex\n", s.Suppressed)
	}
	unrated := ""
	if n := unratedProblems(r.Findings); n > 0 {
		unrated = fmt.Sprintf(", %d of them unrated (severity unknown, counted as %s: --unknown-as)", n, unknownAs)
	}
	if s.FailOn == "none" {
		fmt.Fprintf(bw, "%d findings%s; --fail-on none\n", len(r.Findings), unrated)
	} else {
		fmt.Fprintf(bw, "%d findings%s; %d fail or warn at severity %s or above (--fail-on %s)\n", len(r.Findings), unrated, s.Failing, s.FailOn, s.FailOn)
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

func writeHeader(w io.Writer, r *Report, paint func(string, string) string) {
	c := r.Context
	fmt.Fprintf(w, "%s %s", paint(ansiBold, "dockaudit"), r.Command)
	if c.Daemon != "" {
		fmt.Fprintf(w, " · daemon %s (Docker %s, API %s)", printable(c.Daemon), printable(c.ServerVersion), printable(c.APIVersion))
	}
	if c.Endpoint != "" {
		fmt.Fprintf(w, " at %s", printable(c.Endpoint))
	}
	if c.DockerContext != "" {
		fmt.Fprintf(w, " (docker context %s)", printable(c.DockerContext))
	}
	fmt.Fprintln(w)
	switch r.Command {
	case "image":
		writeImages(w, r, paint)
		return
	case "endpoint", "registry", "seccomp lint":
		for _, t := range r.Targets {
			fmt.Fprintf(w, "  %s %s\n", t.Kind, printable(t.Name))
		}
		for _, n := range c.Notes {
			fmt.Fprintf(w, "  %s\n", paint(ansiYellow, "note: "+printable(n)))
		}
		return
	}
	fmt.Fprintf(w, "  %d containers, %d images audited", c.Containers, c.Images)
	if c.HostAccess {
		fmt.Fprintln(w, "; host files and daemon process read on this host")
	} else {
		fmt.Fprintf(w, "; %s\n", paint(ansiYellow, "host checks skipped: "+printable(c.HostAccessNote)))
	}
	for _, n := range c.Notes {
		fmt.Fprintf(w, "  %s\n", paint(ansiYellow, "note: "+printable(n)))
	}
}

// writeImages prints one line per image read: its name, operating system, platform,
// layers and packages by kind, then what could not be inventoried.
func writeImages(w io.Writer, r *Report, paint func(string, string) string) {
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
		parts = append(parts, plural(len(im.Layers), "layer"), plural(im.Entries, "entry"), pk)
		fmt.Fprintf(w, "  image %s: %s\n", printable(im.Target.Name), printable(strings.Join(parts, ", ")))
		for _, n := range im.Notes {
			fmt.Fprintf(w, "    %s\n", paint(ansiYellow, "note: "+printable(n)))
		}
		var unchecked []string
		for _, c := range im.Coverage {
			if c.Uncovered != "" && c.Packages > 0 {
				unchecked = append(unchecked, fmt.Sprintf("%d packages (%s)", c.Packages, c.Ecosystem))
			}
		}
		if len(unchecked) > 0 {
			fmt.Fprintf(w, "    %s\n", paint(ansiYellow, "not matched against any advisory source: "+printable(strings.Join(unchecked, ", "))+" (see VULN)"))
		}
	}
	if n := r.Context.Images - len(r.Images); n > 0 {
		fmt.Fprintf(w, "  %s\n", paint(ansiMag, plural(n, "image")+" could not be read (see AUDIT-COLLECT)"))
	}
	for _, n := range r.Context.Notes {
		fmt.Fprintf(w, "  %s\n", paint(ansiYellow, "note: "+printable(n)))
	}
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
	status finding.Status
	text   string
	names  []string // wrapped lines listing the targets of a folded message
}

// detailLines lists what did not pass. Findings with the same status and message on
// several targets are folded into one line naming them (or counting them past three).
func detailLines(fs []finding.Finding, ruleStatus finding.Status, passes bool) []line {
	type group struct {
		status  finding.Status
		msg     string
		targets []string
		kinds   []finding.Finding // one finding per target, for the noun
		where   string
	}
	var groups []*group
	index := map[string]*group{}
	for _, f := range fs {
		if f.Status == finding.Pass && !passes {
			continue
		}
		where := ""
		if f.Location != nil && f.Location.Path != "" && !strings.Contains(f.Message, f.Location.Path) {
			where = f.Location.Path
		}
		key := f.Status.String() + "\x00" + f.Message + "\x00" + where
		g, ok := index[key]
		if !ok {
			g = &group{status: f.Status, msg: f.Message, where: where}
			index[key] = g
			groups = append(groups, g)
		}
		if f.Target.Kind == finding.KindContainer || f.Target.Kind == finding.KindImage {
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
			l.text = fmt.Sprintf("%s (%d %s):", text, n, kindNoun(g.kinds))
			l.names = wrap(g.targets, 96)
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
