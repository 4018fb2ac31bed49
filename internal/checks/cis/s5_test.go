package cis

import (
	"strings"
	"testing"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
)

func with(f func(c *facts.Container)) *facts.Snapshot {
	s := base()
	f(&s.Containers[0])
	return s
}

func TestAppArmorAndSELinuxNotOnHost(t *testing.T) {
	// Requested options on a host without the LSM do nothing: skip, never pass because
	// some unrelated security option is set, never a warning on every container.
	s := with(func(c *facts.Container) {
		c.HostConfig.SecurityOpt = []string{"apparmor=docker-default", "label=type:container_t", "seccomp=unconfined"}
	})
	expect(t, run(t, s, "5.2"), brief{finding.Skip, finding.Medium, "web", "AppArmor is not available on this host; apparmor= options have no effect",
		[]finding.Evidence{ev("daemon security options", "name=seccomp,profile=default", "name=apparmor"), ev("requested apparmor", "docker-default", "")}})
	expect(t, run(t, s, "5.3"), brief{finding.Skip, finding.Medium, "web", "SELinux is not enabled for this daemon; label= options have no effect",
		[]finding.Evidence{ev("daemon security options", "name=seccomp,profile=default", "name=selinux"), ev("requested label", "type:container_t", "")}})
}

func TestLSMDaemonNotKnown(t *testing.T) {
	// Without the daemon's security options (dockaudit config has no daemon), what the
	// container asks for decides where it can; the rest is skip, never pass.
	s := base()
	s.Engine.SecurityOptions, s.NoDaemon = nil, "dockaudit config reads files: the daemon that will run it is not known"
	statuses(t, run(t, s, "5.2"), "skip: web: whether AppArmor confines it depends on the daemon's host: dockaudit config reads files: the daemon that will run it is not known")
	statuses(t, run(t, s, "5.3"), "skip: web: whether SELinux separates it depends on the daemon: dockaudit config reads files: the daemon that will run it is not known")
	s.Containers[0].HostConfig.SecurityOpt = []string{"apparmor=unconfined", "label=disable"}
	statuses(t, run(t, s, "5.2"), "fail: web: asks to run without an AppArmor profile (apparmor=unconfined)")
	statuses(t, run(t, s, "5.3"), "fail: web: SELinux separation is disabled (label=disable)")
	s.Containers[0].HostConfig.SecurityOpt, s.Containers[0].HostConfig.Privileged = nil, true
	statuses(t, run(t, s, "5.2"), "fail: web: privileged: runs without AppArmor confinement")
	statuses(t, run(t, s, "5.3"), "fail: web: privileged: runs without SELinux separation")
	// The daemon's no-new-privileges default is unknown, not unread: skip, not warn.
	s.Containers[0].HostConfig.Privileged, s.Daemon = false, nil
	statuses(t, run(t, s, "5.26"), "skip: web: does not set no-new-privileges, so the daemon's default decides: dockaudit config reads files: the daemon that will run it is not known")
}

func TestAppArmorOnHost(t *testing.T) {
	s := base()
	s.Engine.SecurityOptions = []string{"name=apparmor", "name=seccomp,profile=builtin"}
	s.Containers[0].AppArmorProfile = "docker-default"
	statuses(t, run(t, s, "5.2"), "pass: web: confined by the AppArmor profile docker-default")
	s.Containers[0].AppArmorProfile = "unconfined"
	statuses(t, run(t, s, "5.2"), "fail: web: runs without an AppArmor profile")
	s.Containers[0].AppArmorProfile, s.Containers[0].HostConfig.Privileged = "docker-default", true
	statuses(t, run(t, s, "5.2"), "fail: web: privileged: runs without AppArmor confinement")
}

func TestAppArmorCreatedContainer(t *testing.T) {
	// The daemon picks the profile at first start: a created container has none yet.
	s := base()
	s.Engine.SecurityOptions = []string{"name=apparmor", "name=seccomp,profile=builtin"}
	s.Containers[0].State.Status, s.Containers[0].AppArmorProfile, s.Containers[0].Processes = "created", "", nil
	statuses(t, run(t, s, "5.2"), "pass: web: will be confined by the AppArmor profile docker-default when it starts")
	s.Containers[0].HostConfig.SecurityOpt = []string{"apparmor=unconfined"}
	statuses(t, run(t, s, "5.2"), "fail: web: runs without an AppArmor profile")
}

func TestLSMOnHostButNotInDaemon(t *testing.T) {
	s := base()
	s.Host.AppArmor = facts.LSM{Enabled: true, Evidence: "/sys/module/apparmor/parameters/enabled = Y"}
	s.Host.SELinux = facts.LSM{Enabled: true, Evidence: "SELinux is enforcing"}
	statuses(t, run(t, s, "5.2"), "fail: web: AppArmor is enabled on this host but the daemon does not apply it: the container runs unconfined")
	statuses(t, run(t, s, "5.3"), "fail: web: SELinux is enabled on this host but the daemon runs without selinux-enabled: the container gets no SELinux separation")
}

func TestSELinuxOnHost(t *testing.T) {
	s := base()
	s.Engine.SecurityOptions = []string{"name=selinux", "name=seccomp,profile=default"}
	s.Containers[0].ProcessLabel = "system_u:system_r:container_t:s0:c1,c2"
	statuses(t, run(t, s, "5.3"), "pass: web: runs with the SELinux label system_u:system_r:container_t:s0:c1,c2")
	// Docker adds label=disable for --pid=host; docker-bench counts any option as "set".
	s.Containers[0].HostConfig.SecurityOpt = []string{"label=disable"}
	statuses(t, run(t, s, "5.3"), "fail: web: SELinux separation is disabled (label=disable)")
	s.Containers[0].HostConfig.SecurityOpt, s.Containers[0].ProcessLabel = []string{"seccomp=unconfined"}, ""
	statuses(t, run(t, s, "5.3"), "fail: web: runs without an SELinux process label")
}

func TestCapabilities(t *testing.T) {
	tests := []struct {
		add, drop  []string
		privileged bool
		want       string
	}{
		{nil, nil, false, "pass: web: has 14 of Docker's 14 default capabilities and nothing more"},
		{[]string{"CAP_SYS_ADMIN"}, nil, false, "fail: web: adds capabilities beyond Docker's default set: SYS_ADMIN"},
		// Dropping ALL then adding one keeps only that one, which may still be dangerous.
		{[]string{"SYS_ADMIN"}, []string{"ALL"}, false, "fail: web: adds capabilities beyond Docker's default set: SYS_ADMIN"},
		{[]string{"NET_BIND_SERVICE"}, []string{"ALL"}, false, "pass: web: has 1 of Docker's 14 default capabilities and nothing more"},
		{nil, []string{"all"}, false, "pass: web: has 0 of Docker's 14 default capabilities and nothing more"},
		{[]string{"NET_ADMIN"}, []string{"NET_ADMIN"}, false, "fail: web: adds capabilities beyond Docker's default set: NET_ADMIN"},
		{nil, nil, true, "fail: web: privileged: has every capability"},
	}
	for _, tt := range tests {
		s := with(func(c *facts.Container) {
			c.HostConfig.CapAdd, c.HostConfig.CapDrop, c.HostConfig.Privileged = tt.add, tt.drop, tt.privileged
		})
		statuses(t, run(t, s, "5.4"), tt.want)
	}
}

func bind(src, dst string, rw bool) facts.Mount {
	return facts.Mount{Type: "bind", Source: src, Destination: dst, RW: rw, HostPath: src}
}

func TestSensitiveMounts(t *testing.T) {
	s := with(func(c *facts.Container) {
		etc := bind("/etc", "/hostetc", false)
		etc.Propagation = "rprivate"
		c.Mounts = []facts.Mount{
			etc,
			bind("/usr/lib/modules", "/lib/modules", true),
			bind("/srv/data", "/data", true),
			{Type: "volume", Name: "v", Source: "/var/lib/docker/volumes/v/_data", Destination: "/v", RW: true},
			bind("/etcetera", "/x", true),
		}
	})
	expect(t, run(t, s, "5.6"),
		brief{finding.Fail, finding.Medium, "web", "mounts the host's /etc read-only at /hostetc",
			[]finding.Evidence{ev("mount", "/etc:/hostetc:ro,rprivate", "no mount of /etc")}},
		brief{finding.Fail, finding.High, "web", "mounts the host's /usr/lib/modules read-write at /lib/modules",
			[]finding.Evidence{ev("mount", "/usr/lib/modules:/lib/modules:rw", "no mount of /usr")}})

	// A local volume created as a bind of /etc exposes /etc as much as -v /etc does.
	s = with(func(c *facts.Container) {
		c.Mounts = []facts.Mount{{Type: "volume", Name: "etcvol", Source: "/var/lib/docker/volumes/etcvol/_data", Destination: "/x", HostPath: "/etc"}}
	})
	statuses(t, run(t, s, "5.6"), "fail: web: mounts volume etcvol (a bind of the host's /etc) read-only at /x")

	// A parent of a sensitive directory exposes it: /var holds Docker's data root.
	s = with(func(c *facts.Container) { c.Mounts = []facts.Mount{bind("/var", "/v", true)} })
	statuses(t, run(t, s, "5.6"), "fail: web: mounts the host's /var read-write at /v, which contains /var/lib/docker")

	// Symlinks as the host resolved them: on merged-/usr, /bin is /usr/bin.
	s = with(func(c *facts.Container) {
		m := bind("/opt/tools", "/tools", false)
		m.RealHostPath = "/usr/local/lib/tools"
		c.Mounts = []facts.Mount{m}
	})
	expect(t, run(t, s, "5.6"), brief{finding.Fail, finding.Medium, "web", "mounts the host's /opt/tools read-only at /tools (it is /usr/local/lib/tools)",
		[]finding.Evidence{ev("mount", "/opt/tools:/tools:ro", "no mount of /usr"), ev("host path", "/opt/tools -> /usr/local/lib/tools", "")}})

	s = with(func(c *facts.Container) {
		c.Mounts = []facts.Mount{bind("/srv", "/srv", true), {Type: "tmpfs", Destination: "/tmp"}}
	})
	statuses(t, run(t, s, "5.6"), "pass: web: mounts no sensitive host directory")
}

func TestSSHD(t *testing.T) {
	s := base()
	statuses(t, run(t, s, "5.7"), "pass: web: no sshd among its 1 processes")
	for _, cmd := range []string{"/usr/sbin/sshd -D", "sshd: root@pts/0", "sshd"} {
		s.Containers[0].Processes.Processes[0][7] = cmd
		statuses(t, run(t, s, "5.7"), "fail: web: runs an SSH daemon: "+cmd)
	}
	// The host's own sshd is not in a --pid=host container's process list (the Engine
	// API's top lists the container's processes), and "grep sshd" is not sshd.
	s.Containers[0].HostConfig.PidMode = "host"
	s.Containers[0].Processes.Processes[0][7] = "grep sshd"
	statuses(t, run(t, s, "5.7"), "pass: web: no sshd among its 1 processes")
	s.Containers[0].State.Status, s.Containers[0].Processes = "exited", nil
	statuses(t, run(t, s, "5.7"), "skip: web: not running: its processes cannot be listed")
	s.Containers[0].State.Status, s.Containers[0].ProcessesError = "running", "list processes: GET /containers/c1/top: 409 container is not running"
	statuses(t, run(t, s, "5.7"), "error: web: list processes: GET /containers/c1/top: 409 container is not running")
}

func TestPorts(t *testing.T) {
	s := with(func(c *facts.Container) {
		c.Ports = []facts.Port{
			{ContainerPort: "8080/tcp", HostIP: "0.0.0.0", HostPort: "80"},
			{ContainerPort: "8080/tcp", HostIP: "::", HostPort: "80"},
			{ContainerPort: "9000/tcp", HostIP: "127.0.0.1", HostPort: "9000"},
			{ContainerPort: "53/udp", HostIP: "", HostPort: ""},
		}
	})
	statuses(t, run(t, s, "5.8"), "fail: web: maps privileged host ports: 0.0.0.0:80->8080/tcp, [::]:80->8080/tcp")
	statuses(t, run(t, s, "5.9"), "manual: web: publishes 0.0.0.0:80->8080/tcp, [::]:80->8080/tcp, 127.0.0.1:9000->9000/tcp, *:(random)->53/udp; confirm each is needed")
	statuses(t, run(t, s, "5.14"), "fail: web: accepts traffic on every host interface: 0.0.0.0:80->8080/tcp, [::]:80->8080/tcp, *:(random)->53/udp")
	s.Containers[0].Ports = []facts.Port{{ContainerPort: "8080/tcp", HostIP: "::1", HostPort: "8000-8010"}}
	statuses(t, run(t, s, "5.8"), "pass: web: maps no host port below 1024")
	statuses(t, run(t, s, "5.14"), "pass: web: every published port is bound to a specific host address")
	s.Containers[0].HostConfig.PublishAll = true
	statuses(t, run(t, s, "5.9"), "warn: web: publishes every exposed port (-P)")
}

func TestNamespacesAndLimits(t *testing.T) {
	s := with(func(c *facts.Container) {
		c.HostConfig.NetworkMode, c.HostConfig.PidMode, c.HostConfig.IpcMode, c.HostConfig.UTSMode, c.HostConfig.UsernsMode = "host", "host", "host", "host", "host"
		c.Networks = []string{"n-host"}
	})
	statuses(t, run(t, s, "5.10"), "fail: web: shares the host's network namespace")
	statuses(t, run(t, s, "5.16"), "fail: web: shares the host's process namespace")
	statuses(t, run(t, s, "5.17"), "fail: web: shares the host's IPC namespace")
	statuses(t, run(t, s, "5.21"), "fail: web: shares the host's UTS namespace")
	statuses(t, run(t, s, "5.31"), "fail: web: shares the host's user namespace")
	// Host networking is not the default bridge.
	statuses(t, run(t, s, "5.30"), "pass: web: is not on the default bridge")

	s = base()
	statuses(t, run(t, s, "5.11"), "fail: web: has no memory limit")
	statuses(t, run(t, s, "5.12"), "fail: web: has no CPU shares or CPU limit")
	statuses(t, run(t, s, "5.13"), "fail: web: its root filesystem is writable")
	statuses(t, run(t, s, "5.29"), "fail: web: has no PIDs limit: a fork bomb inside can exhaust the host")
	statuses(t, run(t, s, "5.30"), "fail: web: is attached to the default bridge (docker0)")
	// Disconnected from bridge and connected to its own network: the mode still says
	// "default", the attachments say otherwise.
	s.Containers[0].Networks = []string{"n-app"}
	statuses(t, run(t, s, "5.30"), "pass: web: is not on the default bridge")
	s.Containers[0].Networks = []string{"n-bridge"}
	s.Containers[0].HostConfig.Memory, s.Containers[0].HostConfig.NanoCPUs, s.Containers[0].HostConfig.ReadonlyRootfs, s.Containers[0].HostConfig.PidsLimit = 64<<20, 1500000000, true, 100
	statuses(t, run(t, s, "5.11"), "pass: web: memory is limited to 64 MiB")
	statuses(t, run(t, s, "5.12"), "pass: web: CPU use is bounded: cpus 1.5")
	statuses(t, run(t, s, "5.29"), "pass: web: PIDs are limited to 100")
	s.Containers[0].HostConfig.PidsLimit = -1
	statuses(t, run(t, s, "5.29"), "fail: web: has no PIDs limit: a fork bomb inside can exhaust the host")
}

func TestRestartPolicy(t *testing.T) {
	for _, tt := range []struct {
		policy  string
		retries int
		want    string
	}{
		{"no", 0, "pass: web: is not restarted automatically"},
		{"on-failure", 5, "pass: web: restarts on failure at most 5 times"},
		{"on-failure", 0, "fail: web: restarts on failure without a limit of 5 retries"},
		{"on-failure", 10, "fail: web: restarts on failure without a limit of 5 retries"},
		{"always", 0, "fail: web: restarts without a retry limit (always)"},
		{"unless-stopped", 0, "fail: web: restarts without a retry limit (unless-stopped)"},
	} {
		s := with(func(c *facts.Container) {
			c.HostConfig.RestartPolicy, c.HostConfig.RestartRetries = tt.policy, tt.retries
		})
		statuses(t, run(t, s, "5.15"), tt.want)
	}
}

func TestSeccomp(t *testing.T) {
	s := base()
	statuses(t, run(t, s, "5.22"), "pass: web: runs with Docker 20.10 default profile")
	s.Containers[0].HostConfig.SecurityOpt = []string{`seccomp={"defaultAction":"SCMP_ACT_ERRNO","syscalls":[]}`}
	expect(t, run(t, s, "5.22"), brief{finding.Pass, finding.High, "web", "runs with custom profile sha256:b0d361ebfc63",
		[]finding.Evidence{ev("seccomp", "custom profile sha256:b0d361ebfc63", "Docker's default or a custom profile that refuses what it does not name")}})
	s.Containers[0].HostConfig.SecurityOpt = []string{`seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["reboot"],"action":"SCMP_ACT_ERRNO"}]}`}
	statuses(t, run(t, s, "5.22"), "fail: web: runs with custom profile sha256:3bcf5a302172, whose default action is SCMP_ACT_ALLOW: every syscall it does not name is allowed (see the profile's findings)")
	s.Containers[0].HostConfig.SecurityOpt = []string{"seccomp:unconfined"}
	statuses(t, run(t, s, "5.22"), "fail: web: runs with seccomp=unconfined: every syscall reaches the kernel")
	// The last option wins, as in the daemon: unconfined then a profile is the profile.
	s.Containers[0].HostConfig.SecurityOpt = []string{"seccomp=unconfined", `seccomp={"defaultAction":"SCMP_ACT_ERRNO","syscalls":[]}`}
	statuses(t, run(t, s, "5.22"), "pass: web: runs with custom profile sha256:b0d361ebfc63")
	// A profile of {} is no profile to dockerd (CONFINE-SECCOMP said so while 5.22 passed).
	s.Containers[0].HostConfig.SecurityOpt = []string{"seccomp={}"}
	statuses(t, run(t, s, "5.22"), "fail: web: runs with custom profile sha256:44136fa355b3, which Docker takes as no profile (no defaultAction, no syscalls): every syscall reaches the kernel")
	// --privileged turns seccomp off whatever the options say.
	s.Containers[0].HostConfig.SecurityOpt, s.Containers[0].HostConfig.Privileged = nil, true
	statuses(t, run(t, s, "5.22"), "fail: web: privileged: no seccomp filter, every syscall reaches the kernel")
	s.Containers[0].HostConfig.Privileged = false
	s.Engine.SecurityOptions = []string{"name=seccomp,profile=unconfined"}
	statuses(t, run(t, s, "5.22"), "fail: web: runs with the daemon's default seccomp profile, which is unconfined: every syscall reaches the kernel")
	// Security options not read: no verdict (it failed as "no seccomp" once).
	s.Engine.SecurityOptions = nil
	statuses(t, run(t, s, "5.22"), "skip: web: asks for no seccomp profile of its own, so the daemon's default decides: the daemon's /info gave no SecurityOptions")
	// What the container asks for itself decides without them.
	s.Containers[0].HostConfig.SecurityOpt = []string{"seccomp=unconfined"}
	statuses(t, run(t, s, "5.22"), "fail: web: runs with seccomp=unconfined: every syscall reaches the kernel")
	s.Containers[0].HostConfig.SecurityOpt, s.Containers[0].HostConfig.Privileged = nil, true
	statuses(t, run(t, s, "5.22"), "fail: web: privileged: no seccomp filter, every syscall reaches the kernel")
	// builtin is Docker's profile only where the daemon applies seccomp.
	s.Containers[0].HostConfig.SecurityOpt, s.Containers[0].HostConfig.Privileged = []string{"seccomp=builtin"}, false
	statuses(t, run(t, s, "5.22"), "skip: web: asks for Docker's builtin profile, which applies only where the daemon has seccomp: the daemon's /info gave no SecurityOptions")
}

// TestOneVerdictPerFact: the CIS items and the CONFINE rules read one view of each
// container's confinement, so they agree on what was requested.
func TestOneVerdictPerFact(t *testing.T) {
	for _, opts := range [][]string{{"seccomp={}"}, {"seccomp=unconfined", `seccomp={"defaultAction":"SCMP_ACT_ERRNO","syscalls":[]}`},
		{`seccomp={"defaultAction":"SCMP_ACT_ERRNO","syscalls":[]}`, "seccomp=unconfined"}, {"seccomp=builtin"}} {
		s := base()
		s.Containers[0].HostConfig.SecurityOpt = opts
		cis, confine := run(t, s, "5.22"), runID(t, s, "CONFINE-SECCOMP")
		if len(cis) != 1 || len(confine) != 1 || (cis[0].Status == finding.Fail) != (confine[0].Status == finding.Fail) {
			t.Errorf("%q: CIS-5.22 %v, CONFINE-SECCOMP %v", opts, cis, confine)
		}
	}
}

func TestNoNewPrivileges(t *testing.T) {
	s := base()
	statuses(t, run(t, s, "5.26"), "fail: web: does not set no-new-privileges: setuid binaries inside can gain privileges")
	for _, opt := range []string{"no-new-privileges", "no-new-privileges:true", "no-new-privileges=true"} {
		s.Containers[0].HostConfig.SecurityOpt = []string{opt}
		statuses(t, run(t, s, "5.26"), "pass: web: sets no-new-privileges")
	}
	// The daemon default counts (docker-bench #492), unless the container turns it off.
	s.Containers[0].HostConfig.SecurityOpt = nil
	set(s.Daemon, "no-new-privileges", "daemon.json", "true")
	statuses(t, run(t, s, "5.26"), "pass: web: gets no-new-privileges from the daemon default")
	s.Containers[0].HostConfig.SecurityOpt = []string{"no-new-privileges=false"}
	statuses(t, run(t, s, "5.26"), "fail: web: turns no-new-privileges off")
}

func TestHealthAndMisc(t *testing.T) {
	s := base()
	statuses(t, run(t, s, "5.27"), "fail: web: has no health check")
	s.Containers[0].Config.Healthcheck, s.Containers[0].State.Health = []string{"CMD", "true"}, "healthy"
	statuses(t, run(t, s, "5.27"), "pass: web: has a health check (status: healthy)")
	s.Containers[0].HostConfig.Devices = []facts.Device{{PathOnHost: "/dev/fuse", PathInContainer: "/dev/fuse", CgroupPermissions: "rwm"}}
	statuses(t, run(t, s, "5.18"), "warn: web: has host devices: /dev/fuse:/dev/fuse:rwm; confirm they are needed")
	s.Containers[0].HostConfig.Ulimits = []facts.Ulimit{{Name: "nofile", Soft: 1024, Hard: 2048}}
	statuses(t, run(t, s, "5.19"), "pass: web: sets its own ulimits: nofile=1024:2048")
	s.Containers[0].Mounts = []facts.Mount{{Type: "bind", Source: "/srv", Destination: "/srv", RW: true, Propagation: "rshared"}}
	statuses(t, run(t, s, "5.20"), "fail: web: mounts /srv with rshared propagation: mounts made inside reach the host")
	s.Containers[0].HostConfig.CgroupParent = "/custom"
	statuses(t, run(t, s, "5.25"), "warn: web: runs under the cgroup parent /custom; confirm it is intended")
}

func TestDockerSocket(t *testing.T) {
	tests := []struct {
		source, real, dest string
		want               string
	}{
		{"/var/run/docker.sock", "/run/docker.sock", "/var/run/docker.sock", "fail: web: mounts the Docker socket /var/run/docker.sock at /var/run/docker.sock: the container controls the daemon"},
		{"/run/docker.sock", "", "/sock", "fail: web: mounts the Docker socket /run/docker.sock at /sock: the container controls the daemon"},
		{"/run/user/1000/docker.sock", "", "/docker.sock", "fail: web: mounts a Docker socket /run/user/1000/docker.sock at /docker.sock: the container controls that daemon"},
		// A parent directory exposes the socket too (docker-bench misses these).
		{"/var/run", "/run", "/hostrun", "fail: web: mounts /var/run, which exposes the Docker socket /run/docker.sock at /hostrun/docker.sock: the container controls the daemon"},
		{"/run", "", "/r", "fail: web: mounts /run, which exposes the Docker socket /run/docker.sock at /r/docker.sock: the container controls the daemon"},
		{"/", "", "/host", "fail: web: mounts /, which exposes the Docker socket /run/docker.sock at /host/run/docker.sock: the container controls the daemon"},
		// /var/run is an absolute symlink to /run: inside a container that mounts /var it
		// points at the container's own /run, so /var does not expose the socket.
		{"/var", "/var", "/v", "pass: web: mounts neither the Docker nor the containerd socket"},
		// dockerd's exec root holds its containerd's socket.
		{"/var/run/docker", "/run/docker", "/d", "fail: web: mounts /var/run/docker, which exposes the containerd socket /run/docker/containerd/containerd.sock at /d/containerd/containerd.sock: the container controls containerd, and through it every container"},
		{"/var/run/app", "/run/app", "/app", "pass: web: mounts neither the Docker nor the containerd socket"},
	}
	for _, tt := range tests {
		s := with(func(c *facts.Container) {
			m := bind(tt.source, tt.dest, true)
			m.RealHostPath = tt.real
			c.Mounts = []facts.Mount{m}
		})
		s.Daemon.ContainerdSocket = "/var/run/docker/containerd/containerd.sock"
		s.Host.Files[s.Daemon.ContainerdSocket] = facts.File{Path: s.Daemon.ContainerdSocket, Real: "/run/docker/containerd/containerd.sock", Exists: true}
		statuses(t, run(t, s, "5.32"), tt.want)
	}
	// Without host access the socket is taken to be /run/docker.sock (/var/run -> /run).
	s := with(func(c *facts.Container) { c.Mounts = []facts.Mount{bind("/var/run", "/hostrun", true)} })
	s.Host, s.Daemon, s.HostAccess = nil, nil, facts.HostAccess{Reason: "remote"}
	statuses(t, run(t, s, "5.32"), "fail: web: mounts /var/run, which exposes the Docker socket /run/docker.sock at /hostrun/docker.sock: the container controls the daemon")
}

func TestJoinedNamespaces(t *testing.T) {
	s := base()
	hostnet := s.Containers[0].Clone()
	hostnet.ID, hostnet.Name, hostnet.HostConfig.NetworkMode, hostnet.HostConfig.PidMode, hostnet.HostConfig.IpcMode = "c2abcdef0123", "hostnet", "host", "host", "shareable"
	joiner := s.Containers[0].Clone()
	joiner.ID, joiner.Name = "c3", "joiner"
	joiner.HostConfig.NetworkMode, joiner.HostConfig.PidMode, joiner.HostConfig.IpcMode = "container:c2abcdef0123", "container:hostnet", "container:c2ab"
	chained := s.Containers[0].Clone()
	chained.ID, chained.Name, chained.HostConfig.NetworkMode = "c4", "chained", "container:joiner"
	orphan := s.Containers[0].Clone()
	orphan.ID, orphan.Name, orphan.HostConfig.NetworkMode = "c5", "orphan", "container:gone"
	s.Containers = append(s.Containers, hostnet, joiner, chained, orphan)
	statuses(t, run(t, s, "5.10"),
		"fail: chained: shares the host's network namespace through container joiner -> hostnet",
		"fail: hostnet: shares the host's network namespace",
		"fail: joiner: shares the host's network namespace through container hostnet",
		"warn: orphan: joins the network namespace of container gone, which was not audited (run with --all to follow it)",
		"pass: web: has its own network namespace")
	statuses(t, run(t, s, "5.16"),
		"pass: chained: has its own process namespace",
		"fail: hostnet: shares the host's process namespace",
		"fail: joiner: shares the host's process namespace through container hostnet",
		"pass: orphan: has its own process namespace",
		"pass: web: has its own process namespace")
	statuses(t, run(t, s, "5.17"),
		"pass: chained: has its own IPC namespace",
		"pass: hostnet: has its own IPC namespace",
		"pass: joiner: shares the IPC namespace of container hostnet, which is not the host's",
		"pass: orphan: has its own IPC namespace",
		"pass: web: has its own IPC namespace")

	// Chains that come back on themselves (a facts file can say anything), and a
	// reference that is both a container's name and a prefix of two others' IDs: the
	// name wins, as in the daemon.
	s = base()
	selfie := s.Containers[0].Clone()
	selfie.ID, selfie.Name, selfie.HostConfig.NetworkMode, selfie.Networks = "d1", "selfie", "container:d1", []string{}
	a, b := selfie.Clone(), selfie.Clone()
	a.ID, a.Name, a.HostConfig.NetworkMode = "d2", "a", "container:b"
	b.ID, b.Name, b.HostConfig.NetworkMode = "d3", "b", "container:a"
	beef1, beef2, named := s.Containers[0], s.Containers[0], s.Containers[0]
	beef1.ID, beef1.Name = "beef01", "x1"
	beef2.ID, beef2.Name = "beef02", "x2"
	named.ID, named.Name, named.Networks = "f00d", "beef", []string{"n-app"}
	joinsBeef := s.Containers[0].Clone()
	joinsBeef.ID, joinsBeef.Name, joinsBeef.HostConfig.NetworkMode, joinsBeef.Networks = "d4", "joinsbeef", "container:beef", []string{}
	s.Containers = []facts.Container{selfie, a, b, beef1, beef2, named, joinsBeef}
	statuses(t, run(t, s, "5.10"),
		"warn: a: joins the network namespace of containers that join each other (b -> a): the daemon could not start it",
		"warn: b: joins the network namespace of containers that join each other (a -> b): the daemon could not start it",
		"pass: beef: has its own network namespace",
		"pass: joinsbeef: shares the network namespace of container beef, which is not the host's",
		"warn: selfie: joins the network namespace of containers that join each other (selfie): the daemon could not start it",
		"pass: x1: has its own network namespace",
		"pass: x2: has its own network namespace")
	statuses(t, run(t, s, "5.30"),
		"warn: a: joins the network of containers that join each other (b -> a): the daemon could not start it",
		"warn: b: joins the network of containers that join each other (a -> b): the daemon could not start it",
		"pass: beef: is not on the default bridge",
		"pass: joinsbeef: is not on the default bridge",
		"warn: selfie: joins the network of containers that join each other (selfie): the daemon could not start it",
		"fail: x1: is attached to the default bridge (docker0)",
		"fail: x2: is attached to the default bridge (docker0)")
}

func TestManualRuntimeItems(t *testing.T) {
	s := base()
	for id, msg := range map[string]string{
		"5.23": "past docker exec calls are not kept by the Engine API; review the host's audit log or the daemon's events for exec_create with Privileged set",
		"5.24": "past docker exec calls are not kept by the Engine API; review the host's audit log or the daemon's events for exec_create with User root",
		"5.28": "whether each container runs the newest build of its image needs the registry's current digest; pull with --pull=always or compare digests before deploying",
	} {
		fs := run(t, s, id)
		statuses(t, fs, "manual: node1: "+msg)
		if len(fs) == 1 && fs[0].Target.Kind != finding.KindDaemon {
			t.Errorf("%s is reported for a %s", id, fs[0].Target.Kind)
		}
	}
	statuses(t, run(t, s, "5.1"), "pass: node1: swarm mode is not enabled")
}

// TestDaemonResolution: container:REF is resolved as the daemon resolves it (a full ID
// before a name before a unique prefix), and port 0 is a random port, not port 0.
func TestDaemonResolution(t *testing.T) {
	s := base()
	hostpid := s.Containers[0].Clone()
	hostpid.ID, hostpid.Name, hostpid.HostConfig.PidMode = strings.Repeat("02ba", 16), "hostpid", "host"
	impostor := s.Containers[0].Clone() // named like the other's full ID
	impostor.ID, impostor.Name = strings.Repeat("46", 32), strings.Repeat("02ba", 16)
	joiner := s.Containers[0].Clone()
	joiner.ID, joiner.Name, joiner.HostConfig.PidMode = strings.Repeat("71", 32), "joiner", "container:"+strings.Repeat("02ba", 16)
	short := s.Containers[0].Clone()
	short.ID, short.Name, short.HostConfig.PidMode = strings.Repeat("b7", 32), "short", "container:02"
	s.Containers = []facts.Container{hostpid, impostor, joiner, short}
	got := map[string]string{}
	for _, f := range run(t, s, "5.16") {
		got[f.Target.Name] = f.Status.String() + ": " + f.Message
	}
	for name, want := range map[string]string{
		"joiner": "fail: shares the host's process namespace through container hostpid",
		"short":  "fail: shares the host's process namespace through container hostpid",
	} {
		if got[name] != want {
			t.Errorf("%s: %q, want %q", name, got[name], want)
		}
	}
	// Under --all a container the daemon did not list is not "not audited".
	s.IncludesStopped = true
	s.Containers[2].HostConfig.PidMode = "container:gone"
	for _, f := range run(t, s, "5.16") {
		if f.Target.Name == "joiner" && f.Message != "joins the process namespace of container gone, which the daemon did not list (it does not exist, or the reference is ambiguous)" {
			t.Errorf("joiner under --all: %s", f.Message)
		}
	}
	s = base()
	s.Containers[0].Ports = []facts.Port{{ContainerPort: "80/tcp", HostIP: "0.0.0.0", HostPort: "0"}}
	statuses(t, run(t, s, "5.8"), "pass: web: maps no host port below 1024")
}
