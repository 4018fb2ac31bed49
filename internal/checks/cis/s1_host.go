package cis

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
)

func section1() []check.Check {
	return []check.Check{
		cis1_1_1(),
		cis1_1_2(),
		cis1_1_3(),
		cis1_1_4(),
		cis1_1_5(),
		cis1_1_6(),
		cis1_1_7(),
		cis1_1_8(),
		cis1_1_9(),
		cis1_1_10(),
		cis1_1_11(),
		cis1_1_12(),
		cis1_1_13(),
		cis1_1_14(),
		cis1_1_15(),
		cis1_1_16(),
		cis1_1_17(),
		cis1_1_18(),
		cis1_2_1(),
		cis1_2_2(),
	}
}

// cis1_1_1 is CIS 1.1.1: Ensure a separate partition for containers has been created.
func cis1_1_1() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure a separate partition for containers has been created",
			Description: "Images, containers and volumes live under Docker's data root; if it shares a filesystem with / or /var, runaway container data can fill the disk and take down both Docker and the host.",
			Remediation: "Mount Docker's data root (`docker info -f '{{ .DockerRootDir }}'`, default /var/lib/docker) on its own partition or LVM logical volume; on existing hosts create a new LV and migrate the directory. Verify with `findmnt -o SOURCE,FSROOT --target /var/lib/docker`: a separate filesystem has its own device and FSROOT /. (`mountpoint` cannot tell: dockerd bind-mounts its data root onto itself, so it is always a mount point.)",
			Severity:    finding.Medium,
			Scope:       host,
			CIS:         &finding.CIS{ID: "1.1.1", Level: 1, Automated: false, V180: "1.1.1"},
		},
		NeedsHost: true,
		Run:       run1_1_1,
	}
}

func run1_1_1(p *check.Pass) {
	d := p.Facts.Daemon
	root := p.Facts.Engine.DockerRootDir
	m := d.DataRootMount
	if m == nil || d.RootMount == nil {
		// Without both, a bind mount of the root filesystem looks like a partition.
		p.Skip(fmt.Sprintf("cannot tell which filesystem holds %s: the daemon's mount table was not readable (%s)", root, cmp.Or(d.MountsError, "no mount found")))
		return
	}
	mount := ev("mount", describeMountpoint(m), root+" on its own filesystem")
	_, userns := p.Facts.Engine.SecurityOption("userns")
	sameAsRoot := d.RootMount.Device == m.Device
	switch {
	case m.MountPoint == "/":
		p.Fail(root+" is on the root filesystem", mount).At(root)
	case sameAsRoot && m.Root == root:
		// dockerd bind-mounts its data root onto itself to set mount propagation,
		// so a plain mount-point test always passes while the daemon runs.
		p.Fail(fmt.Sprintf("%s is on the root filesystem (%s); it is a mount point only because dockerd bind-mounts its data root onto itself", root, m.Source), mount,
			ev("root filesystem", describeMountpoint(d.RootMount), "a different device")).At(root)
	case sameAsRoot:
		p.Fail(fmt.Sprintf("%s is a bind mount of a directory of the root filesystem (%s), not a separate partition", root, m.Source), mount,
			ev("root filesystem", describeMountpoint(d.RootMount), "a different device")).At(root)
	case m.Root != "/" && m.Root != "":
		// A directory of another filesystem (a separate /var, say), bind-mounted.
		p.Warn(fmt.Sprintf("%s is directory %s of %s, a filesystem it shares with other data", root, m.Root, m.Source), mount).At(root)
	case m.MountPoint == root || (userns && m.MountPoint == path.Dir(root)):
		p.OK(root+" is on its own filesystem", mount).At(root)
	default:
		p.Warn(fmt.Sprintf("%s shares the filesystem mounted at %s", root, m.MountPoint), mount).At(root)
	}
}

// cis1_1_2 is CIS 1.1.2: Ensure only trusted users are allowed to control Docker daemon.
func cis1_1_2() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure only trusted users are allowed to control Docker daemon",
			Description: "Anyone who can use the Docker socket can start a container that mounts the host's root filesystem, so every member of the docker group is effectively root on the host.",
			Remediation: "Review `getent group docker` and remove every user who is not an approved administrator (`gpasswd -d <user> docker`); avoid mapping sensitive host paths into containers.",
			Severity:    finding.High,
			Scope:       host,
			CIS:         &finding.CIS{ID: "1.1.2", Level: 1, Automated: false, V180: "1.1.2"},
		},
		NeedsHost: true,
		Run:       run1_1_2,
	}
}

func run1_1_2(p *check.Pass) {
	g := p.Facts.Host.DockerGroup
	switch {
	case g.Error != "":
		p.Skip("the host's users and groups could not be read: " + g.Error)
		return
	case g.GID == 0:
		p.OK("the socket belongs to the root group: only root can use the daemon")
		return
	case g.GID < 0:
		p.OK(fmt.Sprintf("there is no %s group and no socket to check: only root can use the daemon", g.Configured))
		return
	case !g.Exists:
		p.Manual(fmt.Sprintf("the socket's group %d is not in /etc/group (a directory-service group?): its members can control the daemon; review them there", g.GID),
			ev("socket group", fmt.Sprint(g.GID), ""))
		return
	}
	members := ev("members of "+g.Name, strings.Join(g.Members, ", "), "")
	if len(g.Members) == 0 {
		p.OK(fmt.Sprintf("the %s group has no members", g.Name), members)
		return
	}
	if p.Config.TrustedUsers == nil {
		p.Manual(fmt.Sprintf("%d users can control the daemon through the %s group (each is effectively root): confirm they are trusted, or pass --trusted-users",
			len(g.Members), g.Name), members)
		return
	}
	var untrusted []string
	for _, m := range g.Members {
		if !slices.Contains(p.Config.TrustedUsers, m) {
			untrusted = append(untrusted, m)
		}
	}
	if len(untrusted) > 0 {
		p.Fail(fmt.Sprintf("%s in the %s group %s not in --trusted-users", strings.Join(untrusted, ", "), g.Name, plural(len(untrusted), "is", "are")),
			ev("members of "+g.Name, strings.Join(g.Members, ", "), strings.Join(p.Config.TrustedUsers, ", ")))
		return
	}
	p.OK(fmt.Sprintf("every member of the %s group is trusted", g.Name), members)
}

// cis1_1_3 is CIS 1.1.3: Ensure auditing is configured for the Docker daemon.
func cis1_1_3() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure auditing is configured for the Docker daemon",
			Description: "dockerd runs as root and controls every container, so its execution and changes to its binary should leave an audit trail.",
			Remediation: "Watch the dockerd binary the daemon actually runs (Debian: /usr/sbin/dockerd; others: /usr/bin/dockerd) with an audit rule such as `-w /usr/sbin/dockerd -k docker` in /etc/audit/rules.d/docker.rules, then load it with `augenrules --load`.",
			Severity:    finding.Low,
			Scope:       host,
			CIS:         &finding.CIS{ID: "1.1.3", Level: 1, Automated: true, V180: "1.1.3"},
		},
		NeedsHost: true,
		Run:       run1_1_3,
	}
}

func run1_1_3(p *check.Pass) {
	audited(p, located(p.Facts.Daemon.Exe, p.Facts.Host), "the dockerd binary")
}

// cis1_1_4 is CIS 1.1.4: Ensure auditing is configured for Docker files and directories - /run/containerd.
func cis1_1_4() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure auditing is configured for Docker files and directories - /run/containerd",
			Description: "/run/containerd holds containerd's runtime state and sockets; recording reads, writes and attribute changes there helps reconstruct tampering with running containers.",
			Remediation: "Add the audit rule `-w /run/containerd -p wa -k docker` (a directory watch covers what is inside) and load it with `augenrules --load`.",
			Severity:    finding.Low,
			Scope:       host,
			CIS:         &finding.CIS{ID: "1.1.4", Level: 1, Automated: true, V180: "1.1.4"},
		},
		NeedsHost: true,
		Run:       run1_1_4,
	}
}

func run1_1_4(p *check.Pass) {
	audited(p, located("/run/containerd", p.Facts.Host), "/run/containerd")
}

// cis1_1_5 is CIS 1.1.5: Ensure auditing is configured for Docker files and directories - /var/lib/docker.
func cis1_1_5() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure auditing is configured for Docker files and directories - /var/lib/docker",
			Description: "The Docker data root holds every image layer, container filesystem and volume, so changes there are security-relevant and should be auditable.",
			Remediation: "Add the audit rule `-w /var/lib/docker -p wa -k docker` (use the data root the finding names if it was relocated) and load it with `augenrules --load`.",
			Severity:    finding.Low,
			Scope:       host,
			CIS:         &finding.CIS{ID: "1.1.5", Level: 1, Automated: false, V180: "1.1.5"},
		},
		NeedsHost: true,
		Run:       run1_1_5,
	}
}

func run1_1_5(p *check.Pass) {
	audited(p, located(p.Facts.Engine.DockerRootDir, p.Facts.Host), "the Docker data root")
}

// cis1_1_6 is CIS 1.1.6: Ensure auditing is configured for Docker files and directories - /etc/docker.
func cis1_1_6() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure auditing is configured for Docker files and directories - /etc/docker",
			Description: "/etc/docker contains daemon configuration, TLS material and registry certificates; unauthorised edits there change the daemon's security posture.",
			Remediation: "Add the audit rule `-w /etc/docker -k docker` and reload auditd.",
			Severity:    finding.Low,
			Scope:       host,
			CIS:         &finding.CIS{ID: "1.1.6", Level: 1, Automated: true, V180: "1.1.6"},
		},
		NeedsHost: true,
		Run:       run1_1_6,
	}
}

func run1_1_6(p *check.Pass) {
	audited(p, located("/etc/docker", p.Facts.Host), "/etc/docker")
}

// cis1_1_7 is CIS 1.1.7: Ensure auditing is configured for Docker files and directories - docker.service.
func cis1_1_7() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure auditing is configured for Docker files and directories - docker.service",
			Description: "The docker.service unit defines how and with which flags dockerd is started, so modifying it can silently weaken the daemon.",
			Remediation: "Locate the unit with `systemctl show -p FragmentPath docker.service` and add a watch such as `-w /usr/lib/systemd/system/docker.service -k docker`, then reload auditd.",
			Severity:    finding.Low,
			Scope:       host,
			CIS:         &finding.CIS{ID: "1.1.7", Level: 2, Automated: true, V180: "1.1.7"},
		},
		NeedsHost: true,
		Run:       run1_1_7,
	}
}

func run1_1_7(p *check.Pass) {
	audited(p, p.Facts.Host.Paths.DockerService, "the docker.service unit")
}

// cis1_1_8 is CIS 1.1.8: Ensure auditing is configured for Docker files and directories - containerd.sock.
func cis1_1_8() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure auditing is configured for Docker files and directories - containerd.sock",
			Description: "containerd.sock is the control channel for containerd; access to it allows creating and manipulating containers beneath Docker.",
			Remediation: "Watch the containerd socket the daemon uses (the finding names it; dockerd's own containerd is /var/run/docker/containerd/containerd.sock), e.g. `-w /run/containerd/containerd.sock -k docker`, and load the rules with `augenrules --load`.",
			Severity:    finding.Low,
			Scope:       host,
			CIS:         &finding.CIS{ID: "1.1.8", Level: 2, Automated: true, V180: "1.1.8"},
		},
		NeedsHost: true,
		Run:       run1_1_8,
	}
}

func run1_1_8(p *check.Pass) {
	audited(p, located(p.Facts.Daemon.ContainerdSocket, p.Facts.Host), "the containerd socket")
}

// cis1_1_9 is CIS 1.1.9: Ensure auditing is configured for Docker files and directories - docker.socket.
func cis1_1_9() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure auditing is configured for Docker files and directories - docker.socket",
			Description: "The docker.socket unit/socket governs access to the Docker API, which is root-equivalent, so changes and use of it should be audited.",
			Remediation: "Locate the unit with `systemctl show -p FragmentPath docker.socket` and watch it, for example `-w /lib/systemd/system/docker.socket -k docker`, then load the rules with `augenrules --load`.",
			Severity:    finding.Low,
			Scope:       host,
			CIS:         &finding.CIS{ID: "1.1.9", Level: 2, Automated: true, V180: "1.1.9"},
		},
		NeedsHost: true,
		Run:       run1_1_9,
	}
}

func run1_1_9(p *check.Pass) {
	audited(p, p.Facts.Host.Paths.DockerSocketUnit, "the docker.socket unit")
}

// cis1_1_10 is CIS 1.1.10: Ensure auditing is configured for Docker files and directories - /etc/default/docker.
func cis1_1_10() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure auditing is configured for Docker files and directories - /etc/default/docker",
			Description: "/etc/default/docker (Debian-style) can inject daemon options; editing it changes how dockerd runs.",
			Remediation: "If the file exists, add `-w /etc/default/docker -k docker` to the audit rules and reload auditd.",
			Severity:    finding.Low,
			Scope:       host,
			CIS:         &finding.CIS{ID: "1.1.10", Level: 2, Automated: true, V180: "1.1.10"},
		},
		NeedsHost: true,
		Run:       run1_1_10,
	}
}

func run1_1_10(p *check.Pass) {
	audited(p, located("/etc/default/docker", p.Facts.Host), "/etc/default/docker")
}

// cis1_1_11 is CIS 1.1.11: Ensure auditing is configured for Docker files and directories - /etc/docker/daemon.json.
func cis1_1_11() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure auditing is configured for Docker files and directories - /etc/docker/daemon.json",
			Description: "daemon.json is the main daemon configuration; a change there can disable isolation features daemon-wide.",
			Remediation: "If present, add `-w /etc/docker/daemon.json -k docker` to the audit rules (use the --config-file path if different) and reload auditd.",
			Severity:    finding.Low,
			Scope:       host,
			CIS:         &finding.CIS{ID: "1.1.11", Level: 2, Automated: true, V180: "1.1.11"},
		},
		NeedsHost: true,
		Run:       run1_1_11,
	}
}

func run1_1_11(p *check.Pass) {
	audited(p, located(p.Facts.Daemon.ConfigFile, p.Facts.Host), "the daemon configuration file")
}

// cis1_1_12 is CIS 1.1.12: Ensure auditing is configured for Docker files and directories - /etc/containerd/config.toml.
func cis1_1_12() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure auditing is configured for Docker files and directories - /etc/containerd/config.toml",
			Description: "containerd's config.toml controls the runtime underneath Docker (runtimes, plugins, socket paths), so tampering affects every container.",
			Remediation: "If present, add `-w /etc/containerd/config.toml -k docker` to the audit rules and reload auditd.",
			Severity:    finding.Low,
			Scope:       host,
			CIS:         &finding.CIS{ID: "1.1.12", Level: 2, Automated: true, V180: "1.1.12"},
		},
		NeedsHost: true,
		Run:       run1_1_12,
	}
}

func run1_1_12(p *check.Pass) {
	audited(p, located("/etc/containerd/config.toml", p.Facts.Host), "/etc/containerd/config.toml")
}

// cis1_1_13 is CIS 1.1.13: Ensure auditing is configured for Docker files and directories - /etc/sysconfig/docker.
func cis1_1_13() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure auditing is configured for Docker files and directories - /etc/sysconfig/docker",
			Description: "/etc/sysconfig/docker (RHEL-style) injects daemon options; unrecorded edits can weaken the daemon.",
			Remediation: "If present, add `-w /etc/sysconfig/docker -k docker` to the audit rules and reload auditd.",
			Severity:    finding.Low,
			Scope:       host,
			CIS:         &finding.CIS{ID: "1.1.13", Level: 2, Automated: true, V180: "1.1.13"},
		},
		NeedsHost: true,
		Run:       run1_1_13,
	}
}

func run1_1_13(p *check.Pass) {
	audited(p, located("/etc/sysconfig/docker", p.Facts.Host), "/etc/sysconfig/docker")
}

// cis1_1_14 is CIS 1.1.14: Ensure auditing is configured for Docker files and directories - /usr/bin/containerd.
func cis1_1_14() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure auditing is configured for Docker files and directories - /usr/bin/containerd",
			Description: "The containerd binary runs as root and launches all containers; replacing or executing it out of band should be visible in the audit log.",
			Remediation: "Add `-w /usr/bin/containerd -k docker` to the audit rules and reload auditd.",
			Severity:    finding.Low,
			Scope:       host,
			CIS:         &finding.CIS{ID: "1.1.14", Level: 2, Automated: true, V180: "1.1.14"},
		},
		NeedsHost: true,
		Run:       run1_1_14,
	}
}

func run1_1_14(p *check.Pass) {
	audited(p, p.Facts.Host.Paths.Containerd, "the containerd binary")
}

// cis1_1_15 is CIS 1.1.15: Ensure auditing is configured for Docker files and directories - /usr/bin/containerd-shim.
func cis1_1_15() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure auditing is configured for Docker files and directories - /usr/bin/containerd-shim",
			Description: "containerd-shim processes parent each container's process; a tampered shim compromises container isolation.",
			Remediation: "If present, add `-w /usr/bin/containerd-shim -k docker` to the audit rules and reload auditd.",
			Severity:    finding.Low,
			Scope:       host,
			CIS:         &finding.CIS{ID: "1.1.15", Level: 2, Automated: false, V180: "1.1.15"},
		},
		NeedsHost: true,
		Run:       run1_1_15,
	}
}

func run1_1_15(p *check.Pass) {
	audited(p, p.Facts.Host.Paths.ContainerdShim, "the containerd-shim binary")
}

// cis1_1_16 is CIS 1.1.16: Ensure auditing is configured for Docker files and directories - /usr/bin/containerd-shim-runc-v1.
func cis1_1_16() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure auditing is configured for Docker files and directories - /usr/bin/containerd-shim-runc-v1",
			Description: "The runc v1 shim is part of the privileged container launch path, so its modification or use should be traceable.",
			Remediation: "If present, add `-w /usr/bin/containerd-shim-runc-v1 -k docker` to the audit rules and reload auditd.",
			Severity:    finding.Low,
			Scope:       host,
			CIS:         &finding.CIS{ID: "1.1.16", Level: 2, Automated: false, V180: "1.1.16"},
		},
		NeedsHost: true,
		Run:       run1_1_16,
	}
}

func run1_1_16(p *check.Pass) {
	audited(p, p.Facts.Host.Paths.ShimRuncV1, "the containerd-shim-runc-v1 binary")
}

// cis1_1_17 is CIS 1.1.17: Ensure auditing is configured for Docker files and directories - /usr/bin/containerd-shim-runc-v2.
func cis1_1_17() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure auditing is configured for Docker files and directories - /usr/bin/containerd-shim-runc-v2",
			Description: "The runc v2 shim (the current default shim) supervises container processes with root privileges; changes to it must be traceable.",
			Remediation: "If present, add `-w /usr/bin/containerd-shim-runc-v2 -k docker` to the audit rules and reload auditd.",
			Severity:    finding.Low,
			Scope:       host,
			CIS:         &finding.CIS{ID: "1.1.17", Level: 2, Automated: false, V180: "1.1.17"},
		},
		NeedsHost: true,
		Run:       run1_1_17,
	}
}

func run1_1_17(p *check.Pass) {
	audited(p, p.Facts.Host.Paths.ShimRuncV2, "the containerd-shim-runc-v2 binary")
}

// cis1_1_18 is CIS 1.1.18: Ensure auditing is configured for Docker files and directories - /usr/bin/runc.
func cis1_1_18() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure auditing is configured for Docker files and directories - /usr/bin/runc",
			Description: "runc is the low-level OCI runtime that creates namespaces and cgroups; a replaced runc binary defeats container isolation (cf. CVE-2019-5736).",
			Remediation: "Add `-w /usr/bin/runc -k docker` to the audit rules and reload auditd.",
			Severity:    finding.Low,
			Scope:       host,
			CIS:         &finding.CIS{ID: "1.1.18", Level: 2, Automated: false, V180: "1.1.18"},
		},
		NeedsHost: true,
		Run:       run1_1_18,
	}
}

func run1_1_18(p *check.Pass) {
	audited(p, p.Facts.Host.Paths.Runc, "the runc binary")
}

// cis1_2_1 is CIS 1.2.1: Ensure the container host has been Hardened.
func cis1_2_1() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure the container host has been Hardened",
			Description: "Containers share the host kernel, so a weakly configured host undermines every container-level control.",
			Remediation: "Harden the host OS following its own CIS benchmark (or equivalent guidance): minimal packages, patched kernel, restricted services and accounts.",
			Severity:    finding.SevInfo,
			Scope:       host,
			CIS:         &finding.CIS{ID: "1.2.1", Level: 1, Automated: false, V180: "1.2.1"},
		},
		Run: run1_2_1,
	}
}

func run1_2_1(p *check.Pass) {
	p.Manual("host hardening (packages, services, accounts, kernel) is outside what dockaudit reads; follow the CIS benchmark for this host's operating system",
		ev("operating system", p.Facts.Engine.OperatingSystem, ""), ev("kernel", p.Facts.Engine.KernelVersion, ""))
}

// cis1_2_2 is CIS 1.2.2: Ensure that the version of Docker is up to date.
func cis1_2_2() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that the version of Docker is up to date",
			Description: "Older Docker releases contain known, exploitable vulnerabilities (e.g. runc/containerd escapes); staying current closes them.",
			Remediation: "Track Docker Engine releases and upgrade dockerd, containerd and runc to a supported, patched version; check with `docker version`.",
			References:  []string{"https://github.com/containerd/containerd/blob/main/RELEASES.md", "https://github.com/moby/moby/discussions/47328"},
			Severity:    finding.Medium,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "1.2.2", Level: 1, Automated: false, V180: "1.2.2"},
		},
		Run: run1_2_2,
	}
}

func run1_2_2(p *check.Pass) {
	engineVersions(p)
}

// located pairs a host path with its real path, as the collector resolved it.
func located(p string, h *facts.Host) facts.Located {
	if p == "" {
		return facts.Located{}
	}
	real := p
	if f, ok := h.Files[p]; ok && f.Real != "" {
		real = f.Real
	}
	return facts.Located{Path: p, Real: real}
}

// eolBefore is the first Docker Engine major line Docker still publishes packages for,
// as far as this tool's data knows: 20.10, 23.0 and 24.0 get no docker-ce updates
// (moby discussion #47328). Newer lines need a person to compare with the current one.
const eolBefore = 25

// containerdEnd is when each containerd release line stops getting fixes, from
// containerd's RELEASES.md (1.7 and 2.3 dates marked tentative there).
var containerdEnd = map[string]string{
	"1.4": "2022-03-03", "1.5": "2023-02-28", "1.6": "2025-08-23", "1.7": "2026-09-30",
	"2.0": "2025-11-07", "2.1": "2026-05-05", "2.2": "2026-11-06", "2.3": "2028-04-27",
}

// engineVersions decides 1.2.2 from the Engine version and the containerd line,
// judged at the time the facts were collected.
func engineVersions(p *check.Pass) {
	e := p.Facts.Engine
	v := e.ServerVersion
	evs := []finding.Evidence{ev("server version", v, "a supported release line")}
	var eol []string
	for _, c := range e.Components {
		evs = append(evs, ev(c[0]+" version", c[1], ""))
		if c[0] != "containerd" {
			continue
		}
		var maj, min int
		if _, err := fmt.Sscanf(strings.TrimPrefix(c[1], "v"), "%d.%d", &maj, &min); err != nil {
			continue
		}
		line := fmt.Sprintf("%d.%d", maj, min)
		end, known := containerdEnd[line]
		if known && !p.Facts.CollectedAt.IsZero() && p.Facts.CollectedAt.Format("2006-01-02") > end {
			eol = append(eol, fmt.Sprintf("containerd %s (the %s line ended %s)", c[1], line, end))
		}
	}
	major, ok := engineMajor(v)
	if ok && major < eolBefore {
		eol = append([]string{fmt.Sprintf("Engine %s (every line before %d.0 is end of life)", v, eolBefore)}, eol...)
	}
	switch {
	case len(eol) > 0:
		p.Fail("end-of-life components: "+strings.Join(eol, "; ")+distroNote(v), evs...)
	case !ok:
		p.Manual("cannot parse the Engine version "+v+"; compare it with the current Docker Engine release by hand", evs...)
	default:
		p.Manual(fmt.Sprintf("Engine %s is not on a line known to be end of life; check it and containerd and runc are the newest patch releases", v), evs...)
	}
}

// engineMajor parses the major number of an Engine version ("20.10.24+dfsg1" → 20).
func engineMajor(v string) (int, bool) {
	var major int
	if _, err := fmt.Sscanf(v, "%d.", &major); err != nil || major == 0 {
		return 0, false
	}
	return major, true
}

// distroNote explains that a distribution build may carry its own security fixes.
func distroNote(v string) string {
	if strings.Contains(v, "+dfsg") || strings.Contains(v, "~") || strings.Contains(v, "ubuntu") || strings.Contains(v, "deb") {
		return "; this is a distribution build, which may carry backported security fixes"
	}
	return ""
}

func describeMountpoint(m *facts.Mountpoint) string {
	s := fmt.Sprintf("%s: %s %s (device %s", m.MountPoint, m.FSType, m.Source, m.Device)
	if m.Root != "" && m.Root != "/" {
		s += ", directory " + m.Root
	}
	return s + ")"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
