package cis

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
)

func section7() []check.Check {
	return []check.Check{
		cis7_1(),
		cis7_2(),
		cis7_3(),
		cis7_4(),
		cis7_5(),
		cis7_6(),
		cis7_7(),
		cis7_8(),
		cis7_9(),
	}
}

// cis7_1 is CIS 7.1: Ensure that the minimum number of manager nodes have been created in a swarm.
func cis7_1() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that the minimum number of manager nodes have been created in a swarm",
			Description: "Too many managers enlarges the set of nodes that hold cluster state and secrets; the count should be the minimum odd number that meets fault tolerance.",
			Remediation: "Keep manager count to what is required (typically 3 or 5); demote extras with `docker node demote <ID>`.",
			Severity:    finding.Low,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "7.1", Level: 1, Automated: false, V180: "7.1"},
		},
		Run: run7_1,
	}
}

func run7_1(p *check.Pass) {
	sw, ok := swarmManager(p)
	if !ok {
		return
	}
	e := ev("managers", fmt.Sprint(sw.Managers), "an odd number, 7 at most")
	switch {
	case sw.Managers%2 == 0:
		p.Warn(fmt.Sprintf("%d managers: an even number tolerates no more failures than one fewer", sw.Managers), e)
	case sw.Managers > 7:
		p.Warn(fmt.Sprintf("%d managers: more than 7 slows consensus without adding useful fault tolerance", sw.Managers), e)
	default:
		p.OK(fmt.Sprintf("%d managers", sw.Managers), e)
	}
}

// cis7_2 is CIS 7.2: Ensure that swarm services are bound to a specific host interface.
func cis7_2() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that swarm services are bound to a specific host interface",
			Description: "Listening on all interfaces exposes swarm management ports (2377) to networks that should not reach them.",
			Remediation: "Initialise or join the swarm with an explicit interface: `docker swarm init --listen-addr <ip>:2377 --advertise-addr <ip>` (re-initialisation needed if already set wrong).",
			Severity:    finding.Medium,
			Scope:       host,
			CIS:         &finding.CIS{ID: "7.2", Level: 1, Automated: false, V180: "7.2"},
		},
		NeedsHost: true,
		Run:       run7_2,
	}
}

func run7_2(p *check.Pass) {
	if !swarmActive(p) {
		return
	}
	if e := p.Facts.Daemon.ListenersError; e != "" {
		p.Skip("the daemon's listening sockets could not be read: " + e)
		return
	}
	var wild, bound []string
	for _, l := range p.Facts.Daemon.Listeners {
		h, port := splitHostPort(l.Address)
		if port != "2377" {
			continue
		}
		if h == "0.0.0.0" || h == "::" {
			wild = append(wild, l.Address)
		} else {
			bound = append(bound, l.Address)
		}
	}
	if len(wild) > 0 {
		p.Fail("the swarm management port listens on every interface: "+strings.Join(wild, ", "), ev("listeners", strings.Join(wild, ", "), "a specific address (--listen-addr)"))
		return
	}
	if len(bound) == 0 {
		p.OK("this node does not listen on the swarm management port")
		return
	}
	p.OK("the swarm management port is bound to "+strings.Join(bound, ", "), ev("listeners", strings.Join(bound, ", "), ""))
}

// cis7_3 is CIS 7.3: Ensure that all Docker swarm overlay networks are encrypted.
func cis7_3() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that all Docker swarm overlay networks are encrypted",
			Description: "Overlay traffic between nodes is unencrypted by default and can be sniffed or tampered with on the underlying network.",
			Remediation: "Create overlay networks with encryption: `docker network create -d overlay --opt encrypted <net>`.",
			Severity:    finding.Medium,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "7.3", Level: 1, Automated: false, V180: "7.3"},
		},
		Run: run7_3,
	}
}

func run7_3(p *check.Pass) {
	if !swarmActive(p) {
		return
	}
	n := 0
	for _, nw := range p.Facts.Networks {
		if nw.Driver != "overlay" {
			continue
		}
		n++
		if _, enc := nw.Options.Get("encrypted"); enc {
			p.OK("overlay network "+nw.Name+" is encrypted", ev("network "+nw.Name, "encrypted", "encrypted"))
		} else {
			p.Fail("overlay network "+nw.Name+" is not encrypted", ev("network "+nw.Name, "not encrypted", "--opt encrypted"))
		}
	}
	if n == 0 {
		p.OK("there are no overlay networks")
	}
}

// cis7_4 is CIS 7.4: Ensure that Docker's secret management commands are used for managing secrets in a swarm cluster.
func cis7_4() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that Docker's secret management commands are used for managing secrets in a swarm cluster",
			Description: "Passing secrets via environment variables or files in images exposes them; Docker secrets are encrypted at rest and delivered only to authorised services.",
			Remediation: "Store sensitive data with `docker secret create` and grant it to services with `--secret`, instead of env vars or baked-in files.",
			Severity:    finding.Low,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "7.4", Level: 1, Automated: false, V180: "7.4"},
		},
		Run: run7_4,
	}
}

func run7_4(p *check.Pass) {
	sw, ok := swarmManager(p)
	if !ok {
		return
	}
	if sw.Secrets == 0 {
		p.Info("the swarm holds no secrets; if services need credentials, give them as Docker secrets rather than environment variables", ev("secrets", "0", ""))
		return
	}
	p.OK(fmt.Sprintf("the swarm holds %d secrets", sw.Secrets), ev("secrets", fmt.Sprint(sw.Secrets), ""))
}

// cis7_5 is CIS 7.5: Ensure that swarm manager is run in auto-lock mode.
func cis7_5() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that swarm manager is run in auto-lock mode",
			Description: "Without auto-lock, the keys that decrypt the swarm's Raft log (including secrets) are on disk unencrypted, so a stolen manager disk exposes them.",
			Remediation: "Enable auto-lock: `docker swarm init --autolock` for new swarms or `docker swarm update --autolock=true` on existing ones, and store the unlock key safely.",
			Severity:    finding.Medium,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "7.5", Level: 1, Automated: false, V180: "7.5"},
		},
		Run: run7_5,
	}
}

func run7_5(p *check.Pass) {
	sw, ok := swarmManager(p)
	if !ok {
		return
	}
	e := ev("autolock", fmt.Sprint(sw.AutoLock), "true")
	if !sw.AutoLock {
		p.Fail("managers are not auto-locked: the raft keys sit unencrypted on disk", e)
		return
	}
	p.OK("managers are auto-locked", e)
}

// cis7_6 is CIS 7.6: Ensure that the swarm manager auto-lock key is rotated periodically.
func cis7_6() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that the swarm manager auto-lock key is rotated periodically",
			Description: "A long-lived unlock key increases the impact of its disclosure.",
			Remediation: "Rotate the key periodically with `docker swarm unlock-key --rotate` and keep records of rotations.",
			Severity:    finding.Low,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "7.6", Level: 1, Automated: false, V180: "7.6"},
		},
		Run: run7_6,
	}
}

func run7_6(p *check.Pass) {
	if !swarmActive(p) {
		return
	}
	p.Manual("the Engine API does not say when the unlock key was last rotated; rotate it with docker swarm unlock-key --rotate on a schedule")
}

// cis7_7 is CIS 7.7: Ensure that node certificates are rotated as appropriate.
func cis7_7() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that node certificates are rotated as appropriate",
			Description: "Short-lived node certificates limit how long a stolen node identity remains usable.",
			Remediation: "Set the node certificate lifetime per policy, e.g. `docker swarm update --cert-expiry 48h` (default 90 days).",
			Severity:    finding.Low,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "7.7", Level: 1, Automated: false, V180: "7.7"},
		},
		Run: run7_7,
	}
}

func run7_7(p *check.Pass) {
	sw, ok := swarmManager(p)
	if !ok {
		return
	}
	p.Manual("node certificates are valid for "+sw.NodeCertExpiry+" and renewed automatically; confirm the period suits your policy", ev("node certificate expiry", sw.NodeCertExpiry, ""))
}

// cis7_8 is CIS 7.8: Ensure that CA certificates are rotated as appropriate.
func cis7_8() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that CA certificates are rotated as appropriate",
			Description: "Rotating the swarm root CA limits exposure if the CA key is compromised and enforces periodic re-issuance of node certificates.",
			Remediation: "Rotate the CA per policy with `docker swarm ca --rotate`.",
			Severity:    finding.Low,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "7.8", Level: 1, Automated: false, V180: "7.8"},
		},
		Run: run7_8,
	}
}

func run7_8(p *check.Pass) {
	sw, ok := swarmManager(p)
	if !ok {
		return
	}
	p.Manual("the Engine API does not say when the swarm CA was last rotated; rotate it with docker swarm ca --rotate on a schedule", ev("root rotation in progress", fmt.Sprint(sw.RootRotation), ""))
}

// cis7_9 is CIS 7.9: Ensure that management plane traffic is separated from data plane traffic.
func cis7_9() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that management plane traffic is separated from data plane traffic",
			Description: "Separating management and data plane traffic keeps control traffic off application networks and allows separate controls on each.",
			Remediation: "Initialise the swarm with dedicated interfaces: `docker swarm init --advertise-addr <mgmt-ip> --data-path-addr <data-ip>`.",
			Severity:    finding.Low,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "7.9", Level: 1, Automated: false, V180: "7.9"},
		},
		Run: run7_9,
	}
}

func run7_9(p *check.Pass) {
	if !swarmActive(p) {
		return
	}
	p.Manual("check that nodes were joined with separate --advertise-addr and --data-path-addr interfaces", ev("node address", p.Facts.Engine.Swarm.NodeAddr, ""))
}

// swarmActive reports skip when this node is not in a swarm.
func swarmActive(p *check.Pass) bool {
	s := p.Facts.Engine.Swarm
	if !s.Active() {
		p.Skip("not applicable: swarm mode is not active", ev("swarm", cmp.Or(s.LocalNodeState, "inactive"), ""))
		return false
	}
	return true
}

// swarmManager returns the cluster facts, reporting skip on a worker or outside a swarm.
func swarmManager(p *check.Pass) (*facts.Swarm, bool) {
	if !swarmActive(p) {
		return nil, false
	}
	sw := p.Facts.Swarm
	if sw == nil {
		p.Skip("this node is a swarm worker: cluster settings can only be read on a manager")
		return nil, false
	}
	if sw.Error != "" {
		p.Error(sw.Error)
		return nil, false
	}
	return sw, true
}

// splitHostPort splits "ip:port" and "[ipv6]:port" (as the collector writes listeners).
func splitHostPort(addr string) (host, port string) {
	i := strings.LastIndex(addr, ":")
	if i < 0 {
		return addr, ""
	}
	return strings.Trim(addr[:i], "[]"), addr[i+1:]
}
