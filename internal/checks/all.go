package checks

import (
	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/checks/cis"
)

// All returns every check dockaudit host runs, in report order. This list is the only
// registration there is.
func All() []check.Check {
	return cis.Checks()
}
