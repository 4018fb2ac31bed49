package daemon

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/facts"
)

func TestParseProcAddr(t *testing.T) {
	tests := map[string]string{
		"0100007F:0CEA":                         "127.0.0.1:3306",
		"00000000:0959":                         "0.0.0.0:2393",
		"00000000000000000000000000000000:0050": "[::]:80",
		"00000000000000000000000001000000:1F90": "[::1]:8080",
		"0000000000000000FFFF00000100007F:0016": "127.0.0.1:22", // v4-mapped prints as IPv4
	}
	for in, want := range tests {
		got, err := ParseProcAddr(in)
		if err != nil || got != want {
			t.Errorf("ParseProcAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0100007F", "zz:0050", "0100007F:zz", "01007F:0050"} {
		if _, err := ParseProcAddr(bad); err == nil {
			t.Errorf("ParseProcAddr(%q): no error", bad)
		}
	}
}

// Recorded from a host whose /var/lib/docker is a bind mount of a directory of the
// root filesystem, with an escaped space in one mount point.
const mountinfo = `22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
42 27 254:0 /var/lib/docker /var/lib/docker rw,relatime shared:1 - ext4 /dev/vda rw,discard
50 27 259:1 / /srv/docker\040data rw,relatime - xfs /dev/nvme0n1p1 rw
51 50 259:1 / /srv/docker\040data rw,relatime - xfs /dev/nvme0n1p2 rw
`

func TestMountFromInfo(t *testing.T) {
	tests := []struct {
		dir  string
		want facts.Mountpoint
	}{
		{"/var/lib/docker", facts.Mountpoint{MountPoint: "/var/lib/docker", Source: "/dev/vda", FSType: "ext4", Device: "254:0", Root: "/var/lib/docker"}},
		{"/var/lib/docker/overlay2", facts.Mountpoint{MountPoint: "/var/lib/docker", Source: "/dev/vda", FSType: "ext4", Device: "254:0", Root: "/var/lib/docker"}},
		{"/var/lib/dockerx", facts.Mountpoint{MountPoint: "/", Source: "/dev/vda", FSType: "ext4", Device: "254:0", Root: "/"}},
		// Mounted twice at the same place: the later mount is the visible one.
		{"/srv/docker data/x", facts.Mountpoint{MountPoint: "/srv/docker data", Source: "/dev/nvme0n1p2", FSType: "xfs", Device: "259:1", Root: "/"}},
	}
	for _, tt := range tests {
		got, err := MountFromInfo([]byte(mountinfo), tt.dir)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(tt.want, *got); d != "" {
			t.Errorf("MountFromInfo(%q) (-want +got):\n%s", tt.dir, d)
		}
	}
	if _, err := MountFromInfo([]byte("garbage\n"), "/x"); err == nil {
		t.Error("MountFromInfo on garbage: no error")
	}
}

func TestIsDockerd(t *testing.T) {
	for exe, want := range map[string]bool{
		"/usr/sbin/dockerd": true, "/usr/bin/dockerd (deleted)": true, "dockerd-rootless.sh": true,
		"/usr/bin/dockerd-ce": true, "/usr/bin/containerd": false, "/bin/sh": false, "/usr/bin/not-dockerd": false,
	} {
		if got := IsDockerd(exe); got != want {
			t.Errorf("IsDockerd(%q) = %v", exe, got)
		}
	}
}

// TestPeerPID listens on a unix socket in this process and checks the kernel reports
// this process as the peer: the mechanism that ties the Docker socket to dockerd.
func TestPeerPID(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	pid, err := PeerPID(context.Background(), sock)
	if err != nil {
		t.Fatal(err)
	}
	if pid != os.Getpid() {
		t.Errorf("PeerPID = %d, want %d", pid, os.Getpid())
	}
	proc := Proc{Root: "/proc"}
	owners, err := proc.OwnerPIDs([]string{sock}, os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]int{os.Getpid()}, owners); d != "" {
		t.Errorf("OwnerPIDs (-want +got):\n%s", d)
	}
	ls, err := proc.Listeners(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range ls {
		if l.Network == "unix" && l.Address == sock {
			found = true
		}
	}
	if !found {
		t.Errorf("Listeners(self) = %v, want it to include unix %s", ls, sock)
	}
	if _, err := PeerPID(context.Background(), filepath.Join(t.TempDir(), "missing.sock")); err == nil {
		t.Error("PeerPID on a missing socket: no error")
	}
}

func TestTCPListeners(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ls, err := Proc{Root: "/proc"}.Listeners(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	want := facts.Listener{Network: "tcp", Address: l.Addr().String()}
	for _, got := range ls {
		if got == want {
			return
		}
	}
	t.Errorf("Listeners(self) = %v, want it to include %v", ls, want)
}

func TestContainerProcesses(t *testing.T) {
	root := t.TempDir()
	a := strings.Repeat("a", 64)
	b := strings.Repeat("b", 64)
	proc := func(pid, cgroup, cmdline, comm string) {
		dir := filepath.Join(root, pid)
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "cgroup"), []byte(cgroup), 0o644)
		os.WriteFile(filepath.Join(dir, "cmdline"), []byte(cmdline), 0o644)
		os.WriteFile(filepath.Join(dir, "comm"), []byte(comm+"\n"), 0o644)
	}
	proc("1", "0::/init.scope\n", "/sbin/init\x00", "init")
	proc("210", "12:pids:/docker/"+a+"\n0::/docker/"+a+"\n", "sleep\x003600\x00", "sleep")
	proc("35", "0::/docker/"+a+"\n", "/usr/sbin/sshd\x00-D\x00", "sshd")
	proc("36", "0::/system.slice/docker-"+b+".scope\n", "", "kworker") // systemd cgroup driver, no cmdline
	proc("37", "0::/docker/"+strings.Repeat("c", 64)+"/docker/"+b+"\n", "nested\x00", "nested")
	os.MkdirAll(filepath.Join(root, "self"), 0o755)

	got, err := Proc{Root: root}.ContainerProcesses(map[string]bool{a: true, b: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*facts.ProcessList{
		a: {Source: "procfs", Titles: []string{"PID", "CMD"}, Processes: [][]string{{"35", "/usr/sbin/sshd -D"}, {"210", "sleep 3600"}}},
		b: {Source: "procfs", Titles: []string{"PID", "CMD"}, Processes: [][]string{{"36", "[kworker]"}, {"37", "nested"}}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestStartTimeLongUptime: a process that started three years after boot (clock ticks
// past what Duration*Second can hold) is dated right, not before boot.
func TestStartTimeLongUptime(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "42"), 0o755)
	ticks := int64(3*365*24*3600) * 100 // three years, at USER_HZ 100
	os.WriteFile(filepath.Join(root, "42", "stat"), []byte(fmt.Sprintf("42 (dockerd) S 1 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 %d 0 0\n", ticks)), 0o644)
	os.WriteFile(filepath.Join(root, "stat"), []byte("cpu  1 2 3\nbtime 1700000000\n"), 0o644)
	got, err := Proc{Root: root}.StartTime(42)
	if want := time.Unix(1700000000+ticks/100, 0); err != nil || !got.Equal(want) {
		t.Errorf("StartTime = %s, %v; want %s", got, err, want)
	}
}

func TestStartTime(t *testing.T) {
	started, err := Proc{Root: "/proc"}.StartTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// This test process started moments ago (the tick is 10ms, boot time is in seconds).
	if d := time.Since(started); d < -2*time.Second || d > 10*time.Minute {
		t.Errorf("start time %s is %s ago", started, d)
	}
}
