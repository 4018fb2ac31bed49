package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/finding"
	"github.com/dockaudit/dockaudit/internal/seccomp"
)

// TestConfinement runs containers with each confinement the issue names and checks
// what dockaudit host reports for each, requested against what /proc shows.
func TestConfinement(t *testing.T) {
	need(t)
	img := "dockaudit-it-conf:1"
	image(t, img)
	prefix := "dait-conf-"
	dir := t.TempDir()
	permissive := filepath.Join(dir, "permissive.json")
	os.WriteFile(permissive, []byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["reboot"],"action":"SCMP_ACT_ERRNO"}]}`), 0o644)
	t.Cleanup(func() {
		ids, _ := exec.Command("docker", "ps", "-aq", "--filter", "label=dockaudit-it="+prefix).Output()
		if f := strings.Fields(string(ids)); len(f) > 0 {
			exec.Command("docker", append([]string{"rm", "-f"}, f...)...).Run()
		}
	})
	runC := func(name string, args ...string) {
		docker(t, append(append([]string{"run", "-d", "--name", prefix + name, "--label", "dockaudit-it=" + prefix}, args...), img, "sleep", "3600")...)
	}
	runC("default")
	runC("permissive", "--security-opt", "seccomp="+permissive)
	runC("unconfined", "--security-opt", "seccomp=unconfined")
	runC("sysadmin", "--cap-add", "SYS_ADMIN")
	runC("dropall", "--cap-drop", "ALL")
	runC("nnp", "--security-opt", "no-new-privileges", "--security-opt", "apparmor=dockaudit-nonexistent")

	rep := jsonReport(t, nil, "host", "--include", "syscall")
	var got []string
	ev := map[string]map[string]string{}
	for _, f := range rep.Findings {
		name := f.Target.Name
		if f.Target.Kind == finding.KindDaemon {
			name = "" // the host's name
		}
		if f.Target.Kind == finding.KindContainer {
			var ok bool
			if name, ok = strings.CutPrefix(name, prefix); !ok {
				continue // someone else's container
			}
		}
		if f.Target.Kind == finding.KindProfile && !strings.HasPrefix(f.Rule, "SECCOMP-DEFAULT") && f.Rule != "SECCOMP-DANGEROUS" {
			continue
		}
		if f.Rule == "SECCOMP-DANGEROUS" && f.Status != finding.Fail {
			continue
		}
		line := f.Rule + " " + f.Status.String() + " " + f.Severity.String() + " " + name + ": " + f.Message
		if f.Rule == "SECCOMP-DANGEROUS" {
			line = f.Rule + " " + name + " " + f.Evidence[0].Actual // one per syscall; checked below
		}
		got = append(got, line)
		m := map[string]string{}
		for _, e := range f.Evidence {
			m[e.Key] = e.Actual
		}
		ev[f.Rule+" "+name] = m
	}
	profile := "sha256:3bcf5a302172"
	var dangerous []string
	got = slices.DeleteFunc(got, func(l string) bool {
		if after, ok := strings.CutPrefix(l, "SECCOMP-DANGEROUS "+profile+" "); ok {
			dangerous = append(dangerous, after)
			return true
		}
		return false
	})
	want := []string{
		"SECCOMP-ENGINE-DEFAULT warn low : the built-in profile of Docker 20.10 allows io_uring_setup, io_uring_enter, io_uring_register to every container that runs with it",
		"CONFINE-SECCOMP pass high default: Docker 20.10 default profile is in force (Seccomp: 2)",
		"CONFINE-SECCOMP pass high dropall: Docker 20.10 default profile is in force (Seccomp: 2)",
		"CONFINE-SECCOMP pass high nnp: Docker 20.10 default profile is in force (Seccomp: 2)",
		"CONFINE-SECCOMP fail high permissive: runs with custom profile " + profile + ", whose default action is SCMP_ACT_ALLOW: every syscall it does not name is allowed (see the profile's findings)",
		"CONFINE-SECCOMP pass high sysadmin: Docker 20.10 default profile is in force (Seccomp: 2)",
		"CONFINE-SECCOMP fail high unconfined: runs with seccomp=unconfined: every syscall reaches the kernel",
		"CONFINE-CAPS pass high default: holds 14 of Docker's 14 default capabilities and nothing more",
		"CONFINE-CAPS pass high dropall: holds 0 of Docker's 14 default capabilities and nothing more",
		"CONFINE-CAPS pass high nnp: holds 14 of Docker's 14 default capabilities and nothing more",
		"CONFINE-CAPS pass high permissive: holds 14 of Docker's 14 default capabilities and nothing more",
		"CONFINE-CAPS fail critical sysadmin: holds capabilities beyond Docker's default set: SYS_ADMIN (mount, namespaces, BPF and most of the kernel's administration: the usual way out of a container)",
		"CONFINE-CAPS pass high unconfined: holds 14 of Docker's 14 default capabilities and nothing more",
		"CONFINE-NNP fail medium default: no-new-privileges is not in effect (NoNewPrivs: 0): setuid binaries can raise privileges",
		"CONFINE-NNP fail medium dropall: no-new-privileges is not in effect (NoNewPrivs: 0): setuid binaries can raise privileges",
		"CONFINE-NNP pass medium nnp: no-new-privileges is in effect (NoNewPrivs: 1)",
		"CONFINE-NNP fail medium permissive: no-new-privileges is not in effect (NoNewPrivs: 0): setuid binaries can raise privileges",
		"CONFINE-NNP fail medium sysadmin: no-new-privileges is not in effect (NoNewPrivs: 0): setuid binaries can raise privileges",
		"CONFINE-NNP fail medium unconfined: no-new-privileges is not in effect (NoNewPrivs: 0): setuid binaries can raise privileges",
	}
	userns := "runs in the host's user namespace: root in the container is root on the host (the daemon has no userns-remap, see CIS-2.9)"
	noMAC := "neither AppArmor nor SELinux is available on this host; the container asks for no confinement from them"
	for _, n := range []string{"default", "dropall", "nnp", "permissive", "sysadmin", "unconfined"} {
		want = append(want, "CONFINE-USERNS info medium "+n+": "+userns)
	}
	for _, n := range []string{"default", "dropall", "nnp", "permissive", "sysadmin", "unconfined"} {
		if n == "nnp" {
			want = append(want, "CONFINE-MAC warn medium nnp: apparmor=dockaudit-nonexistent was requested, but AppArmor is not available on this host: the option has no effect")
			continue
		}
		want = append(want, "CONFINE-MAC skip medium "+n+": "+noMAC)
	}
	want = append(want, "SECCOMP-DEFAULT-ACTION fail high "+profile+": the default action is SCMP_ACT_ALLOW: a deny list, which lets through every syscall it does not name, new ones included")
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
	// The permissive profile refuses only reboot: every other dangerous syscall of
	// medium severity or more is a failure, each once (the low ones are warnings).
	wantDangerous := strings.Fields("acct add_key bpf clone clone3 create_module delete_module fanotify_init finit_module fsconfig fsmount " +
		"fsopen fspick init_module io_uring_enter io_uring_register io_uring_setup ioperm iopl kcmp kexec_file_load kexec_load keyctl " +
		"lookup_dcookie mount mount_setattr move_mount open_by_handle_at open_tree perf_event_open pidfd_getfd pivot_root process_vm_readv " +
		"process_vm_writev ptrace quotactl request_key setns swapoff swapon syslog umount umount2 unshare userfaultfd vm86 vm86old")
	if d := cmp.Diff(wantDangerous, dangerous); d != "" {
		t.Errorf("dangerous syscalls of the permissive profile (-want +got):\n%s", d)
	}
	// Evidence: what the kernel showed, decoded.
	if e := ev["CONFINE-SECCOMP unconfined"]; !strings.HasPrefix(e["effective"], "Seccomp: 0 (no filter)") || e["requested"] != "seccomp=unconfined" {
		t.Errorf("unconfined evidence %v", e)
	}
	if e := ev["CONFINE-SECCOMP default"]; !strings.HasPrefix(e["effective"], "Seccomp: 2 (filter), filters: 1 (PID ") ||
		e["allows"] != "292 of 380 x86_64 syscalls allowed with its capabilities" {
		t.Errorf("default evidence %v", e)
	}
	if e := ev["CONFINE-SECCOMP sysadmin"]; e["allows"] != "314 of 380 x86_64 syscalls allowed with its capabilities" {
		t.Errorf("sysadmin evidence %v", e)
	}
	if e := ev["CONFINE-CAPS sysadmin"]; !strings.Contains(e["effective (CapEff)"], "SYS_ADMIN") || !strings.Contains(e["bounding set"], "SYS_ADMIN, SYS_CHROOT [CapBnd of PID ") {
		t.Errorf("sysadmin caps evidence %v", e)
	}
	if e := ev["CONFINE-CAPS dropall"]; e["effective (CapEff)"] != "(none)" || !strings.HasPrefix(e["bounding set"], "(none) [CapBnd of PID ") {
		t.Errorf("dropall caps evidence %v", e)
	}
	if e := ev["CONFINE-USERNS default"]; e["effective"] != "uid_map: 0 0 4294967295" {
		t.Errorf("userns evidence %v", e)
	}
}

// TestSeccompRecord records a busybox workload, and checks the profile: the tool's own
// verification, a size far below Docker's default, a clean lint, the workload passing
// under it through the docker CLI, and a command the workload never ran refused.
func TestSeccompRecord(t *testing.T) {
	need(t)
	img := "dockaudit-it-rec:1"
	image(t, img)
	out := filepath.Join(t.TempDir(), "profile.json")
	workload := []string{"sh", "-c", "i=0; while [ $i -lt 50 ]; do echo $i > /dev/null; i=$((i+1)); done; echo $i"}
	r := dockaudit(t, nil, append([]string{"seccomp", "record", "--output", out, img}, workload...)...)
	if r.code != 0 {
		t.Fatalf("record: exit %d\n%s", r.code, r.stderr)
	}
	for _, line := range []string{
		"verify: under the profile the workload exited 0, as while recorded",
		"verify: getpgrp, outside the profile, is refused under it (EPERM) and allowed under Docker's default",
		"Docker's default allows 292",
	} {
		if !strings.Contains(r.stderr, line) {
			t.Errorf("stderr lacks %q:\n%s", line, r.stderr)
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	p, unknown, err := seccomp.Parse(b)
	if err != nil || len(unknown) > 0 {
		t.Fatalf("profile: %v %v", err, unknown)
	}
	allowed := seccomp.Effective(p, "amd64", nil, "").AllowedNames(seccomp.NativeNames())
	if len(allowed) > 100 || !slices.Contains(allowed, "execve") || !slices.Contains(allowed, "write") || slices.Contains(allowed, "mount") {
		t.Errorf("recorded profile allows %d syscalls: %v", len(allowed), allowed)
	}
	if probs := seccomp.Lint(p, unknown); len(probs) != 0 {
		t.Errorf("the recorded profile lints with %v", probs)
	}
	lint := dockaudit(t, nil, "seccomp", "lint", out)
	if lint.code != 0 || !strings.Contains(lint.stdout, "6 rules: 0 fail, 0 warn, 0 error, 0 manual, 0 info, 6 pass, 0 skip") {
		t.Errorf("seccomp lint: exit %d\n%s", lint.code, lint.stdout)
	}
	// The real docker CLI, under the profile: the workload prints its count; mkdir
	// (which the workload never ran) is refused.
	if got := docker(t, append([]string{"run", "--rm", "--security-opt", "seccomp=" + out, img}, workload...)...); got != "50" {
		t.Errorf("workload under the profile printed %q", got)
	}
	mkdir := exec.Command("docker", "run", "--rm", "--security-opt", "seccomp="+out, img, "mkdir", "/dockaudit-x")
	o, err := mkdir.CombinedOutput()
	if err == nil || strings.TrimSpace(string(o)) != "mkdir: can't create directory '/dockaudit-x': Operation not permitted" {
		t.Errorf("mkdir under the profile: %v\n%s", err, o)
	}
	docker(t, "run", "--rm", img, "mkdir", "/dockaudit-x") // allowed by Docker's default
	// The diff against Docker's default: the profile allows nothing the default refuses.
	diff := dockaudit(t, nil, "seccomp", "diff", "--engine", "20.10", "--format", "json", "--exit-code", out)
	var d struct{ OnlyA, OnlyB []string }
	if diff.code != 0 || json.Unmarshal([]byte(diff.stdout), &d) != nil || len(d.OnlyA) != 0 || len(d.OnlyB) < 200 {
		t.Errorf("diff: exit %d, only in the recorded profile %v, %d only in the default\n%s", diff.code, d.OnlyA, len(d.OnlyB), diff.stderr)
	}
	// No leftovers: the recording's containers are gone.
	if ps := docker(t, "ps", "-aq", "--filter", "ancestor="+img); ps != "" {
		t.Errorf("containers left behind: %s", ps)
	}
}

// TestSeccompRecordErrors: not root, and a daemon that is not on this machine.
func TestSeccompRecordErrors(t *testing.T) {
	need(t)
	nobody := exec.Command("setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", binary, "seccomp", "record", "busybox", "true")
	nobody.Env = append(os.Environ(), "HOME=/nonexistent") // root's config.json is not nobody's to read
	o, err := nobody.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || string(o) != "dockaudit seccomp record: reading the kernel's audit records needs root (CAP_AUDIT_READ)\n" {
		t.Errorf("as nobody: %v %q", err, o)
	}
	r := dockaudit(t, []string{"DOCKER_HOST=tcp://127.0.0.1:9"}, "seccomp", "record", "busybox", "true")
	if r.code != 1 || r.stderr != "dockaudit seccomp record: seccomp record reads this kernel's audit records, so the daemon must run on this machine: DOCKER_HOST is tcp://127.0.0.1:9\n" {
		t.Errorf("remote daemon: exit %d %q", r.code, r.stderr)
	}
	r = dockaudit(t, nil, "seccomp", "record", "dockaudit-no-such-image:1", "true")
	if r.code != 2 || r.stderr != "dockaudit seccomp record: image dockaudit-no-such-image:1 is not on the daemon (dockaudit does not pull: docker pull it first)\n" {
		t.Errorf("missing image: exit %d %q", r.code, r.stderr)
	}
}
