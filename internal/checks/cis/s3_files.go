package cis

import (
	"fmt"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/finding"
)

func section3() []check.Check {
	return []check.Check{
		cis3_1(),
		cis3_2(),
		cis3_3(),
		cis3_4(),
		cis3_5(),
		cis3_6(),
		cis3_7(),
		cis3_8(),
		cis3_9(),
		cis3_10(),
		cis3_11(),
		cis3_12(),
		cis3_13(),
		cis3_14(),
		cis3_15(),
		cis3_16(),
		cis3_17(),
		cis3_18(),
		cis3_19(),
		cis3_20(),
		cis3_21(),
		cis3_22(),
		cis3_23(),
		cis3_24(),
	}
}

// cis3_1 is CIS 3.1: Ensure that the docker.service file ownership is set to root:root.
func cis3_1() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that the docker.service file ownership is set to root:root",
			Description: "The unit file decides how dockerd starts; if a non-root user owns it they can add insecure daemon options.",
			Remediation: "Find the file with `systemctl show -p FragmentPath docker.service` and run `chown root:root <path>`.",
			Severity:    finding.Medium,
			Scope:       host,
			CIS:         &finding.CIS{ID: "3.1", Level: 1, Automated: true, V180: "3.1"},
		},
		NeedsHost: true,
		Run:       run3_1,
	}
}

func run3_1(p *check.Pass) {
	ownedByRoot(p, p.Facts.Host.Paths.DockerService.Path, "the docker.service unit", "", 0)
}

// cis3_2 is CIS 3.2: Ensure that docker.service file permissions are appropriately set.
func cis3_2() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that docker.service file permissions are appropriately set",
			Description: "A writable unit file lets unprivileged users change the daemon's start parameters.",
			Remediation: "Run `chmod 644 <path>` on the file reported by `systemctl show -p FragmentPath docker.service` (or stricter).",
			Severity:    finding.Medium,
			Scope:       host,
			CIS:         &finding.CIS{ID: "3.2", Level: 1, Automated: true, V180: "3.2"},
		},
		NeedsHost: true,
		Run:       run3_2,
	}
}

func run3_2(p *check.Pass) {
	modeAtMost(p, p.Facts.Host.Paths.DockerService.Path, "the docker.service unit", 0o644)
}

// cis3_3 is CIS 3.3: Ensure that docker.socket file ownership is set to root:root.
func cis3_3() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that docker.socket file ownership is set to root:root",
			Description: "The socket unit controls how the Docker API socket is created and who owns it; a non-root owner could loosen that.",
			Remediation: "Find the file with `systemctl show -p FragmentPath docker.socket` and run `chown root:root <path>`.",
			Severity:    finding.Medium,
			Scope:       host,
			CIS:         &finding.CIS{ID: "3.3", Level: 1, Automated: true, V180: "3.3"},
		},
		NeedsHost: true,
		Run:       run3_3,
	}
}

func run3_3(p *check.Pass) {
	ownedByRoot(p, p.Facts.Host.Paths.DockerSocketUnit.Path, "the docker.socket unit", "", 0)
}

// cis3_4 is CIS 3.4: Ensure that docker.socket file permissions are set to 644 or more restrictive.
func cis3_4() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that docker.socket file permissions are set to 644 or more restrictive",
			Description: "If others can write the socket unit they can change the API socket's ownership or mode.",
			Remediation: "Run `chmod 644 <path>` on the file reported by `systemctl show -p FragmentPath docker.socket` (or stricter).",
			Severity:    finding.Medium,
			Scope:       host,
			CIS:         &finding.CIS{ID: "3.4", Level: 1, Automated: true, V180: "3.4"},
		},
		NeedsHost: true,
		Run:       run3_4,
	}
}

func run3_4(p *check.Pass) {
	modeAtMost(p, p.Facts.Host.Paths.DockerSocketUnit.Path, "the docker.socket unit", 0o644)
}

// cis3_5 is CIS 3.5: Ensure that the /etc/docker directory ownership is set to root:root.
func cis3_5() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that the /etc/docker directory ownership is set to root:root",
			Description: "/etc/docker holds daemon configuration and TLS keys; non-root ownership would allow tampering with them.",
			Remediation: "Run `chown root:root /etc/docker`.",
			Severity:    finding.Medium,
			Scope:       host,
			CIS:         &finding.CIS{ID: "3.5", Level: 1, Automated: true, V180: "3.5"},
		},
		NeedsHost: true,
		Run:       run3_5,
	}
}

func run3_5(p *check.Pass) {
	ownedByRoot(p, "/etc/docker", "/etc/docker", "", 0)
}

// cis3_6 is CIS 3.6: Ensure that /etc/docker directory permissions are set to 755 or more restrictively.
func cis3_6() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that /etc/docker directory permissions are set to 755 or more restrictively",
			Description: "Only root should be able to add or replace files in /etc/docker, otherwise certificates and config can be swapped.",
			Remediation: "Run `chmod 755 /etc/docker` (or stricter).",
			Severity:    finding.Medium,
			Scope:       host,
			CIS:         &finding.CIS{ID: "3.6", Level: 1, Automated: true, V180: "3.6"},
		},
		NeedsHost: true,
		Run:       run3_6,
	}
}

func run3_6(p *check.Pass) {
	modeAtMost(p, "/etc/docker", "/etc/docker", 0o755)
}

// cis3_7 is CIS 3.7: Ensure that registry certificate file ownership is set to root:root.
func cis3_7() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that registry certificate file ownership is set to root:root",
			Description: "Registry CA/client certificates under /etc/docker/certs.d decide which registries are trusted; a non-root owner could substitute them.",
			Remediation: "Run `chown root:root /etc/docker/certs.d/<registry-name>/*` for every registry directory.",
			Severity:    finding.Medium,
			Scope:       host,
			CIS:         &finding.CIS{ID: "3.7", Level: 1, Automated: false, V180: "3.7"},
		},
		NeedsHost: true,
		Run:       run3_7,
	}
}

func run3_7(p *check.Pass) {
	certs := registryCerts(p)
	for _, c := range certs {
		ownedByRoot(p, c, "registry certificate", "", 0)
	}
}

// cis3_8 is CIS 3.8: Ensure that registry certificate file permissions are set to 444 or more restrictively.
func cis3_8() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that registry certificate file permissions are set to 444 or more restrictively",
			Description: "Writable registry certificates could be replaced to redirect image pulls to an attacker's registry.",
			Remediation: "Run `find /etc/docker/certs.d/ -type f -exec chmod 0444 {} \\;` (or stricter).",
			Severity:    finding.Medium,
			Scope:       host,
			CIS:         &finding.CIS{ID: "3.8", Level: 1, Automated: false, V180: "3.8"},
		},
		NeedsHost: true,
		Run:       run3_8,
	}
}

func run3_8(p *check.Pass) {
	for _, c := range registryCerts(p) {
		modeAtMost(p, c, "registry certificate", 0o444)
	}
}

// cis3_9 is CIS 3.9: Ensure that TLS CA certificate file ownership is set to root:root.
func cis3_9() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that TLS CA certificate file ownership is set to root:root",
			Description: "The TLS CA file decides which clients may talk to the daemon; a non-root owner could add their own CA.",
			Remediation: "Run `chown root:root <tlscacert path>` (path from `--tlscacert` / `\"tlscacert\"`).",
			Severity:    finding.Medium,
			Scope:       host,
			CIS:         &finding.CIS{ID: "3.9", Level: 1, Automated: false, V180: "3.9"},
		},
		NeedsHost: true,
		Run:       run3_9,
	}
}

func run3_9(p *check.Pass) {
	if f, ok := tlsFile(p, "tlscacert"); ok {
		ownedByRoot(p, f, "the TLS CA certificate", "", 0)
	}
}

// cis3_10 is CIS 3.10: Ensure that TLS CA certificate file permissions are set to 444 or more restrictively.
func cis3_10() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that TLS CA certificate file permissions are set to 444 or more restrictively",
			Description: "A writable CA file could be swapped to authorise rogue clients against the daemon.",
			Remediation: "Run `chmod 444 <tlscacert path>` (or stricter).",
			Severity:    finding.Medium,
			Scope:       host,
			CIS:         &finding.CIS{ID: "3.10", Level: 1, Automated: false, V180: "3.10"},
		},
		NeedsHost: true,
		Run:       run3_10,
	}
}

func run3_10(p *check.Pass) {
	if f, ok := tlsFile(p, "tlscacert"); ok {
		modeAtMost(p, f, "the TLS CA certificate", 0o444)
	}
}

// cis3_11 is CIS 3.11: Ensure that Docker server certificate file ownership is set to root:root.
func cis3_11() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that Docker server certificate file ownership is set to root:root",
			Description: "The daemon's server certificate authenticates it to clients; it must not be replaceable by non-root users.",
			Remediation: "Run `chown root:root <tlscert path>` (path from `--tlscert` / `\"tlscert\"`).",
			Severity:    finding.Medium,
			Scope:       host,
			CIS:         &finding.CIS{ID: "3.11", Level: 1, Automated: false, V180: "3.11"},
		},
		NeedsHost: true,
		Run:       run3_11,
	}
}

func run3_11(p *check.Pass) {
	if f, ok := tlsFile(p, "tlscert"); ok {
		ownedByRoot(p, f, "the server certificate", "", 0)
	}
}

// cis3_12 is CIS 3.12: Ensure that the Docker server certificate file permissions are set to 444 or more restrictively.
func cis3_12() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that the Docker server certificate file permissions are set to 444 or more restrictively",
			Description: "A writable server certificate could be replaced, enabling impersonation of the daemon.",
			Remediation: "Run `chmod 444 <tlscert path>` (or stricter).",
			Severity:    finding.Medium,
			Scope:       host,
			CIS:         &finding.CIS{ID: "3.12", Level: 1, Automated: false, V180: "3.12"},
		},
		NeedsHost: true,
		Run:       run3_12,
	}
}

func run3_12(p *check.Pass) {
	if f, ok := tlsFile(p, "tlscert"); ok {
		modeAtMost(p, f, "the server certificate", 0o444)
	}
}

// cis3_13 is CIS 3.13: Ensure that the Docker server certificate key file ownership is set to root:root.
func cis3_13() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that the Docker server certificate key file ownership is set to root:root",
			Description: "The server private key lets its holder impersonate the daemon; it must belong to root alone.",
			Remediation: "Run `chown root:root <tlskey path>` (path from `--tlskey` / `\"tlskey\"`).",
			Severity:    finding.Medium,
			Scope:       host,
			CIS:         &finding.CIS{ID: "3.13", Level: 1, Automated: false, V180: "3.13"},
		},
		NeedsHost: true,
		Run:       run3_13,
	}
}

func run3_13(p *check.Pass) {
	if f, ok := tlsFile(p, "tlskey"); ok {
		ownedByRoot(p, f, "the server key", "", 0)
	}
}

// cis3_14 is CIS 3.14: Ensure that the Docker server certificate key file permissions are set to 400.
func cis3_14() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that the Docker server certificate key file permissions are set to 400",
			Description: "Only root should be able to read the daemon's private key; any other read access allows impersonation and traffic decryption.",
			Remediation: "Run `chmod 400 <tlskey path>`.",
			Severity:    finding.High,
			Scope:       host,
			CIS:         &finding.CIS{ID: "3.14", Level: 1, Automated: false, V180: "3.14"},
		},
		NeedsHost: true,
		Run:       run3_14,
	}
}

func run3_14(p *check.Pass) {
	if f, ok := tlsFile(p, "tlskey"); ok {
		modeAtMost(p, f, "the server key", 0o400)
	}
}

// cis3_15 is CIS 3.15: Ensure that the Docker socket file ownership is set to root:docker.
func cis3_15() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that the Docker socket file ownership is set to root:docker",
			Description: "The Docker socket grants full daemon control; it should be owned by root and group docker so only root and approved docker-group members can use it.",
			Remediation: "Run `chown root:docker /var/run/docker.sock` (and keep the owner/group settings in docker.socket consistent).",
			Severity:    finding.High,
			Scope:       host,
			CIS:         &finding.CIS{ID: "3.15", Level: 1, Automated: true, V180: "3.15"},
		},
		NeedsHost: true,
		Run:       run3_15,
	}
}

func run3_15(p *check.Pass) {
	g := p.Facts.Host.DockerGroup
	sock := p.Facts.Host.Paths.DockerSock.Path
	if _, rootless := p.Facts.Engine.SecurityOption("rootless"); rootless && p.Facts.Daemon != nil {
		ownedBy(p, sock, "the Docker socket", p.Facts.Daemon.UID, -1, fmt.Sprintf("%d (the rootless daemon's user)", p.Facts.Daemon.UID))
		return
	}
	if !g.ConfiguredExists {
		ownedByRoot(p, sock, "the Docker socket", "", 0) // without its group dockerd leaves the socket root:root
		return
	}
	ownedByRoot(p, sock, "the Docker socket", g.Configured, g.ConfiguredGID)
}

// cis3_16 is CIS 3.16: Ensure that the Docker socket file permissions are set to 660 or more restrictively.
func cis3_16() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that the Docker socket file permissions are set to 660 or more restrictively",
			Description: "World-accessible socket permissions would let any local user control Docker and hence become root.",
			Remediation: "Run `chmod 660 /var/run/docker.sock` (or stricter).",
			Severity:    finding.High,
			Scope:       host,
			CIS:         &finding.CIS{ID: "3.16", Level: 1, Automated: true, V180: "3.16"},
		},
		NeedsHost: true,
		Run:       run3_16,
	}
}

func run3_16(p *check.Pass) {
	modeAtMost(p, p.Facts.Host.Paths.DockerSock.Path, "the Docker socket", 0o660)
}

// cis3_17 is CIS 3.17: Ensure that the daemon.json file ownership is set to root:root.
func cis3_17() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that the daemon.json file ownership is set to root:root",
			Description: "daemon.json sets daemon-wide security options; a non-root owner could disable them.",
			Remediation: "Run `chown root:root /etc/docker/daemon.json` if the file exists.",
			Severity:    finding.Medium,
			Scope:       host,
			CIS:         &finding.CIS{ID: "3.17", Level: 2, Automated: false, V180: "3.17"},
		},
		NeedsHost: true,
		Run:       run3_17,
	}
}

func run3_17(p *check.Pass) {
	ownedByRoot(p, p.Facts.Daemon.ConfigFile, "the daemon configuration file", "", 0)
}

// cis3_18 is CIS 3.18: Ensure that daemon.json file permissions are set to 644 or more restrictive.
func cis3_18() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that daemon.json file permissions are set to 644 or more restrictive",
			Description: "If daemon.json is writable by others, any local user can alter daemon security settings.",
			Remediation: "Run `chmod 644 /etc/docker/daemon.json` (or stricter) if the file exists.",
			Severity:    finding.Medium,
			Scope:       host,
			CIS:         &finding.CIS{ID: "3.18", Level: 2, Automated: false, V180: "3.18"},
		},
		NeedsHost: true,
		Run:       run3_18,
	}
}

func run3_18(p *check.Pass) {
	modeAtMost(p, p.Facts.Daemon.ConfigFile, "the daemon configuration file", 0o644)
}

// cis3_19 is CIS 3.19: Ensure that the /etc/default/docker file ownership is set to root:root.
func cis3_19() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that the /etc/default/docker file ownership is set to root:root",
			Description: "/etc/default/docker feeds options to dockerd on some distributions; non-root ownership allows tampering.",
			Remediation: "Run `chown root:root /etc/default/docker` if the file exists.",
			Severity:    finding.Medium,
			Scope:       host,
			CIS:         &finding.CIS{ID: "3.19", Level: 2, Automated: false, V180: "3.19"},
		},
		NeedsHost: true,
		Run:       run3_19,
	}
}

func run3_19(p *check.Pass) {
	ownedByRoot(p, "/etc/default/docker", "/etc/default/docker", "", 0)
}

// cis3_20 is CIS 3.20: Ensure that the /etc/default/docker file permissions are set to 644 or more restrictively.
func cis3_20() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that the /etc/default/docker file permissions are set to 644 or more restrictively",
			Description: "A writable /etc/default/docker lets unprivileged users inject daemon flags.",
			Remediation: "Run `chmod 644 /etc/default/docker` (or stricter) if the file exists.",
			Severity:    finding.Medium,
			Scope:       host,
			CIS:         &finding.CIS{ID: "3.20", Level: 2, Automated: false, V180: "3.20"},
		},
		NeedsHost: true,
		Run:       run3_20,
	}
}

func run3_20(p *check.Pass) {
	modeAtMost(p, "/etc/default/docker", "/etc/default/docker", 0o644)
}

// cis3_21 is CIS 3.21: Ensure that the /etc/sysconfig/docker file permissions are set to 644 or more restrictively.
func cis3_21() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that the /etc/sysconfig/docker file permissions are set to 644 or more restrictively",
			Description: "A writable /etc/sysconfig/docker lets unprivileged users inject daemon flags.",
			Remediation: "Run `chmod 644 /etc/sysconfig/docker` (or stricter) if the file exists.",
			Severity:    finding.Medium,
			Scope:       host,
			CIS:         &finding.CIS{ID: "3.21", Level: 2, Automated: false, V180: "3.21"},
		},
		NeedsHost: true,
		Run:       run3_21,
	}
}

func run3_21(p *check.Pass) {
	modeAtMost(p, "/etc/sysconfig/docker", "/etc/sysconfig/docker", 0o644)
}

// cis3_22 is CIS 3.22: Ensure that the /etc/sysconfig/docker file ownership is set to root:root.
func cis3_22() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that the /etc/sysconfig/docker file ownership is set to root:root",
			Description: "/etc/sysconfig/docker feeds options to dockerd on RHEL-like systems; non-root ownership allows tampering.",
			Remediation: "Run `chown root:root /etc/sysconfig/docker` if the file exists.",
			Severity:    finding.Medium,
			Scope:       host,
			CIS:         &finding.CIS{ID: "3.22", Level: 2, Automated: false, V180: "3.22"},
		},
		NeedsHost: true,
		Run:       run3_22,
	}
}

func run3_22(p *check.Pass) {
	ownedByRoot(p, "/etc/sysconfig/docker", "/etc/sysconfig/docker", "", 0)
}

// cis3_23 is CIS 3.23: Ensure that the Containerd socket file ownership is set to root:root.
func cis3_23() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that the Containerd socket file ownership is set to root:root",
			Description: "The containerd socket gives full control of the runtime beneath Docker; only root should own it.",
			Remediation: "Run `chown root:root` on the containerd socket the finding names (/run/containerd/containerd.sock, or /var/run/docker/containerd/containerd.sock for dockerd's own containerd).",
			Severity:    finding.High,
			Scope:       host,
			CIS:         &finding.CIS{ID: "3.23", Level: 1, Automated: true, V180: "3.23"},
		},
		NeedsHost: true,
		Run:       run3_23,
	}
}

func run3_23(p *check.Pass) {
	ownedByRoot(p, p.Facts.Daemon.ContainerdSocket, "the containerd socket", "", 0)
}

// cis3_24 is CIS 3.24: Ensure that the Containerd socket file permissions are set to 660 or more restrictively.
func cis3_24() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that the Containerd socket file permissions are set to 660 or more restrictively",
			Description: "Loose permissions on the containerd socket would let local users bypass Docker and drive containerd directly.",
			Remediation: "Run `chmod 660` (or stricter) on the containerd socket the finding names.",
			Severity:    finding.High,
			Scope:       host,
			CIS:         &finding.CIS{ID: "3.24", Level: 1, Automated: true, V180: "3.24"},
		},
		NeedsHost: true,
		Run:       run3_24,
	}
}

func run3_24(p *check.Pass) {
	modeAtMost(p, p.Facts.Daemon.ContainerdSocket, "the containerd socket", 0o660)
}

// registryCerts lists the files under /etc/docker/certs.d, reporting skip when there are none.
func registryCerts(p *check.Pass) []string {
	if len(p.Facts.Host.CertsD) == 0 {
		p.Skip("/etc/docker/certs.d holds no registry certificates")
		return nil
	}
	return p.Facts.Host.CertsD
}

// tlsFile returns the daemon's TLS file for a daemon.json key (tlscacert, tlscert,
// tlskey) when the daemon uses TLS, and reports skip otherwise.
func tlsFile(p *check.Pass, key string) (string, bool) {
	d, ok := daemonConfig(p)
	if !ok {
		return "", false
	}
	if !d.TLS.Enabled {
		p.Skip("not applicable: the daemon does not use TLS")
		return "", false
	}
	f := map[string]string{"tlscacert": d.TLS.CACert, "tlscert": d.TLS.Cert, "tlskey": d.TLS.Key}[key]
	if f == "" {
		p.Error("the daemon uses TLS but no " + key + " path is known")
		return "", false
	}
	return f, true
}
