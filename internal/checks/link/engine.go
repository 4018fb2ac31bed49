package link

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/finding"
	"github.com/dockaudit/dockaudit/internal/version"
)

// engineAdvisory is a published security advisory of the Docker Engine daemon.
// Fixed lists the first fixed release of every line that got one: a version is
// affected when its own line has a fix it predates, or when its line has none and
// it predates the newest fix. Verified 2026-11-26 against GitHub's reviewed
// advisories and moby's release tags (git tag --contains on each fix commit); where
// the two disagreed, the tags win.
type engineAdvisory struct {
	CVE, GHSA  string
	Summary    string
	Severity   finding.Severity
	CVSS       string
	Introduced string // first affected release, "" for all earlier ones
	Fixed      []string
	Condition  string // when it matters, in words
	AuthZ      bool   // matters only with an authorization plugin
	// Backports are distribution builds known to carry the fix though their upstream
	// version does not: the reported version → the package that has it.
	Backports map[string]string
	Source    string
}

var engineAdvisories = []engineAdvisory{
	{CVE: "CVE-2024-41110", GHSA: "GHSA-v23v-6jw2-98fq", Summary: "authorization plugins can be bypassed with a request whose Content-Length is 0",
		Severity: finding.Critical, CVSS: "9.9", Introduced: "19.03.0", Fixed: []string{"23.0.15", "25.0.6", "26.1.5", "27.1.1"}, AuthZ: true,
		Condition: "with an authorization plugin that inspects request bodies",
		Backports: map[string]string{"20.10.24+dfsg1": "Debian bookworm's docker.io 20.10.24+dfsg1-1+deb12u1 and later"},
		Source:    "https://github.com/moby/moby/security/advisories/GHSA-v23v-6jw2-98fq"},
	{CVE: "CVE-2026-34040", GHSA: "GHSA-x744-4wpc-v9h2", Summary: "authorization plugins can be bypassed with oversized request bodies (incomplete fix of CVE-2024-41110)",
		Severity: finding.High, CVSS: "8.8", Fixed: []string{"25.0.16", "29.3.1"}, AuthZ: true,
		Condition: "with an authorization plugin that inspects request bodies", Source: "https://github.com/moby/moby/security/advisories/GHSA-x744-4wpc-v9h2"},
	{CVE: "CVE-2026-41567", GHSA: "GHSA-x86f-5xw2-fm2r", Summary: "extracting a compressed archive into a container (PUT /containers/{id}/archive) runs the container's decompressor as host root",
		Severity: finding.High, CVSS: "7.2", Fixed: []string{"25.0.17", "29.5.1"},
		Condition: "when a compressed archive is copied into a container of a malicious image", Source: "https://github.com/moby/moby/security/advisories/GHSA-x86f-5xw2-fm2r"},
	{CVE: "CVE-2026-42306", GHSA: "GHSA-rg2x-37c3-w2rh", Summary: "a race in docker cp lets a container bind-mount a volume onto any host path",
		Severity: finding.High, CVSS: "7.2", Fixed: []string{"25.0.17", "29.5.1"},
		Condition: "when docker cp writes into a container that has a volume", Source: "https://github.com/moby/moby/security/advisories/GHSA-rg2x-37c3-w2rh"},
	{CVE: "CVE-2026-41568", GHSA: "GHSA-vp62-88p7-qqf5", Summary: "a race in docker cp lets a container create empty files or directories at any host path",
		Severity: finding.Medium, CVSS: "6.1", Fixed: []string{"25.0.17", "29.5.1"},
		Condition: "when docker cp writes into a container that has a volume", Source: "https://github.com/moby/moby/security/advisories/GHSA-vp62-88p7-qqf5"},
	{CVE: "CVE-2026-33997", GHSA: "GHSA-pxq6-2prw-chj9", Summary: "an off-by-one in plugin privilege validation during docker plugin install",
		Severity: finding.Medium, CVSS: "6.8", Fixed: []string{"25.0.16", "29.3.1"},
		Condition: "when managed plugins are installed from untrusted sources", Source: "https://github.com/moby/moby/security/advisories/GHSA-pxq6-2prw-chj9"},
	{CVE: "CVE-2025-54388", GHSA: "GHSA-x4rx-4gw3-53p4", Summary: "after a firewalld reload, published ports (even loopback-only ones) are reachable from other hosts",
		Severity: finding.Medium, CVSS: "4.6", Introduced: "28.2.0", Fixed: []string{"28.3.3"},
		Condition: "when firewalld runs and is reloaded", Source: "https://github.com/moby/moby/security/advisories/GHSA-x4rx-4gw3-53p4"},
	{CVE: "CVE-2024-32473", GHSA: "GHSA-x84c-p2g9-rqv9", Summary: "IPv6 stays enabled on IPv4-only ipvlan and macvlan interfaces",
		Severity: finding.Medium, CVSS: "4.7", Introduced: "26.0.0", Fixed: []string{"26.0.2"},
		Condition: "to ipvlan and macvlan networks created with --ipv6=false", Source: "https://github.com/moby/moby/security/advisories/GHSA-x84c-p2g9-rqv9"},
	{CVE: "CVE-2024-29018", GHSA: "GHSA-mq39-4gv4-mvpx", Summary: "containers on --internal networks can exfiltrate data through DNS forwarded to a loopback resolver",
		Severity: finding.Medium, CVSS: "5.9", Fixed: []string{"23.0.11", "25.0.5", "26.0.0"},
		Condition: "to containers on --internal networks while the host's resolver listens on loopback", Source: "https://github.com/moby/moby/security/advisories/GHSA-mq39-4gv4-mvpx"},
	{CVE: "CVE-2024-36621", GHSA: "GHSA-2mj3-vfvx-fc43", Summary: "a race in the BuildKit adapter leaks resources under concurrent builds (denial of service)",
		Severity: finding.Medium, CVSS: "6.5", Fixed: []string{"23.0.11", "25.0.5", "26.0.0"},
		Condition: "to clients of the build API", Source: "https://github.com/advisories/GHSA-2mj3-vfvx-fc43"},
	{CVE: "CVE-2024-24557", GHSA: "GHSA-xw73-rw38-6vjc", Summary: "the classic builder's cache can be poisoned",
		Severity: finding.Medium, CVSS: "6.9", Fixed: []string{"23.0.10", "24.0.9", "25.0.2", "26.0.0"},
		Condition: "to builds with the classic builder (the default before 23.0, or DOCKER_BUILDKIT=0)", Source: "https://github.com/moby/moby/security/advisories/GHSA-xw73-rw38-6vjc"},
	{GHSA: "GHSA-jq35-85cj-fj4p", Summary: "/sys/devices/virtual/powercap is readable in containers (a power side channel)",
		Severity: finding.Medium, Fixed: []string{"20.10.27", "23.0.8", "24.0.7"},
		Condition: "on Intel hosts", Source: "https://github.com/advisories/GHSA-jq35-85cj-fj4p"},
	{CVE: "CVE-2023-28840", GHSA: "GHSA-232p-vwff-86mp", Summary: "encrypted swarm overlay networks may accept unencrypted VXLAN packets",
		Severity: finding.High, CVSS: "7.5", Fixed: []string{"20.10.24", "23.0.3"},
		Condition: "in swarm mode with encrypted overlay networks", Source: "https://github.com/moby/moby/security/advisories/GHSA-232p-vwff-86mp"},
	{CVE: "CVE-2023-28841", GHSA: "GHSA-33pg-m6jh-5237", Summary: "encrypted swarm overlay traffic may be sent unencrypted",
		Severity: finding.Medium, CVSS: "6.8", Fixed: []string{"20.10.24", "23.0.3"},
		Condition: "in swarm mode with encrypted overlay networks on hosts without xt_u32", Source: "https://github.com/moby/moby/security/advisories/GHSA-33pg-m6jh-5237"},
	{CVE: "CVE-2023-28842", GHSA: "GHSA-6wrf-mxfj-pf5p", Summary: "an encrypted swarm overlay network with one endpoint accepts unauthenticated VXLAN",
		Severity: finding.Medium, CVSS: "6.8", Fixed: []string{"20.10.24", "23.0.3"},
		Condition: "in swarm mode with encrypted overlay networks", Source: "https://github.com/moby/moby/security/advisories/GHSA-6wrf-mxfj-pf5p"},
	{CVE: "CVE-2022-36109", GHSA: "GHSA-rc4r-wh2q-q6c4", Summary: "supplementary groups are not set up for USER, so group restrictions can be bypassed",
		Severity: finding.Medium, CVSS: "6.3", Fixed: []string{"20.10.18"}, Source: "https://github.com/moby/moby/security/advisories/GHSA-rc4r-wh2q-q6c4"},
	{CVE: "CVE-2022-24769", GHSA: "GHSA-2mm7-x5h6-5pvq", Summary: "containers start with non-empty inheritable capabilities",
		Severity: finding.Medium, CVSS: "5.9", Fixed: []string{"20.10.14"}, Source: "https://github.com/moby/moby/security/advisories/GHSA-2mm7-x5h6-5pvq"},
	{CVE: "CVE-2021-41091", GHSA: "GHSA-3fwx-pjgw-3558", Summary: "the data directory is traversable by unprivileged host users",
		Severity: finding.Medium, CVSS: "5.9", Fixed: []string{"20.10.9"}, Source: "https://github.com/moby/moby/security/advisories/GHSA-3fwx-pjgw-3558"},
	{CVE: "CVE-2021-21285", GHSA: "GHSA-6fj5-m822-rqx8", Summary: "pulling a malformed manifest crashes the daemon",
		Severity: finding.Medium, CVSS: "6.5", Fixed: []string{"19.03.15", "20.10.3"}, Source: "https://github.com/moby/moby/security/advisories/GHSA-6fj5-m822-rqx8"},
	{CVE: "CVE-2021-21284", GHSA: "GHSA-7452-xqpj-6rpc", Summary: "with userns-remap, the remapped root can escalate to the host's root",
		Severity: finding.Medium, CVSS: "6.8", Fixed: []string{"19.03.15", "20.10.3"},
		Condition: "with userns-remap", Source: "https://github.com/moby/moby/security/advisories/GHSA-7452-xqpj-6rpc"},
	{CVE: "CVE-2019-14271", Summary: "docker cp loads the container's nsswitch libraries as host root",
		Severity: finding.Critical, CVSS: "9.8", Introduced: "19.03.0", Fixed: []string{"19.03.1"},
		Condition: "when docker cp reads from a malicious container", Source: "https://github.com/moby/moby/pull/39612"},
}

// engineVersion is the upstream release in a version string a daemon reports:
// "20.10.24+dfsg1" → 20.10.24, "29.4.0-ce" → 29.4.0; ok is false when it is not
// MAJOR.MINOR.PATCH.
var engineVersionRE = regexp.MustCompile(`^v?(\d+)\.(\d+)\.(\d+)`)

func engineVersion(s string) (string, bool) {
	m := engineVersionRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return "", false
	}
	return m[1] + "." + m[2] + "." + m[3], true
}

func line(v string) string {
	parts := strings.SplitN(v, ".", 3)
	return parts[0] + "." + parts[1]
}

func less(a, b string) bool {
	c, err := version.CompareSemver(normalizeEngine(a), normalizeEngine(b))
	return err == nil && c < 0
}

// normalizeEngine drops leading zeros ("19.03.1" → "19.3.1") for semver comparison.
func normalizeEngine(v string) string {
	parts := strings.Split(v, ".")
	for i, p := range parts {
		p = strings.TrimLeft(p, "0")
		if p == "" {
			p = "0"
		}
		parts[i] = p
	}
	return strings.Join(parts, ".")
}

// affects reports whether an advisory applies to an upstream release.
func (a engineAdvisory) affects(v string) bool {
	if a.Introduced != "" && less(v, a.Introduced) {
		return false
	}
	newest := ""
	for _, f := range a.Fixed {
		if line(f) == line(v) {
			return less(v, f)
		}
		if newest == "" || less(newest, f) {
			newest = f
		}
	}
	return less(v, newest)
}

// fixedFor says which release to move to from v: the fix of its line, else the
// oldest fix on a newer line.
func (a engineAdvisory) fixedFor(v string) string {
	best := ""
	for _, f := range a.Fixed {
		if line(f) == line(v) {
			return f
		}
		if less(v, f) && (best == "" || less(f, best)) {
			best = f
		}
	}
	return best
}

// EngineAdvisories reports the advisories that apply to a reported Engine version:
// fail for each, with its condition; an authorization-plugin advisory is info when
// the daemon is known to have no plugin; a distribution build known to carry a
// backport is info with the package that has it.
func EngineAdvisories(p *check.Pass, reported string, authz []string, authzKnown bool) {
	v, ok := engineVersion(reported)
	if !ok {
		p.Skip(fmt.Sprintf("the Engine version %q is not MAJOR.MINOR.PATCH", reported))
		return
	}
	for _, a := range engineAdvisories {
		if !a.affects(v) {
			continue
		}
		id := a.CVE
		if id == "" {
			id = a.GHSA
		}
		fix := a.fixedFor(v)
		msg := fmt.Sprintf("Docker %s: %s: %s; fixed in %s", reported, id, a.Summary, fix)
		e := []finding.Evidence{ev("Engine version", reported, fix+" or later"), ev("advisory", strings.TrimSpace(a.GHSA+" "+a.Source), "")}
		if a.Condition != "" {
			msg += "; it applies " + a.Condition
		}
		switch {
		case a.Backports[reported] != "":
			p.Info(msg+"; fixed by the distribution in "+a.Backports[reported]+": check the installed package", e...)
		case a.AuthZ && authzKnown && len(authz) == 0:
			p.Info(msg+"; no authorization plugin is configured", e...)
		default:
			p.Fail(msg, e...).Sev(a.Severity)
		}
	}
	if !p.Reported() {
		p.OK(fmt.Sprintf("Docker %s has none of the %d known Engine advisories", reported, len(engineAdvisories)))
	}
}

func engineCVE(p *check.Pass) {
	api := p.Endpoint.API
	if !api.Answered {
		p.Skip("the API did not answer, so the Engine version is unknown (give --tlscert and --tlskey to read it)")
		return
	}
	EngineAdvisories(p, api.Version, api.Authorization, api.InfoRead)
}
