package integration

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockaudit/dockaudit/internal/testenv"
)

// TestDockerContexts: the daemon is the one the docker CLI would talk to. Contexts
// are made by the real docker CLI in a private DOCKER_CONFIG; "other" reaches the
// local daemon through another socket path, so the report's endpoint shows which one
// was audited, and "dead" names a socket nobody listens on, so falling back to the
// default socket cannot pass unnoticed.
func TestDockerContexts(t *testing.T) {
	need(t)
	cfg := t.TempDir()
	sock := filepath.Join(t.TempDir(), "other.sock")
	if err := os.Symlink("/var/run/docker.sock", sock); err != nil {
		t.Fatal(err)
	}
	dead := filepath.Join(t.TempDir(), "dead.sock")
	docker(t, "--config", cfg, "context", "create", "other", "--docker", "host=unix://"+sock)
	docker(t, "--config", cfg, "context", "create", "dead", "--docker", "host=unix://"+dead)
	base := []string{"DOCKER_CONFIG=" + cfg, "DOCKER_HOST=", "DOCKER_CONTEXT="}
	audit := func(env []string, args ...string) (endpoint, dockerContext, from string) {
		t.Helper()
		rep := jsonReport(t, append(append([]string{}, base...), env...), append([]string{"host", "--include", "CIS-2.1"}, args...)...)
		return rep.Context.Endpoint, rep.Context.DockerContext, rep.Context.EndpointFrom
	}
	for _, tt := range []struct {
		name          string
		env, args     []string
		endpoint, ctx string
		from          string
	}{
		{"no context", nil, nil, "unix:///var/run/docker.sock", "", "the default socket"},
		{"DOCKER_CONTEXT", []string{"DOCKER_CONTEXT=other"}, nil, "unix://" + sock, "other", "DOCKER_CONTEXT"},
		{"--context", nil, []string{"--context", "other"}, "unix://" + sock, "other", "--context"},
		{"--host wins over DOCKER_CONTEXT", []string{"DOCKER_CONTEXT=dead"}, []string{"-H", "unix://" + sock}, "unix://" + sock, "", "--host"},
		{"DOCKER_HOST wins over DOCKER_CONTEXT", []string{"DOCKER_CONTEXT=dead", "DOCKER_HOST=unix://" + sock}, nil, "unix://" + sock, "", "DOCKER_HOST"},
	} {
		if ep, c, from := audit(tt.env, tt.args...); ep != tt.endpoint || c != tt.ctx || from != tt.from {
			t.Errorf("%s: audited %s (context %q, from %q), want %s (%q, %q)", tt.name, ep, c, from, tt.endpoint, tt.ctx, tt.from)
		}
	}

	// docker context use: the current context in config.json.
	docker(t, "--config", cfg, "context", "use", "other")
	if ep, c, from := audit(nil); ep != "unix://"+sock || c != "other" || from != "the current context in "+filepath.Join(cfg, "config.json") {
		t.Errorf("current context: audited %s (context %q, from %q)", ep, c, from)
	}
	r := dockaudit(t, base, "host", "--include", "CIS-2.1", "--color", "never")
	if first, _, _ := strings.Cut(r.stdout, "\n"); !strings.HasSuffix(first, " at unix://"+sock+" (docker context other)") {
		t.Errorf("table header %q does not name the context", first)
	}
	if ep, c, _ := audit(nil, "--context", "default"); ep != "unix:///var/run/docker.sock" || c != "default" {
		t.Errorf("--context default: audited %s (context %q)", ep, c)
	}

	// A context that leads nowhere, or does not exist, is an error: never the default socket.
	docker(t, "--config", cfg, "context", "use", "dead")
	r = dockaudit(t, base, "host")
	if r.code != 1 || r.stdout != "" || !strings.HasPrefix(r.stderr, "dockaudit host: cannot reach the Docker daemon at unix://"+dead+": ") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("dead context: exit %d\n%s", r.code, r.stderr)
	}
	r = dockaudit(t, base, "host", "--context", "gone")
	if want := fmt.Sprintf("dockaudit host: context \"gone\" (from --context) does not exist in %s (docker context ls lists them)\n", filepath.Join(cfg, "contexts")); r.code != 1 || r.stderr != want {
		t.Errorf("missing context: exit %d %q\nwant %q", r.code, r.stderr, want)
	}
	r = dockaudit(t, base, "host", "--context", "other", "--host", "unix://"+sock)
	if r.code != 1 || r.stderr != "dockaudit host: --host and --context both name a daemon: give one\n" {
		t.Errorf("both: exit %d %q", r.code, r.stderr)
	}
	// An archive needs no daemon: a broken context does not stop it.
	image(t, "ctx-busybox:1")
	archive := filepath.Join(t.TempDir(), "img.tar")
	docker(t, "save", "-o", archive, "ctx-busybox:1")
	if r := dockaudit(t, base, "image", "--include", "CIS-4.6", archive); r.code != 0 {
		t.Errorf("archive with a dead current context: exit %d %s", r.code, r.stderr)
	}
	if r := dockaudit(t, base, "image", "ctx-busybox:1"); r.code != 1 || !strings.Contains(r.stderr, "unix://"+dead) {
		t.Errorf("daemon image through a dead context: exit %d %s", r.code, r.stderr)
	}
}

// sshd starts an OpenSSH server on a free loopback port with a private host key,
// configuration and authorized key, and returns the port and a directory holding an
// "ssh" wrapper that uses a matching private client configuration: put it first in
// PATH. Nothing of the machine's own ssh setup is read or changed.
func sshd(t *testing.T) (int, string) {
	t.Helper()
	if _, err := os.Stat("/usr/sbin/sshd"); err != nil {
		testenv.Missing(t, "no /usr/sbin/sshd (apt-get install openssh-server)")
	}
	ssh, err := exec.LookPath("ssh")
	if err != nil {
		testenv.Missing(t, "no ssh client (apt-get install openssh-client)")
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o700)
	keygen := func(name string) {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, name)).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
	}
	keygen("host_key")
	keygen("client_key")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	pub, _ := os.ReadFile(filepath.Join(dir, "client_key.pub"))
	os.WriteFile(filepath.Join(dir, "authorized_keys"), pub, 0o600)
	os.MkdirAll("/run/sshd", 0o755) // sshd's privilege separation directory
	conf := fmt.Sprintf("ListenAddress 127.0.0.1:%d\nHostKey %s\nAuthorizedKeysFile %s\nPidFile %s\n"+
		"PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n",
		port, filepath.Join(dir, "host_key"), filepath.Join(dir, "authorized_keys"), filepath.Join(dir, "sshd.pid"))
	os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(conf), 0o600)
	cmd := exec.Command("/usr/sbin/sshd", "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	logf, _ := os.Create(filepath.Join(dir, "sshd.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); logf.Close() })
	hostPub, _ := os.ReadFile(filepath.Join(dir, "host_key.pub"))
	os.WriteFile(filepath.Join(dir, "known_hosts"), []byte(fmt.Sprintf("[127.0.0.1]:%d %s", port, hostPub)), 0o600)
	clientConf := fmt.Sprintf("Host *\n  IdentityFile %s\n  IdentitiesOnly yes\n  UserKnownHostsFile %s\n  StrictHostKeyChecking yes\n  BatchMode yes\n",
		filepath.Join(dir, "client_key"), filepath.Join(dir, "known_hosts"))
	os.WriteFile(filepath.Join(dir, "ssh_config"), []byte(clientConf), 0o600)
	bin := filepath.Join(dir, "bin")
	os.MkdirAll(bin, 0o755)
	os.WriteFile(filepath.Join(bin, "ssh"), []byte(fmt.Sprintf("#!/bin/sh\nexec %s -F %s \"$@\"\n", ssh, filepath.Join(dir, "ssh_config"))), 0o755)
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			break
		}
		if i == 50 {
			log, _ := os.ReadFile(filepath.Join(dir, "sshd.log"))
			t.Fatalf("sshd did not listen: %s", log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return port, bin
}

// TestDaemonOverSSH: ssh://USER@HOST[:PORT] reaches the daemon as the docker CLI does,
// through "docker system dial-stdio" on the other side, here a real sshd on loopback.
// The host is then not this machine as far as the audit knows: host checks skip.
func TestDaemonOverSSH(t *testing.T) {
	need(t)
	port, bin := sshd(t)
	host := fmt.Sprintf("ssh://root@127.0.0.1:%d", port)
	env := []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "DOCKER_CONTEXT=", "DOCKER_HOST=" + host}
	local := jsonReport(t, []string{"DOCKER_HOST="}, "host", "--include", "CIS-5.1")
	rep := jsonReport(t, env, "host", "--include", "CIS-5.1")
	if rep.Context.Endpoint != host || rep.Context.HostAccess || rep.Context.ServerVersion != local.Context.ServerVersion ||
		rep.Context.Containers != local.Context.Containers || rep.Context.HostAccessNote != "the daemon is reached over ssh ("+host+"): its host is another machine as far as this audit can tell; run dockaudit on that host for the host checks" {
		t.Errorf("over ssh: %+v\nlocally: %+v", rep.Context, local.Context)
	}
	// An image exported through the ssh session.
	image(t, "ssh-busybox:1")
	r := dockaudit(t, env, "image", "--include", "CIS-4.6", "-f", "json", "ssh-busybox:1")
	if r.code != 0 || !strings.Contains(r.stdout, `"name": "ssh-busybox:1"`) {
		t.Errorf("image over ssh: exit %d %s\n%s", r.code, r.stderr, r.stdout)
	}
	// A context whose endpoint is ssh://, made by the docker CLI.
	cfg := t.TempDir()
	docker(t, "--config", cfg, "context", "create", "remote", "--docker", "host="+host)
	rep = jsonReport(t, []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "DOCKER_HOST=", "DOCKER_CONFIG=" + cfg}, "host", "--context", "remote", "--include", "CIS-5.1")
	if rep.Context.Endpoint != host || rep.Context.DockerContext != "remote" {
		t.Errorf("ssh context: %+v", rep.Context)
	}
	// Nobody on the port: ssh's own words, on one line.
	closed := fmt.Sprintf("ssh://root@127.0.0.1:%d", port+1)
	r = dockaudit(t, []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "DOCKER_HOST=" + closed}, "host")
	if r.code != 1 || !strings.Contains(r.stderr, fmt.Sprintf("ssh: connect to host 127.0.0.1 port %d: Connection refused", port+1)) || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("closed port: exit %d %q", r.code, r.stderr)
	}
}

// TestSSHTimeoutHolds (found in review): an ssh that never answers and leaves a child
// holding its output (a ProxyCommand, a wrapper's background process) does not keep
// dockaudit past --timeout: the whole process group goes.
func TestSSHTimeoutHolds(t *testing.T) {
	need(t)
	bin := t.TempDir()
	os.WriteFile(filepath.Join(bin, "ssh"), []byte("#!/bin/sh\nsleep 300 &\nwait\n"), 0o755)
	for _, cmd := range [][]string{{"host", "--timeout", "3s"}, {"image", "--timeout", "3s", "busybox"}} {
		r := dockaudit(t, []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "DOCKER_CONTEXT="}, append(cmd, "-H", "ssh://nobody@stray.invalid")...)
		if r.code != 1 || r.elapsed > 15*time.Second {
			t.Errorf("%v: exit %d after %s: %s", cmd, r.code, r.elapsed.Round(time.Second), r.stderr)
		}
	}
	if out, _ := exec.Command("pgrep", "-f", "sleep 300").Output(); len(out) > 0 {
		exec.Command("pkill", "-f", "^sleep 300$").Run()
		t.Errorf("ssh's child left running: %s", out)
	}
}
