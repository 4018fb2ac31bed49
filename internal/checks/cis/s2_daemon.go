package cis

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
)

func section2() []check.Check {
	return []check.Check{
		cis2_1(),
		cis2_2(),
		cis2_3(),
		cis2_4(),
		cis2_5(),
		cis2_6(),
		cis2_7(),
		cis2_8(),
		cis2_9(),
		cis2_10(),
		cis2_11(),
		cis2_12(),
		cis2_13(),
		cis2_14(),
		cis2_15(),
		cis2_16(),
		cis2_17(),
		cis2_18(),
	}
}

// cis2_1 is CIS 2.1: Run the Docker daemon as a non-root user, if possible.
func cis2_1() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Run the Docker daemon as a non-root user, if possible",
			Description: "A root-owned daemon means any daemon or runtime escape yields host root; rootless mode confines that damage to an unprivileged user.",
			Remediation: "Where workloads allow it, run Docker in rootless mode (`dockerd-rootless-setuptool.sh install` as an unprivileged user, per Docker's rootless documentation).",
			Severity:    finding.Low,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "2.1", Level: 1, Automated: false, V180: "2.1"},
		},
		Needs: []facts.Part{facts.PartEngine, facts.PartSecurityOptions},
		Run:   run2_1,
	}
}

func run2_1(p *check.Pass) {
	if _, ok := p.Facts.Engine.SecurityOption("rootless"); ok {
		p.OK("the daemon runs in rootless mode", ev("security options", strings.Join(p.Facts.Engine.SecurityOptions, "; "), "name=rootless"))
		return
	}
	if d := p.Facts.Daemon; d != nil && d.UID != 0 {
		p.OK(fmt.Sprintf("the daemon runs as UID %d", d.UID), ev("daemon UID", fmt.Sprint(d.UID), "not 0"))
		return
	}
	p.Warn("the daemon runs as root; consider rootless mode where the workloads allow it",
		ev("security options", strings.Join(p.Facts.Engine.SecurityOptions, "; "), "name=rootless"))
}

// cis2_2 is CIS 2.2: Ensure network traffic is restricted between containers on the default bridge.
func cis2_2() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure network traffic is restricted between containers on the default bridge",
			Description: "On the default bridge every container can reach every other container, so one compromised container can probe or attack its neighbours.",
			Remediation: "Set `\"icc\": false` in /etc/docker/daemon.json (or start dockerd with `--icc=false`) and use user-defined networks or explicit links for containers that must talk.",
			Severity:    finding.Medium,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "2.2", Level: 1, Automated: false, V180: "2.2"},
		},
		Needs: []facts.Part{facts.PartDaemonNetworks},
		Run:   run2_2,
	}
}

func run2_2(p *check.Pass) {
	br, ok := defaultBridge(p.Facts.Networks)
	if !ok {
		p.OK("there is no default bridge network")
		return
	}
	icc, set := br.Options.Get("com.docker.network.bridge.enable_icc")
	evs := []finding.Evidence{ev("default bridge enable_icc", icc, "false")}
	if d := p.Facts.Daemon; d != nil {
		evs = append(evs, ev("icc", setting(d, "icc", "true"), "false"))
	}
	if set && icc == "false" {
		p.OK("containers on the default bridge cannot talk to each other", evs...)
		return
	}
	p.Fail("containers on the default bridge can reach each other (icc is enabled)", evs...)
}

// cis2_3 is CIS 2.3: Ensure the logging level is set to 'info'.
func cis2_3() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure the logging level is set to 'info'",
			Description: "The info level records the events needed for later investigation; debug is noisy and can leak sensitive data, while higher levels drop useful events.",
			Remediation: "Set `\"log-level\": \"info\"` in daemon.json (or `dockerd --log-level=info`), or leave it unset since info is the default.",
			Severity:    finding.Low,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "2.3", Level: 1, Automated: false, V180: "2.3"},
		},
		Run: run2_3,
	}
}

func run2_3(p *check.Pass) {
	d := p.Facts.Daemon
	if d != nil && d.ConfigError != "" {
		daemonConfig(p) // reports the unreadable configuration
		return
	}
	if d == nil {
		if p.Facts.Engine.Debug {
			p.Fail("the daemon runs in debug mode", ev("debug", "true", "false"))
			return
		}
		p.Skip("the log level is not exposed through the Engine API (debug mode is off); needs access to the daemon's host: " + p.Facts.HostAccess.Reason)
		return
	}
	level := "info"
	if s, ok := d.Lookup("log-level"); ok {
		level = strings.ToLower(s.Value())
	}
	if d.Bool("debug", false) || p.Facts.Engine.Debug {
		level = "debug"
	}
	evs := []finding.Evidence{ev("log-level", setting(d, "log-level", "info"), "info"), ev("debug", setting(d, "debug", "false"), "false")}
	if level == "info" {
		p.OK("the daemon logs at level info", evs...)
		return
	}
	p.Fail(fmt.Sprintf("the daemon logs at level %s", level), evs...)
}

// cis2_4 is CIS 2.4: Ensure Docker is allowed to make changes to iptables.
func cis2_4() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure Docker is allowed to make changes to iptables",
			Description: "Docker keeps the host firewall consistent with container networking; disabling this leads to hand-maintained rules that are easily wrong or overly permissive.",
			Remediation: "Do not set `\"iptables\": false` in daemon.json and do not start dockerd with `--iptables=false` (default is true).",
			Severity:    finding.Medium,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "2.4", Level: 1, Automated: false, V180: "2.4"},
		},
		NeedsHost: true,
		Run:       run2_4,
	}
}

func run2_4(p *check.Pass) {
	d, ok := daemonConfig(p)
	if !ok {
		return
	}
	e := ev("iptables", setting(d, "iptables", "true"), "true")
	if !d.Bool("iptables", true) {
		p.Fail("the daemon may not change iptables, so container networking rules are left to hand-written firewall rules", e)
		return
	}
	p.OK("the daemon manages iptables", e)
}

// cis2_5 is CIS 2.5: Ensure insecure registries are not used.
func cis2_5() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure insecure registries are not used",
			Description: "Insecure registries are contacted without (valid) TLS, so image pulls can be intercepted and tampered with.",
			Remediation: "Remove all entries from `\"insecure-registries\"` in daemon.json and any `--insecure-registry` flags; give private registries valid TLS certificates (CA under /etc/docker/certs.d/<registry>/). `docker info` should show no non-loopback insecure registries.",
			Severity:    finding.High,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "2.5", Level: 1, Automated: false, V180: "2.5"},
		},
		Needs: []facts.Part{facts.PartEngine},
		Run:   run2_5,
	}
}

func run2_5(p *check.Pass) {
	e := p.Facts.Engine
	var insecure []string
	for _, c := range e.InsecureRegistryCIDRs {
		if c != "127.0.0.0/8" && c != "::1/128" {
			insecure = append(insecure, c)
		}
	}
	insecure = append(insecure, e.InsecureRegistries...)
	evs := []finding.Evidence{ev("insecure registries", strings.Join(slices.Concat(e.InsecureRegistryCIDRs, e.InsecureRegistries), ", "), "127.0.0.0/8 only (the built-in default)")}
	if d := p.Facts.Daemon; d != nil {
		if s, ok := d.Lookup("insecure-registries"); ok {
			evs = append(evs, ev("insecure-registries", strings.Join(s.Values, ", ")+" ("+s.Source+")", "unset"))
		}
	}
	if len(insecure) > 0 {
		p.Fail(fmt.Sprintf("the daemon talks to %s without TLS verification", strings.Join(insecure, ", ")), evs...)
		return
	}
	p.OK("no registry beyond loopback is marked insecure", evs...)
}

// cis2_6 is CIS 2.6: Ensure aufs storage driver is not used.
func cis2_6() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure aufs storage driver is not used",
			Description: "aufs is an old, unmaintained storage driver with known kernel crashes and security problems and has been removed from current Docker releases.",
			Remediation: "Use a supported driver such as overlay2: do not set `\"storage-driver\": \"aufs\"` or `--storage-driver aufs`.",
			Severity:    finding.Low,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "2.6", Level: 1, Automated: false, V180: "2.6"},
		},
		Needs: []facts.Part{facts.PartEngine},
		Run:   run2_6,
	}
}

func run2_6(p *check.Pass) {
	e := ev("storage driver", p.Facts.Engine.Driver, "not aufs")
	if p.Facts.Engine.Driver == "aufs" {
		p.Fail("the daemon uses the aufs storage driver", e)
		return
	}
	p.OK("the storage driver is "+p.Facts.Engine.Driver, e)
}

// cis2_7 is CIS 2.7: Ensure TLS authentication for Docker daemon is configured.
func cis2_7() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure TLS authentication for Docker daemon is configured",
			Description: "A daemon listening on TCP without mutual TLS gives anyone who can reach the port root-equivalent control of the host.",
			Remediation: "If dockerd listens on TCP, enable client-certificate verification: `\"tlsverify\": true` with `\"tlscacert\"`, `\"tlscert\"`, `\"tlskey\"` in daemon.json (or `--tlsverify --tlscacert --tlscert --tlskey`) and expose only port 2376; otherwise listen on the Unix socket only.",
			Severity:    finding.Critical,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "2.7", Level: 1, Automated: false, V180: "2.8"},
		},
		Run: run2_7,
	}
}

func run2_7(p *check.Pass) {
	daemonTLS(p)
}

// cis2_8 is CIS 2.8: Ensure the default ulimit is configured appropriately.
func cis2_8() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure the default ulimit is configured appropriately",
			Description: "Without daemon-wide ulimits a single container can exhaust file descriptors or processes and deny service to the host and other containers.",
			Remediation: "Set `\"default-ulimits\"` in daemon.json (e.g. nofile and nproc soft/hard values) or start dockerd with `--default-ulimit nofile=100:200 --default-ulimit nproc=1024:2048`, sized for your workloads.",
			Severity:    finding.Low,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "2.8", Level: 1, Automated: false, V180: "2.9"},
		},
		NeedsHost: true,
		Run:       run2_8,
	}
}

func run2_8(p *check.Pass) {
	d, ok := daemonConfig(p)
	if !ok {
		return
	}
	if s, ok := d.Lookup("default-ulimits"); ok && len(s.Values) > 0 {
		p.OK("default ulimits are set: "+strings.Join(s.Values, ", "), ev("default-ulimits", setting(d, "default-ulimits", ""), ""))
		return
	}
	p.Warn("no default ulimits are set, so containers inherit the daemon's own limits", ev("default-ulimits", "unset", "nofile and nproc limits sized for the workloads"))
}

// cis2_9 is CIS 2.9: Enable user namespace support.
func cis2_9() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Enable user namespace support",
			Description: "With user namespace remapping, root inside a container maps to an unprivileged host UID, so a breakout does not yield host root.",
			Remediation: "Set `\"userns-remap\": \"default\"` (or a dedicated user) in daemon.json or `--userns-remap=default`, ensure /etc/subuid and /etc/subgid have ranges for that user, and restart dockerd.",
			Severity:    finding.Medium,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "2.9", Level: 2, Automated: false, V180: "2.10"},
		},
		Needs: []facts.Part{facts.PartEngine, facts.PartSecurityOptions},
		Run:   run2_9,
	}
}

func run2_9(p *check.Pass) {
	e := p.Facts.Engine
	if _, ok := e.SecurityOption("userns"); ok {
		p.OK("user namespace remapping is on", ev("security options", strings.Join(e.SecurityOptions, "; "), "name=userns"))
		return
	}
	if _, ok := e.SecurityOption("rootless"); ok {
		p.OK("the daemon is rootless, so container root maps to an unprivileged user", ev("security options", strings.Join(e.SecurityOptions, "; "), "name=userns or name=rootless"))
		return
	}
	p.Fail("user namespace remapping is off: root in a container is root on the host", ev("security options", strings.Join(e.SecurityOptions, "; "), "name=userns"))
}

// cis2_10 is CIS 2.10: Ensure the default cgroup usage has been confirmed.
func cis2_10() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure the default cgroup usage has been confirmed",
			Description: "The cgroup parent determines which resource limits apply to containers; an unintended parent can leave containers unconstrained.",
			Remediation: "Keep the default unless you have a deliberate need; if one is required, set `\"cgroup-parent\"` in daemon.json (or `--cgroup-parent`) to a reviewed cgroup.",
			Severity:    finding.Low,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "2.10", Level: 2, Automated: false, V180: "2.11"},
		},
		NeedsHost: true,
		Run:       run2_10,
	}
}

func run2_10(p *check.Pass) {
	d, ok := daemonConfig(p)
	if !ok {
		return
	}
	if s, ok := d.Lookup("cgroup-parent"); ok && s.Value() != "" {
		p.Warn("containers are placed under the cgroup "+s.Value()+"; confirm it is intended", ev("cgroup-parent", setting(d, "cgroup-parent", ""), "the default"))
		return
	}
	p.OK("the default cgroup parent is used", ev("cgroup-parent", "unset", "the default"))
}

// cis2_11 is CIS 2.11: Ensure base device size is not changed until needed.
func cis2_11() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure base device size is not changed until needed",
			Description: "Raising the devicemapper base device size increases the space each container may consume, risking host disk exhaustion (denial of service).",
			Remediation: "Do not add `dm.basesize` to `\"storage-opts\"` / `--storage-opt` unless there is a justified need; prefer overlay2 (devicemapper is removed in Engine 25).",
			Severity:    finding.Low,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "2.11", Level: 2, Automated: false, V180: "2.12"},
		},
		Needs: []facts.Part{facts.PartEngine},
		Run:   run2_11,
	}
}

func run2_11(p *check.Pass) {
	e := p.Facts.Engine
	if e.Driver != "devicemapper" {
		p.OK("not applicable: the storage driver is "+e.Driver, ev("storage driver", e.Driver, ""))
		return
	}
	if d := p.Facts.Daemon; d != nil {
		if _, ok := daemonConfig(p); !ok {
			return
		}
		if s, ok := d.Lookup("storage-opts"); ok {
			for _, v := range s.Values {
				if strings.HasPrefix(v, "dm.basesize") {
					p.Warn("the devicemapper base device size is changed: "+v, ev("storage-opts", setting(d, "storage-opts", ""), "no dm.basesize"))
					return
				}
			}
		}
		p.OK("the devicemapper base device size is the default", ev("storage-opts", setting(d, "storage-opts", "unset"), "no dm.basesize"))
		return
	}
	p.Skip("storage options are not exposed through the Engine API; needs access to the daemon's host: " + p.Facts.HostAccess.Reason)
}

// cis2_12 is CIS 2.12: Ensure that authorization for Docker client commands is enabled.
func cis2_12() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that authorization for Docker client commands is enabled",
			Description: "Docker's native access model is all-or-nothing; an authorization plugin allows per-request policy so not every socket user gets full control.",
			Remediation: "Install an authorization plugin (e.g. OPA docker-authz), define its policy, and enable it with `\"authorization-plugins\": [\"<plugin>\"]` in daemon.json or `--authorization-plugin=<plugin>`.",
			Severity:    finding.Medium,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "2.12", Level: 2, Automated: false, V180: "2.13"},
		},
		Needs: []facts.Part{facts.PartEngine},
		Run:   run2_12,
	}
}

func run2_12(p *check.Pass) {
	e := ev("authorization plugins", strings.Join(p.Facts.Engine.AuthorizationPlugins, ", "), "at least one")
	if len(p.Facts.Engine.AuthorizationPlugins) == 0 {
		p.Fail("no authorization plugin is loaded: every client that reaches the API may do anything", e)
		return
	}
	p.OK("authorization plugins: "+strings.Join(p.Facts.Engine.AuthorizationPlugins, ", "), e)
}

// cis2_13 is CIS 2.13: Ensure centralized and remote logging is configured.
func cis2_13() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure centralized and remote logging is configured",
			Description: "Logs kept only on the host can be lost or altered by an attacker who compromises it; shipping them off-host preserves evidence.",
			Remediation: "Configure a remote-capable log driver, e.g. `\"log-driver\": \"syslog\"` with `\"log-opts\": {\"syslog-address\": \"tcp://<host>:514\"}` (or journald/fluentd/gelf forwarded to a central store), instead of the default json-file.",
			Severity:    finding.Low,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "2.13", Level: 2, Automated: false, V180: "2.14"},
		},
		Needs: []facts.Part{facts.PartEngine},
		Run:   run2_13,
	}
}

func run2_13(p *check.Pass) {
	drv := p.Facts.Engine.LoggingDriver
	e := ev("default log driver", drv, "a driver that ships logs off the host (syslog, fluentd, gelf, splunk, awslogs, …)")
	switch drv {
	case "json-file", "local", "none", "":
		p.Fail(fmt.Sprintf("container logs stay on this host (log driver %q)", drv), e)
	case "journald":
		p.Warn("container logs go to journald; confirm the journal is forwarded to a central store", e)
	default:
		p.OK("container logs go to the "+drv+" driver", e)
	}
}

// cis2_14 is CIS 2.14: Ensure containers are restricted from acquiring new privileges.
func cis2_14() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure containers are restricted from acquiring new privileges",
			Description: "Blocking privilege gain via setuid/setgid binaries and file capabilities by default prevents in-container privilege escalation for every container.",
			Remediation: "Set `\"no-new-privileges\": true` in daemon.json (or start dockerd with `--no-new-privileges`).",
			Severity:    finding.Medium,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "2.14", Level: 1, Automated: false, V180: "2.15"},
		},
		NeedsHost: true,
		Run:       run2_14,
	}
}

func run2_14(p *check.Pass) {
	d, ok := daemonConfig(p)
	if !ok {
		return
	}
	e := ev("no-new-privileges", setting(d, "no-new-privileges", "false"), "true")
	if d.Bool("no-new-privileges", false) {
		p.OK("new containers get no-new-privileges by default", e)
		return
	}
	p.Fail("containers may gain privileges through setuid binaries unless each one sets no-new-privileges", e)
}

// cis2_15 is CIS 2.15: Ensure live restore is enabled.
func cis2_15() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure live restore is enabled",
			Description: "Live restore keeps containers running while dockerd is stopped or upgraded, supporting availability and allowing timely daemon patching.",
			Remediation: "Set `\"live-restore\": true` in daemon.json (or `dockerd --live-restore`); not applicable on swarm managers.",
			Severity:    finding.Low,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "2.15", Level: 1, Automated: false, V180: "2.16"},
		},
		Needs: []facts.Part{facts.PartEngine},
		Run:   run2_15,
	}
}

func run2_15(p *check.Pass) {
	e := p.Facts.Engine
	if e.LiveRestoreEnabled {
		p.OK("live restore is enabled", ev("live restore", "true", "true"))
		return
	}
	if e.Swarm.Active() {
		p.Skip("not applicable: live restore cannot be used in swarm mode", ev("swarm", e.Swarm.LocalNodeState, ""))
		return
	}
	p.Fail("live restore is disabled: containers stop whenever the daemon stops or restarts", ev("live restore", "false", "true"))
}

// cis2_16 is CIS 2.16: Ensure Userland Proxy is Disabled.
func cis2_16() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure Userland Proxy is Disabled",
			Description: "The userland proxy adds a root-owned process per published port and a larger attack surface; hairpin NAT via iptables does the same job.",
			Remediation: "Set `\"userland-proxy\": false` in daemon.json (or `dockerd --userland-proxy=false`).",
			Severity:    finding.Low,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "2.16", Level: 1, Automated: false, V180: "2.17"},
		},
		NeedsHost: true,
		Run:       run2_16,
	}
}

func run2_16(p *check.Pass) {
	d, ok := daemonConfig(p)
	if !ok {
		return
	}
	e := ev("userland-proxy", setting(d, "userland-proxy", "true"), "false")
	if d.Bool("userland-proxy", true) {
		p.Fail("the userland proxy is enabled (a docker-proxy process per published port)", e)
		return
	}
	p.OK("the userland proxy is disabled; published ports are handled by iptables", e)
}

// cis2_17 is CIS 2.17: Ensure that a daemon-wide custom seccomp profile is applied if appropriate.
func cis2_17() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that a daemon-wide custom seccomp profile is applied if appropriate",
			Description: "Seccomp limits the syscalls containers can make; a daemon-wide profile ensures every container gets an appropriate baseline filter.",
			Remediation: "Keep Docker's built-in default seccomp profile, or if you need a stricter one set `\"seccomp-profile\": \"/path/profile.json\"` in daemon.json (or `--seccomp-profile`).",
			Severity:    finding.Medium,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "2.17", Level: 2, Automated: false, V180: "2.18"},
		},
		Needs: []facts.Part{facts.PartEngine, facts.PartSecurityOptions},
		Run:   run2_17,
	}
}

func run2_17(p *check.Pass) {
	e := p.Facts.Engine
	opt, ok := e.SecurityOption("seccomp")
	evs := []finding.Evidence{ev("security options", strings.Join(e.SecurityOptions, "; "), "name=seccomp with a profile other than unconfined")}
	switch {
	case !ok:
		p.Fail("the daemon does not apply seccomp (the kernel or the build lacks it)", evs...)
	case opt["profile"] == "unconfined":
		p.Fail("the daemon-wide seccomp profile is unconfined: containers get no syscall filter by default", evs...)
	case opt["profile"] == "default" || opt["profile"] == "builtin" || opt["profile"] == "":
		p.OK("containers get Docker's default seccomp profile unless they opt out", evs...)
	default:
		p.OK("containers get the custom seccomp profile "+opt["profile"], evs...)
	}
}

// cis2_18 is CIS 2.18: Ensure that experimental features are not implemented in production.
func cis2_18() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that experimental features are not implemented in production",
			Description: "Experimental features are not fully stable or security-reviewed and should not be exposed in production.",
			Remediation: "Do not set `\"experimental\": true` in daemon.json or pass `--experimental` on production hosts; `docker version -f '{{ .Server.Experimental }}'` should be false.",
			Severity:    finding.Low,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "2.18", Level: 1, Automated: false, V180: "2.19"},
		},
		Needs: []facts.Part{facts.PartEngine},
		Run:   run2_18,
	}
}

func run2_18(p *check.Pass) {
	e := ev("experimental", fmt.Sprint(p.Facts.Engine.ExperimentalBuild), "false")
	if p.Facts.Engine.ExperimentalBuild {
		p.Fail("experimental features are enabled", e)
		return
	}
	p.OK("experimental features are disabled", e)
}

// defaultBridge returns the network Docker calls "bridge" (docker0 unless --bridge says otherwise).
func defaultBridge(nets []facts.Network) (facts.Network, bool) {
	for _, n := range nets {
		if n.Name == "bridge" && n.Driver == "bridge" {
			return n, true
		}
	}
	return facts.Network{}, false
}

// daemonTLS decides CIS-2.7: a daemon that serves the API over TCP must verify client
// certificates. The daemon's own warnings in /info say the same from the API side, so a
// remote audit can decide it too.
func daemonTLS(p *check.Pass) {
	var insecureWarnings []string
	for _, w := range p.Facts.Engine.Warnings {
		if strings.Contains(w, "without encryption") || strings.Contains(w, "without TLS client verification") {
			// dockerd wraps these over two indented lines: one sentence in a report.
			insecureWarnings = append(insecureWarnings, strings.Join(strings.Fields(strings.TrimPrefix(w, "WARNING: ")), " "))
		}
	}
	d := p.Facts.Daemon
	if d == nil || d.ConfigError != "" {
		if len(insecureWarnings) > 0 {
			p.Fail("the daemon reports: "+strings.Join(insecureWarnings, "; "), ev("daemon warnings", strings.Join(insecureWarnings, "; "), "none"))
			return
		}
		if !facts.VersionLess(p.Facts.Engine.APIVersion, "1.41") {
			p.OK("the daemon reports no TCP listener without TLS client verification", ev("daemon warnings", "none about TCP", "none"))
			return
		}
		p.Skip("this Engine does not report insecure listeners through the API; needs access to the daemon's host: " + p.Facts.HostAccess.Reason)
		return
	}
	tcp := apiTCPAddrs(d)
	if len(tcp) == 0 && len(insecureWarnings) == 0 {
		switch {
		case d.ListenersError == "":
			p.OK("the daemon does not serve the API over TCP", ev("hosts", setting(d, "hosts", "unix:///var/run/docker.sock"), ""))
		case !facts.VersionLess(p.Facts.Engine.APIVersion, "1.41"):
			// Its sockets could not be read (a socket-activated TCP listener shows
			// only there), but this Engine reports insecure listeners itself.
			p.OK("the daemon reports no TCP listener without TLS client verification", ev("daemon warnings", "none about TCP", "none"),
				ev("listening sockets", "not read: "+d.ListenersError, ""))
		default:
			p.Skip("its configuration names no TCP address, but its listening sockets could not be read (a socket-activated TCP listener shows only there): " + d.ListenersError)
		}
		return
	}
	where := strings.Join(tcp, ", ")
	if where == "" {
		where = "TCP"
	}
	evs := []finding.Evidence{
		ev("tcp listeners", where, ""),
		ev("tls", setting(d, "tls", "false"), "true"),
		ev("tlsverify", setting(d, "tlsverify", "false"), "true"),
	}
	if len(insecureWarnings) > 0 {
		evs = append(evs, ev("daemon warnings", strings.Join(insecureWarnings, "; "), "none"))
	}
	switch {
	case !d.TLS.Enabled:
		p.Fail("the API is served over plain TCP on "+where+": anyone who can reach it controls the host", evs...)
	case !d.TLS.Verify || len(insecureWarnings) > 0:
		// The daemon's own warning wins over what its flags seem to say.
		p.Fail("the API is served over TLS on "+where+" without client certificate verification: anyone who can reach it controls the host", evs...)
	default:
		p.OK("the API on "+where+" requires client certificates", evs...)
	}
}

// apiTCPAddrs are the TCP addresses the daemon serves the API on: its tcp:// hosts and
// the TCP sockets it really listens on (a socket-activated TCP listener appears only
// there), leaving out swarm's ports and the metrics endpoint.
func apiTCPAddrs(d *facts.DaemonProcess) []string {
	var out []string
	ports := map[string]bool{}
	if s, ok := d.Lookup("hosts"); ok {
		for _, h := range s.Values {
			if strings.HasPrefix(h, "tcp://") || (!strings.Contains(h, "://") && strings.Contains(h, ":")) {
				out = append(out, h)
				_, port := splitHostPort(strings.TrimPrefix(h, "tcp://"))
				ports[port] = true
			}
		}
	}
	skip := map[string]bool{"2377": true, "7946": true}
	if s, ok := d.Lookup("metrics-addr"); ok {
		_, port := splitHostPort(s.Value())
		skip[port] = true
	}
	for _, l := range d.Listeners {
		if l.Network != "tcp" && l.Network != "tcp6" {
			continue
		}
		_, port := splitHostPort(l.Address)
		if skip[port] || ports[port] {
			continue
		}
		ports[port] = true
		out = append(out, "tcp://"+l.Address)
	}
	return out
}
