package confine

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/facts"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// run evaluates the rules and renders each finding as
// "RULE status severity target: message".
func run(t *testing.T, snap *facts.Snapshot, ids ...string) []string {
	t.Helper()
	snap.CollectedAt = now
	sel, err := check.Selection{Include: ids}.Apply(HostChecks())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range check.Run(sel, snap, check.Options{}) {
		out = append(out, f.Rule+" "+f.Status.String()+" "+f.Severity.String()+" "+f.Target.Name+": "+f.Message)
	}
	return out
}

func expect(t *testing.T, got []string, want ...string) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// evidence returns the evidence of the one finding of a rule for a target.
func evidence(t *testing.T, snap *facts.Snapshot, id, target string) map[string]string {
	t.Helper()
	sel, _ := check.Selection{Include: []string{id}}.Apply(HostChecks())
	for _, f := range check.Run(sel, snap, check.Options{}) {
		if f.Target.Name == target {
			m := map[string]string{}
			for _, e := range f.Evidence {
				m[e.Key] = e.Actual
			}
			return m
		}
	}
	t.Fatalf("no %s finding for %s", id, target)
	return nil
}

// Docker's default capability set, as /proc/PID/status shows it.
const defaultMask = "00000000a80425fb"

// host is a Docker 20.10 daemon on this machine kind: seccomp, no AppArmor, no
// SELinux, no userns-remap, read from its host.
func host(cs ...facts.Container) *facts.Snapshot {
	return &facts.Snapshot{
		Engine: facts.Engine{Info: true, ServerVersion: "20.10.24+dfsg1", Architecture: "x86_64", KernelVersion: "6.18.0-cloud-amd64",
			SecurityOptions: []string{"name=seccomp,profile=default", "name=cgroupns"}},
		HostAccess: facts.HostAccess{Local: true, Root: "/"},
		Daemon:     &facts.DaemonProcess{},
		Containers: cs,
	}
}

// running is a running container whose init process the kernel shows confined
// the way Docker's defaults do.
func running(name string, pid int) facts.Container {
	return facts.Container{ID: strings.Repeat(name[:1], 64), Name: name, Confinement: &facts.Confinement{PID: pid, Seccomp: 2, Filters: 1, CapEff: defaultMask, CapBnd: defaultMask, UIDMap: "0 0 4294967295"}, State: &facts.ContainerState{Status: "running", PID: pid}, Config: &facts.ContainerConfig{}, HostConfig: &facts.HostConfig{}, Mounts: []facts.Mount{}, Ports: []facts.Port{}, Networks: []string{}}
}

const permissive = `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["reboot"],"action":"SCMP_ACT_ERRNO"}]}`

func TestContainerSeccomp(t *testing.T) {
	def := running("def", 100)
	unc := running("unc", 101)
	unc.HostConfig.SecurityOpt = []string{"seccomp=unconfined"}
	unc.Confinement.Seccomp, unc.Confinement.Filters = 0, 0
	priv := running("priv", 102)
	priv.HostConfig.Privileged = true
	priv.Confinement.Seccomp, priv.Confinement.Filters = 0, 0
	perm := running("perm", 103)
	perm.HostConfig.SecurityOpt = []string{"seccomp=" + permissive}
	lost := running("lost", 104) // asked for the default, the kernel shows none
	lost.Confinement.Seccomp = 0
	created := facts.Container{ID: strings.Repeat("c", 64), Name: "created", State: &facts.ContainerState{Status: "created"}, Config: &facts.ContainerConfig{}, HostConfig: &facts.HostConfig{}, Mounts: []facts.Mount{}, Ports: []facts.Port{}, Networks: []string{}}
	strict := running("strict", 105)
	strict.HostConfig.SecurityOpt = []string{`seccomp={"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["read","write","exit_group"],"action":"SCMP_ACT_ALLOW"}]}`}
	snap := host(def, unc, priv, perm, lost, created, strict)
	expect(t, run(t, snap, "CONFINE-SECCOMP"),
		"CONFINE-SECCOMP skip high created: Docker 20.10 default profile is requested; whether the kernel applies it is not known: the container is created",
		"CONFINE-SECCOMP pass high def: Docker 20.10 default profile is in force (Seccomp: 2)",
		"CONFINE-SECCOMP fail high lost: Docker 20.10 default profile was requested, but the kernel shows no filter on PID 104 (Seccomp: 0 (no filter))",
		"CONFINE-SECCOMP fail high perm: runs with custom profile sha256:3bcf5a302172, whose default action is SCMP_ACT_ALLOW: every syscall it does not name is allowed (see the profile's findings)",
		"CONFINE-SECCOMP fail high priv: privileged: no seccomp filter, every syscall reaches the kernel",
		"CONFINE-SECCOMP pass high strict: custom profile sha256:dc5d363ca561 is in force (Seccomp: 2)",
		"CONFINE-SECCOMP fail high unc: runs with seccomp=unconfined: every syscall reaches the kernel",
	)
	ev := evidence(t, snap, "CONFINE-SECCOMP", "def")
	if d := cmp.Diff(map[string]string{"requested": "Docker 20.10 default profile", "effective": "Seccomp: 2 (filter), filters: 1 (PID 100)",
		"allows": "292 of 380 x86_64 syscalls allowed with its capabilities"}, ev); d != "" {
		t.Errorf("evidence (-want +got):\n%s", d)
	}
	if got := evidence(t, snap, "CONFINE-SECCOMP", "strict")["allows"]; got != "3 of 380 x86_64 syscalls allowed with its capabilities" {
		t.Errorf("strict allows %q", got)
	}
	admin := running("admin", 106)
	admin.HostConfig.CapAdd = []string{"SYS_ADMIN"}
	if got := evidence(t, host(admin), "CONFINE-SECCOMP", "admin")["allows"]; got != "314 of 380 x86_64 syscalls allowed with its capabilities" {
		t.Errorf("with SYS_ADMIN the default allows %q", got)
	}

	// A daemon without seccomp, one whose default is unconfined, and one read remotely.
	none := host(running("def", 100))
	none.Engine.SecurityOptions = []string{}
	expect(t, run(t, none, "CONFINE-SECCOMP"),
		"CONFINE-SECCOMP fail high def: the daemon applies no seccomp filter (built without it, or the kernel lacks it): every syscall reaches the kernel")
	// Security options not known: nothing is judged (it failed as "no seccomp" once).
	none.Engine.SecurityOptions = nil
	expect(t, run(t, none, "CONFINE-SECCOMP"), "CONFINE-SECCOMP skip high def: asks for no seccomp profile of its own, so the daemon's default decides: the daemon's /info gave no SecurityOptions")
	none.Containers[0].HostConfig.SecurityOpt = []string{"seccomp=unconfined"}
	expect(t, run(t, none, "CONFINE-SECCOMP"), "CONFINE-SECCOMP fail high def: runs with seccomp=unconfined: every syscall reaches the kernel")
	uncDaemon := host(running("def", 100))
	uncDaemon.Engine.SecurityOptions = []string{"name=seccomp,profile=unconfined"}
	expect(t, run(t, uncDaemon, "CONFINE-SECCOMP"),
		"CONFINE-SECCOMP fail high def: runs with the daemon's default seccomp profile, which is unconfined: every syscall reaches the kernel")
	// seccomp=builtin is Docker's own profile (Engine 23.0+); a profile of {} is none.
	builtinC := facts.Container{ID: strings.Repeat("b", 64), Name: "builtin", State: &facts.ContainerState{Status: "exited"}, Config: &facts.ContainerConfig{}, HostConfig: &facts.HostConfig{SecurityOpt: []string{"seccomp=builtin"}}, Mounts: []facts.Mount{}, Ports: []facts.Port{}, Networks: []string{}}
	empty := running("empty", 108)
	empty.HostConfig.SecurityOpt = []string{"seccomp={}"}
	empty.Confinement.Seccomp, empty.Confinement.Filters = 0, 0
	emptyStopped := facts.Container{ID: strings.Repeat("e", 64), Name: "empty-stopped", State: &facts.ContainerState{Status: "exited"}, Config: &facts.ContainerConfig{}, HostConfig: &facts.HostConfig{SecurityOpt: []string{`seccomp={"defaltAction":"SCMP_ACT_ERRNO"}`}}, Mounts: []facts.Mount{}, Ports: []facts.Port{}, Networks: []string{}}
	expect(t, run(t, host(builtinC, empty, emptyStopped), "CONFINE-SECCOMP"),
		"CONFINE-SECCOMP skip high builtin: Docker 20.10 default profile is requested; whether the kernel applies it is not known: the container is exited",
		"CONFINE-SECCOMP fail high empty: runs with custom profile sha256:44136fa355b3, which Docker takes as no profile (no defaultAction, no syscalls): every syscall reaches the kernel",
		"CONFINE-SECCOMP fail high empty-stopped: runs with custom profile sha256:053a058c7d66, which Docker takes as no profile (no defaultAction, no syscalls): every syscall reaches the kernel",
	)
	remote := host(facts.Container{ID: strings.Repeat("r", 64), Name: "r", State: &facts.ContainerState{Status: "running", PID: 7}, Config: &facts.ContainerConfig{}, HostConfig: &facts.HostConfig{}, Mounts: []facts.Mount{}, Ports: []facts.Port{}, Networks: []string{}})
	remote.HostAccess = facts.HostAccess{Reason: "the daemon is at tcp://10.0.0.5:2376"}
	expect(t, run(t, remote, "CONFINE-SECCOMP"),
		"CONFINE-SECCOMP skip high r: Docker 20.10 default profile is requested; whether the kernel applies it is not known: needs dockaudit on the daemon's host (the daemon is at tcp://10.0.0.5:2376)")
}

func TestContainerCaps(t *testing.T) {
	def := running("def", 100)
	admin := running("admin", 101)
	admin.HostConfig.CapAdd = []string{"CAP_SYS_ADMIN"}
	admin.Confinement.CapEff, admin.Confinement.CapBnd = "00000000a82425fb", "00000000a82425fb"
	dropped := running("dropped", 102)
	dropped.HostConfig.CapDrop = []string{"ALL"}
	dropped.Confinement.CapEff, dropped.Confinement.CapBnd = "0000000000000000", "0000000000000000"
	// A non-root user with SYS_PTRACE in its bounding set: not effective, but a setuid
	// binary gets it back, unless no-new-privileges holds.
	user := running("user", 103)
	user.HostConfig.CapAdd = []string{"SYS_PTRACE"}
	user.Confinement.CapEff, user.Confinement.CapBnd = "0000000000000000", "00000000a80c25fb"
	userNNP := running("usernnp", 104)
	userNNP.HostConfig.CapAdd = []string{"SYS_PTRACE"}
	userNNP.Confinement.CapEff, userNNP.Confinement.CapBnd, userNNP.Confinement.NoNewPrivs = "0000000000000000", "00000000a80c25fb", true
	// The kernel shows NET_ADMIN that nobody asked for.
	odd := running("odd", 105)
	odd.Confinement.CapBnd = "00000000a80435fb"
	stopped := facts.Container{ID: strings.Repeat("s", 64), Name: "stopped", State: &facts.ContainerState{Status: "exited"}, Config: &facts.ContainerConfig{}, HostConfig: &facts.HostConfig{CapAdd: []string{"NET_BROADCAST"}}, Mounts: []facts.Mount{}, Ports: []facts.Port{}, Networks: []string{}}
	snap := host(def, admin, dropped, user, userNNP, odd, stopped)
	expect(t, run(t, snap, "CONFINE-CAPS"),
		"CONFINE-CAPS fail critical admin: holds capabilities beyond Docker's default set: SYS_ADMIN (mount, namespaces, BPF and most of the kernel's administration: the usual way out of a container)",
		"CONFINE-CAPS pass high def: holds 14 of Docker's 14 default capabilities and nothing more",
		"CONFINE-CAPS pass high dropped: holds 0 of Docker's 14 default capabilities and nothing more",
		"CONFINE-CAPS fail high odd: the kernel shows capabilities that were not requested: NET_ADMIN",
		"CONFINE-CAPS fail low stopped: holds capabilities beyond Docker's default set: NET_BROADCAST",
		"CONFINE-CAPS fail high user: holds capabilities beyond Docker's default set: SYS_PTRACE (traces any process it can see (all of the host's with --pid host)); its process has none effective, but a setuid-root binary gets them back",
		"CONFINE-CAPS fail low usernnp: holds capabilities beyond Docker's default set: SYS_PTRACE (traces any process it can see (all of the host's with --pid host)); its process has none effective and no-new-privileges keeps setuid binaries from raising them",
	)
	ev := evidence(t, snap, "CONFINE-CAPS", "stopped")
	if got := ev["bounding set"]; got != "AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, NET_BROADCAST, NET_RAW, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT [requested (the kernel's view: the container is exited)]" {
		t.Errorf("stopped bounding set evidence %q", got)
	}
	if got := evidence(t, snap, "CONFINE-CAPS", "user")["effective (CapEff)"]; got != "(none)" {
		t.Errorf("user CapEff evidence %q", got)
	}
}

func TestContainerNNP(t *testing.T) {
	on := running("on", 100)
	on.HostConfig.SecurityOpt = []string{"no-new-privileges"}
	on.Confinement.NoNewPrivs = true
	lost := running("lost", 101)
	lost.HostConfig.SecurityOpt = []string{"no-new-privileges:true"}
	off := running("off", 102)
	optOut := running("optout", 103)
	optOut.HostConfig.SecurityOpt = []string{"no-new-privileges=false"}
	created := facts.Container{ID: strings.Repeat("c", 64), Name: "created", State: &facts.ContainerState{Status: "created"}, Config: &facts.ContainerConfig{}, HostConfig: &facts.HostConfig{SecurityOpt: []string{"no-new-privileges"}}, Mounts: []facts.Mount{}, Ports: []facts.Port{}, Networks: []string{}}
	snap := host(on, lost, off, optOut, created)
	expect(t, run(t, snap, "CONFINE-NNP"),
		"CONFINE-NNP skip medium created: no-new-privileges is requested; whether it is in effect is not known: the container is created",
		"CONFINE-NNP fail high lost: no-new-privileges was requested, but PID 101 runs without it (NoNewPrivs: 0)",
		"CONFINE-NNP fail medium off: no-new-privileges is not in effect (NoNewPrivs: 0): setuid binaries can raise privileges",
		"CONFINE-NNP pass medium on: no-new-privileges is in effect (NoNewPrivs: 1)",
		"CONFINE-NNP fail medium optout: no-new-privileges is not in effect (NoNewPrivs: 0): setuid binaries can raise privileges",
	)
	if d := cmp.Diff(map[string]string{"requested": "no (daemon default)", "effective": "NoNewPrivs: 0 (PID 102)"}, evidence(t, snap, "CONFINE-NNP", "off")); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	// The daemon default, and a daemon whose configuration could not be read.
	daemonOn := host(facts.Container{ID: strings.Repeat("x", 64), Name: "x", State: &facts.ContainerState{Status: "exited"}, Config: &facts.ContainerConfig{}, HostConfig: &facts.HostConfig{}, Mounts: []facts.Mount{}, Ports: []facts.Port{}, Networks: []string{}})
	daemonOn.Daemon = &facts.DaemonProcess{Config: map[string]facts.Setting{"no-new-privileges": {Values: []string{"true"}, Source: "daemon.json"}}}
	expect(t, run(t, daemonOn, "CONFINE-NNP"), "CONFINE-NNP skip medium x: no-new-privileges is requested; whether it is in effect is not known: the container is exited")
	unknown := host(facts.Container{ID: strings.Repeat("x", 64), Name: "x", State: &facts.ContainerState{Status: "exited"}, Config: &facts.ContainerConfig{}, HostConfig: &facts.HostConfig{}, Mounts: []facts.Mount{}, Ports: []facts.Port{}, Networks: []string{}})
	unknown.Daemon = nil
	expect(t, run(t, unknown, "CONFINE-NNP"), "CONFINE-NNP warn medium x: does not set no-new-privileges, and the daemon default could not be read")
}

func TestContainerUserns(t *testing.T) {
	plain := running("plain", 100)
	snap := host(plain)
	expect(t, run(t, snap, "CONFINE-USERNS"),
		"CONFINE-USERNS info medium plain: runs in the host's user namespace: root in the container is root on the host (the daemon has no userns-remap, see CIS-2.9)")

	remapped := running("remapped", 101)
	remapped.Confinement.UIDMap = "0 231072 65536"
	optOut := running("optout", 102)
	optOut.HostConfig.UsernsMode = "host"
	escaped := running("escaped", 103) // remap on, but the kernel shows the host's namespace
	partial := running("partial", 104) // only UID 0 is mapped to itself
	partial.Confinement.UIDMap = "0 0 1; 1 100000 65535"
	unmapped := running("unmapped", 105)
	unmapped.Confinement.UIDMap = "1 100000 65535"
	unread := running("unread", 106)
	unread.Confinement.UIDMap, unread.Confinement.UIDMapError = "", "permission denied"
	stopped := facts.Container{ID: strings.Repeat("s", 64), Name: "stopped", State: &facts.ContainerState{Status: "exited"}, Config: &facts.ContainerConfig{}, HostConfig: &facts.HostConfig{}, Mounts: []facts.Mount{}, Ports: []facts.Port{}, Networks: []string{}}
	snap = host(remapped, optOut, escaped, partial, unmapped, unread, stopped)
	snap.Engine.SecurityOptions = append(snap.Engine.SecurityOptions, "name=userns")
	expect(t, run(t, snap, "CONFINE-USERNS"),
		"CONFINE-USERNS fail medium escaped: the daemon remaps users, but root in this container is root on the host (uid_map 0 0 4294967295)",
		"CONFINE-USERNS fail medium optout: opts out of the daemon's userns-remap (--userns=host): root in the container is root on the host",
		"CONFINE-USERNS fail medium partial: the daemon remaps users, but root in this container is root on the host (uid_map 0 0 1; 1 100000 65535)",
		"CONFINE-USERNS pass medium remapped: root in the container is host UID 231072",
		"CONFINE-USERNS skip medium stopped: the daemon remaps users; the kernel's uid_map is not known: the container is exited",
		"CONFINE-USERNS pass medium unmapped: root in the container maps to no host user (uid_map 1 100000 65535)",
		"CONFINE-USERNS skip medium unread: the daemon remaps users; the kernel's uid_map is not known: uid_map could not be read: permission denied",
	)
	rootless := host(facts.Container{ID: strings.Repeat("x", 64), Name: "x", State: &facts.ContainerState{Status: "exited"}, Config: &facts.ContainerConfig{}, HostConfig: &facts.HostConfig{}, Mounts: []facts.Mount{}, Ports: []facts.Port{}, Networks: []string{}})
	rootless.Engine.SecurityOptions = append(rootless.Engine.SecurityOptions, "name=rootless")
	expect(t, run(t, rootless, "CONFINE-USERNS"), "CONFINE-USERNS skip medium x: the daemon is rootless, so root in the container should be its unprivileged user; the kernel's uid_map is not known: the container is exited")
}

func TestContainerMAC(t *testing.T) {
	aa := running("aa", 100)
	aa.HostConfig.SecurityOpt = []string{"apparmor=hr-nonexistent"}
	label := running("label", 101)
	label.HostConfig.SecurityOpt = []string{"label=type:container_t"}
	plain := running("plain", 102)
	priv := running("priv", 103)
	priv.HostConfig.Privileged = true
	priv.HostConfig.SecurityOpt = []string{"label=disable"} // the daemon adds it to privileged containers
	unconfined := running("unconfined", 104)
	unconfined.HostConfig.SecurityOpt = []string{"apparmor=unconfined"}
	snap := host(aa, label, plain, priv, unconfined)
	expect(t, run(t, snap, "CONFINE-MAC"),
		"CONFINE-MAC warn medium aa: apparmor=hr-nonexistent was requested, but AppArmor is not available on this host: the option has no effect",
		"CONFINE-MAC warn medium label: label=type:container_t was requested, but SELinux is not enabled for this daemon: the option has no effect",
		"CONFINE-MAC skip medium plain: neither AppArmor nor SELinux is available on this host; the container asks for no confinement from them",
		"CONFINE-MAC skip medium priv: neither AppArmor nor SELinux is available on this host; the container asks for no confinement from them",
		"CONFINE-MAC skip medium unconfined: neither AppArmor nor SELinux is available on this host; the container asks for no confinement from them",
	)

	// An AppArmor host.
	good := running("good", 103)
	good.AppArmorProfile = "docker-default"
	good.Confinement.LSMLabel = "docker-default (enforce)"
	custom := running("custom", 104)
	custom.HostConfig.SecurityOpt = []string{"apparmor=my-profile"}
	custom.AppArmorProfile = "docker-default"
	unconf := running("unconf", 105)
	unconf.HostConfig.SecurityOpt = []string{"apparmor=unconfined"}
	unconf.AppArmorProfile = "unconfined"
	drift := running("drift", 106) // the daemon says one thing, the kernel another
	drift.AppArmorProfile = "docker-default"
	drift.Confinement.LSMLabel = "unconfined"
	priv = running("priv", 107)
	priv.HostConfig.Privileged = true
	snap = host(good, custom, unconf, drift, priv)
	snap.Engine.SecurityOptions = append(snap.Engine.SecurityOptions, "name=apparmor")
	expect(t, run(t, snap, "CONFINE-MAC"),
		"CONFINE-MAC fail medium custom: asks for the AppArmor profile my-profile but runs under docker-default",
		"CONFINE-MAC fail medium drift: asks for the AppArmor profile docker-default but the kernel shows unconfined",
		"CONFINE-MAC pass medium good: the requested mandatory access control is applied",
		"CONFINE-MAC fail medium priv: privileged: runs without AppArmor or SELinux confinement",
		"CONFINE-MAC fail medium unconf: runs with apparmor=unconfined",
	)
}

func TestEngineDefault(t *testing.T) {
	snap := host()
	expect(t, run(t, snap, "SECCOMP-ENGINE-DEFAULT"),
		"SECCOMP-ENGINE-DEFAULT warn low : the built-in profile of Docker 20.10 allows io_uring_setup, io_uring_enter, io_uring_register to every container that runs with it")
	snap.Engine.ServerVersion = "27.3.1"
	snap.Engine.SecurityOptions = []string{"name=seccomp,profile=builtin"}
	expect(t, run(t, snap, "SECCOMP-ENGINE-DEFAULT"), "SECCOMP-ENGINE-DEFAULT pass low : the built-in profile of Docker 25.0 refuses io_uring")
	snap.Engine.SecurityOptions = []string{"name=seccomp,profile=/etc/docker/seccomp.json"}
	expect(t, run(t, snap, "SECCOMP-ENGINE-DEFAULT"),
		"SECCOMP-ENGINE-DEFAULT skip low : the daemon uses its own default profile (/etc/docker/seccomp.json), linted as a profile target when it could be read")
	snap.Engine.SecurityOptions = []string{"name=seccomp,profile=unconfined"}
	expect(t, run(t, snap, "SECCOMP-ENGINE-DEFAULT"),
		"SECCOMP-ENGINE-DEFAULT skip low : the daemon's default seccomp profile is unconfined: no profile at all (see CONFINE-SECCOMP)")
	snap.Engine.SecurityOptions = []string{}
	expect(t, run(t, snap, "SECCOMP-ENGINE-DEFAULT"), "SECCOMP-ENGINE-DEFAULT skip low : the daemon applies no seccomp filter (see CONFINE-SECCOMP)")
	snap.Engine.SecurityOptions = nil
	expect(t, run(t, snap, "SECCOMP-ENGINE-DEFAULT"), "SECCOMP-ENGINE-DEFAULT skip low : not known: the daemon's /info gave no SecurityOptions")
	snap.Engine.SecurityOptions = []string{"name=seccomp,profile=default"}
	snap.Engine.ServerVersion = "19.03.15"
	expect(t, run(t, snap, "SECCOMP-ENGINE-DEFAULT"),
		"SECCOMP-ENGINE-DEFAULT skip low : no embedded default profile for Docker 19.03.15 (have 20.10, 23.0, 24.0, 25.0, 28.5, 29.7)")
}

func TestProfileRules(t *testing.T) {
	snap := &facts.Snapshot{Profiles: []facts.Profile{
		{Name: "/etc/docker/broken.json", Digest: "sha256:4c5e6bd2ba1b", Source: "file", Content: `{"defaultAction":`},
		{Name: "sha256:3bcf5a302172", Digest: "sha256:3bcf5a302172", Source: "container", Containers: []string{"a", "b"}, Content: `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["read","bpf","writ"],"action":"SCMP_ACT_ALLOW"},{"names":["ptrace"],"action":"SCMP_ACT_NOTIFY"}],"flag":[]}`},
		{Name: "/gone.json", Source: "file", Error: "open /gone.json: permission denied"},
	}}
	expect(t, run(t, snap, "profile"),
		"AUDIT-COLLECT error medium /gone.json: open /gone.json: permission denied",
		"SECCOMP-SYNTAX fail critical /etc/docker/broken.json: not a seccomp profile: unexpected end of JSON input",
		"SECCOMP-SYNTAX fail medium sha256:3bcf5a302172: unknown field \"flag\": Docker ignores it silently",
		"SECCOMP-DEFAULT-ACTION skip high /etc/docker/broken.json: the profile does not parse (see SECCOMP-SYNTAX)",
		"SECCOMP-DEFAULT-ACTION pass high sha256:3bcf5a302172: the default action refuses (used by a, b)",
		"SECCOMP-DANGEROUS skip high /etc/docker/broken.json: the profile does not parse (see SECCOMP-SYNTAX)",
		"SECCOMP-DANGEROUS fail critical sha256:3bcf5a302172: bpf is allowed with no capability or argument condition: loads eBPF programs into the kernel",
		"SECCOMP-ACTION skip medium /etc/docker/broken.json: the profile does not parse (see SECCOMP-SYNTAX)",
		"SECCOMP-ACTION fail medium sha256:3bcf5a302172: rule 2: SCMP_ACT_NOTIFY hands ptrace to an outside tracer or agent",
		"SECCOMP-UNKNOWN-SYSCALL skip low /etc/docker/broken.json: the profile does not parse (see SECCOMP-SYNTAX)",
		"SECCOMP-UNKNOWN-SYSCALL warn low sha256:3bcf5a302172: \"writ\" is not a syscall of x86_64, i386, x32, arm64 or arm (a typo leaves the real call to the default action)",
		"SECCOMP-ARCH skip low /etc/docker/broken.json: the profile does not parse (see SECCOMP-SYNTAX)",
		"SECCOMP-ARCH pass low sha256:3bcf5a302172: the profile names its architectures (used by a, b)",
	)
	sel, _ := check.Selection{Include: []string{"SECCOMP-DANGEROUS"}}.Apply(ProfileChecks())
	fs := check.Run(sel, snap, check.Options{})
	f := fs[len(fs)-1]
	if f.Location != nil || len(f.Evidence) != 2 || f.Evidence[1].Actual != "a, b" {
		t.Errorf("container profile finding: location %v, evidence %v", f.Location, f.Evidence)
	}
	if f := fs[len(fs)-2]; f.Status.String() != "skip" || f.Target.Kind != "profile" {
		t.Errorf("file profile finding %+v", f)
	}
}
