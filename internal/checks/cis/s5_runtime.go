package cis

import (
	"cmp"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/dockaudit/dockaudit/internal/caps"
	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/checks/confine"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
)

func section5() []check.Check {
	return []check.Check{
		cis5_1(),
		cis5_2(),
		cis5_3(),
		cis5_4(),
		cis5_5(),
		cis5_6(),
		cis5_7(),
		cis5_8(),
		cis5_9(),
		cis5_10(),
		cis5_11(),
		cis5_12(),
		cis5_13(),
		cis5_14(),
		cis5_15(),
		cis5_16(),
		cis5_17(),
		cis5_18(),
		cis5_19(),
		cis5_20(),
		cis5_21(),
		cis5_22(),
		cis5_23(),
		cis5_24(),
		cis5_25(),
		cis5_26(),
		cis5_27(),
		cis5_28(),
		cis5_29(),
		cis5_30(),
		cis5_31(),
		cis5_32(),
	}
}

// cis5_1 is CIS 5.1: Ensure swarm mode is not Enabled, if not needed.
func cis5_1() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure swarm mode is not Enabled, if not needed",
			Description: "Swarm mode opens cluster management ports and services; if not needed they are needless attack surface.",
			Remediation: "On hosts that are not meant to be swarm nodes, run `docker swarm leave` (`--force` on a manager); `docker info` should show `Swarm: inactive`.",
			Severity:    finding.Low,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "5.1", Level: 1, Automated: false, V180: "5.1"},
		},
		Needs: []facts.Part{facts.PartEngine},
		Run:   run5_1,
	}
}

func run5_1(p *check.Pass) {
	s := p.Facts.Engine.Swarm
	e := ev("swarm", s.LocalNodeState, "inactive")
	if s.Active() {
		p.Warn("swarm mode is enabled on this node; confirm it is needed", e)
		return
	}
	p.OK("swarm mode is not enabled", e)
}

// cis5_2 is CIS 5.2: Ensure that, if applicable, an AppArmor Profile is enabled.
func cis5_2() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that, if applicable, an AppArmor Profile is enabled",
			Description: "AppArmor confines what a container process can access even if it runs as root, limiting the effect of a compromise.",
			Remediation: "On AppArmor hosts, keep the default `docker-default` profile or apply a custom one with `--security-opt apparmor=<profile>`; never use `apparmor=unconfined`.",
			Severity:    finding.Medium,
			Scope:       container,
			CIS:         &finding.CIS{ID: "5.2", Level: 1, Automated: false, V180: "5.2"},
		},
		Needs: []facts.Part{facts.PartHostConfig, facts.PartState},
		Run:   run5_2,
	}
}

func run5_2(p *check.Pass) {
	c := p.Container
	requested := c.SecurityOptValues("apparmor")
	if why, missing := p.Missing(facts.PartSecurityOptions); missing {
		// The container's own options decide these whatever the daemon.
		switch {
		case c.HostConfig.Privileged:
			p.Fail("privileged: runs without AppArmor confinement", ev("privileged", "true", "false"))
		case len(requested) > 0 && requested[len(requested)-1] == "unconfined":
			p.Fail("asks to run without an AppArmor profile (apparmor=unconfined)", ev("requested apparmor", "unconfined", "docker-default or a custom profile"))
		default:
			p.Skip("whether AppArmor confines it depends on the daemon's host: " + why)
		}
		return
	}
	if !apparmorAvailable(p.Facts) {
		evs := []finding.Evidence{ev("daemon security options", strings.Join(p.Facts.Engine.SecurityOptions, "; "), "name=apparmor")}
		if len(requested) > 0 {
			evs = append(evs, ev("requested apparmor", strings.Join(requested, ", "), ""))
		}
		if h := p.Facts.Host; h != nil && h.AppArmor.Enabled {
			p.Fail("AppArmor is enabled on this host but the daemon does not apply it: the container runs unconfined",
				append(evs, ev("host", h.AppArmor.Evidence, ""))...)
			return
		}
		p.Skip("AppArmor is not available on this host; apparmor= options have no effect", evs...)
		return
	}
	profile := c.AppArmorProfile
	if c.Status() == "created" && profile == "" {
		// The daemon picks the profile when the container first starts.
		profile = "docker-default"
		if len(requested) > 0 {
			profile = requested[len(requested)-1]
		}
	}
	switch {
	case c.HostConfig.Privileged:
		p.Fail("privileged: runs without AppArmor confinement", ev("privileged", "true", "false"))
	case profile == "" || profile == "unconfined":
		p.Fail("runs without an AppArmor profile", ev("apparmor profile", cmp.Or(profile, "(none)"), "docker-default or a custom profile"))
	case c.Status() == "created" && c.AppArmorProfile == "":
		p.OK("will be confined by the AppArmor profile "+profile+" when it starts", ev("apparmor profile", profile+" (when started)", ""))
	default:
		p.OK("confined by the AppArmor profile "+profile, ev("apparmor profile", profile, ""))
	}
}

// cis5_3 is CIS 5.3: Ensure that, if applicable, SELinux security options are set.
func cis5_3() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that, if applicable, SELinux security options are set",
			Description: "SELinux labels provide mandatory access control between containers and the host on SELinux systems.",
			Remediation: "On SELinux hosts enable it in the daemon (`\"selinux-enabled\": true` or `--selinux-enabled`) and run containers with suitable labels (`--security-opt label=level:...`/`label=type:...`); avoid `label=disable`.",
			Severity:    finding.Medium,
			Scope:       container,
			CIS:         &finding.CIS{ID: "5.3", Level: 2, Automated: false, V180: "5.3"},
		},
		Needs: []facts.Part{facts.PartHostConfig},
		Run:   run5_3,
	}
}

func run5_3(p *check.Pass) {
	c := p.Container
	labels := c.SecurityOptValues("label")
	if why, missing := p.Missing(facts.PartSecurityOptions); missing {
		// The container's own options decide these whatever the daemon.
		switch {
		case c.HostConfig.Privileged:
			p.Fail("privileged: runs without SELinux separation", ev("privileged", "true", "false"))
		case slices.Contains(labels, "disable"):
			p.Fail("SELinux separation is disabled (label=disable)", ev("security options", strings.Join(c.HostConfig.SecurityOpt, ", "), "no label=disable"))
		default:
			p.Skip("whether SELinux separates it depends on the daemon: " + why)
		}
		return
	}
	if _, ok := p.Facts.Engine.SecurityOption("selinux"); !ok {
		evs := []finding.Evidence{ev("daemon security options", strings.Join(p.Facts.Engine.SecurityOptions, "; "), "name=selinux")}
		if len(labels) > 0 {
			evs = append(evs, ev("requested label", strings.Join(labels, ", "), ""))
		}
		if h := p.Facts.Host; h != nil && h.SELinux.Enabled {
			p.Fail("SELinux is enabled on this host but the daemon runs without selinux-enabled: the container gets no SELinux separation",
				append(evs, ev("host", h.SELinux.Evidence, ""))...)
			return
		}
		p.Skip("SELinux is not enabled for this daemon; label= options have no effect", evs...)
		return
	}
	switch {
	case c.HostConfig.Privileged:
		p.Fail("privileged: runs without SELinux separation", ev("privileged", "true", "false"))
	case slices.Contains(labels, "disable"):
		p.Fail("SELinux separation is disabled (label=disable)", ev("security options", strings.Join(c.HostConfig.SecurityOpt, ", "), "no label=disable"))
	case c.ProcessLabel == "":
		p.Fail("runs without an SELinux process label", ev("process label", "(none)", "a container_t label"))
	default:
		p.OK("runs with the SELinux label "+c.ProcessLabel, ev("process label", c.ProcessLabel, ""))
	}
}

// cis5_4 is CIS 5.4: Ensure that Linux kernel capabilities are restricted within containers.
func cis5_4() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that Linux kernel capabilities are restricted within containers",
			Description: "Every capability kept gives root in the container more kernel power; dropping unneeded ones narrows what an attacker can do.",
			Remediation: "Run containers with `--cap-drop ALL` and add back only what is required (`--cap-add NET_BIND_SERVICE`, etc.); never add broad capabilities like SYS_ADMIN without justification.",
			Severity:    finding.High,
			Scope:       container,
			CIS:         &finding.CIS{ID: "5.4", Level: 1, Automated: false, V180: "5.4"},
		},
		Needs: []facts.Part{facts.PartHostConfig},
		Run:   run5_4,
	}
}

func run5_4(p *check.Pass) {
	c := p.Container
	v := confine.CapsOf(p.Facts, c)
	evs := []finding.Evidence{
		ev("cap-add", strings.Join(c.HostConfig.CapAdd, ", "), ""),
		ev("cap-drop", strings.Join(c.HostConfig.CapDrop, ", "), ""),
		ev("effective capabilities", strings.Join(v.Requested, ", "), "a subset of Docker's default set"),
	}
	switch {
	case c.HostConfig.Privileged:
		p.Fail("privileged: has every capability", ev("privileged", "true", "false"))
	case len(minusDefault(v.Requested)) > 0:
		p.Fail("adds capabilities beyond Docker's default set: "+strings.Join(minusDefault(v.Requested), ", "), evs...)
	case len(v.Unrequested) > 0:
		// The request is within the default set, but the kernel shows more (see
		// CONFINE-CAPS): the capabilities are not restricted.
		p.Fail("the kernel shows capabilities that were not requested: "+strings.Join(v.Unrequested, ", "),
			append(evs, ev("bounding set", strings.Join(v.Bounding, ", "), "the requested set"))...)
	default:
		p.OK(fmt.Sprintf("has %d of Docker's %d default capabilities and nothing more", len(v.Requested), len(caps.Default)), evs...)
	}
}

// minusDefault is what a capability set holds beyond Docker's default.
func minusDefault(set []string) []string {
	var out []string
	for _, cp := range set {
		if !slices.Contains(caps.Default, cp) {
			out = append(out, cp)
		}
	}
	return out
}

// cis5_5 is CIS 5.5: Ensure that privileged containers are not used.
func cis5_5() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that privileged containers are not used",
			Description: "--privileged grants all capabilities, all devices and disables seccomp/AppArmor/SELinux confinement, making host takeover trivial.",
			Remediation: "Do not run containers with `--privileged`; grant only the specific capabilities or devices needed (`--cap-add`, `--device`).",
			Severity:    finding.Critical,
			Scope:       container,
			CIS:         &finding.CIS{ID: "5.5", Level: 1, Automated: false, V180: "5.5"},
		},
		Needs: []facts.Part{facts.PartHostConfig},
		Run:   run5_5,
	}
}

func run5_5(p *check.Pass) {
	if p.Container.HostConfig.Privileged {
		p.Fail("runs privileged: every capability, every device, no seccomp or LSM confinement", ev("privileged", "true", "false"))
		return
	}
	p.OK("not privileged", ev("privileged", "false", "false"))
}

// cis5_6 is CIS 5.6: Ensure sensitive host system directories are not mounted on containers.
func cis5_6() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure sensitive host system directories are not mounted on containers",
			Description: "Mounting host system directories (/, /boot, /dev, /etc, /lib, /proc, /sys, /usr) lets a container read or modify the host, particularly when writable.",
			Remediation: "Do not bind-mount /, /boot, /dev, /etc, /lib, /proc, /sys, /usr (or /root and Docker's data root) into containers; if a container truly needs a file from there, mount that one file read-only. Read-only mounts are reported too, at lower severity: they still expose host secrets such as /etc/shadow.",
			Severity:    finding.High,
			Scope:       container,
			CIS:         &finding.CIS{ID: "5.6", Level: 1, Automated: false, V180: "5.6"},
		},
		Needs: []facts.Part{facts.PartMounts},
		Run:   run5_6,
	}
}

func run5_6(p *check.Pass) {
	dirs := sensitiveDirs(p.Facts)
	found := false
	var unknown []string
	for _, m := range p.Container.Mounts {
		h := hostPath(m)
		if h == "" && m.HostPathUnknown != "" {
			unknown = append(unknown, m.Name+" at "+m.Destination)
			continue
		}
		if h == "" || harmless(m) {
			continue
		}
		dir, viaParent, ok := exposedDir(h, dirs)
		if !ok {
			continue
		}
		found = true
		mode := "read-only"
		if m.RW {
			mode = "read-write"
		}
		msg := fmt.Sprintf("mounts %s %s at %s", subject(m), mode, m.Destination)
		if viaParent {
			msg += ", which contains " + dir
		} else if h != path.Clean(m.HostPath) {
			msg += " (it is " + h + ")"
		}
		r := p.Fail(msg, mountEvidence(m, "no mount of "+dir)...)
		if !m.RW {
			r.Sev(finding.Medium)
		}
	}
	switch {
	case !found && len(unknown) > 0:
		p.Skip("not known whether volume " + strings.Join(unknown, ", ") + " exposes a host directory: " + unknownHostPath(p.Container.Mounts))
	case !found:
		p.OK("mounts no sensitive host directory")
	}
}

// unknownHostPath is the reason the first mount with an unknown host path gives.
func unknownHostPath(ms []facts.Mount) string {
	for _, m := range ms {
		if m.HostPathUnknown != "" {
			return m.HostPathUnknown
		}
	}
	return ""
}

// cis5_7 is CIS 5.7: Ensure sshd is not run within containers.
func cis5_7() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure sshd is not run within containers",
			Description: "An SSH server in a container adds keys, credentials and a network service to manage and attack, and is unnecessary for administration.",
			Remediation: "Remove sshd from images and use `docker exec -it <container> sh` (or `docker attach`) for access.",
			Severity:    finding.Medium,
			Scope:       container,
			CIS:         &finding.CIS{ID: "5.7", Level: 1, Automated: false, V180: "5.7"},
		},
		Needs: []facts.Part{facts.PartState},
		Run:   run5_7,
	}
}

func run5_7(p *check.Pass) {
	c := p.Container
	if !c.Running() {
		p.Skip("not running: its processes cannot be listed")
		return
	}
	if c.ProcessesError != "" {
		p.Error(c.ProcessesError)
		return
	}
	if c.Processes == nil {
		p.Skip("its process list was not collected")
		return
	}
	cmds := c.Processes.Commands()
	if len(cmds) == 0 {
		p.Error("it runs, but its process list is empty")
		return
	}
	var sshd []string
	for _, cmd := range cmds {
		if isSSHD(cmd) {
			sshd = append(sshd, cmd)
		}
	}
	if len(sshd) > 0 {
		p.Fail("runs an SSH daemon: "+strings.Join(sshd, "; "), ev("processes", strings.Join(sshd, "; ")+" (from "+c.Processes.Source+")", "no sshd"))
		return
	}
	p.OK(fmt.Sprintf("no sshd among its %d processes", len(cmds)), ev("processes", fmt.Sprintf("%d (from %s)", len(cmds), c.Processes.Source), ""))
}

// cis5_8 is CIS 5.8: Ensure privileged ports are not mapped within containers.
func cis5_8() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure privileged ports are not mapped within containers",
			Description: "Ports below 1024 are treated as privileged services; mapping containers onto them risks impersonating or colliding with trusted host services.",
			Remediation: "Map container ports to host ports ≥1024 (e.g. `-p 8080:80`) unless there is a documented need for a privileged host port (e.g. 80/443 on a web front end).",
			Severity:    finding.Low,
			Scope:       container,
			CIS:         &finding.CIS{ID: "5.8", Level: 1, Automated: false, V180: "5.8"},
		},
		Needs: []facts.Part{facts.PartPorts},
		Run:   run5_8,
	}
}

func run5_8(p *check.Pass) {
	var low []string
	for _, pt := range p.Container.Ports {
		if n, ok := hostPortLow(pt.HostPort); ok && n > 0 && n < 1024 { // 0: a random port
			low = append(low, describePort(pt))
		}
	}
	if len(low) > 0 {
		p.Fail("maps privileged host ports: "+strings.Join(low, ", "), ev("ports", strings.Join(low, ", "), "host ports 1024 and above"))
		return
	}
	p.OK("maps no host port below 1024", ev("ports", describePorts(p.Container.Ports), ""))
}

// cis5_9 is CIS 5.9: Ensure that only needed ports are open on the container.
func cis5_9() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that only needed ports are open on the container",
			Description: "Every published port is a possible entry point; exposing all image ports (-P) may open services that were never meant to be reachable.",
			Remediation: "Do not use `-P/--publish-all`; publish only the ports required with explicit `-p host:container` mappings and keep Dockerfile EXPOSE lists minimal.",
			Severity:    finding.Low,
			Scope:       container,
			CIS:         &finding.CIS{ID: "5.9", Level: 1, Automated: false, V180: "5.9"},
		},
		Needs: []facts.Part{facts.PartHostConfig, facts.PartPorts},
		Run:   run5_9,
	}
}

func run5_9(p *check.Pass) {
	c := p.Container
	if c.HostConfig.PublishAll {
		p.Warn("publishes every exposed port (-P)", ev("ports", describePorts(c.Ports), "only the ports the service needs"))
		return
	}
	if len(c.Ports) == 0 {
		p.OK("publishes no ports")
		return
	}
	p.Manual("publishes "+describePorts(c.Ports)+"; confirm each is needed", ev("ports", describePorts(c.Ports), "only the ports the service needs"))
}

// cis5_10 is CIS 5.10: Ensure that the host's network namespace is not shared.
func cis5_10() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that the host's network namespace is not shared",
			Description: "With the host network namespace a container can see and bind to all host interfaces and may reach local-only services such as D-Bus.",
			Remediation: "Do not run containers with `--network=host` (`--net=host`); use bridge or user-defined networks.",
			Severity:    finding.High,
			Scope:       container,
			CIS:         &finding.CIS{ID: "5.10", Level: 1, Automated: false, V180: "5.10"},
		},
		Needs: []facts.Part{facts.PartHostConfig},
		Run:   run5_10,
	}
}

func run5_10(p *check.Pass) {
	sharedNamespace(p, "network", func(c *facts.Container) string { return c.HostConfig.NetworkMode })
}

// cis5_11 is CIS 5.11: Ensure that the memory usage for containers is limited.
func cis5_11() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that the memory usage for containers is limited",
			Description: "Without a memory limit a single container can exhaust host memory and trigger OOM kills of other workloads (denial of service).",
			Remediation: "Start containers with an explicit memory limit, e.g. `docker run --memory 256m ...` (optionally `--memory-swap`).",
			Severity:    finding.Medium,
			Scope:       container,
			CIS:         &finding.CIS{ID: "5.11", Level: 1, Automated: false, V180: "5.11"},
		},
		Needs: []facts.Part{facts.PartHostConfig},
		Run:   run5_11,
	}
}

func run5_11(p *check.Pass) {
	m := p.Container.HostConfig.Memory
	if m <= 0 {
		p.Fail("has no memory limit", ev("memory", "unlimited", "a limit (--memory)"))
		return
	}
	p.OK("memory is limited to "+bytesHuman(m), ev("memory", bytesHuman(m), ""))
}

// cis5_12 is CIS 5.12: Ensure that CPU priority is set appropriately on containers.
func cis5_12() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that CPU priority is set appropriately on containers",
			Description: "Without CPU shares or quotas a busy container can starve others and the host.",
			Remediation: "Set relative or absolute CPU limits, e.g. `--cpu-shares 512` or `--cpus 1.5`, according to the container's priority.",
			Severity:    finding.Low,
			Scope:       container,
			CIS:         &finding.CIS{ID: "5.12", Level: 1, Automated: false, V180: "5.12"},
		},
		Needs: []facts.Part{facts.PartHostConfig},
		Run:   run5_12,
	}
}

func run5_12(p *check.Pass) {
	c := p.Container
	var set []string
	if c.HostConfig.CPUShares > 0 {
		set = append(set, fmt.Sprintf("cpu-shares %d", c.HostConfig.CPUShares))
	}
	if c.HostConfig.NanoCPUs > 0 {
		set = append(set, fmt.Sprintf("cpus %s", strconv.FormatFloat(float64(c.HostConfig.NanoCPUs)/1e9, 'f', -1, 64)))
	}
	if c.HostConfig.CPUQuota > 0 {
		set = append(set, fmt.Sprintf("cpu-quota %d", c.HostConfig.CPUQuota))
	}
	if len(set) == 0 {
		p.Fail("has no CPU shares or CPU limit", ev("cpu", "unset", "--cpu-shares or --cpus"))
		return
	}
	p.OK("CPU use is bounded: "+strings.Join(set, ", "), ev("cpu", strings.Join(set, ", "), ""))
}

// cis5_13 is CIS 5.13: Ensure that the container's root filesystem is mounted as read only.
func cis5_13() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that the container's root filesystem is mounted as read only",
			Description: "A read-only root filesystem stops attackers from dropping tools or modifying binaries inside the container and enforces immutability.",
			Remediation: "Run with `--read-only`, giving writable paths explicitly via volumes or `--tmpfs /tmp`.",
			Severity:    finding.Medium,
			Scope:       container,
			CIS:         &finding.CIS{ID: "5.13", Level: 1, Automated: false, V180: "5.13"},
		},
		Needs: []facts.Part{facts.PartHostConfig},
		Run:   run5_13,
	}
}

func run5_13(p *check.Pass) {
	if !p.Container.HostConfig.ReadonlyRootfs {
		p.Fail("its root filesystem is writable", ev("read-only root filesystem", "false", "true"))
		return
	}
	p.OK("its root filesystem is read-only", ev("read-only root filesystem", "true", "true"))
}

// cis5_14 is CIS 5.14: Ensure that incoming container traffic is bound to a specific host interface.
func cis5_14() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that incoming container traffic is bound to a specific host interface",
			Description: "Publishing on 0.0.0.0 exposes the container on every host interface, including ones facing untrusted networks.",
			Remediation: "Bind published ports to a specific address, e.g. `-p 10.2.3.4:8080:80` or `-p 127.0.0.1:8080:80`.",
			Severity:    finding.Medium,
			Scope:       container,
			CIS:         &finding.CIS{ID: "5.14", Level: 1, Automated: false, V180: "5.14"},
		},
		Needs: []facts.Part{facts.PartPorts},
		Run:   run5_14,
	}
}

func run5_14(p *check.Pass) {
	var wild []string
	for _, pt := range p.Container.Ports {
		if pt.HostIP == "" || pt.HostIP == "0.0.0.0" || pt.HostIP == "::" {
			wild = append(wild, describePort(pt))
		}
	}
	if len(wild) > 0 {
		p.Fail("accepts traffic on every host interface: "+strings.Join(wild, ", "), ev("ports", strings.Join(wild, ", "), "bound to a specific host address"))
		return
	}
	if len(p.Container.Ports) == 0 {
		p.OK("publishes no ports")
		return
	}
	p.OK("every published port is bound to a specific host address", ev("ports", describePorts(p.Container.Ports), ""))
}

// cis5_15 is CIS 5.15: Ensure that the 'on-failure' container restart policy is set to '5'.
func cis5_15() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that the 'on-failure' container restart policy is set to '5'",
			Description: "Unlimited automatic restarts of a failing container can mask attacks and cause resource exhaustion; a bounded retry count limits this.",
			Remediation: "Use `--restart=on-failure:5` (at most 5 retries) where automatic restart is wanted, rather than unlimited `always` restarts.",
			Severity:    finding.Low,
			Scope:       container,
			CIS:         &finding.CIS{ID: "5.15", Level: 1, Automated: false, V180: "5.15"},
		},
		Needs: []facts.Part{facts.PartHostConfig},
		Run:   run5_15,
	}
}

func run5_15(p *check.Pass) {
	c := p.Container
	e := ev("restart policy", restartPolicy(c), "on-failure with at most 5 retries")
	switch c.HostConfig.RestartPolicy {
	case "", "no":
		p.OK("is not restarted automatically", e)
	case "on-failure":
		if c.HostConfig.RestartRetries > 0 && c.HostConfig.RestartRetries <= 5 {
			p.OK("restarts on failure at most "+strconv.Itoa(c.HostConfig.RestartRetries)+" times", e)
			return
		}
		p.Fail("restarts on failure without a limit of 5 retries", e)
	default:
		p.Fail("restarts without a retry limit ("+c.HostConfig.RestartPolicy+")", e)
	}
}

// cis5_16 is CIS 5.16: Ensure that the host's process namespace is not shared.
func cis5_16() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that the host's process namespace is not shared",
			Description: "Sharing the host PID namespace lets the container see and signal host processes, and with enough privilege inspect or kill them.",
			Remediation: "Do not run containers with `--pid=host`.",
			Severity:    finding.High,
			Scope:       container,
			CIS:         &finding.CIS{ID: "5.16", Level: 1, Automated: false, V180: "5.16"},
		},
		Needs: []facts.Part{facts.PartHostConfig},
		Run:   run5_16,
	}
}

func run5_16(p *check.Pass) {
	sharedNamespace(p, "process", func(c *facts.Container) string { return c.HostConfig.PidMode })
}

// cis5_17 is CIS 5.17: Ensure that the host's IPC namespace is not shared.
func cis5_17() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that the host's IPC namespace is not shared",
			Description: "Sharing the host IPC namespace exposes host shared memory segments and semaphores to the container.",
			Remediation: "Do not run containers with `--ipc=host`.",
			Severity:    finding.High,
			Scope:       container,
			CIS:         &finding.CIS{ID: "5.17", Level: 1, Automated: false, V180: "5.17"},
		},
		Needs: []facts.Part{facts.PartHostConfig},
		Run:   run5_17,
	}
}

func run5_17(p *check.Pass) {
	sharedNamespace(p, "IPC", func(c *facts.Container) string { return c.HostConfig.IpcMode })
}

// cis5_18 is CIS 5.18: Ensure that host devices are not directly exposed to containers.
func cis5_18() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that host devices are not directly exposed to containers",
			Description: "Direct device access (--device) can let a container read or write host hardware such as disks, bypassing isolation.",
			Remediation: "Avoid `--device`; if a device is required, pass only that device with minimal permissions, e.g. `--device=/dev/xyz:/dev/xyz:r`.",
			Severity:    finding.Medium,
			Scope:       container,
			CIS:         &finding.CIS{ID: "5.18", Level: 1, Automated: false, V180: "5.18"},
		},
		Needs: []facts.Part{facts.PartHostConfig},
		Run:   run5_18,
	}
}

func run5_18(p *check.Pass) {
	var devs []string
	for _, d := range p.Container.HostConfig.Devices {
		devs = append(devs, fmt.Sprintf("%s:%s:%s", d.PathOnHost, d.PathInContainer, d.CgroupPermissions))
	}
	if len(devs) > 0 {
		p.Warn("has host devices: "+strings.Join(devs, ", ")+"; confirm they are needed", ev("devices", strings.Join(devs, ", "), "none"))
		return
	}
	p.OK("has no host devices")
}

// cis5_19 is CIS 5.19: Ensure that the default ulimit is overwritten at runtime if needed.
func cis5_19() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that the default ulimit is overwritten at runtime if needed",
			Description: "Per-container ulimits let you tighten or tune resource limits where the daemon default is not suitable, reducing DoS risk.",
			Remediation: "Rely on the daemon defaults and override only where needed, e.g. `docker run --ulimit nofile=1024:1024 ...`.",
			Severity:    finding.Low,
			Scope:       container,
			CIS:         &finding.CIS{ID: "5.19", Level: 1, Automated: false, V180: "5.19"},
		},
		Needs: []facts.Part{facts.PartHostConfig},
		Run:   run5_19,
	}
}

func run5_19(p *check.Pass) {
	var ul []string
	for _, u := range p.Container.HostConfig.Ulimits {
		ul = append(ul, fmt.Sprintf("%s=%d:%d", u.Name, u.Soft, u.Hard))
	}
	if len(ul) > 0 {
		p.OK("sets its own ulimits: "+strings.Join(ul, ", "), ev("ulimits", strings.Join(ul, ", "), ""))
		return
	}
	p.Info("uses the daemon's default ulimits; override them with --ulimit where a workload needs different ones", ev("ulimits", "daemon default", ""))
}

// cis5_20 is CIS 5.20: Ensure mount propagation mode is not set to shared.
func cis5_20() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure mount propagation mode is not set to shared",
			Description: "Shared mount propagation lets mounts made in the container appear on the host (and vice versa), breaking filesystem isolation.",
			Remediation: "Do not use `shared`/`rshared` propagation on volumes (e.g. avoid `-v /host:/ctr:shared` or `bind-propagation=shared`); keep the default private.",
			Severity:    finding.Medium,
			Scope:       container,
			CIS:         &finding.CIS{ID: "5.20", Level: 1, Automated: false, V180: "5.20"},
		},
		Needs: []facts.Part{facts.PartMounts},
		Run:   run5_20,
	}
}

func run5_20(p *check.Pass) {
	for _, m := range p.Container.Mounts {
		if m.Propagation == "shared" || m.Propagation == "rshared" {
			p.Fail(fmt.Sprintf("mounts %s with %s propagation: mounts made inside reach the host", m.Source, m.Propagation),
				ev("mount", describeMount(m), "private or slave propagation"))
		}
	}
	if !p.Reported() {
		p.OK("no mount uses shared propagation")
	}
}

// cis5_21 is CIS 5.21: Ensure that the host's UTS namespace is not shared.
func cis5_21() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that the host's UTS namespace is not shared",
			Description: "Sharing the host UTS namespace lets a container change the host's hostname and domain name.",
			Remediation: "Do not run containers with `--uts=host`.",
			Severity:    finding.Medium,
			Scope:       container,
			CIS:         &finding.CIS{ID: "5.21", Level: 1, Automated: false, V180: "5.21"},
		},
		Needs: []facts.Part{facts.PartHostConfig},
		Run:   run5_21,
	}
}

func run5_21(p *check.Pass) {
	e := ev("uts mode", cmp.Or(p.Container.HostConfig.UTSMode, "private"), "not host")
	if p.Container.HostConfig.UTSMode == "host" {
		p.Fail("shares the host's UTS namespace", e)
		return
	}
	p.OK("has its own UTS namespace", e)
}

// cis5_22 is CIS 5.22: Ensure the default seccomp profile is not Disabled.
func cis5_22() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure the default seccomp profile is not Disabled",
			Description: "The default seccomp profile blocks dozens of dangerous syscalls; disabling it exposes much more of the kernel to the container.",
			Remediation: "Do not run containers with `--security-opt seccomp=unconfined`; keep the default profile or supply a stricter custom one (`--security-opt seccomp=/path/profile.json`).",
			Severity:    finding.High,
			Scope:       container,
			CIS:         &finding.CIS{ID: "5.22", Level: 1, Automated: false, V180: "5.22"},
		},
		Needs: []facts.Part{facts.PartHostConfig},
		Run:   run5_22,
	}
}

func run5_22(p *check.Pass) {
	v := confine.SeccompOf(p.Facts, p.Container)
	e := ev("seccomp", v.Requested(), "Docker's default or a custom profile that refuses what it does not name")
	if v.Problem != "" {
		p.Fail(v.Problem, e)
		return
	}
	if what, ok := v.DaemonDecides(); ok {
		why, _ := p.Missing(facts.PartSecurityOptions)
		p.Skip(what+": "+why, e)
		return
	}
	p.OK("runs with "+v.Requested(), e)
}

// cis5_23 is CIS 5.23: Ensure that docker exec commands are not used with the privileged option.
func cis5_23() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that docker exec commands are not used with the privileged option",
			Description: "`docker exec --privileged` gives the exec'd process full capabilities, bypassing the container's restrictions.",
			Remediation: "Do not use `--privileged` with `docker exec`; restrict who can run exec (e.g. with an authorization plugin) and audit exec events.",
			Severity:    finding.Medium,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "5.23", Level: 2, Automated: false, V180: "5.23"},
		},
		Run: run5_23,
	}
}

func run5_23(p *check.Pass) {
	p.Manual("past docker exec calls are not kept by the Engine API; review the host's audit log or the daemon's events for exec_create with Privileged set")
}

// cis5_24 is CIS 5.24: Ensure that docker exec commands are not used with the user=root option.
func cis5_24() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that docker exec commands are not used with the user=root option",
			Description: "`docker exec --user=root` gives root inside containers that were deliberately run as a non-root user.",
			Remediation: "Do not use `--user=root` (or `-u 0`) with `docker exec`; audit exec usage.",
			Severity:    finding.Medium,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "5.24", Level: 2, Automated: false, V180: "5.24"},
		},
		Run: run5_24,
	}
}

func run5_24(p *check.Pass) {
	p.Manual("past docker exec calls are not kept by the Engine API; review the host's audit log or the daemon's events for exec_create with User root")
}

// cis5_25 is CIS 5.25: Ensure that cgroup usage is confirmed.
func cis5_25() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that cgroup usage is confirmed",
			Description: "A custom cgroup parent can place a container outside the intended resource controls.",
			Remediation: "Do not use `--cgroup-parent` with `docker run` unless strictly required and reviewed; leave containers in Docker's default cgroup.",
			Severity:    finding.Low,
			Scope:       container,
			CIS:         &finding.CIS{ID: "5.25", Level: 1, Automated: false, V180: "5.25"},
		},
		Needs: []facts.Part{facts.PartHostConfig},
		Run:   run5_25,
	}
}

func run5_25(p *check.Pass) {
	cp := p.Container.HostConfig.CgroupParent
	if cp != "" {
		p.Warn("runs under the cgroup parent "+cp+"; confirm it is intended", ev("cgroup parent", cp, "the default"))
		return
	}
	p.OK("uses the default cgroup parent")
}

// cis5_26 is CIS 5.26: Ensure that the container is restricted from acquiring additional privileges.
func cis5_26() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that the container is restricted from acquiring additional privileges",
			Description: "Blocking privilege gain through setuid/setgid binaries stops a process in the container from escalating to root.",
			Remediation: "Run containers with `--security-opt no-new-privileges` (or set `\"no-new-privileges\": true` daemon-wide, see 2.14).",
			Severity:    finding.Medium,
			Scope:       container,
			CIS:         &finding.CIS{ID: "5.26", Level: 1, Automated: false, V180: "5.26"},
		},
		Needs: []facts.Part{facts.PartHostConfig},
		Run:   run5_26,
	}
}

func run5_26(p *check.Pass) {
	v := confine.NNPOf(p.Facts, p.Container)
	own := "unset"
	if vals := p.Container.SecurityOptValues("no-new-privileges"); len(vals) > 0 {
		own = vals[len(vals)-1]
	}
	evs := []finding.Evidence{ev("no-new-privileges", own, "true")}
	if d := p.Facts.Daemon; v.Source == "daemon default" {
		evs = append(evs, ev("daemon no-new-privileges", setting(d, "no-new-privileges", "false"), "true"))
	}
	switch {
	case v.Conf != nil && v.Requested && !v.Conf.NoNewPrivs:
		p.Fail(fmt.Sprintf("no-new-privileges was requested, but PID %d runs without it (see CONFINE-NNP)", v.Conf.PID), evs...)
	case v.Requested && v.Source == "daemon default":
		p.OK("gets no-new-privileges from the daemon default", evs...)
	case v.Requested:
		p.OK("sets no-new-privileges", evs...)
	case v.Source == "" && p.Facts.NoDaemon != "":
		p.Skip("does not set no-new-privileges, so the daemon's default decides: "+p.Facts.NoDaemon, evs...)
	case v.Source == "":
		p.Warn("does not set no-new-privileges, and the daemon default could not be read", evs...)
	case v.Source == "daemon default":
		p.Fail("does not set no-new-privileges: setuid binaries inside can gain privileges", evs...)
	default:
		p.Fail("turns no-new-privileges off", evs...)
	}
}

// cis5_27 is CIS 5.27: Ensure that container health is checked at runtime.
func cis5_27() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that container health is checked at runtime",
			Description: "Runtime health checks detect containers that are running but no longer functioning, so they can be restarted or investigated.",
			Remediation: "Ensure images define HEALTHCHECK or start containers with `--health-cmd` (plus `--health-interval`, `--health-retries`), e.g. `--health-cmd='stat /etc/passwd || exit 1'`.",
			Severity:    finding.Low,
			Scope:       container,
			CIS:         &finding.CIS{ID: "5.27", Level: 1, Automated: false, V180: "5.27"},
		},
		Needs: []facts.Part{facts.PartConfig, facts.PartState, facts.PartHealthcheck},
		Run:   run5_27,
	}
}

func run5_27(p *check.Pass) {
	c := p.Container
	if !hasHealthcheck(c.Config.Healthcheck) {
		p.Fail("has no health check", ev("healthcheck", displayHealthcheck(c.Config.Healthcheck), "a HEALTHCHECK or --health-cmd"))
		return
	}
	status := cmp.Or(c.State.Health, "not running")
	p.OK("has a health check (status: "+status+")", ev("healthcheck", strings.Join(c.Config.Healthcheck, " "), ""), ev("health", status, ""))
}

// cis5_28 is CIS 5.28: Ensure that Docker commands always make use of the latest version of their image.
func cis5_28() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that Docker commands always make use of the latest version of their image",
			Description: "Relying on cached or floating tags can leave older, vulnerable image versions in use.",
			Remediation: "Pin image versions by tag or digest and pull explicitly before running (`docker pull image@sha256:...`, `docker run --pull=always`), and keep base images and packages pinned as well.",
			Severity:    finding.Low,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "5.28", Level: 1, Automated: false, V180: "5.28"},
		},
		Run: run5_28,
	}
}

func run5_28(p *check.Pass) {
	p.Manual("whether each container runs the newest build of its image needs the registry's current digest; pull with --pull=always or compare digests before deploying")
}

// cis5_29 is CIS 5.29: Ensure that the PIDs cgroup limit is used.
func cis5_29() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that the PIDs cgroup limit is used",
			Description: "Without a PIDs limit a fork bomb in one container can exhaust the host's process table.",
			Remediation: "Run containers with `--pids-limit <n>` (e.g. `--pids-limit 100`) sized for the workload.",
			Severity:    finding.Medium,
			Scope:       container,
			CIS:         &finding.CIS{ID: "5.29", Level: 1, Automated: false, V180: "5.29"},
		},
		Needs: []facts.Part{facts.PartHostConfig},
		Run:   run5_29,
	}
}

func run5_29(p *check.Pass) {
	l := p.Container.HostConfig.PidsLimit
	if l <= 0 {
		p.Fail("has no PIDs limit: a fork bomb inside can exhaust the host", ev("pids limit", "unlimited", "--pids-limit"))
		return
	}
	p.OK("PIDs are limited to "+strconv.FormatInt(l, 10), ev("pids limit", strconv.FormatInt(l, 10), ""))
}

// cis5_30 is CIS 5.30: Ensure that Docker's default bridge \"docker0\" is not used.
func cis5_30() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that Docker's default bridge \"docker0\" is not used",
			Description: "Containers on the default docker0 bridge can reach each other without filtering and are exposed to ARP spoofing and MAC flooding.",
			Remediation: "Create user-defined networks (`docker network create <net>`) and run containers with `--network <net>` instead of the default bridge.",
			Severity:    finding.Low,
			Scope:       container,
			CIS:         &finding.CIS{ID: "5.30", Level: 2, Automated: false, V180: "5.30"},
		},
		Needs: []facts.Part{facts.PartHostConfig, facts.PartNetworks, facts.PartDaemonNetworks},
		Run:   run5_30,
	}
}

func run5_30(p *check.Pass) {
	c := p.Container
	if j := resolveMode(p.Facts, c, func(c *facts.Container) string { return c.HostConfig.NetworkMode }); len(j.via) > 0 {
		switch {
		case j.loop:
			p.Warn(fmt.Sprintf("joins the network of containers that join each other (%s): the daemon could not start it", strings.Join(j.via, " -> ")), ev("network mode", c.HostConfig.NetworkMode, ""))
			return
		case j.unknown != "":
			p.Skip(fmt.Sprintf("joins the network of container %s, which is not known: %s", strings.Join(j.via, " -> "), j.unknown), ev("network mode", c.HostConfig.NetworkMode, ""))
			return
		case j.last == nil:
			joinsUnknown(p, fmt.Sprintf("joins the network of container %s, %s", j.via[len(j.via)-1], notAudited(p.Facts)), ev("network mode", c.HostConfig.NetworkMode, ""))
			return
		}
		c = j.last // the container whose network it shares
		if why, missing := c.Missing(facts.PartNetworks); missing {
			p.Skip(fmt.Sprintf("joins the network of container %s, whose networks are not known: %s", c.Name, why))
			return
		}
	}
	br, ok := defaultBridge(p.Facts.Networks)
	name, _ := br.Options.Get("com.docker.network.bridge.name")
	// The networks the container is attached to decide; a container created but
	// never started has none yet, and its mode says where it will go.
	onDefault := ok && slices.Contains(c.Networks, br.ID)
	if len(c.Networks) == 0 {
		onDefault = ok && (c.HostConfig.NetworkMode == "default" || c.HostConfig.NetworkMode == "bridge")
	}
	if onDefault {
		p.Fail("is attached to the default bridge ("+cmp.Or(name, "docker0")+")", ev("network mode", p.Container.HostConfig.NetworkMode, "a user-defined network"))
		return
	}
	p.OK("is not on the default bridge", ev("network mode", p.Container.HostConfig.NetworkMode, ""))
}

// cis5_31 is CIS 5.31: Ensure that the host's user namespaces are not shared.
func cis5_31() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that the host's user namespaces are not shared",
			Description: "Sharing the host user namespace disables user-namespace remapping for the container, so container root is host root.",
			Remediation: "Do not run containers with `--userns=host`.",
			Severity:    finding.High,
			Scope:       container,
			CIS:         &finding.CIS{ID: "5.31", Level: 1, Automated: false, V180: "5.31"},
		},
		Needs: []facts.Part{facts.PartHostConfig, facts.PartSecurityOptions},
		Run:   run5_31,
	}
}

func run5_31(p *check.Pass) {
	v := confine.UsernsOf(p.Facts, p.Container)
	e := ev("userns mode", cmp.Or(p.Container.HostConfig.UsernsMode, "daemon default"), "not host")
	switch {
	case v.OptOut && !v.Rootless:
		p.Fail("shares the host's user namespace", e)
	case v.HostRoot():
		// Not an opt-out, but there is nothing to opt out of: CIS-2.9 is the fix.
		p.Info("the daemon remaps no users (see CIS-2.9), so this container is in the host's user namespace whatever its mode", e)
	default:
		p.OK("does not opt out of user namespace remapping", e)
	}
}

// cis5_32 is CIS 5.32: Ensure that the Docker socket is not mounted inside any containers.
func cis5_32() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that the Docker socket is not mounted inside any containers",
			Description: "A container with the Docker socket mounted can ask the daemon to start privileged containers and thus control the host.",
			Remediation: "Do not bind-mount /var/run/docker.sock, nor a directory that contains it (/var/run, /run, /var or /), into containers. If a tool needs the API, give it a socket proxy that allows only the calls it needs, or run it on the host.",
			Severity:    finding.Critical,
			Scope:       container,
			CIS:         &finding.CIS{ID: "5.32", Level: 1, Automated: false, V180: "5.32"},
		},
		Needs: []facts.Part{facts.PartMounts},
		Run:   run5_32,
	}
}

func run5_32(p *check.Pass) {
	socks := apiSockets(p.Facts)
	found := false
	var unknown []string
	for _, m := range p.Container.Mounts {
		h := hostPath(m)
		if h == "" && m.HostPathUnknown != "" {
			unknown = append(unknown, m.Name+" at "+m.Destination)
			continue
		}
		if h == "" {
			continue
		}
		if s, ok := exposedSocket(h, socks); ok {
			found = true
			if h == s.path {
				p.Fail(fmt.Sprintf("mounts %s %s at %s: %s", s.what, m.HostPath, m.Destination, s.consequence), mountEvidence(m, "no mount of "+s.what)...)
			} else {
				p.Fail(fmt.Sprintf("mounts %s, which exposes %s %s at %s: %s", m.HostPath, s.what, s.path, path.Join(m.Destination, strings.TrimPrefix(s.path, h)), s.consequence),
					mountEvidence(m, "no mount of "+s.what)...)
			}
		} else if path.Base(h) == "docker.sock" {
			found = true
			p.Fail(fmt.Sprintf("mounts a Docker socket %s at %s: the container controls that daemon", m.HostPath, m.Destination), mountEvidence(m, "no Docker socket")...)
		}
	}
	switch {
	case !found && len(unknown) > 0:
		p.Skip("not known whether volume " + strings.Join(unknown, ", ") + " exposes a daemon socket: " + unknownHostPath(p.Container.Mounts))
	case !found:
		p.OK("mounts neither the Docker nor the containerd socket")
	}
}

func apparmorAvailable(s *facts.Snapshot) bool {
	_, ok := s.Engine.SecurityOption("apparmor")
	return ok
}

func describeMount(m facts.Mount) string {
	mode := "ro"
	if m.RW {
		mode = "rw"
	}
	s := fmt.Sprintf("%s:%s:%s", m.Source, m.Destination, mode)
	if m.Propagation != "" {
		s += "," + m.Propagation
	}
	return s
}

func isSSHD(cmd string) bool {
	first, _, _ := strings.Cut(strings.TrimSpace(cmd), " ")
	return path.Base(first) == "sshd" || strings.HasPrefix(first, "sshd:")
}

// hostPortLow returns the lowest port of a host port ("80", "8000-8010"); "" (a random
// ephemeral port) has none.
func hostPortLow(hp string) (int, bool) {
	lo, _, _ := strings.Cut(hp, "-")
	n, err := strconv.Atoi(lo)
	return n, err == nil
}

func describePort(pt facts.Port) string {
	ip := pt.HostIP
	if ip == "" {
		ip = "*"
	} else if strings.Contains(ip, ":") {
		ip = "[" + ip + "]"
	}
	hp := pt.HostPort
	if hp == "" || hp == "0" {
		hp = "(random)"
	}
	return ip + ":" + hp + "->" + pt.ContainerPort
}

func describePorts(ps []facts.Port) string {
	if len(ps) == 0 {
		return "none"
	}
	out := make([]string, len(ps))
	for i, pt := range ps {
		out[i] = describePort(pt)
	}
	return strings.Join(out, ", ")
}

func bytesHuman(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return strconv.FormatFloat(float64(n)/float64(div), 'f', -1, 64) + " " + string("KMGTPE"[exp]) + "iB"
}

func restartPolicy(c *facts.Container) string {
	switch c.HostConfig.RestartPolicy {
	case "":
		return "no"
	case "on-failure":
		return fmt.Sprintf("on-failure:%d", c.HostConfig.RestartRetries)
	}
	return c.HostConfig.RestartPolicy
}

// describeProfile shows a --security-opt seccomp value: the CLI sends a profile's JSON
// itself, which is too long for a report.
func describeProfile(v string) string {
	if strings.HasPrefix(strings.TrimSpace(v), "{") {
		return fmt.Sprintf("custom profile (%d bytes of JSON)", len(v))
	}
	return v
}

// sharedNamespace decides 5.10, 5.16 and 5.17: a container shares the host's namespace
// when its mode is "host", or when it joins (container:ID) a container that does.
func sharedNamespace(p *check.Pass, what string, get func(*facts.Container) string) {
	own := get(p.Container)
	j := resolveMode(p.Facts, p.Container, get)
	e := ev(what+" mode", cmp.Or(own, "private"), "not host")
	switch {
	case j.mode == "host" && len(j.via) == 0:
		p.Fail("shares the host's "+what+" namespace", e)
	case j.mode == "host":
		p.Fail(fmt.Sprintf("shares the host's %s namespace through container %s", what, strings.Join(j.via, " -> ")), e)
	case j.loop:
		p.Warn(fmt.Sprintf("joins the %s namespace of containers that join each other (%s): the daemon could not start it", what, strings.Join(j.via, " -> ")), e)
	case j.unknown != "":
		p.Skip(fmt.Sprintf("joins the %s namespace of container %s, which is not known: %s", what, strings.Join(j.via, " -> "), j.unknown), e)
	case j.last == nil && len(j.via) > 0:
		joinsUnknown(p, fmt.Sprintf("joins the %s namespace of container %s, %s", what, j.via[len(j.via)-1], notAudited(p.Facts)), e)
	case len(j.via) > 0:
		p.OK(fmt.Sprintf("shares the %s namespace of container %s, which is not the host's", what, strings.Join(j.via, " -> ")), e)
	default:
		p.OK("has its own "+what+" namespace", e)
	}
}

// joined is where a chain of container:REF namespace modes ends.
type joined struct {
	mode string           // the mode at the end of the chain
	via  []string         // the containers joined, in order
	last *facts.Container // the container the chain ends on; nil when it was not audited
	loop bool             // the chain comes back to a container it passed
	// unknown says why the chain could not be followed: a container on it whose
	// configuration is not known.
	unknown string
}

// resolveMode follows container:REF namespace modes through the audited containers.
func resolveMode(s *facts.Snapshot, c *facts.Container, get func(*facts.Container) string) joined {
	j := joined{mode: get(c), last: c}
	seen := map[string]bool{c.ID: true}
	for len(j.via) < 16 {
		ref, ok := strings.CutPrefix(j.mode, "container:")
		if !ok {
			return j
		}
		t := findContainer(s, ref)
		if t == nil || t.Error != "" {
			j.via, j.last = append(j.via, ref), nil
			return j
		}
		j.via = append(j.via, t.Name)
		if seen[t.ID] {
			j.loop = true
			return j
		}
		seen[t.ID] = true
		if why, missing := t.Missing(facts.PartHostConfig); missing {
			j.last, j.unknown = nil, why
			return j
		}
		j.last, j.mode = t, get(t)
	}
	j.loop = true // longer than any real chain
	return j
}

// notAudited says why a container a mode refers to is not among the audited ones.
func notAudited(s *facts.Snapshot) string {
	if s.NoDaemon != "" {
		return "which the files do not define: what it shares is not known"
	}
	if s.IncludesStopped {
		return "which the daemon did not list (it does not exist, or the reference is ambiguous)"
	}
	return "which was not audited (run with --all to follow it)"
}

// joinsUnknown reports a container that joins one the audit did not see: a warning on a
// daemon (the container exists there, unaudited), skip for files (it is not known).
func joinsUnknown(p *check.Pass, msg string, e finding.Evidence) {
	if p.Facts.NoDaemon != "" {
		p.Skip(msg, e)
		return
	}
	p.Warn(msg, e)
}

// findContainer finds a container by full ID or name, or else by a unique ID prefix,
// as the daemon resolves references.
func findContainer(s *facts.Snapshot, ref string) *facts.Container {
	ref = strings.TrimPrefix(ref, "/")
	if ref == "" {
		return nil
	}
	// The daemon's order: a full ID, then a name, then a unique ID prefix.
	for i := range s.Containers {
		if c := &s.Containers[i]; c.ID == ref {
			return c
		}
	}
	for i := range s.Containers {
		if c := &s.Containers[i]; c.Name == ref {
			return c
		}
	}
	var match *facts.Container
	for i := range s.Containers {
		if c := &s.Containers[i]; strings.HasPrefix(c.ID, ref) {
			if match != nil {
				return nil // ambiguous
			}
			match = c
		}
	}
	return match
}

// permissiveProfile reports a custom seccomp profile (the JSON the CLI sends) whose
// default action lets unlisted syscalls through. The full lint is dockaudit seccomp.
func permissiveProfile(v string) (string, bool) {
	var prof struct {
		DefaultAction string `json:"defaultAction"`
	}
	if json.Unmarshal([]byte(v), &prof) != nil {
		return "", false
	}
	switch prof.DefaultAction {
	case "SCMP_ACT_ALLOW", "SCMP_ACT_LOG":
		return prof.DefaultAction, true
	}
	return "", false
}
