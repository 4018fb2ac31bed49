package report

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/dockaudit/dockaudit/internal/finding"
)

// tableWriter lays the table out for a width: 0 writes every paragraph on one line
// (files, pipes: stable and greppable), a terminal's width wraps at word boundaries
// with hanging lines indented under the text they continue.
type tableWriter struct {
	w     interface{ WriteString(string) (int, error) }
	width int
	paint func(code, s string) string
	// detail is the column details start at: under the rule titles (32) when there
	// is room, else 4, so a narrow terminal keeps its width for the messages.
	detail int
	// lists remembers the target lists already named, so a list repeated by another
	// rule is referred to, not printed again.
	lists map[string]string
}

// narrow is the width below which details move from under the titles to column 4.
const narrow = 120

func newTableWriter(w interface{ WriteString(string) (int, error) }, width int, paint func(string, string) string) *tableWriter {
	t := &tableWriter{w: w, width: width, paint: paint, detail: len(detailIndent), lists: map[string]string{}}
	if width > 0 && width < narrow {
		t.detail = 4
	}
	return t
}

// para writes text at column indent, wrapped to the width, hanging lines at hang,
// each line painted on its own so a colour never spans a line break.
func (t *tableWriter) para(indent, hang int, code, text string) {
	for i, l := range wrapWords(text, indent, hang, t.width) {
		pad := indent
		if i > 0 {
			pad = hang
		}
		t.w.WriteString(strings.Repeat(" ", pad) + t.paint(code, l) + "\n")
	}
}

// wrapWords breaks text at spaces so that no line passes width (0: no limit),
// keeping the spacing inside a line (aligned columns stay aligned). A word longer than
// a whole line is cut. At least 20 columns are kept for the text.
func wrapWords(text string, indent, hang, width int) []string {
	if width <= 0 {
		return []string{text}
	}
	var out []string
	rest := text
	for {
		pad := hang
		if len(out) == 0 {
			pad = indent
		}
		limit := max(width-pad, 20)
		if utf8.RuneCountInString(rest) <= limit {
			return append(out, rest)
		}
		// The last space with at most limit runes before it; else cut at limit.
		cut, hard, runes := -1, len(rest), 0
		for i, r := range rest {
			if runes == limit {
				hard = i
				if r == ' ' {
					cut = i
				}
				break
			}
			if r == ' ' {
				cut = i
			}
			runes++
		}
		if line := strings.TrimRight(rest[:max(cut, 0)], " "); cut > 0 && line != "" {
			out = append(out, line)
			rest = strings.TrimLeft(rest[cut:], " ")
		} else {
			out = append(out, rest[:hard])
			rest = strings.TrimLeft(rest[hard:], " ")
		}
		if rest == "" {
			return out
		}
	}
}

// naturalLess orders names as a person does: hx-2 before hx-10.
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			if da != db { // the same number: fewer leading zeros first
				return da < db
			}
			a, b = a[da:], b[db:]
			continue
		}
		ra, sa := utf8.DecodeRuneInString(a)
		rb, sb := utf8.DecodeRuneInString(b)
		if ra != rb {
			return ra < rb
		}
		a, b = a[sa:], b[sb:]
	}
	return len(a) < len(b)
}

func digitRun(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// sortTargets orders findings by target kind, then target name in natural order,
// keeping each target's own findings in the order the rule reported them.
func sortTargets(fs []finding.Finding) []finding.Finding {
	out := append([]finding.Finding(nil), fs...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Target, out[j].Target
		if a.Kind != b.Kind {
			return kindOrder[a.Kind] < kindOrder[b.Kind]
		}
		return naturalLess(a.Name, b.Name)
	})
	return out
}

var kindOrder = map[finding.Kind]int{
	finding.KindHost: 0, finding.KindDaemon: 1, finding.KindEndpoint: 2, finding.KindRegistry: 3,
	finding.KindProfile: 4, finding.KindImage: 5, finding.KindContainer: 6,
}

// foldedLine writes a line whose message several targets share, with its targets:
// "(all 7 containers)" when it is every audited one of the kind, "(6 containers: the
// same as CIS-4.1)" when a rule before named the same list, else the count and then
// the names, comma-separated, wrapped.
func (t *tableWriter) foldedLine(l line, rule string, totals map[finding.Kind]int) {
	d := t.detail
	n := len(l.targets)
	if n == 0 {
		t.para(d, d+2, statusColor[l.status], printable(l.text))
		return
	}
	noun := plural(n, string(l.kind))
	if l.kind == "" {
		noun = plural(n, "target")
	}
	key := string(l.kind) + "\x00" + strings.Join(l.targets, "\x00")
	prev, seen := t.lists[key]
	switch {
	case l.kind != "" && n == totals[l.kind]:
		t.para(d, d+2, statusColor[l.status], printable(l.text)+" (all "+noun+")")
		return
	case seen && prev != rule:
		t.para(d, d+2, statusColor[l.status], printable(l.text)+" ("+noun+": the same as "+prev+")")
		return
	}
	if !seen {
		t.lists[key] = rule
	}
	t.para(d, d+2, statusColor[l.status], printable(l.text)+" ("+noun+"):")
	if t.width == 0 {
		for _, l := range wrap(l.targets, 96) {
			t.w.WriteString(strings.Repeat(" ", d+2) + t.paint(ansiDim, printable(l)) + "\n")
		}
		return
	}
	t.para(d+2, d+2, ansiDim, printable(strings.Join(l.targets, ", ")))
}

// vulnRow is one vulnerability in the table.
type vulnRow struct {
	sev  finding.Severity
	rank finding.Severity
	f    *finding.Finding
}

// writeVulns lays vulnerability findings out per image: a count by severity, then per
// package (worst first) one row per advisory (worst first): severity, status, ID, the
// fixed version, and the advisory's title.
func (t *tableWriter) writeVulns(fs []finding.Finding, unknownAs finding.Severity) {
	var images []finding.Target
	byImage := map[finding.Target][]vulnRow{}
	for i := range fs {
		f := &fs[i]
		if _, ok := byImage[f.Target]; !ok {
			images = append(images, f.Target)
		}
		byImage[f.Target] = append(byImage[f.Target], vulnRow{sev: f.Severity, rank: f.Severity.Ranked(unknownAs), f: f})
	}
	sort.SliceStable(images, func(i, j int) bool { return naturalLess(images[i].Name, images[j].Name) })
	d := t.detail
	for _, im := range images {
		rows := byImage[im]
		counts := map[finding.Severity]int{}
		pkgs := map[string][]vulnRow{}
		var names []string
		for _, r := range rows {
			counts[r.sev]++
			key := pkgKey(r.f)
			if _, ok := pkgs[key]; !ok {
				names = append(names, key)
			}
			pkgs[key] = append(pkgs[key], r)
		}
		var parts []string
		for _, s := range []finding.Severity{finding.Critical, finding.High, finding.Medium, finding.Low, finding.SevInfo, finding.Unknown} {
			if counts[s] > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
			}
		}
		t.para(d, d+2, ansiBold, fmt.Sprintf("%s %s: %s (%s in %s)", im.Kind, printable(im.Name), strings.Join(parts, ", "),
			plural(len(rows), "vulnerability"), plural(len(names), "package")))
		worst := func(rs []vulnRow) finding.Severity {
			w := rs[0].rank
			for _, r := range rs {
				w = max(w, r.rank)
			}
			return w
		}
		for _, rs := range pkgs {
			sort.SliceStable(rs, func(i, j int) bool {
				if rs[i].rank != rs[j].rank {
					return rs[i].rank > rs[j].rank
				}
				return naturalLess(rs[i].f.Vuln.ID, rs[j].f.Vuln.ID)
			})
		}
		sort.SliceStable(names, func(i, j int) bool {
			wi, wj := worst(pkgs[names[i]]), worst(pkgs[names[j]])
			if wi != wj {
				return wi > wj
			}
			return naturalLess(names[i], names[j])
		})
		for _, name := range names {
			rs := pkgs[name]
			t.para(d+2, d+4, "", printable(name))
			fixed := func(v *finding.Vuln) string {
				if v.Fixed == "" {
					return "no fix"
				}
				return "→ " + printable(v.Fixed)
			}
			idw, fw := 0, 0
			for _, r := range rs {
				idw = max(idw, utf8.RuneCountInString(printable(r.f.Vuln.ID)))
				fw = max(fw, utf8.RuneCountInString(fixed(r.f.Vuln)))
			}
			for _, r := range rs {
				v := r.f.Vuln
				row := fmt.Sprintf("%-8s  %-12s  %s  %s", r.sev, v.Status, padRight(printable(v.ID), idw), padRight(fixed(v), fw))
				hang := d + 4 + utf8.RuneCountInString(row) + 2
				code := statusColor[r.f.Status]
				if t.width > 0 && (t.width-hang < 30) {
					// No room for a title column: the columns, then the title under them.
					t.para(d+4, d+6, code, strings.TrimRight(row, " "))
					if v.Summary != "" {
						t.para(d+6, d+6, code, printable(v.Summary))
					}
					continue
				}
				if v.Summary != "" {
					row += "  " + printable(v.Summary)
				}
				t.para(d+4, hang, code, strings.TrimRight(row, " "))
			}
		}
	}
}

// padRight pads s with spaces to n runes.
func padRight(s string, n int) string {
	return s + strings.Repeat(" ", max(0, n-utf8.RuneCountInString(s)))
}

// pkgKey names a package and its installed version, with the source package matched
// when it differs, and where in the image it was found.
func pkgKey(f *finding.Finding) string {
	v := f.Vuln
	s := v.Package + " " + v.Installed
	if v.SourcePackage != "" && v.SourcePackage != v.Package {
		s += " (source " + v.SourcePackage + ")"
	}
	if f.Location != nil && f.Location.Path != "" {
		s += " in " + f.Location.Path
	}
	return s
}
