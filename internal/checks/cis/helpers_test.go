package cis

import (
	"encoding/json"
	"flag"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/checks/confine"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
)

var update = flag.Bool("update", false, "rewrite golden files")

// loadFacts reads a recorded snapshot from testdata.
func loadFacts(t *testing.T, name string) *facts.Snapshot {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var s facts.Snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

// base is a small hand-built snapshot of a local Docker 20.10 daemon with default
// settings, one running container and one image; each test changes what it needs.
func base() *facts.Snapshot {
	f := func(p string, mode uint32, uid, gid int, typ string) facts.File {
		return facts.File{Path: p, Exists: true, Type: typ, Mode: mode, UID: uid, GID: gid}
	}
	return &facts.Snapshot{
		SchemaVersion: facts.SchemaVersion,
		Endpoint:      "unix:///var/run/docker.sock",
		Engine: facts.Engine{Info: true,
			ID: "ID1", Name: "node1", ServerVersion: "20.10.24+dfsg1", APIVersion: "1.41",
			Driver: "overlay2", DockerRootDir: "/var/lib/docker", LoggingDriver: "json-file",
			SecurityOptions: []string{"name=seccomp,profile=default"}, InsecureRegistryCIDRs: []string{"127.0.0.0/8"},
			InsecureRegistries: []string{}, AuthorizationPlugins: []string{}, Swarm: facts.SwarmInfo{LocalNodeState: "inactive"},
			ContainersTotal: 1, ContainersRunning: 1, ImagesTotal: 1,
		},
		HostAccess: facts.HostAccess{Local: true, Root: "/"},
		Client:     &facts.Client{},
		Daemon: &facts.DaemonProcess{
			PID: 100, Exe: "/usr/sbin/dockerd", Args: []string{"dockerd"}, FoundBy: "peer credentials of /var/run/docker.sock",
			ConfigFile: "/etc/docker/daemon.json", Config: map[string]facts.Setting{},
			ContainerdSocket: "/run/containerd/containerd.sock",
			DataRootMount:    &facts.Mountpoint{MountPoint: "/var/lib/docker", Source: "/dev/vdb", FSType: "ext4", Device: "254:16", Root: "/"},
			RootMount:        &facts.Mountpoint{MountPoint: "/", Source: "/dev/vda", FSType: "ext4", Device: "254:0", Root: "/"},
		},
		Host: &facts.Host{
			Hostname: "node1",
			Files: map[string]facts.File{
				"/etc/docker":                        f("/etc/docker", 0o755, 0, 0, "dir"),
				"/etc/docker/daemon.json":            f("/etc/docker/daemon.json", 0o644, 0, 0, "file"),
				"/var/run/docker.sock":               f("/var/run/docker.sock", 0o660, 0, 999, "socket"),
				"/run/containerd/containerd.sock":    f("/run/containerd/containerd.sock", 0o660, 0, 0, "socket"),
				"/lib/systemd/system/docker.service": f("/lib/systemd/system/docker.service", 0o644, 0, 0, "file"),
				"/lib/systemd/system/docker.socket":  f("/lib/systemd/system/docker.socket", 0o644, 0, 0, "file"),
				"/etc/default/docker":                {Path: "/etc/default/docker"},
				"/etc/sysconfig/docker":              {Path: "/etc/sysconfig/docker"},
				"/usr/sbin/dockerd":                  f("/usr/sbin/dockerd", 0o755, 0, 0, "file"),
				"/usr/bin/runc":                      f("/usr/bin/runc", 0o755, 0, 0, "file"),
			},
			Paths: facts.HostPaths{
				DockerService:    facts.Located{Path: "/lib/systemd/system/docker.service", Real: "/lib/systemd/system/docker.service"},
				DockerSocketUnit: facts.Located{Path: "/lib/systemd/system/docker.socket", Real: "/lib/systemd/system/docker.socket"},
				DockerSock:       facts.Located{Path: "/var/run/docker.sock", Real: "/run/docker.sock"},
				Runc:             facts.Located{Path: "/usr/bin/runc", Real: "/usr/sbin/runc"},
			},
			CertsD:      []string{},
			Audit:       facts.Audit{Loaded: []string{}, Files: []string{}},
			DockerGroup: facts.DockerGroup{Name: "docker", GID: 999, Exists: true, Members: []string{}, Configured: "docker", ConfiguredGID: 999, ConfiguredExists: true},
			AppArmor:    facts.LSM{Evidence: "/sys/module/apparmor/parameters/enabled is absent (AppArmor is not in this kernel)"},
			SELinux:     facts.LSM{Evidence: "selinuxfs is not mounted (/sys/fs/selinux/enforce is absent)"},
		},
		Containers: []facts.Container{{ID: "c1", Name: "web", ImageID: "sha256:i1", Mounts: []facts.Mount{}, Ports: []facts.Port{}, Networks: []string{"n-bridge"}, Processes: &facts.ProcessList{Source: "procfs", Titles: []string{"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"},
			Processes: [][]string{{"root", "10", "1", "0", "10:00", "?", "00:00:00", "nginx: master process"}}}, State: &facts.ContainerState{Status: "running"}, Config: &facts.ContainerConfig{Image: "web:1", User: ""}, HostConfig: &facts.HostConfig{CapAdd: []string{}, CapDrop: []string{}, SecurityOpt: []string{}, NetworkMode: "default", Devices: []facts.Device{}, Ulimits: []facts.Ulimit{}, RestartPolicy: "no", IpcMode: "private"}}},
		Images: []facts.Image{{ID: "sha256:i1", Tags: []string{"web:1"}, Digests: []string{}, Config: &facts.ImageConfig{}, History: []facts.History{
			{CreatedBy: "/bin/sh -c #(nop) ADD file:0123 in / "},
			{CreatedBy: `/bin/sh -c #(nop)  CMD ["sh"]`, EmptyLayer: true},
		}}},
		Networks: []facts.Network{{ID: "n-bridge", Name: "bridge", Driver: "bridge", Scope: "local", Options: facts.Labels{
			{"com.docker.network.bridge.enable_icc", "true"}, {"com.docker.network.bridge.name", "docker0"},
		}}},
	}
}

// runID evaluates one of the per-container confinement rules (CONFINE-…).
func runID(t *testing.T, s *facts.Snapshot, id string) []finding.Finding {
	t.Helper()
	var out []finding.Finding
	for _, f := range check.Run(confine.ContainerChecks(), s, check.Options{}) {
		if f.Rule == id {
			out = append(out, f)
		}
	}
	return out
}

// run evaluates one rule over a snapshot and returns its findings.
func run(t *testing.T, s *facts.Snapshot, id string, cfg ...check.Config) []finding.Finding {
	t.Helper()
	sel, err := check.Selection{Include: []string{id}}.Apply(Checks())
	if err != nil {
		t.Fatal(err)
	}
	var c check.Config
	if len(cfg) > 0 {
		c = cfg[0]
	}
	var out []finding.Finding
	for _, f := range check.Run(sel, s, check.Options{Config: c}) {
		if f.Rule == "CIS-"+id {
			out = append(out, f)
		}
	}
	return out
}

// brief is a finding reduced to what a table test asserts: status, severity, target
// name, message and evidence.
type brief struct {
	Status   finding.Status
	Severity finding.Severity
	Target   string
	Message  string
	Evidence []finding.Evidence
}

func briefs(fs []finding.Finding) []brief {
	out := make([]brief, len(fs))
	for i, f := range fs {
		out[i] = brief{f.Status, f.Severity, f.Target.Name, f.Message, f.Evidence}
	}
	return out
}

// expect compares findings exactly, evidence included (nil and empty evidence are
// the same).
func expect(t *testing.T, got []finding.Finding, want ...brief) {
	t.Helper()
	if d := cmp.Diff(want, briefs(got), cmpopts.EquateEmpty()); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
}

// statuses is the shorter assertion: status and message per finding.
func statuses(t *testing.T, got []finding.Finding, want ...string) {
	t.Helper()
	var g []string
	for _, f := range got {
		g = append(g, f.Status.String()+": "+f.Target.Name+": "+f.Message)
	}
	if d := cmp.Diff(want, g, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
}
