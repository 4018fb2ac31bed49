package checks

import (
	"go/build"
	"slices"
	"strings"
	"testing"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/finding"
)

const module = "github.com/dockaudit/dockaudit/"

// forbidden are imports that would let a check do I/O or reach a daemon: checks decide
// from facts only.
var forbidden = []string{"os", "os/exec", "net", "net/http", "syscall", "io/ioutil", "golang.org/x/sys/unix", module + "internal/collect",
	"github.com/moby/moby/client", "github.com/docker/docker", "github.com/google/go-containerregistry"}

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
	cis := 0
	ids := map[string]bool{}
	for _, c := range Every() {
		if ids[c.ID] {
			t.Errorf("duplicate rule %s", c.ID)
		}
		ids[c.ID] = true
		if c.Run == nil || c.Title == "" || c.Description == "" || c.Remediation == "" || c.Scope == "" || c.Section == "" {
			t.Errorf("%s is incomplete: %+v", c.ID, c.Rule)
		}
		// A scope the runner does not know would never be evaluated.
		switch c.Scope {
		case finding.KindHost, finding.KindDaemon, finding.KindContainer, finding.KindImage, finding.KindEndpoint, finding.KindRegistry, finding.KindProfile:
		default:
			t.Errorf("%s has scope %q, which the runner does not evaluate", c.ID, c.Scope)
		}
	}
	for _, c := range all {
		if c.CIS != nil {
			cis++
			if c.CIS.V180 == "" {
				t.Errorf("%s has no CIS v1.8.0 number", c.ID)
			}
		}
	}
	if cis != 117 {
		t.Fatalf("All() has %d CIS checks, want the 117 items of CIS v1.6.0 sections 1-7", cis)
	}
	// dockaudit host also runs the daemon-link checks on the daemon and its listeners.
	for _, id := range []string{"DAEMON-CVE", "TLS-MATERIAL", "CLIENT-CREDENTIALS", "API-UNAUTHENTICATED", "TLS-CERT"} {
		if !slices.ContainsFunc(all, func(c check.Check) bool { return c.ID == id }) {
			t.Errorf("All() lacks %s", id)
		}
	}
}
