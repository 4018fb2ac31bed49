package confine

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dockaudit/dockaudit/internal/caps"
	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
	"github.com/dockaudit/dockaudit/internal/seccomp"
)

var ev = check.Ev

const (
	section    = "Syscall control"
	docSeccomp = "https://docs.docker.com/engine/security/seccomp/"
)

func rule(id string, scope finding.Kind, sev finding.Severity, title, desc, fix string, tags ...string) finding.Rule {
	all := []string{"syscall", string(scope)}
	for _, t := range tags {
		if !slices.Contains(all, t) {
			all = append(all, t)
		}
	}
	return finding.Rule{ID: id, Title: title, Description: desc, Remediation: fix, Severity: sev, Section: section, Scope: scope,
		Tags: all, References: []string{docSeccomp}}
}

// HostChecks are the rules dockaudit host adds: the Engine's built-in profile, each
// container's confinement, and the lint of every custom profile in use.
func HostChecks() []check.Check {
	return append(append([]check.Check{engineDefault()}, ContainerChecks()...), ProfileChecks()...)
}

func engineDefault() check.Check {
	return check.Check{Rule: rule("SECCOMP-ENGINE-DEFAULT", finding.KindDaemon, finding.Low,
		"The Engine's built-in seccomp profile refuses io_uring",
		"Docker's default profile changes with the Engine: up to 24.0 it allows io_uring_setup, io_uring_enter and io_uring_register, whose queued I/O seccomp never sees and which have had a long run of kernel privilege-escalation bugs; 25.0 refuses them.",
		"Upgrade the Engine to 25.0 or later, or set a daemon-wide profile without io_uring (\"seccomp-profile\" in daemon.json; dockaudit seccomp diff shows what changes).",
		"seccomp", "engine"),
		Needs: []facts.Part{facts.PartEngine, facts.PartSecurityOptions},
		Run: func(p *check.Pass) {
			e := p.Facts.Engine
			opt, ok := e.SecurityOption("seccomp")
			if !ok {
				p.Skip("the daemon applies no seccomp filter (see CONFINE-SECCOMP)")
				return
			}
			switch prof := opt["profile"]; {
			case prof == "unconfined":
				p.Skip("the daemon's default seccomp profile is unconfined: no profile at all (see CONFINE-SECCOMP)",
					ev("daemon seccomp profile", prof, "builtin"))
				return
			case !builtin(prof):
				p.Skip("the daemon uses its own default profile ("+prof+"), linted as a profile target when it could be read",
					ev("daemon seccomp profile", prof, ""))
				return
			}
			prof, chosen, err := seccomp.Default(e.ServerVersion)
			if err != nil {
				p.Skip(err.Error())
				return
			}
			set := seccomp.Effective(prof, "amd64", caps.Default, "")
			var uring []string
			for _, n := range []string{"io_uring_setup", "io_uring_enter", "io_uring_register"} {
				if set.Decide(n).Allowed() {
					uring = append(uring, n)
				}
			}
			evs := []finding.Evidence{ev("Engine", e.ServerVersion, ">= 25.0"), ev("built-in profile", "Docker "+chosen+" default", "")}
			if len(uring) > 0 {
				p.Warn(fmt.Sprintf("the built-in profile of Docker %s allows %s to every container that runs with it", chosen, strings.Join(uring, ", ")),
					append(evs, ev("allowed", strings.Join(uring, ", "), "refused"))...)
				return
			}
			p.OK(fmt.Sprintf("the built-in profile of Docker %s refuses io_uring", chosen), evs...)
		}}
}

// builtin reports a daemon seccomp profile setting that means Docker's own profile.
func builtin(profile string) bool {
	return profile == "" || profile == "default" || profile == "builtin"
}

// request is the seccomp a container asked for.
type request struct {
	kind    string // disabled, unconfined, none, custom, daemon, default, unknown
	desc    string
	profile *seccomp.Profile // the profile in force, when it is known
}

func requestedSeccomp(s *facts.Snapshot, c *facts.Container) request {
	vals := c.SecurityOptValues("seccomp")
	opt, daemonSeccomp := s.Engine.SecurityOption("seccomp")
	switch {
	case c.HostConfig.Privileged:
		return request{kind: "disabled", desc: "none: --privileged disables seccomp"}
	case len(vals) > 0 && vals[len(vals)-1] == "unconfined":
		return request{kind: "unconfined", desc: "seccomp=unconfined"}
	case !daemonSeccomp && s.Engine.SecurityOptions != nil:
		return request{kind: "none", desc: "none: the daemon applies no seccomp filter"}
	case len(vals) > 0 && vals[len(vals)-1] == "builtin" && s.Engine.SecurityOptions == nil:
		// Docker's own profile, if the daemon applies seccomp at all: not known.
		return request{kind: "unknown", desc: "seccomp=builtin (Docker's default profile, if the daemon applies seccomp)"}
	case len(vals) > 0 && vals[len(vals)-1] == "builtin":
		// Engine 23.0 and later: Docker's own profile, whatever the daemon's default.
	case len(vals) > 0:
		v := vals[len(vals)-1]
		r := request{kind: "custom", desc: "custom profile " + facts.ProfileDigest(v)}
		if prof, _, err := seccomp.Parse([]byte(v)); err == nil {
			if prof.DefaultAction == "" && len(prof.Syscalls) == 0 {
				// dockerd applies no filter for such a profile.
				return request{kind: "unconfined", desc: r.desc + ", which Docker takes as no profile (no defaultAction, no syscalls)"}
			}
			r.profile = prof
		}
		return r
	case s.Engine.SecurityOptions == nil:
		// The daemon's security options were not read, or there is no daemon yet.
		return request{kind: "unknown", desc: "the daemon's default seccomp profile"}
	case opt["profile"] == "unconfined":
		return request{kind: "unconfined", desc: "the daemon's default seccomp profile, which is unconfined"}
	case !builtin(opt["profile"]):
		r := request{kind: "daemon", desc: "the daemon's profile " + opt["profile"]}
		for i := range s.Profiles {
			if pr := &s.Profiles[i]; pr.Source == "daemon" && pr.Error == "" {
				if prof, _, err := seccomp.Parse([]byte(pr.Content)); err == nil {
					r.profile = prof
				}
			}
		}
		return r
	}
	r := request{kind: "default", desc: "Docker's default profile"}
	if prof, chosen, err := seccomp.Default(s.Engine.ServerVersion); err == nil {
		r.profile, r.desc = prof, "Docker "+chosen+" default profile"
	}
	return r
}

// allowedCount describes how many x86_64 syscalls a profile lets the container make
// with its capabilities, or "" when the host is not x86_64.
func allowedCount(s *facts.Snapshot, c *facts.Container, prof *seccomp.Profile) string {
	if prof == nil || (s.Engine.Architecture != "x86_64" && s.Engine.Architecture != "amd64") {
		return ""
	}
	n, all := prof.AllowedCount(caps.Effective(c.HostConfig.CapAdd, c.HostConfig.CapDrop, c.HostConfig.Privileged), kernelVersion(s.Engine.KernelVersion))
	return fmt.Sprintf("%d of %d x86_64 syscalls allowed with its capabilities", n, all)
}

// kernelVersion keeps the numeric part of a kernel release ("6.1.0-13-amd64" → "6.1.0").
func kernelVersion(k string) string {
	end := strings.IndexFunc(k, func(r rune) bool { return r != '.' && (r < '0' || r > '9') })
	if end >= 0 {
		k = k[:end]
	}
	return strings.TrimSuffix(k, ".")
}

// effective describes what procfs showed, and whether it could be read.
func effective(s *facts.Snapshot, c *facts.Container) (*facts.Confinement, string) {
	switch {
	case c.State == nil:
		return nil, "not read: the container's state is not known"
	case !c.Running():
		return nil, "not read: the container is " + c.Status()
	case !s.HostAccess.Local:
		return nil, "not read: needs dockaudit on the daemon's host (" + s.HostAccess.Reason + ")"
	case c.Confinement == nil:
		return nil, "not read"
	case c.Confinement.Error != "":
		return nil, "not read: " + c.Confinement.Error
	}
	return c.Confinement, ""
}

func seccompMode(m int) string {
	switch m {
	case 0:
		return "0 (no filter)"
	case 1:
		return "1 (strict)"
	case 2:
		return "2 (filter)"
	}
	return strconv.Itoa(m)
}

// ContainerChecks are the per-container confinement rules.
func ContainerChecks() []check.Check {
	return []check.Check{
		{Rule: rule("CONFINE-SECCOMP", finding.KindContainer, finding.High,
			"The container runs under a seccomp filter, and the kernel confirms it",
			"Seccomp is what keeps a container's processes away from the parts of the kernel they have no use for. --privileged and seccomp=unconfined remove it; a daemon without seccomp never applies it. For running containers on this host the filter is confirmed in /proc/PID/status.",
			"Keep Docker's default profile or a stricter one (dockaudit seccomp record writes one from a real run); remove seccomp=unconfined and --privileged.",
			"seccomp"),
			Needs: []facts.Part{facts.PartHostConfig}, Run: containerSeccomp},
		{Rule: rule("CONFINE-CAPS", finding.KindContainer, finding.High,
			"The container holds no capability beyond Docker's default set",
			"Capabilities are root's powers split up; the bounding set is what any process of the container can have (a setuid-root binary gets it back, unless no-new-privileges is in effect). The effective and bounding sets are decoded from /proc/PID/status for running containers on this host, and worked out from --cap-add, --cap-drop and --privileged otherwise.",
			"Run with --cap-drop ALL and add back only what the workload needs (--cap-add NET_BIND_SERVICE); never SYS_ADMIN, SYS_MODULE or SYS_PTRACE.",
			"capabilities").UpTo(finding.Critical),
			Needs: []facts.Part{facts.PartHostConfig}, Run: containerCaps},
		{Rule: rule("CONFINE-NNP", finding.KindContainer, finding.Medium,
			"no-new-privileges is in effect",
			"With no-new-privileges a process cannot gain privileges through execve: setuid and setgid binaries and file capabilities stop working as a way up. Requested with --security-opt no-new-privileges or the daemon's \"no-new-privileges\": true; confirmed by NoNewPrivs in /proc/PID/status.",
			"Run with --security-opt no-new-privileges, or set \"no-new-privileges\": true in daemon.json.",
			"no-new-privileges").UpTo(finding.High),
			Needs: []facts.Part{facts.PartHostConfig}, Run: containerNNP},
		{Rule: rule("CONFINE-USERNS", finding.KindContainer, finding.Medium,
			"Root in the container is not root on the host",
			"Without a user namespace (userns-remap or a rootless daemon), UID 0 in the container is UID 0 on the host, and every escape is an escape as root. The mapping is read from /proc/PID/uid_map for running containers on this host.",
			"Enable userns-remap (\"userns-remap\": \"default\" in daemon.json) or run the daemon rootless, and do not opt containers out with --userns=host.",
			"userns"),
			Needs: []facts.Part{facts.PartHostConfig, facts.PartSecurityOptions}, Run: containerUserns},
		{Rule: rule("CONFINE-MAC", finding.KindContainer, finding.Medium,
			"AppArmor or SELinux options the container asks for are in effect",
			"--security-opt apparmor= and label= are silently ignored when the host has no such security module: the container looks confined and is not. Requested options are compared with what the daemon applied and, for running containers on this host, /proc/PID/attr/current.",
			"On hosts without AppArmor or SELinux remove the options (they give no protection) and rely on seccomp, capabilities and no-new-privileges; on hosts with them, make sure the named profile is loaded.",
			"apparmor", "selinux"),
			Needs: []facts.Part{facts.PartHostConfig, facts.PartState, facts.PartSecurityOptions}, Run: containerMAC},
	}
}

func daemonDecides(v Seccomp) string {
	why, _ := v.DaemonDecides()
	return why
}

func containerSeccomp(p *check.Pass) {
	c := p.Container
	v := SeccompOf(p.Facts, c)
	effDesc := "not read: " + v.Why
	if conf := v.Conf; conf != nil {
		effDesc = fmt.Sprintf("Seccomp: %s, filters: %d (PID %d)", seccompMode(conf.Seccomp), conf.Filters, conf.PID)
		if conf.Filters < 0 {
			effDesc = fmt.Sprintf("Seccomp: %s (PID %d)", seccompMode(conf.Seccomp), conf.PID)
		}
	}
	evs := []finding.Evidence{ev("requested", v.desc, "Docker's default or a stricter profile"), ev("effective", effDesc, "Seccomp: 2 (filter)")}
	if n := allowedCount(p.Facts, c, v.profile); n != "" {
		evs = append(evs, ev("allows", n, ""))
	}
	switch {
	case v.Problem != "":
		p.Fail(v.Problem, evs...)
	case daemonDecides(v) != "":
		why, _ := p.Missing(facts.PartSecurityOptions)
		p.Skip(daemonDecides(v)+": "+why, evs...)
	case v.Conf == nil:
		p.Skip(v.desc+" is requested; whether the kernel applies it is not known: "+v.Why, evs...)
	default:
		p.OK(v.desc+" is in force (Seccomp: 2)", evs...)
	}
}

func containerCaps(p *check.Pass) {
	c := p.Container
	v := CapsOf(p.Facts, c)
	evs := []finding.Evidence{ev("cap-add", strings.Join(c.HostConfig.CapAdd, ", "), ""), ev("cap-drop", strings.Join(c.HostConfig.CapDrop, ", "), "")}
	if c.HostConfig.Privileged {
		evs = append(evs, ev("privileged", "true", "false"))
	}
	source := "requested (the kernel's view: " + v.Why + ")"
	if v.FromKernel {
		source = fmt.Sprintf("CapBnd of PID %d", v.Conf.PID)
		evs = append(evs, ev("effective (CapEff)", orNone(v.Effective), ""))
	}
	if v.Undecodable != "" {
		p.Skip("the kernel's capability masks do not decode, so what the process holds is not known: "+v.Undecodable, evs...)
		return
	}
	evs = append(evs, ev("bounding set", orNone(v.Bounding)+" ["+source+"]", "a subset of Docker's default set"))
	if len(v.Unrequested) > 0 {
		evs = append(evs, ev("requested set", orNone(v.Requested), ""))
		p.Fail("the kernel shows capabilities that were not requested: "+strings.Join(v.Unrequested, ", "), evs...).Sev(worst(v.Unrequested))
		return
	}
	if c.HostConfig.Privileged && len(minus(caps.All, v.Bounding)) == 0 {
		p.Fail(fmt.Sprintf("privileged: holds all %d capabilities, SYS_ADMIN and SYS_MODULE among them", len(caps.All)), evs...).Sev(finding.Critical)
		return
	}
	if len(v.Beyond) == 0 {
		if !v.FromKernel {
			p.Skip(fmt.Sprintf("requests %d of Docker's %d default capabilities and nothing more; what the process holds is not known: %s",
				len(v.Bounding), len(caps.Default), v.Why), evs...)
			return
		}
		p.OK(fmt.Sprintf("holds %d of Docker's %d default capabilities and nothing more", len(v.Bounding), len(caps.Default)), evs...)
		return
	}
	var parts []string
	for _, cp := range v.Beyond {
		if r, ok := caps.Risks[cp]; ok {
			parts = append(parts, cp+" ("+r.Why+")")
		} else {
			parts = append(parts, cp)
		}
	}
	msg := "holds capabilities beyond Docker's default set: " + strings.Join(parts, "; ")
	sev := worst(v.Beyond)
	if v.FromKernel && len(v.Effective) == 0 {
		if v.Conf.NoNewPrivs {
			msg += "; its process has none effective and no-new-privileges keeps setuid binaries from raising them"
			sev = finding.Low
		} else {
			msg += "; its process has none effective, but a setuid-root binary gets them back"
		}
	}
	p.Fail(msg, evs...).Sev(sev)
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(s, ", ")
}

// minus is what a has and b does not.
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// worst is the severity of the riskiest capability (low for the rest).
func worst(cs []string) finding.Severity {
	sev := finding.Low
	for _, cp := range cs {
		if r, ok := caps.Risks[cp]; ok {
			if s, err := finding.ParseSeverity(r.Severity); err == nil && s > sev {
				sev = s
			}
		}
	}
	return sev
}

func containerNNP(p *check.Pass) {
	v := NNPOf(p.Facts, p.Container)
	reqDesc := "unset on the container; the daemon default could not be read"
	switch {
	case v.Source != "" && v.Requested:
		reqDesc = "yes (" + v.Source + ")"
	case v.Source != "":
		reqDesc = "no (" + v.Source + ")"
	}
	effDesc := "not read: " + v.Why
	if v.Conf != nil {
		effDesc = fmt.Sprintf("NoNewPrivs: %d (PID %d)", b2i(v.Conf.NoNewPrivs), v.Conf.PID)
	}
	evs := []finding.Evidence{ev("requested", reqDesc, "yes"), ev("effective", effDesc, "NoNewPrivs: 1")}
	switch {
	case v.Conf != nil && v.Conf.NoNewPrivs:
		p.OK("no-new-privileges is in effect (NoNewPrivs: 1)", evs...)
	case v.Conf != nil && v.Requested:
		p.Fail(fmt.Sprintf("no-new-privileges was requested, but PID %d runs without it (NoNewPrivs: 0)", v.Conf.PID), evs...).Sev(finding.High)
	case v.Conf != nil:
		p.Fail("no-new-privileges is not in effect (NoNewPrivs: 0): setuid binaries can raise privileges", evs...)
	case v.Requested:
		p.Skip("no-new-privileges is requested; whether it is in effect is not known: "+v.Why, evs...)
	case v.Source == "" && p.Facts.NoDaemon != "":
		p.Skip("does not set no-new-privileges, so the daemon's default decides: "+p.Facts.NoDaemon, evs...)
	case v.Source == "":
		p.Warn("does not set no-new-privileges, and the daemon default could not be read", evs...)
	default:
		p.Fail("no-new-privileges is not requested: setuid binaries can raise privileges", evs...)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// rootOnHost is the host UID that UID 0 of a uid_map ("0 0 4294967295", or lines
// joined with "; ") maps to; ok is false when the map does not map UID 0.
func rootOnHost(uidMap string) (uid int64, ok bool) {
	for _, line := range strings.Split(uidMap, ";") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		inside, err1 := strconv.ParseInt(f[0], 10, 64)
		outside, err2 := strconv.ParseInt(f[1], 10, 64)
		count, err3 := strconv.ParseInt(f[2], 10, 64)
		if err1 == nil && err2 == nil && err3 == nil && inside <= 0 && 0 < inside+count {
			return outside - inside, true
		}
	}
	return 0, false
}

func containerUserns(p *check.Pass) {
	c := p.Container
	v := UsernsOf(p.Facts, c)
	reqDesc := "no userns-remap"
	switch {
	case v.Rootless:
		reqDesc = "rootless daemon"
	case v.Remap:
		reqDesc = "userns-remap"
	}
	if c.HostConfig.UsernsMode != "" {
		reqDesc += "; --userns=" + c.HostConfig.UsernsMode
	}
	effDesc := "not read: " + v.Why
	if v.Conf != nil {
		effDesc = "uid_map: " + v.Conf.UIDMap
	}
	evs := []finding.Evidence{ev("requested", reqDesc, "userns-remap or a rootless daemon"), ev("effective", effDesc, "container UID 0 mapped to an unprivileged host UID")}
	const noRemap = "runs in the host's user namespace: root in the container is root on the host (the daemon has no userns-remap, see CIS-2.9)"
	if conf := v.Conf; conf != nil {
		uid, mapped := rootOnHost(conf.UIDMap)
		switch {
		case !mapped:
			p.OK("root in the container maps to no host user (uid_map "+conf.UIDMap+")", evs...)
		case uid != 0:
			p.OK(fmt.Sprintf("root in the container is host UID %d", uid), evs...)
		case v.Remap && v.OptOut:
			p.Fail("opts out of the daemon's userns-remap (--userns=host): root in the container is root on the host", evs...)
		case v.Remap || v.Rootless:
			p.Fail("the daemon remaps users, but root in this container is root on the host (uid_map "+conf.UIDMap+")", evs...)
		default:
			p.Info(noRemap, evs...)
		}
		return
	}
	switch {
	case v.Remap && !v.Rootless && v.OptOut:
		p.Fail("opts out of the daemon's userns-remap (--userns=host): root in the container is root on the host", evs...)
	case v.Rootless:
		p.Skip("the daemon is rootless, so root in the container should be its unprivileged user; the kernel's uid_map is not known: "+v.Why, evs...)
	case v.Remap:
		p.Skip("the daemon remaps users; the kernel's uid_map is not known: "+v.Why, evs...)
	default:
		p.Info(noRemap, evs...)
	}
}

func containerMAC(p *check.Pass) {
	c := p.Container
	e := p.Facts.Engine
	_, aa := e.SecurityOption("apparmor")
	_, se := e.SecurityOption("selinux")
	reqAA, reqLabel := c.SecurityOptValues("apparmor"), c.SecurityOptValues("label")
	conf, why := effective(p.Facts, c)
	label := why
	if conf != nil {
		label = cmp.Or(conf.LSMLabel, "(none)")
	}
	evs := []finding.Evidence{ev("daemon security options", strings.Join(e.SecurityOptions, "; "), "")}
	if len(reqAA) > 0 {
		evs = append(evs, ev("requested apparmor", strings.Join(reqAA, ", "), ""), ev("applied AppArmor profile", cmp.Or(c.AppArmorProfile, "(none)"), reqAA[len(reqAA)-1]))
	}
	if len(reqLabel) > 0 {
		evs = append(evs, ev("requested label", strings.Join(reqLabel, ", "), ""), ev("applied SELinux label", cmp.Or(c.ProcessLabel, "(none)"), ""))
	}
	evs = append(evs, ev("/proc/PID/attr/current", label, ""))
	// Asking for less (apparmor=unconfined, label=disable, which the daemon adds to
	// privileged containers) where there is nothing to give up is no news.
	var noEffect []string
	if len(reqAA) > 0 && !aa && reqAA[len(reqAA)-1] != "unconfined" {
		noEffect = append(noEffect, "apparmor="+reqAA[len(reqAA)-1]+" was requested, but AppArmor is not available on this host")
	}
	if l := confiningLabels(reqLabel); len(l) > 0 && !se {
		noEffect = append(noEffect, "label="+l[len(l)-1]+" was requested, but SELinux is not enabled for this daemon")
	}
	if len(noEffect) > 0 {
		p.Warn(strings.Join(noEffect, "; ")+": the option has no effect", evs...)
		return
	}
	if !aa && !se {
		p.Skip("neither AppArmor nor SELinux is available on this host; the container asks for no confinement from them", evs...)
		return
	}
	if c.HostConfig.Privileged {
		p.Fail("privileged: runs without AppArmor or SELinux confinement", evs...)
		return
	}
	if aa {
		want := "docker-default"
		if len(reqAA) > 0 {
			want = reqAA[len(reqAA)-1]
		}
		got := c.AppArmorProfile
		switch {
		case want == "unconfined":
			p.Fail("runs with apparmor=unconfined", evs...)
			return
		case c.Running() && got != want:
			p.Fail(fmt.Sprintf("asks for the AppArmor profile %s but runs under %s", want, cmp.Or(got, "none")), evs...)
			return
		case conf != nil && conf.LSMLabel != "" && !strings.HasPrefix(conf.LSMLabel, want):
			p.Fail(fmt.Sprintf("asks for the AppArmor profile %s but the kernel shows %s", want, conf.LSMLabel), evs...)
			return
		}
	}
	if se && slices.Contains(reqLabel, "disable") {
		p.Fail("SELinux separation is disabled (label=disable)", evs...)
		return
	}
	p.OK("the requested mandatory access control is applied", evs...)
}

// confiningLabels are the label= options that ask for SELinux confinement (all but
// label=disable).
func confiningLabels(ls []string) []string {
	var out []string
	for _, l := range ls {
		if l != "disable" {
			out = append(out, l)
		}
	}
	return out
}
