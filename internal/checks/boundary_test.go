package checks

import (
	"go/build"
	"strings"
	"testing"
)

const module = "github.com/dockaudit/dockaudit/"

// forbidden are imports that would let a check do I/O or reach a daemon: checks decide
// from facts only.
var forbidden = []string{"os", "os/exec", "net", "net/http", "syscall", "io/ioutil", "golang.org/x/sys/unix", module + "internal/collect"}

// TestChecksDoNoIO walks everything checks.All() is built from (this module's packages
// only) and fails if any of them imports a collector, the network or the filesystem.
func TestChecksDoNoIO(t *testing.T) {
	seen := map[string]bool{}
	var walk func(path string)
	walk = func(path string) {
		if seen[path] {
			return
		}
		seen[path] = true
		pkg, err := build.Import(path, ".", 0)
		if err != nil {
			t.Fatalf("import %s: %v", path, err)
		}
		for _, imp := range pkg.Imports {
			for _, bad := range forbidden {
				if imp == bad || strings.HasPrefix(imp, bad+"/") {
					t.Errorf("%s imports %s", path, imp)
				}
			}
			if strings.HasPrefix(imp, module) {
				walk(imp)
			}
		}
	}
	walk(module + "internal/checks")
	for _, want := range []string{"internal/check", "internal/checks/cis", "internal/facts", "internal/finding"} {
		if !seen[module+want] {
			t.Errorf("%s was not walked; the test is not looking where it should", want)
		}
	}
}

func TestAllRegistersTheBenchmark(t *testing.T) {
	all := All()
	if len(all) != 117 {
		t.Fatalf("All() has %d checks, want the 117 items of CIS v1.6.0 sections 1-7", len(all))
	}
	ids := map[string]bool{}
	for _, c := range all {
		if ids[c.ID] {
			t.Errorf("duplicate rule %s", c.ID)
		}
		ids[c.ID] = true
		if c.Run == nil || c.Title == "" || c.Description == "" || c.Remediation == "" || c.Scope == "" || c.Section == "" || c.CIS == nil || c.CIS.V180 == "" {
			t.Errorf("%s is incomplete: %+v", c.ID, c.Rule)
		}
	}
}
