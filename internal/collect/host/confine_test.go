package host

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/facts"
)

// A container's init process as a 6.x kernel shows it (trimmed).
const statusDefault = `Name:	sleep
Umask:	0022
State:	S (sleeping)
Pid:	4242
CapInh:	0000000000000000
CapPrm:	00000000a80425fb
CapEff:	00000000a80425fb
CapBnd:	00000000a80425fb
CapAmb:	0000000000000000
NoNewPrivs:	1
Seccomp:	2
Seccomp_filters:	1
Speculation_Store_Bypass:	thread vulnerable
`

func fakeProc(t *testing.T, pid, cgroup, status, uidMap string) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, pid)
	if err := os.MkdirAll(filepath.Join(dir, "attr"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"cgroup": cgroup, "status": status, "uid_map": uidMap} {
		if content != "" {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

func TestContainerConfinement(t *testing.T) {
	id := strings.Repeat("ab", 32)
	root := fakeProc(t, "4242", "0::/system.slice/docker-"+id+".scope\n", statusDefault, "         0          0 4294967295\n")
	cs := []facts.Container{{ID: id, Name: "web", State: &facts.ContainerState{Status: "running", PID: 4242}, Config: &facts.ContainerConfig{}, HostConfig: &facts.HostConfig{}, Mounts: []facts.Mount{}, Ports: []facts.Port{}, Networks: []string{}}, {ID: strings.Repeat("cd", 32), Name: "other", State: &facts.ContainerState{Status: "running", PID: 4242}, Config: &facts.ContainerConfig{}, HostConfig: &facts.HostConfig{}, Mounts: []facts.Mount{}, Ports: []facts.Port{}, Networks: []string{}}, // a PID that is not its own
		{ID: strings.Repeat("ef", 32), Name: "gone", State: &facts.ContainerState{Status: "running", PID: 999999}}, {ID: strings.Repeat("12", 32), Name: "stopped", State: &facts.ContainerState{Status: "exited"}, Config: &facts.ContainerConfig{}, HostConfig: &facts.HostConfig{}, Mounts: []facts.Mount{}, Ports: []facts.Port{}, Networks: []string{}}}
	ContainerConfinement(root, cs)
	want := []*facts.Confinement{
		{PID: 4242, Seccomp: 2, Filters: 1, NoNewPrivs: true, CapEff: "00000000a80425fb", CapBnd: "00000000a80425fb", UIDMap: "0 0 4294967295"},
		{PID: 4242, Filters: -1, Error: "PID 4242 is not the container's: its cgroup does not name it"},
		{PID: 999999, Filters: -1, Error: "PID 999999: no such file or directory"},
		nil,
	}
	for i, c := range cs {
		if d := cmp.Diff(want[i], c.Confinement); d != "" {
			t.Errorf("%s (-want +got):\n%s", c.Name, d)
		}
	}
}

func TestParseStatus(t *testing.T) {
	var c facts.Confinement
	// Kernels before 5.9 have no Seccomp_filters line.
	old := strings.Replace(statusDefault, "Seccomp_filters:	1\n", "", 1)
	c.Filters = -1
	if err := parseStatus([]byte(old), &c); err != nil || c.Filters != -1 || c.Seccomp != 2 {
		t.Errorf("old kernel: %+v, %v", c, err)
	}
	if err := parseStatus([]byte("Seccomp:\tx\n"), &c); err == nil || err.Error() != `status Seccomp: "x" is not a number` {
		t.Errorf("bad number: %v", err)
	}
	if err := parseStatus([]byte("Name:\tsh\n"), &c); err == nil || err.Error() != "status has no Seccomp line" {
		t.Errorf("no seccomp: %v", err)
	}
}

func TestSeccompProfiles(t *testing.T) {
	custom := `{"defaultAction":"SCMP_ACT_ERRNO"}`
	cs := []facts.Container{{Name: "b", State: &facts.ContainerState{}, Config: &facts.ContainerConfig{}, HostConfig: &facts.HostConfig{SecurityOpt: []string{"seccomp=" + custom}}, Mounts: []facts.Mount{}, Ports: []facts.Port{}, Networks: []string{}}, {Name: "a", State: &facts.ContainerState{}, Config: &facts.ContainerConfig{}, HostConfig: &facts.HostConfig{SecurityOpt: []string{"seccomp=" + custom}}, Mounts: []facts.Mount{}, Ports: []facts.Port{}, Networks: []string{}}, {Name: "c", State: &facts.ContainerState{}, Config: &facts.ContainerConfig{}, HostConfig: &facts.HostConfig{SecurityOpt: []string{"seccomp=unconfined"}}, Mounts: []facts.Mount{}, Ports: []facts.Port{}, Networks: []string{}}, {Name: "d", State: &facts.ContainerState{}, Config: &facts.ContainerConfig{}, HostConfig: &facts.HostConfig{SecurityOpt: []string{"seccomp=" + custom}, Privileged: true}, Mounts: []facts.Mount{}, Ports: []facts.Port{}, Networks: []string{}}, // privileged: no filter at all
		{Name: "e"}}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc/docker"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/docker/seccomp.json"), []byte(`{"defaultAction":"SCMP_ACT_ALLOW"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	e := facts.Engine{SecurityOptions: []string{"name=seccomp,profile=/etc/docker/seccomp.json"}}
	got := SeccompProfiles(root, e, cs)
	want := []facts.Profile{
		{Name: "sha256:4b9a142931f0", Digest: "sha256:4b9a142931f0", Source: "container", Containers: []string{"a", "b"}, Content: custom},
		{Name: "/etc/docker/seccomp.json", Digest: "sha256:1e91071efd3c", Source: "daemon", Content: `{"defaultAction":"SCMP_ACT_ALLOW"}`},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	// Remote: only the containers' profiles; a missing daemon file is an error target.
	if got := SeccompProfiles("", e, cs); len(got) != 1 {
		t.Errorf("remote: %d profiles", len(got))
	}
	e.SecurityOptions = []string{"name=seccomp,profile=/etc/docker/missing.json"}
	got = SeccompProfiles(root, e, nil)
	if len(got) != 1 || got[0].Error == "" || !strings.HasPrefix(got[0].Error, "the daemon's seccomp profile: ") {
		t.Errorf("missing daemon profile: %+v", got)
	}
}
