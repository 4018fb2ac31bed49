package integration

import (
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/finding"
	"github.com/dockaudit/dockaudit/internal/testenv"
)

// freePrivilegedPort finds a port below 1024 that nothing listens on (IPv4 or IPv6).
func freePrivilegedPort(t *testing.T) int {
	t.Helper()
	for port := 880; port < 1000; port++ {
		l4, err := net.Listen("tcp4", fmt.Sprintf("0.0.0.0:%d", port))
		if err != nil {
			continue
		}
		l6, err := net.Listen("tcp6", fmt.Sprintf("[::]:%d", port))
		l4.Close()
		if err != nil {
			continue
		}
		l6.Close()
		return port
	}
	t.Fatal("no free port between 880 and 999")
	return 0
}

// fixture creates the deliberately misconfigured containers and one hardened one, all
// named prefix+NAME, and removes them when the test ends. The sock container publishes
// container port 8080 on the given privileged host port.
func fixture(t *testing.T, prefix, img string, port int) {
	t.Helper()
	label := "--label=dockaudit-it=" + prefix
	create := func(verb, name string, args ...string) {
		cmd := append([]string{verb, "--name", prefix + name, label}, args...)
		if verb == "run" {
			cmd = append([]string{"run", "-d", "--name", prefix + name, label}, args...)
		}
		docker(t, cmd...)
	}
	t.Cleanup(func() {
		ids, _ := exec.Command("docker", "ps", "-aq", "--filter", "label=dockaudit-it="+prefix).Output()
		if f := strings.Fields(string(ids)); len(f) > 0 {
			exec.Command("docker", append([]string{"rm", "-f"}, f...)...).Run()
		}
	})
	// Privileged containers cannot start on these machines: created only, audited with --all.
	create("create", "priv", "--privileged", img, "sleep", "3600")
	create("run", "capsys", "--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined", img, "sleep", "3600")
	create("run", "sock", "-v", "/var/run/docker.sock:/var/run/docker.sock", "-v", "/etc:/hostetc:ro", "-p", fmt.Sprintf("%d:8080", port), img, "sleep", "3600")
	create("run", "varrun", "-v", "/var/run:/hostrun", img, "sleep", "3600")
	create("run", "pidhost", "--pid=host", img, "sleep", "3600")
	create("run", "sshd", img, "/usr/sbin/sshd")
	create("run", "good", "--read-only", "--user", "1000", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
		"--memory", "64m", "--pids-limit", "50", "--cpu-shares", "512", "--health-cmd", "true", "--health-interval", "5s",
		"--network", "none", img, "sleep", "3600")
}

func TestHostAuditContainers(t *testing.T) {
	need(t)
	prefix := fmt.Sprintf("dait%d-", time.Now().UnixNano()%1e6)
	img := "dockaudit-it:" + strings.TrimSuffix(prefix, "-")
	image(t, img)
	port := freePrivilegedPort(t)
	fixture(t, prefix, img, port)

	rep := jsonReport(t, nil, "host", "--all")
	status := map[string]map[string]string{} // container → rule → status
	var byRule = map[string][]finding.Finding{}
	for _, f := range rep.Findings {
		name, ok := strings.CutPrefix(f.Target.Name, prefix)
		if f.Target.Kind != finding.KindContainer || !ok {
			continue
		}
		if status[name] == nil {
			status[name] = map[string]string{}
		}
		if prev, seen := status[name][f.Rule]; !seen || finding.Worse(parse(prev), f.Status) == f.Status {
			status[name][f.Rule] = f.Status.String()
		}
		byRule[name+" "+f.Rule] = append(byRule[name+" "+f.Rule], f)
	}
	// Every container rule's status, for every container. The hardened one passes all
	// but what cannot apply here (no AppArmor, no SELinux) and the ulimit note; each
	// misconfigured one fails the rules common to unhardened containers plus its own.
	// The daemon remaps no users: every container is in the host's user namespace,
	// which CIS-5.31 and CONFINE-USERNS both say (as info: CIS-2.9 is the fix).
	good := map[string]string{"CIS-4.1": "pass", "CIS-5.2": "skip", "CIS-5.3": "skip", "CIS-5.19": "info", "CIS-5.31": "info",
		"CONFINE-SECCOMP": "pass", "CONFINE-CAPS": "pass", "CONFINE-NNP": "pass", "CONFINE-USERNS": "info", "CONFINE-MAC": "skip"}
	for _, r := range []string{"5.4", "5.5", "5.6", "5.7", "5.8", "5.9", "5.10", "5.11", "5.12", "5.13", "5.14", "5.15", "5.16",
		"5.17", "5.18", "5.20", "5.21", "5.22", "5.25", "5.26", "5.27", "5.29", "5.30", "5.32"} {
		good["CIS-"+r] = "pass"
	}
	want := func(changes ...string) map[string]string {
		m := maps.Clone(good)
		for _, r := range []string{"CIS-4.1", "CIS-5.11", "CIS-5.12", "CIS-5.13", "CIS-5.26", "CIS-5.27", "CIS-5.29", "CIS-5.30", "CONFINE-NNP"} {
			m[r] = "fail"
		}
		for _, c := range changes {
			rule, st, _ := strings.Cut(c, "=")
			if !strings.Contains(rule, "-") {
				rule = "CIS-" + rule
			}
			m[rule] = st
		}
		return m
	}
	wantAll := map[string]map[string]string{
		"good":    good,
		"capsys":  want("5.4=fail", "5.22=fail", "CONFINE-CAPS=fail", "CONFINE-SECCOMP=fail"),
		"priv":    want("5.4=fail", "5.5=fail", "5.22=fail", "5.7=skip", "CONFINE-CAPS=fail", "CONFINE-SECCOMP=fail"),
		"sock":    want("5.6=fail", "5.8=fail", "5.9=manual", "5.14=fail", "5.32=fail"),
		"varrun":  want("5.32=fail"),
		"pidhost": want("5.16=fail"),
		"sshd":    want("5.7=fail"),
	}
	for name, w := range wantAll {
		if d := cmp.Diff(w, status[name]); d != "" {
			t.Errorf("%s: statuses (-want +got):\n%s", name, d)
		}
	}

	// Details the issue names.
	msg := func(key string) []string {
		var out []string
		for _, f := range byRule[key] {
			out = append(out, f.Status.String()+" "+f.Severity.String()+": "+f.Message)
		}
		return out
	}
	checks := map[string][]string{
		"sock CIS-5.6":    {"fail medium: mounts the host's /etc read-only at /hostetc"},
		"sock CIS-5.8":    {fmt.Sprintf("fail low: maps privileged host ports: 0.0.0.0:%d->8080/tcp, [::]:%d->8080/tcp", port, port)},
		"sock CIS-5.14":   {fmt.Sprintf("fail medium: accepts traffic on every host interface: 0.0.0.0:%d->8080/tcp, [::]:%d->8080/tcp", port, port)},
		"varrun CIS-5.32": {"fail critical: mounts /var/run, which exposes the Docker socket /run/docker.sock at /hostrun/docker.sock: the container controls the daemon"},
		"sshd CIS-5.7":    {"fail medium: runs an SSH daemon: /usr/sbin/sshd"},
		"pidhost CIS-5.7": {"pass medium: no sshd among its 1 processes"},
		"priv CIS-5.7":    {"skip medium: not running: its processes cannot be listed"},
		"priv CIS-5.22":   {"fail high: privileged: no seccomp filter, every syscall reaches the kernel"},
		"capsys CIS-5.4":  {"fail high: adds capabilities beyond Docker's default set: SYS_ADMIN"},
		"good CIS-5.2":    {"skip medium: AppArmor is not available on this host; apparmor= options have no effect"},
	}
	for key, w := range checks {
		if d := cmp.Diff(w, msg(key)); d != "" {
			t.Errorf("%s (-want +got):\n%s", key, d)
		}
	}

	// Without --all the created container is not audited.
	rep = jsonReport(t, nil, "host", "--include", "runtime")
	for _, tg := range rep.Targets {
		if tg.Name == prefix+"priv" {
			t.Error("a created container was audited without --all")
		}
	}

	// 4.6: the fixture image has three tags; it is listed once.
	docker(t, "tag", img, img+"-b")
	docker(t, "tag", img, img+"-c")
	defer exec.Command("docker", "rmi", img+"-b", img+"-c").Run()
	rep = jsonReport(t, nil, "host", "--include", "4.6")
	n := 0
	for _, f := range rep.Findings {
		if strings.HasPrefix(f.Target.Name, img) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("4.6 reported the three-tag image %d times, want once", n)
	}
}

func parse(s string) finding.Status {
	v, _ := finding.ParseStatus(s)
	return v
}

func add(base []string, more ...string) []string {
	return append(append([]string{}, base...), more...)
}

// TestExitCodes: exit codes follow --fail-on and never depend on --format.
func TestExitCodes(t *testing.T) {
	need(t)
	for _, format := range []string{"table", "json", "sarif"} {
		if r := dockaudit(t, nil, "host", "--format", format, "--include", "2.12", "--fail-on", "medium"); r.code != 3 {
			t.Errorf("--format %s, 2.12 fails at medium: exit %d, want 3 (%s)", format, r.code, r.stderr)
		}
		if r := dockaudit(t, nil, "host", "--format", format, "--include", "2.12", "--fail-on", "high"); r.code != 0 {
			t.Errorf("--format %s, nothing at high: exit %d, want 0 (%s)", format, r.code, r.stderr)
		}
	}
	if r := dockaudit(t, nil, "host", "--include", "2.12", "--fail-on", "none"); r.code != 0 {
		t.Errorf("--fail-on none: exit %d", r.code)
	}
	for _, args := range [][]string{
		{"host", "--format", "xml"}, {"host", "--fail-on", "severe"}, {"host", "--include", "CIS-9.9"},
		{"host", "extra"}, {"host", "--nope"}, {"nope"}, {},
	} {
		r := dockaudit(t, nil, args...)
		if r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 && len(args) > 0 {
			t.Errorf("dockaudit %v: exit %d, stderr %q; want 2 and one line", args, r.code, r.stderr)
		}
	}
}

// TestUnreachableDaemon: a one-line error and exit 1 within the timeout, no trace.
func TestUnreachableDaemon(t *testing.T) {
	for _, tt := range []struct {
		host, want string
	}{
		{"unix:///nonexistent/docker.sock", "dockaudit host: cannot reach the Docker daemon at unix:///nonexistent/docker.sock: dial unix /nonexistent/docker.sock: connect: no such file or directory\n"},
		{"tcp://127.0.0.1:1", "dockaudit host: cannot reach the Docker daemon at tcp://127.0.0.1:1: dial tcp 127.0.0.1:1: connect: connection refused\n"},
	} {
		r := dockaudit(t, []string{"DOCKER_HOST=" + tt.host}, "host", "--timeout", "2s")
		if r.code != 1 || r.stderr != tt.want || r.stdout != "" {
			t.Errorf("DOCKER_HOST=%s: exit %d\nstderr %q\nwant   %q\nstdout %q", tt.host, r.code, r.stderr, tt.want, r.stdout)
		}
	}
	// A daemon that accepts and never answers: the timeout bounds the wait.
	dir := t.TempDir()
	l, err := listenUnix(dir + "/mute.sock")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	r := dockaudit(t, []string{"DOCKER_HOST=unix://" + dir + "/mute.sock"}, "host", "--timeout", "1s")
	if r.code != 1 || !strings.Contains(r.stderr, "no answer before the timeout") || strings.Count(r.stderr, "\n") != 1 || r.elapsed > 5*time.Second {
		t.Errorf("mute daemon: exit %d after %s: %q", r.code, r.elapsed, r.stderr)
	}
}

// TestOutputFileAtomic: --output replaces the file whole, and a failed run leaves the
// previous report in place.
func TestOutputFileAtomic(t *testing.T) {
	need(t)
	out := t.TempDir() + "/report.json"
	if r := dockaudit(t, nil, "host", "--include", "2", "--format", "json", "--output", out, "--fail-on", "none"); r.code != 0 || r.stdout != "" {
		t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
	}
	before, _ := os.ReadFile(out)
	if !strings.Contains(string(before), `"rule": "CIS-2.1"`) {
		t.Fatalf("report not written: %s", before)
	}
	r := dockaudit(t, []string{"DOCKER_HOST=unix:///nonexistent.sock"}, "host", "--format", "json", "--output", out)
	after, _ := os.ReadFile(out)
	if r.code != 1 || string(after) != string(before) {
		t.Errorf("a failed run touched the report (exit %d)", r.code)
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	if len(entries) != 1 {
		t.Errorf("the output directory holds %d entries, want only the report", len(entries))
	}
}

// TestOutputToDevices: in a private mount namespace with its own /dev, --output
// /dev/null leaves /dev/null a character device and --output /dev/stdout writes to
// stdout and leaves the link. The machine's real /dev is never touched.
func TestOutputToDevices(t *testing.T) {
	if _, err := exec.LookPath("unshare"); err != nil {
		testenv.Missing(t, "no unshare (apt-get install util-linux)")
	}
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "hello"), []byte("hi\n"), 0o644)
	script := `set -e
mount -t tmpfs tmpfs /dev
mknod -m 666 /dev/null c 1 3
ln -s /proc/self/fd/1 /dev/stdout
"$0" image -f json -o /dev/null --fail-on none dir:"$1"
"$0" image -f json -o /dev/stdout --fail-on none dir:"$1" | grep -c '"schemaVersion"'
stat -c '%F %a' /dev/null
stat -c '%F' /dev/stdout`
	out, err := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script, binary, root).CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "unshare failed") {
			testenv.Missing(t, "no mount namespaces here: %s", out)
		}
		t.Fatalf("%v\n%s", err, out)
	}
	if want := "1\ncharacter special file 666\nsymbolic link\n"; string(out) != want {
		t.Errorf("got %q, want %q", out, want)
	}
}

// TestContainersExitDuringTheAudit: containers that stop while dockaudit host runs
// are judged as stopped (a note), never a CIS-5.7 error, however the timing falls.
func TestContainersExitDuringTheAudit(t *testing.T) {
	need(t)
	prefix := fmt.Sprintf("dachurn%d-", time.Now().UnixNano()%1e6)
	img := "dockaudit-it:" + strings.TrimSuffix(prefix, "-")
	image(t, img)
	t.Cleanup(func() {
		ids, _ := exec.Command("docker", "ps", "-aq", "--filter", "label=dockaudit-it="+prefix).Output()
		if f := strings.Fields(string(ids)); len(f) > 0 {
			exec.Command("docker", append([]string{"rm", "-f"}, f...)...).Run()
		}
	})
	// Twelve containers that exit a quarter of a second apart, from two seconds on.
	for i := range 12 {
		docker(t, "run", "-d", "--label", "dockaudit-it="+prefix, "--name", fmt.Sprintf("%s%d", prefix, i),
			img, "sleep", fmt.Sprintf("%.2f", 2+0.25*float64(i)))
	}
	deadline := time.Now().Add(6 * time.Second)
	runs, stoppedNotes := 0, 0
	for time.Now().Before(deadline) {
		rep := jsonReport(t, nil, "host", "--include", "CIS-5.7", "--fail-on", "none")
		runs++
		for _, f := range rep.Findings {
			if strings.HasPrefix(f.Target.Name, prefix) && f.Status == finding.Error {
				t.Errorf("run %d: %s %s: %s", runs, f.Rule, f.Target.Name, f.Message)
			}
		}
		for _, n := range rep.Context.Notes {
			if strings.Contains(n, "judged as a stopped container") {
				stoppedNotes++
			}
		}
	}
	t.Logf("%d audits while 12 containers exited; %d stopped-during-audit notes", runs, stoppedNotes)
}
