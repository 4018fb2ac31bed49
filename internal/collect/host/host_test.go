package host

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/collect/daemon"
	"github.com/dockaudit/dockaudit/internal/collect/hostfs"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/testenv"
)

func write(t *testing.T, root, p, body string, mode os.FileMode) {
	t.Helper()
	full := filepath.Join(root, p)
	os.MkdirAll(filepath.Dir(full), 0o755)
	if err := os.WriteFile(full, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
	os.Chmod(full, mode)
}

func TestDaemonTLS(t *testing.T) {
	d := func(kv ...string) *facts.DaemonProcess {
		p := &facts.DaemonProcess{Config: map[string]facts.Setting{}}
		for i := 0; i < len(kv); i += 2 {
			p.Config[kv[i]] = facts.Setting{Values: []string{kv[i+1]}}
		}
		return p
	}
	tests := []struct {
		name string
		d    *facts.DaemonProcess
		want facts.TLS
	}{
		{"off", d(), facts.TLS{}},
		// Docker 20.10: --tls alone still verifies clients (tlsverify takes tls's value).
		{"tls alone verifies", d("tls", "true"), facts.TLS{Enabled: true, Verify: true, CACert: "/root/.docker/ca.pem", Cert: "/root/.docker/cert.pem", Key: "/root/.docker/key.pem"}},
		{"tls without verification", d("tls", "true", "tlsverify", "false", "tlscert", "/etc/t/c.pem"), facts.TLS{Enabled: true, CACert: "/root/.docker/ca.pem", Cert: "/etc/t/c.pem", Key: "/root/.docker/key.pem"}},
		{"tlsverify implies tls", d("tlsverify", "true", "tlscacert", "/etc/t/ca.pem"), facts.TLS{Enabled: true, Verify: true, CACert: "/etc/t/ca.pem", Cert: "/root/.docker/cert.pem", Key: "/root/.docker/key.pem"}},
	}
	for _, tt := range tests {
		if d := cmp.Diff(tt.want, daemonTLS(tt.d, "/root", nil)); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, d)
		}
	}
}

func TestDaemonTLSFromEnvironment(t *testing.T) {
	d := &facts.DaemonProcess{Config: map[string]facts.Setting{}}
	got := daemonTLS(d, "/root", map[string]string{"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": "/etc/docker/tls"})
	want := facts.TLS{Enabled: true, Verify: true, CACert: "/etc/docker/tls/ca.pem", Cert: "/etc/docker/tls/cert.pem", Key: "/etc/docker/tls/key.pem"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestReadHost(t *testing.T) {
	root := t.TempDir()
	write(t, root, "etc/hostname", "node7\n", 0o644)
	write(t, root, "etc/group", "root:x:0:\ndocker:x:998:alice\n", 0o644)
	write(t, root, "etc/passwd", "root:x:0:0::/root:/bin/sh\nbob:x:1001:998::/home/bob:/bin/sh\n", 0o644)
	write(t, root, "usr/lib/systemd/system/docker.service", "[Service]\n", 0o644)
	write(t, root, "usr/bin/containerd", "", 0o755)
	write(t, root, "usr/sbin/runc", "", 0o755)
	os.Symlink("../sbin/runc", filepath.Join(root, "usr/bin/runc"))
	write(t, root, "etc/docker/certs.d/reg:5000/ca.crt", "", 0o444)
	write(t, root, "etc/audit/rules.d/docker.rules", "# docker\n-w /usr/bin/dockerd -k docker\n\n", 0o640)
	write(t, root, "sys/module/apparmor/parameters/enabled", "Y\n", 0o444)
	write(t, root, "run/docker.sock", "", 0o660)
	if err := os.Chown(filepath.Join(root, "run/docker.sock"), 0, 998); err != nil {
		testenv.Missing(t, "cannot give the fake socket group 998: %v", err)
	}
	os.MkdirAll(filepath.Join(root, "var"), 0o755)
	os.Symlink("/run", filepath.Join(root, "var/run"))

	d := &facts.DaemonProcess{Exe: "/usr/bin/dockerd", ConfigFile: "/etc/docker/daemon.json", ContainerdSocket: "/run/containerd/containerd.sock",
		Config: map[string]facts.Setting{"group": {Values: []string{"docker"}}}}
	h := readHost(context.Background(), hostfs.New(root), d, Options{Host: "unix:///var/run/docker.sock", Root: root,
		Auditctl: func(context.Context) ([]byte, error) { return []byte("No rules\n"), nil }})

	if h.Hostname != "node7" {
		t.Errorf("hostname %q", h.Hostname)
	}
	wantPaths := facts.HostPaths{
		DockerService: facts.Located{Path: "/usr/lib/systemd/system/docker.service", Real: "/usr/lib/systemd/system/docker.service"},
		DockerSock:    facts.Located{Path: "/var/run/docker.sock", Real: "/run/docker.sock"},
		Containerd:    facts.Located{Path: "/usr/bin/containerd", Real: "/usr/bin/containerd"},
		Runc:          facts.Located{Path: "/usr/bin/runc", Real: "/usr/sbin/runc"},
	}
	if diff := cmp.Diff(wantPaths, h.Paths); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/etc/docker/certs.d/reg:5000/ca.crt"}, h.CertsD); diff != "" {
		t.Errorf("certs.d (-want +got):\n%s", diff)
	}
	if f := h.Files["/etc/docker/certs.d/reg:5000/ca.crt"]; !f.Exists || f.Mode != 0o444 {
		t.Errorf("certs.d file not stat'ed: %+v", f)
	}
	if f := h.Files["/etc/docker/daemon.json"]; f.Exists || f.Err != "" {
		t.Errorf("missing daemon.json: %+v", f)
	}
	if diff := cmp.Diff(facts.Audit{Loaded: []string{}, Files: []string{"-w /usr/bin/dockerd -k docker"}}, h.Audit); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
	wantGroup := facts.DockerGroup{GID: 998, Name: "docker", Exists: true, Members: []string{"alice", "bob"},
		Configured: "docker", ConfiguredGID: 998, ConfiguredExists: true}
	if diff := cmp.Diff(wantGroup, h.DockerGroup); diff != "" {
		t.Errorf("docker group (-want +got):\n%s", diff)
	}
	if !h.AppArmor.Enabled || h.SELinux.Enabled {
		t.Errorf("LSMs: %+v %+v", h.AppArmor, h.SELinux)
	}
}

func TestFindDaemonRemote(t *testing.T) {
	_, _, err := findDaemon(context.Background(), daemonProc(t), "tcp://192.0.2.10:2376")
	if err == nil || err.Error() != "the daemon at 192.0.2.10:2376 is not on this host (no local dockerd listens on it)" {
		t.Errorf("remote: %v", err)
	}
	// A unix socket served by something other than dockerd (this test process).
	sock := filepath.Join(t.TempDir(), "fwd.sock")
	l, err := listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, _, err = findDaemon(context.Background(), daemonProc(t), "unix://"+sock)
	if err == nil {
		t.Fatal("a socket served by a non-dockerd process was accepted as the daemon")
	}
}

func daemonProc(*testing.T) daemon.Proc { return daemon.Proc{Root: "/proc"} }

func listen(path string) (net.Listener, error) {
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return l, nil
}

// TestSocketActivation: under systemd socket activation the listener belongs to
// systemd (the peer credentials name it), dockerd holds the same socket from fd 3, and
// the socket was bound at /run/docker.sock while clients dial /var/run/docker.sock.
// Here the test process plays systemd and a copy of sleep named dockerd plays dockerd.
func TestSocketActivation(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "run"), 0o755)
	os.Symlink("run", filepath.Join(dir, "varrun"))
	l, err := net.Listen("unix", filepath.Join(dir, "run", "docker.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	f, err := l.(*net.UnixListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := fakeDockerd(t, f)

	dialled := filepath.Join(dir, "varrun", "docker.sock")
	pid, foundBy, err := findDaemon(context.Background(), daemon.Proc{Root: "/proc"}, "unix://"+dialled)
	if err != nil {
		t.Fatal(err)
	}
	if pid != cmd.Process.Pid || foundBy != "owner of the listening socket "+dialled {
		t.Errorf("found PID %d by %q, want the fake dockerd %d", pid, foundBy, cmd.Process.Pid)
	}
}

// fakeDockerd starts a copy of sleep named dockerd that holds f as fd 3.
func fakeDockerd(t *testing.T, f *os.File) *exec.Cmd {
	t.Helper()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		testenv.Missing(t, "no sleep binary")
	}
	dockerd := filepath.Join(t.TempDir(), "dockerd")
	b, _ := os.ReadFile(sleep)
	os.WriteFile(dockerd, b, 0o755)
	cmd := exec.Command(dockerd, "3600")
	cmd.ExtraFiles = []*os.File{f}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

func TestTCPDaemon(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	f, _ := l.(*net.TCPListener).File()
	defer f.Close()
	cmd := fakeDockerd(t, f)
	addr := l.Addr().String()
	pid, foundBy, err := findDaemon(context.Background(), daemon.Proc{Root: "/proc"}, "tcp://"+addr)
	if err != nil || pid != cmd.Process.Pid || foundBy != "listener of "+addr {
		t.Errorf("tcp://%s: PID %d (want %d) by %q, %v", addr, pid, cmd.Process.Pid, foundBy, err)
	}
	// The same port on another local address is not this listener.
	_, port, _ := net.SplitHostPort(addr)
	if _, _, err := findDaemon(context.Background(), daemon.Proc{Root: "/proc"}, "tcp://127.0.0.2:"+port); err == nil {
		t.Error("a listener on 127.0.0.1 was taken for 127.0.0.2")
	}
}

func TestSelfContainerID(t *testing.T) {
	id := strings.Repeat("ab", 32)
	root := t.TempDir()
	write(t, root, "self/mountinfo", "27 1 254:0 / / rw - ext4 /dev/vda rw\n"+
		"571 560 254:0 /var/lib/docker/containers/"+id+"/hostname /etc/hostname rw,relatime - ext4 /dev/vda rw\n", 0o644)
	if got := SelfContainerID(root); got != id {
		t.Errorf("from mountinfo: %q", got)
	}
	root = t.TempDir()
	write(t, root, "self/mountinfo", "27 1 254:0 / / rw - ext4 /dev/vda rw\n", 0o644)
	write(t, root, "self/cgroup", "0::/\n", 0o644)
	if got := SelfContainerID(root); got != "" {
		t.Errorf("on the host: %q", got)
	}
	write(t, root, "self/cgroup", "4:memory:/docker/"+id+"\n", 0o644)
	if got := SelfContainerID(root); got != id {
		t.Errorf("from cgroup: %q", got)
	}
}
