package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/report"
)

// statuses maps rule → "status: message" for daemon and host findings.
func statuses(rep *report.Report) map[string]string {
	out := map[string]string{}
	for _, f := range rep.Findings {
		if f.Target.Kind == "daemon" || f.Target.Kind == "host" {
			out[f.Rule] = f.Status.String() + ": " + f.Message
		}
	}
	return out
}

// TestDecoyDockerd: the newest process named dockerd is not the daemon. docker-bench
// reads its flags from `pgrep -f -n dockerd`; dockaudit asks the socket.
func TestDecoyDockerd(t *testing.T) {
	need(t)
	dir := t.TempDir()
	decoy := filepath.Join(dir, "dockerd")
	copyFile(t, sleeper, decoy)
	cmd := exec.Command(decoy, "--iptables=false", "--icc=false", "--config-file=/nonexistent/daemon.json")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()

	factsFile := filepath.Join(dir, "facts.json")
	rep := jsonReport(t, nil, "host", "--include", "2.2,2.4,3.17", "--save-facts", factsFile)
	got := statuses(rep)
	if got["CIS-2.4"] != "pass: the daemon manages iptables" {
		t.Errorf("2.4 = %q: the decoy's --iptables=false was read", got["CIS-2.4"])
	}
	if strings.Contains(got["CIS-3.17"], "/nonexistent") {
		t.Errorf("3.17 = %q: the decoy's --config-file was read", got["CIS-3.17"])
	}
	var s facts.Snapshot
	raw, _ := os.ReadFile(factsFile)
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	if s.Daemon == nil || s.Daemon.PID == cmd.Process.Pid || s.Daemon.FoundBy != "peer credentials of /var/run/docker.sock" {
		t.Fatalf("daemon = %+v (decoy PID %d)", s.Daemon, cmd.Process.Pid)
	}
	if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", s.Daemon.PID)); exe != s.Daemon.Exe {
		t.Errorf("daemon exe %q, /proc says %q", s.Daemon.Exe, exe)
	}
}

// secondDaemon starts a dockerd in its own network namespace (never --bridge=none: that
// deletes the host's docker0 on Docker 20.10), with its own data root, exec root, pid
// file, socket and --config-file, and stops it by its own PID when the test ends.
func secondDaemon(t *testing.T, config string, flags ...string) (dir, sock string) {
	t.Helper()
	for _, tool := range []string{"nsenter", "ip", "dockerd"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing", tool)
		}
	}
	// A short directory: containerd's sockets live under it, and a unix socket path
	// has at most 104 bytes (t.TempDir() names grow with subtest names).
	dir, err := os.MkdirTemp("", "dait")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ns := netnsName()
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	exec.Command("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up").Run()
	os.MkdirAll(filepath.Join(dir, "conf"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "conf", "daemon.json"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	sock = filepath.Join(dir, "docker.sock")
	args := append([]string{"--net=/var/run/netns/" + ns, "dockerd",
		"--config-file", filepath.Join(dir, "conf", "daemon.json"),
		"--data-root", filepath.Join(dir, "root"), "--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "docker.pid"), "-H", "unix://" + sock}, flags...)
	log, _ := os.Create(filepath.Join(dir, "dockerd.log"))
	cmd := exec.Command("nsenter", args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		// nsenter execs dockerd, so this PID is the daemon's own.
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		log.Close()
		unmountUnder(dir)
	})
	deadline := time.Now().Add(40 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := exec.CommandContext(ctx, "docker", "-H", "unix://"+sock, "version").Run()
		cancel()
		if err == nil {
			return dir, sock
		}
		select {
		case <-exited:
			deadline = time.Now()
		default:
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "dockerd.log"))
			t.Fatalf("second dockerd did not come up: %v\n%s", err, tail(string(b), 20))
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// netnsName is the network namespace secondDaemon runs its daemon in (one at a time).
func netnsName() string { return fmt.Sprintf("dait%d", os.Getpid()%100000) }

// inNetNS runs dockaudit inside the second daemon's network namespace, where its
// loopback listeners are.
func inNetNS(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command("nsenter", append([]string{"--net=/var/run/netns/" + netnsName(), binary}, args...)...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

// unmountUnder detaches whatever a daemon left mounted below dir (dockerd bind-mounts
// its data root onto itself), deepest first, so the temporary directory can go.
func unmountUnder(dir string) {
	b, _ := os.ReadFile("/proc/self/mountinfo")
	var mounts []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			mounts = append(mounts, f[4])
		}
	}
	for i := len(mounts) - 1; i >= 0; i-- {
		syscall.Unmount(mounts[i], syscall.MNT_DETACH)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestSecondDaemonConfigFile: flags come from the daemon behind DOCKER_HOST and
// daemon.json from the --config-file it was started with.
func TestSecondDaemonConfigFile(t *testing.T) {
	need(t)
	dir, sock := secondDaemon(t, `{"icc": false, "no-new-privileges": true, "log-level": "warn"}`,
		"--userland-proxy=false", "--cgroup-parent=/dait", "--default-ulimit", "nofile=1024:2048")
	env := []string{"DOCKER_HOST=unix://" + sock}
	conf := filepath.Join(dir, "conf", "daemon.json")
	rep := jsonReport(t, env, "host", "--include", "2.2,2.3,2.4,2.8,2.10,2.14,2.16,3.17,3.18,1.1.11")
	if !rep.Context.HostAccess {
		t.Fatalf("no host access to the second daemon: %s", rep.Context.HostAccessNote)
	}
	want := map[string]string{
		"CIS-1.1.11": auditFail(conf),
		"CIS-2.2":    "pass: containers on the default bridge cannot talk to each other",
		"CIS-2.3":    "fail: the daemon logs at level warn",
		"CIS-2.4":    "pass: the daemon manages iptables",
		"CIS-2.8":    "pass: default ulimits are set: nofile=1024:2048",
		"CIS-2.10":   "warn: containers are placed under the cgroup /dait; confirm it is intended",
		"CIS-2.14":   "pass: new containers get no-new-privileges by default",
		"CIS-2.16":   "pass: the userland proxy is disabled; published ports are handled by iptables",
		"CIS-3.17":   "pass: " + conf + " is owned by root:root",
		"CIS-3.18":   "pass: " + conf + " has mode 0644",
	}
	if d := cmp.Diff(want, statuses(rep)); d != "" {
		t.Errorf("second daemon (-want +got):\n%s", d)
	}
	// Modes are compared as bits: 0646 grants write to others whatever its number says.
	if err := os.Chmod(conf, 0o646); err != nil {
		t.Fatal(err)
	}
	rep = jsonReport(t, env, "host", "--include", "3.18")
	if got := statuses(rep)["CIS-3.18"]; got != "fail: "+conf+" has mode 0646, which also grants 0002" {
		t.Errorf("3.18 after chmod 0646: %q", got)
	}
	pid, _ := os.ReadFile(filepath.Join(dir, "docker.pid"))
	if _, err := strconv.Atoi(strings.TrimSpace(string(pid))); err != nil {
		t.Errorf("pid file: %q", pid)
	}
}

// auditFail is how CIS-1.1.x reports a path no audit rule watches on this machine:
// with auditctl the loaded rules are listed, without it only the rule files are read.
func auditFail(path string) string {
	if _, err := exec.LookPath("auditctl"); err != nil {
		return "fail: no audit rule file watches " + path + " (the loaded rules could not be listed: auditctl is not installed)"
	}
	return "fail: no audit rule watches " + path
}
