package seccomp

import (
	"slices"

	"github.com/dockaudit/dockaudit/internal/caps"
)

// Decision is what a profile does with one syscall for a given architecture and
// capabilities.
type Decision struct {
	Action string
	// Conditional: every rule for the syscall carries argument conditions (clone
	// without namespace flags, personality with a few values…), so the outcome
	// depends on the arguments; Action is then the allowing one, if any.
	Conditional bool
	// Conds are the conditions of the allowing rules (alternatives).
	Conds [][]Arg
	// Caps: the allowance comes from a rule that needs these capabilities.
	Caps []string
}

// Allowed reports an ALLOW or LOG decision (LOG lets the call through): for a
// Conditional one, for some arguments.
func (d Decision) Allowed() bool { return allows(d.Action) }

// Set is the effective profile for one architecture and capability set.
type Set struct {
	GoArch        string
	DefaultAction string
	Rules         map[string]Decision // syscalls a rule names
}

// Effective applies the profile's filters for an architecture (Go names: amd64,
// arm64…) and capabilities ("SYS_ADMIN" or "CAP_SYS_ADMIN"), as dockerd does when it
// builds a container's filter: a rule is kept when all its included capabilities are
// held (a profile names them exactly, "CAP_SYS_ADMIN"; dockerd compares strings), its
// architecture is included, the kernel is recent enough, and nothing excludes it.
// kernel ("6.1") checks minKernel; "" keeps every rule.
//
// Rules then combine as libseccomp combines them: an unconditional rule decides its
// syscall whatever else names it; without one, the calls whose arguments match a
// conditional rule get its action and the others the default action.
func Effective(p *Profile, goarch string, capSet []string, kernel string) Set {
	s := Set{GoArch: goarch, DefaultAction: p.DefaultAction, Rules: map[string]Decision{}}
	held := map[string]bool{}
	for _, c := range capSet {
		held["CAP_"+caps.Norm(c)] = true
	}
	s.Rules = make(map[string]Decision, 512)
	for i := range p.Syscalls {
		r := &p.Syscalls[i]
		if !applies(r, goarch, held, kernel) {
			continue
		}
		var need []string
		if r.Includes != nil {
			need = r.Includes.Caps
		}
		for _, name := range r.AllNames() {
			d, seen := s.Rules[name]
			switch {
			case !seen || (d.Conditional && len(r.Args) == 0):
				// The first rule, or the first unconditional one, which decides.
				d = Decision{Action: r.Action, Caps: need, Conditional: len(r.Args) > 0}
				if d.Conditional && allows(r.Action) {
					d.Conds = [][]Arg{r.Args}
				}
			case d.Conditional && allows(r.Action):
				if len(d.Conds) == 0 { // only refusals so far
					d.Action, d.Caps = r.Action, need
				}
				d.Conds = append(d.Conds, r.Args)
			default:
				continue // after an unconditional rule, or a further conditional refusal
			}
			s.Rules[name] = d
		}
	}
	if allows(p.DefaultAction) {
		// Refused for some arguments only: the other calls meet the default.
		for name, d := range s.Rules {
			if d.Conditional && len(d.Conds) == 0 {
				d.Action = p.DefaultAction
				s.Rules[name] = d
			}
		}
	}
	return s
}

func allows(action string) bool { return action == "SCMP_ACT_ALLOW" || action == "SCMP_ACT_LOG" }

// applies reports whether dockerd keeps a rule for this architecture, capability set
// and kernel.
func applies(r *Syscall, goarch string, held map[string]bool, kernel string) bool {
	if inc := r.Includes; inc != nil {
		if len(inc.Arches) > 0 && !slices.Contains(inc.Arches, goarch) {
			return false
		}
		for _, c := range inc.Caps {
			if !held[c] {
				return false
			}
		}
		if inc.MinKernel != "" && kernel != "" && versionLess(kernel, inc.MinKernel) {
			return false
		}
	}
	if exc := r.Excludes; exc != nil {
		if len(exc.Arches) > 0 && slices.Contains(exc.Arches, goarch) {
			return false
		}
		for _, c := range exc.Caps {
			if held[c] {
				return false
			}
		}
		if exc.MinKernel != "" && kernel != "" && !versionLess(kernel, exc.MinKernel) {
			return false
		}
	}
	return true
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

// AllowedCount is how many of the x86_64 syscalls the profile lets through
// (conditionally or not) for amd64, the capabilities and the kernel, and how many
// x86_64 syscalls there are.
func (p *Profile) AllowedCount(capSet []string, kernel string) (allowed, total int) {
	all := NativeNames()
	return len(Effective(p, "amd64", capSet, kernel).AllowedNames(all)), len(all)
}
