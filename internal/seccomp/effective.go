package seccomp

import (
	"slices"

	"github.com/dockaudit/dockaudit/internal/caps"
)

// Decision is what a profile does with one syscall for a given architecture and
// capabilities.
type Decision struct {
	Action string
	// Conditional: the allowing rules all carry argument conditions (clone without
	// namespace flags, personality with a few values…).
	Conditional bool
	Conds       [][]Arg
	// Caps: the allowance comes from a rule that needs these capabilities.
	Caps []string
}

// Allowed reports an ALLOW or LOG decision (LOG lets the call through).
func (d Decision) Allowed() bool { return d.Action == "SCMP_ACT_ALLOW" || d.Action == "SCMP_ACT_LOG" }

// Set is the effective profile for one architecture and capability set.
type Set struct {
	GoArch        string
	DefaultAction string
	Rules         map[string]Decision // syscalls a rule names
}

// Effective applies the profile's filters for an architecture (Go names: amd64,
// arm64…) and capabilities ("SYS_ADMIN" or "CAP_SYS_ADMIN"), as dockerd does when it builds a
// container's filter: a rule is kept when all its included capabilities are held,
// its architecture is included, and nothing excludes it. kernel ("6.1") checks
// minKernel; "" keeps every rule.
func Effective(p *Profile, goarch string, capSet []string, kernel string) Set {
	s := Set{GoArch: goarch, DefaultAction: p.DefaultAction, Rules: map[string]Decision{}}
	held := map[string]bool{}
	for _, c := range capSet {
		held[caps.Norm(c)] = true
	}
	has := func(c string) bool { return held[caps.Norm(c)] }
	for _, r := range p.Syscalls {
		if inc := r.Includes; inc != nil {
			if len(inc.Arches) > 0 && !slices.Contains(inc.Arches, goarch) {
				continue
			}
			missing := false
			for _, c := range inc.Caps {
				missing = missing || !has(c)
			}
			if missing {
				continue
			}
			if inc.MinKernel != "" && kernel != "" && versionLess(kernel, inc.MinKernel) {
				continue
			}
		}
		if exc := r.Excludes; exc != nil {
			excluded := len(exc.Arches) > 0 && slices.Contains(exc.Arches, goarch)
			for _, c := range exc.Caps {
				excluded = excluded || has(c)
			}
			if excluded {
				continue
			}
		}
		var needCaps []string
		if r.Includes != nil {
			needCaps = r.Includes.Caps
		}
		for _, name := range r.AllNames() {
			d, seen := s.Rules[name]
			allow := r.Action == "SCMP_ACT_ALLOW" || r.Action == "SCMP_ACT_LOG"
			switch {
			case !seen:
				d = Decision{Action: r.Action, Conditional: len(r.Args) > 0, Caps: needCaps}
				if len(r.Args) > 0 {
					d.Conds = [][]Arg{r.Args}
				}
			case allow && len(r.Args) == 0:
				// An unconditional allowance wins over conditional ones.
				d = Decision{Action: r.Action, Caps: needCaps}
			case allow && d.Conditional:
				d.Conds = append(d.Conds, r.Args)
			}
			s.Rules[name] = d
		}
	}
	return s
}

// Decide is the decision for a syscall: a rule's, or the default action.
func (s Set) Decide(name string) Decision {
	if d, ok := s.Rules[name]; ok {
		return d
	}
	return Decision{Action: s.DefaultAction}
}

// AllowedNames lists the syscalls the set lets through, conditionally or not, among
// names (every syscall of the architecture, say).
func (s Set) AllowedNames(names []string) []string {
	var out []string
	for _, n := range names {
		if s.Decide(n).Allowed() {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}
