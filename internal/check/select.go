package check

import (
	"fmt"
	"strings"

	"github.com/dockaudit/dockaudit/internal/finding"
)

// Selection is --include and --exclude. Each selector is a rule ID (CIS-5.4), a section
// prefix (CIS-5, CIS-1.1, or the bare CIS numbers 5 and 1.1), or a tag (container, level2).
// Matching ignores case. An empty Include means every rule.
type Selection struct {
	Include []string
	Exclude []string
}

// Matches reports whether one selector picks the rule.
func Matches(sel string, r finding.Rule) bool {
	sel = strings.ToUpper(strings.TrimSpace(sel))
	if sel == "" {
		return false
	}
	id := strings.ToUpper(r.ID)
	if isCISNumber(sel) {
		sel = "CIS-" + sel
	}
	if id == sel || strings.HasPrefix(id, sel+".") || strings.HasPrefix(id, sel+"-") {
		return true
	}
	for _, t := range r.Tags {
		if strings.EqualFold(t, sel) {
			return true
		}
	}
	return false
}

func isCISNumber(s string) bool {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}

// Apply returns the checks the selection picks, in their original order. A selector
// that matches no rule at all is an error: it is almost always a typo.
func (s Selection) Apply(checks []Check) ([]Check, error) {
	for _, list := range [][]string{s.Include, s.Exclude} {
		for _, sel := range list {
			found := false
			for _, c := range checks {
				if Matches(sel, c.Rule) {
					found = true
					break
				}
			}
			if !found {
				return nil, fmt.Errorf("selector %q matches no rule (dockaudit rules lists IDs and tags)", sel)
			}
		}
	}
	var out []Check
	for _, c := range checks {
		if len(s.Include) > 0 && !anyMatch(s.Include, c.Rule) {
			continue
		}
		if anyMatch(s.Exclude, c.Rule) {
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

func anyMatch(sels []string, r finding.Rule) bool {
	for _, s := range sels {
		if Matches(s, r) {
			return true
		}
	}
	return false
}
