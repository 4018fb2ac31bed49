package cis

import (
	"testing"
	"time"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
)

func TestSeparatePartition(t *testing.T) {
	s := base()
	expect(t, run(t, s, "1.1.1"), brief{finding.Pass, finding.Medium, "node1", "/var/lib/docker is on its own filesystem",
		[]finding.Evidence{ev("mount", "/var/lib/docker: ext4 /dev/vdb (device 254:16)", "/var/lib/docker on its own filesystem")}})

	// dockerd bind-mounts its data root onto itself, so it is always a mount point while
	// the daemon runs; docker-bench's mountpoint test therefore always passes.
	s.Daemon.DataRootMount = &facts.Mountpoint{MountPoint: "/var/lib/docker", Source: "/dev/vda", FSType: "ext4", Device: "254:0", Root: "/var/lib/docker"}
	expect(t, run(t, s, "1.1.1"), brief{finding.Fail, finding.Medium, "node1",
		"/var/lib/docker is on the root filesystem (/dev/vda); it is a mount point only because dockerd bind-mounts its data root onto itself",
		[]finding.Evidence{
			ev("mount", "/var/lib/docker: ext4 /dev/vda (device 254:0, directory /var/lib/docker)", "/var/lib/docker on its own filesystem"),
			ev("root filesystem", "/: ext4 /dev/vda (device 254:0)", "a different device"),
		}})

	// A bind mount of some other directory of the root filesystem is no better.
	s.Daemon.DataRootMount = &facts.Mountpoint{MountPoint: "/var/lib/docker", Source: "/dev/vda", FSType: "ext4", Device: "254:0", Root: "/srv/docker"}
	statuses(t, run(t, s, "1.1.1"), "fail: node1: /var/lib/docker is a bind mount of a directory of the root filesystem (/dev/vda), not a separate partition")

	s.Daemon.DataRootMount = s.Daemon.RootMount
	statuses(t, run(t, s, "1.1.1"), "fail: node1: /var/lib/docker is on the root filesystem")

	// /var is a separate partition and dockerd bind-mounted its data root onto itself:
	// a mount point, on a filesystem shared with the rest of /var.
	s.Daemon.DataRootMount = &facts.Mountpoint{MountPoint: "/var/lib/docker", Source: "/dev/vdc", FSType: "xfs", Device: "254:32", Root: "/lib/docker"}
	statuses(t, run(t, s, "1.1.1"), "warn: node1: /var/lib/docker is directory /lib/docker of /dev/vdc, a filesystem it shares with other data")

	s.Daemon.DataRootMount = &facts.Mountpoint{MountPoint: "/var", Source: "/dev/vdc", FSType: "xfs", Device: "254:32", Root: "/"}
	statuses(t, run(t, s, "1.1.1"), "warn: node1: /var/lib/docker shares the filesystem mounted at /var")

	s.Daemon.DataRootMount, s.Daemon.MountsError = nil, "open /proc/100/mountinfo: permission denied"
	statuses(t, run(t, s, "1.1.1"), "skip: node1: cannot tell which filesystem holds /var/lib/docker: the daemon's mount table was not readable (open /proc/100/mountinfo: permission denied)")
	// The data root's mount alone, without the root's, cannot tell a bind mount of the
	// root filesystem from a partition: it passed once.
	s.Daemon.DataRootMount = &facts.Mountpoint{MountPoint: "/var/lib/docker", Source: "/dev/vda", FSType: "ext4", Device: "254:0", Root: "/var/lib/docker"}
	s.Daemon.RootMount = nil
	statuses(t, run(t, s, "1.1.1"), "skip: node1: cannot tell which filesystem holds /var/lib/docker: the daemon's mount table was not readable (open /proc/100/mountinfo: permission denied)")
}

// TestListenersNotRead: sockets that could not be read are not "no TCP listener".
func TestListenersNotRead(t *testing.T) {
	s := base()
	s.Daemon.Listeners, s.Daemon.ListenersError = nil, "open /proc/100/net/tcp: permission denied"
	s.Engine.APIVersion = "1.40"
	statuses(t, run(t, s, "2.7"), "skip: node1: its configuration names no TCP address, but its listening sockets could not be read (a socket-activated TCP listener shows only there): open /proc/100/net/tcp: permission denied")
	s.Engine.APIVersion = "1.41"
	statuses(t, run(t, s, "2.7"), "pass: node1: the daemon reports no TCP listener without TLS client verification")
	s.Engine.Swarm = facts.SwarmInfo{LocalNodeState: "active", ControlAvailable: true}
	s.Swarm = &facts.Swarm{Managers: 1}
	statuses(t, run(t, s, "7.2"), "skip: node1: the daemon's listening sockets could not be read: open /proc/100/net/tcp: permission denied")
}

func TestDockerGroup(t *testing.T) {
	s := base()
	statuses(t, run(t, s, "1.1.2"), "pass: node1: the docker group has no members")
	s.Host.DockerGroup.Members = []string{"alice", "bob"}
	expect(t, run(t, s, "1.1.2"), brief{finding.Manual, finding.High, "node1",
		"2 users can control the daemon through the docker group (each is effectively root): confirm they are trusted, or pass --trusted-users",
		[]finding.Evidence{ev("members of docker", "alice, bob", "")}})
	statuses(t, run(t, s, "1.1.2", check.Config{TrustedUsers: []string{"alice", "bob"}}),
		"pass: node1: every member of the docker group is trusted")
	statuses(t, run(t, s, "1.1.2", check.Config{TrustedUsers: []string{"alice"}}),
		"fail: node1: bob in the docker group is not in --trusted-users")
	statuses(t, run(t, s, "1.1.2", check.Config{TrustedUsers: []string{}}),
		"fail: node1: alice, bob in the docker group are not in --trusted-users")
	// The socket's group comes from a directory service, not /etc/group.
	s.Host.DockerGroup = facts.DockerGroup{GID: 50123, Configured: "docker"}
	statuses(t, run(t, s, "1.1.2"), "manual: node1: the socket's group 50123 is not in /etc/group (a directory-service group?): its members can control the daemon; review them there")
	s.Host.DockerGroup = facts.DockerGroup{GID: 0, Name: "root", Exists: true, Configured: "docker"}
	statuses(t, run(t, s, "1.1.2"), "pass: node1: the socket belongs to the root group: only root can use the daemon")
}

func TestAuditRules(t *testing.T) {
	s := base()
	// auditd is not running and no rules exist.
	statuses(t, run(t, s, "1.1.3"), "fail: node1: no audit rule watches /usr/sbin/dockerd")

	// A rule on the path the daemon really runs from.
	s.Host.Audit.Loaded = []string{"-w /usr/sbin/dockerd -p rwxa -k docker"}
	expect(t, run(t, s, "1.1.3"), brief{finding.Pass, finding.Low, "node1", "a loaded audit rule watches /usr/sbin/dockerd",
		[]finding.Evidence{ev("loaded rule", "-w /usr/sbin/dockerd -p rwxa -k docker", "")}})

	// docker-bench looks for /usr/bin/dockerd whatever the daemon runs; a rule there does
	// not audit this daemon.
	s.Host.Audit.Loaded = []string{"-w /usr/bin/dockerd -k docker"}
	statuses(t, run(t, s, "1.1.3"), "fail: node1: no audit rule watches /usr/sbin/dockerd")

	// In a rule file but not loaded.
	s.Host.Audit.Loaded = []string{}
	s.Host.Audit.Files = []string{"-w /usr/sbin/dockerd -k docker"}
	statuses(t, run(t, s, "1.1.3"), "fail: node1: a rule file watches /usr/sbin/dockerd but the rule is not loaded")

	// Loaded rules unknown (no auditctl): a rule file is configuration, not proof the
	// kernel watches; no rule file is a fact.
	s.Host.Audit.Loaded, s.Host.Audit.LoadedError = nil, "auditctl is not installed"
	statuses(t, run(t, s, "1.1.3"), "skip: node1: audit rule files watch /usr/sbin/dockerd, but whether the rule is loaded is not known: the loaded rules could not be listed (auditctl is not installed)")
	s.Host.Audit.Files = []string{}
	statuses(t, run(t, s, "1.1.3"), "fail: node1: no audit rule file watches /usr/sbin/dockerd (the loaded rules could not be listed: auditctl is not installed)")

	// Syscall-rule form, a directory watch covering a file inside it, and a rule on the
	// target of a symlinked binary.
	s.Host.Audit = facts.Audit{Loaded: []string{
		"-a always,exit -F arch=b64 -S all -F path=/run/containerd -F perm=war -k docker",
		"-w /etc/docker -p wa -k docker",
		"-w /usr/sbin/runc -p wa -k docker",
	}}
	statuses(t, run(t, s, "1.1.4"), "pass: node1: a loaded audit rule watches /run/containerd")
	statuses(t, run(t, s, "1.1.11"), "pass: node1: a loaded audit rule watches /etc/docker/daemon.json")
	statuses(t, run(t, s, "1.1.18"), "pass: node1: a loaded audit rule watches /usr/sbin/runc (the real path of /usr/bin/runc)")
	// A watch on the symlink watches the link, not the binary it points at.
	s.Host.Audit.Loaded = []string{"-w /usr/bin/runc -p wa -k docker"}
	expect(t, run(t, s, "1.1.18"), brief{finding.Fail, finding.Low, "node1",
		"the audit rule watches /usr/bin/runc, a symlink; watches follow inodes, so watch /usr/sbin/runc",
		[]finding.Evidence{ev("rule", "-w /usr/bin/runc -p wa -k docker", "-w /usr/sbin/runc -p wa -k docker")}})
	// A watch through a symlinked directory reaches the file: the kernel resolves it.
	s.Host.Paths.DockerService = facts.Located{Path: "/lib/systemd/system/docker.service", Real: "/usr/lib/systemd/system/docker.service"}
	s.Host.Audit = facts.Audit{Loaded: []string{"-w /lib/systemd/system/docker.service -k docker"},
		Resolved: map[string]string{"/lib/systemd/system/docker.service": "/usr/lib/systemd/system/docker.service"}}
	statuses(t, run(t, s, "1.1.7"), "pass: node1: a loaded audit rule watches /usr/lib/systemd/system/docker.service (the real path of /lib/systemd/system/docker.service)")
	// The containerd socket under /var/run is really under /run.
	s.Daemon.ContainerdSocket = "/var/run/docker/containerd/containerd.sock"
	s.Host.Files[s.Daemon.ContainerdSocket] = facts.File{Path: s.Daemon.ContainerdSocket, Real: "/run/docker/containerd/containerd.sock", Exists: true}
	s.Host.Audit.Loaded = []string{"-w /run/docker/containerd -p wa -k docker"}
	statuses(t, run(t, s, "1.1.8"), "pass: node1: a loaded audit rule watches /run/docker/containerd/containerd.sock (the real path of /var/run/docker/containerd/containerd.sock)")

	// Files that do not exist on this host are not applicable, not a pass or a failure.
	statuses(t, run(t, s, "1.1.10"), "skip: node1: /etc/default/docker is not present on this host")
	statuses(t, run(t, s, "1.1.14"), "skip: node1: the containerd binary was not found on this host")
}

func TestAuditRuleCovers(t *testing.T) {
	resolved := map[string]string{"/lib/systemd/system/docker.service": "/usr/lib/systemd/system/docker.service", "/var/run": "/var/run"}
	for _, tt := range []struct {
		rule, path string
		want       bool
	}{
		{"-w /etc/docker -k docker", "/etc/docker/daemon.json", true},
		{"-w /etc/docker/ -k docker", "/etc/docker", true},
		{"-w /etc/dockerx -k docker", "/etc/docker", false},
		{"-w /etc/docker -k docker", "/etc/dockerfile", false},
		{"-a exit,always -F path=/usr/bin/runc -k docker", "/usr/bin/runc", true},
		{"-a exit,always -F path=/usr/bin -k docker", "/usr/bin/runc", false}, // path= is exact
		{"-a exit,always -F dir=/var/lib/docker -k docker", "/var/lib/docker/containers", true},
		{"-k docker -w", "/etc/docker", false},
		// The kernel resolves the directories of a watched path: /lib -> usr/lib.
		{"-w /lib/systemd/system/docker.service -k docker", "/usr/lib/systemd/system/docker.service", true},
		// A watch on the symlink /var/run watches the link, not /run below it.
		{"-w /var/run -k docker", "/run/docker.sock", false},
		{"-w / -k everything", "/etc/docker", false},
	} {
		if got := auditRuleCovers(tt.rule, tt.path, resolved); got != tt.want {
			t.Errorf("auditRuleCovers(%q, %q) = %v", tt.rule, tt.path, got)
		}
	}
}

func TestEngineVersion(t *testing.T) {
	s := base()
	s.CollectedAt = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	s.Engine.Components = [][2]string{{"containerd", "1.6.20~ds1"}, {"runc", "1.1.5+ds1"}}
	statuses(t, run(t, s, "1.2.2"), "fail: node1: end-of-life components: Engine 20.10.24+dfsg1 (every line before 25.0 is end of life); containerd 1.6.20~ds1 (the 1.6 line ended 2025-08-23); this is a distribution build, which may carry backported security fixes")
	s.Engine.ServerVersion = "28.3.3"
	s.Engine.Components = [][2]string{{"containerd", "v2.3.1"}, {"runc", "1.2.5"}}
	expect(t, run(t, s, "1.2.2"), brief{finding.Manual, finding.Medium, "node1",
		"Engine 28.3.3 is not on a line known to be end of life; check it and containerd and runc are the newest patch releases",
		[]finding.Evidence{ev("server version", "28.3.3", "a supported release line"), ev("containerd version", "v2.3.1", ""), ev("runc version", "1.2.5", "")}})
	// The same containerd judged a year earlier was still supported.
	s.Engine.Components = [][2]string{{"containerd", "2.2.0"}}
	statuses(t, run(t, s, "1.2.2"), "fail: node1: end-of-life components: containerd 2.2.0 (the 2.2 line ended 2026-11-06)")
	s.CollectedAt = time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	statuses(t, run(t, s, "1.2.2"), "manual: node1: Engine 28.3.3 is not on a line known to be end of life; check it and containerd and runc are the newest patch releases")
	s.Engine.ServerVersion = "dev"
	statuses(t, run(t, s, "1.2.2"), "manual: node1: cannot parse the Engine version dev; compare it with the current Docker Engine release by hand")
}

// TestRemoteSkipsHostChecks: without host access every host-only item says why.
func TestRemoteSkipsHostChecks(t *testing.T) {
	s := base()
	s.HostAccess = facts.HostAccess{Reason: "the daemon at 10.0.0.5:2376 is not on this host (no local dockerd listens on 10.0.0.5:2376)"}
	s.Daemon, s.Host = nil, nil
	n := 0
	for _, c := range Checks() {
		if !c.NeedsHost {
			continue
		}
		n++
		fs := run(t, s, c.CIS.ID)
		if len(fs) != 1 || fs[0].Status != finding.Skip || fs[0].Message != "needs access to the daemon's host: "+s.HostAccess.Reason {
			t.Errorf("%s remote: %+v", c.ID, fs)
		}
	}
	// 1.1.1-1.1.18, 3.1-3.24, 2.4, 2.8, 2.10, 2.14, 2.16 and 7.2 need the host.
	if n != 48 {
		t.Errorf("%d checks need the host, want 48", n)
	}
	// Checks that read the daemon configuration where it is available still decide
	// what the API shows.
	statuses(t, run(t, s, "2.3"), "skip: node1: the log level is not exposed through the Engine API (debug mode is off); needs access to the daemon's host: "+s.HostAccess.Reason)
	s.Engine.Debug = true
	statuses(t, run(t, s, "2.3"), "fail: node1: the daemon runs in debug mode")
	statuses(t, run(t, s, "5.26"), "warn: web: does not set no-new-privileges, and the daemon default could not be read")
}

// TestAccountsNotRead (found in review): unreadable /etc/group is not "no docker group".
func TestAccountsNotRead(t *testing.T) {
	s := base()
	s.Host.DockerGroup = facts.DockerGroup{GID: -1, Configured: "docker", Members: []string{}, Error: "/etc/group is a FIFO, not a regular file"}
	statuses(t, run(t, s, "1.1.2"), "skip: node1: the host's users and groups could not be read: /etc/group is a FIFO, not a regular file")
}
