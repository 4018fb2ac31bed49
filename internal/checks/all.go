package checks

import (
	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/checks/cis"
	"github.com/dockaudit/dockaudit/internal/checks/imagecfg"
	"github.com/dockaudit/dockaudit/internal/checks/vuln"
	"github.com/dockaudit/dockaudit/internal/finding"
)

// All returns every check dockaudit host runs, in report order. This list and Image
// are the only registration there is.
func All() []check.Check {
	return cis.Checks()
}

// Image returns the checks dockaudit image runs: the CIS section 4 items an image
// decides by itself, then the image configuration, contents and secret checks.
func Image() []check.Check {
	var out []check.Check
	for _, c := range cis.Checks() {
		if c.Scope == finding.KindImage {
			out = append(out, c)
		}
	}
	out = append(out, imagecfg.Checks()...)
	return append(out, vuln.Checks()...)
}

// Every returns every rule dockaudit has, each once: those of dockaudit host, then
// the image rules host does not run.
func Every() []check.Check {
	return append(append(All(), imagecfg.Checks()...), vuln.Checks()...)
}
