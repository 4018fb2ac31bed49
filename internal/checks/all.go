package checks

import (
	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/checks/cis"
	"github.com/dockaudit/dockaudit/internal/checks/confine"
	"github.com/dockaudit/dockaudit/internal/checks/imagecfg"
	"github.com/dockaudit/dockaudit/internal/checks/link"
	"github.com/dockaudit/dockaudit/internal/checks/trust"
	"github.com/dockaudit/dockaudit/internal/checks/vuln"
	"github.com/dockaudit/dockaudit/internal/finding"
)

// All returns every check dockaudit host runs, in report order. This list and Image
// are the only registration there is.
func All() []check.Check {
	out := cis.Checks()
	out = append(out, link.HostChecks()...)
	// The daemon's TCP listeners are probed as dockaudit endpoint probes addresses;
	// DAEMON-CVE already judges the Engine version.
	for _, c := range Endpoint() {
		if c.ID != "ENGINE-CVE" {
			out = append(out, c)
		}
	}
	return append(out, confine.HostChecks()...)
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
	out = append(out, trust.Checks()...)
	return append(out, vuln.Checks()...)
}

// Config returns the checks dockaudit config runs: the image rules on Dockerfiles, then
// the container rules of dockaudit host on Compose services.
func Config() []check.Check {
	// CIS sections 4 and 5 in their order (4.1 judges services, the other 4.x
	// Dockerfiles), then the image rules, the build context, and syscall control.
	var out []check.Check
	for _, c := range cis.Checks() {
		if c.Scope == finding.KindImage || c.Scope == finding.KindContainer {
			out = append(out, c)
		}
	}
	out = append(append(append(append(out, imagecfg.Checks()...), imagecfg.ContextChecks()...), trust.Checks()...), vuln.Checks()...)
	return append(out, scoped(confine.HostChecks(), finding.KindContainer)...)
}

// Every returns every rule dockaudit has, each once: those of dockaudit host, then
// the image rules host does not run.
func Every() []check.Check {
	out := append(append(append(append(All(), imagecfg.Checks()...), imagecfg.ContextChecks()...), trust.Checks()...), vuln.Checks()...)
	for _, c := range link.Checks() {
		if c.ID == "ENGINE-CVE" || c.Scope == finding.KindRegistry {
			out = append(out, c)
		}
	}
	return out
}

// Endpoint returns the checks dockaudit endpoint runs on probed daemon addresses.
func Endpoint() []check.Check { return scoped(link.Checks(), finding.KindEndpoint) }

// Profile returns the checks dockaudit seccomp lint runs on profiles.
func Profile() []check.Check { return confine.ProfileChecks() }

// Registry returns the checks dockaudit registry runs on probed registries.
func Registry() []check.Check { return scoped(link.Checks(), finding.KindRegistry) }

func scoped(cs []check.Check, k finding.Kind) []check.Check {
	var out []check.Check
	for _, c := range cs {
		if c.Scope == k {
			out = append(out, c)
		}
	}
	return out
}
