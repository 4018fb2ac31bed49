package app

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/collect/auditlog"
	"github.com/dockaudit/dockaudit/internal/seccomp"
)

func TestRecorderAttribution(t *testing.T) {
	id := strings.Repeat("ab", 32)
	proc := t.TempDir()
	for pid, cg := range map[string]string{"10": "0::/system.slice/docker-" + id + ".scope\n", "20": "0::/user.slice\n"} {
		os.MkdirAll(filepath.Join(proc, pid), 0o755)
		os.WriteFile(filepath.Join(proc, pid, "cgroup"), []byte(cg), 0o644)
	}
	r := recorder{id: id, proc: proc, owner: map[int]bool{}}
	for _, rec := range []auditlog.Record{
		{PID: 10, Arch: 0xc000003e, Syscall: 0, Code: auditlog.RetLog},
		{PID: 10, Arch: 0xc000003e, Syscall: 1, Code: auditlog.RetLog},
		{PID: 20, Arch: 0xc000003e, Syscall: 2, Code: auditlog.RetLog}, // another workload under a logging profile
		{PID: 30, Arch: 0xc000003e, Syscall: 3, Code: auditlog.RetLog}, // exited before it could be checked
		{PID: 10, Arch: 0xc000003e, Syscall: 165, Code: 0x50001},       // a refusal some other filter logged
		{PID: 30, Arch: 0xc000003e, Syscall: 231, Code: auditlog.RetLog},
	} {
		r.take(rec)
	}
	var kept []int
	for _, k := range r.kept {
		kept = append(kept, k.Syscall)
	}
	if d := cmp.Diff([]int{0, 1, 3, 231}, kept); d != "" || r.records != 5 || r.foreign != 1 || r.unattributed != 1 {
		t.Errorf("kept (-want +got):\n%s; records %d, foreign %d, unattributed %d", d, r.records, r.foreign, r.unattributed)
	}
}

func TestRecordedProfile(t *testing.T) {
	res := &RecordResult{Recorded: []string{"clone", "execve", "exit_group", "read", "write"}, Runtime: []string{"clone3", "futex"}}
	p := recordedProfile(RecordOptions{Image: "busybox:1", Cmd: []string{"sh", "-c", "true"}}, res)
	var names [][]string
	for _, s := range p.Syscalls {
		names = append(names, s.Names)
	}
	if d := cmp.Diff([][]string{{"execve", "exit_group", "read", "write"}, {"futex"}, {"clone"}, {"clone3"}}, names); d != "" {
		t.Errorf("rules (-want +got):\n%s", d)
	}
	if p.Syscalls[0].Comment != "recorded by dockaudit seccomp record from a run of busybox:1 sh -c true" {
		t.Errorf("comment %q", p.Syscalls[0].Comment)
	}
	if probs := seccomp.Lint(p, nil); len(probs) != 0 {
		t.Errorf("lint: %v", probs)
	}
	set := seccomp.Effective(p, "amd64", nil, "")
	if d := set.Decide("clone"); !d.Allowed() || !d.Conditional {
		t.Errorf("clone = %+v, want allowed without namespace flags only", d)
	}
	if d := set.Decide("clone3"); d.Allowed() {
		t.Errorf("clone3 = %+v, want ENOSYS", d)
	}
	if got := set.AllowedNames(seccomp.NativeNames()); !slices.Equal(got, []string{"clone", "execve", "exit_group", "futex", "read", "write"}) {
		t.Errorf("allowed %v", got)
	}
	// The runtime baseline holds nothing the linter calls dangerous.
	if probs := seccomp.Lint(seccomp.AllowList(RuntimeBaseline), nil); len(probs) != 0 {
		t.Errorf("the runtime baseline lints with %v", probs)
	}
}

func TestWriteProfileWholeOrNothing(t *testing.T) {
	dir := t.TempDir()
	p := seccomp.AllowList([]string{"read"})
	out := filepath.Join(dir, "p.json")
	if err := writeProfile(out, p, nil); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	if !bytes.Equal(b, seccomp.Marshal(p)) {
		t.Errorf("written %s", b)
	}
	// A directory in the way: an error, and no temporary file left behind.
	if err := writeProfile(dir, p, nil); err == nil {
		t.Error("writing over a directory succeeded")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("left behind: %v", ents)
	}
	var buf bytes.Buffer
	if err := writeProfile("-", p, &buf); err != nil || !bytes.Equal(buf.Bytes(), seccomp.Marshal(p)) {
		t.Errorf("stdout: %v %q", err, buf.String())
	}
}

func TestSeccompLogAvailable(t *testing.T) {
	sys := func(avail, logged string) string {
		d := t.TempDir()
		os.MkdirAll(filepath.Join(d, "kernel", "seccomp"), 0o755)
		if avail != "" {
			os.WriteFile(filepath.Join(d, "kernel", "seccomp", "actions_avail"), []byte(avail+"\n"), 0o644)
		}
		os.WriteFile(filepath.Join(d, "kernel", "seccomp", "actions_logged"), []byte(logged+"\n"), 0o644)
		return d
	}
	if err := seccompLogAvailable(sys("kill_process kill_thread trap errno user_notif trace log allow", "kill_process kill_thread trap errno user_notif trace log")); err != nil {
		t.Errorf("a 6.x kernel: %v", err)
	}
	d := sys("kill_process kill_thread trap errno trace allow", "")
	if err := seccompLogAvailable(d); err == nil || err.Error() != "this kernel cannot log seccomp decisions: "+d+"/kernel/seccomp/actions_avail has no \"log\" (Linux 4.14 or later)" {
		t.Errorf("no log action: %v", err)
	}
	d = sys("log allow", "errno")
	if err := seccompLogAvailable(d); err == nil || !strings.Contains(err.Error(), "actions_logged (errno) lacks \"log\"") {
		t.Errorf("log not logged: %v", err)
	}
	if err := seccompLogAvailable(sys("", "")); err == nil || !strings.HasPrefix(err.Error(), "this kernel has no seccomp logging") {
		t.Errorf("no seccomp: %v", err)
	}
}

func TestWriteRecordSummary(t *testing.T) {
	p := recordedProfile(RecordOptions{Image: "img"}, &RecordResult{Recorded: []string{"execve", "exit_group", "write"}, Runtime: []string{"futex"}})
	r := &RecordResult{Recorded: []string{"execve", "exit_group", "write"}, Runtime: []string{"futex"}, Profile: p, Records: 40, Foreign: 2,
		Unattributed: 3, Elapsed: 1500 * time.Millisecond,
		Verify: &VerifyResult{WorkloadOK: true, Passed: true, Probe: "sched_yield", ProbeExit: 1, DockerDefault: 292}}
	var b strings.Builder
	WriteRecordSummary(&b, RecordOptions{Image: "img", Output: "p.json", Duration: time.Minute}, r)
	want := `recorded 3 syscalls from 38 audit records of img (it exited 0; 1.5s); added 1 the runtime may need; wrote p.json
note: 3 records came from processes that exited before they could be checked; they were kept (any other workload under a logging profile at the same time would have added to the list)
note: 2 records of other processes under a logging profile were left out
the profile allows 5 syscalls; Docker's default allows 292
verify: under the profile the workload exited 0, as while recorded
verify: sched_yield, outside the profile, is refused under it (EPERM) and allowed under Docker's default
`
	if d := cmp.Diff(want, b.String()); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	r.Verify = &VerifyResult{ExitCode: 1, Output: "sh: write error: Operation not permitted\n"}
	b.Reset()
	WriteRecordSummary(&b, RecordOptions{Image: "img", Output: "-", Duration: time.Minute}, r)
	if !strings.Contains(b.String(), "verify: FAILED: under the profile the workload exited 1, while recorded it exited 0\nits last output:\nsh: write error: Operation not permitted\n") {
		t.Errorf("failure summary:\n%s", b.String())
	}
	r.Verify = &VerifyResult{Err: "interrupted while verifying; the profile was written, the containers removed"}
	b.Reset()
	WriteRecordSummary(&b, RecordOptions{Image: "img", Duration: time.Minute}, r)
	if !strings.HasSuffix(b.String(), "verify: not completed: interrupted while verifying; the profile was written, the containers removed\n") || strings.Contains(b.String(), "FAILED") {
		t.Errorf("interrupted summary:\n%s", b.String())
	}
	r.Verify = &VerifyResult{StartError: "OCI runtime create failed: operation not permitted"}
	b.Reset()
	WriteRecordSummary(&b, RecordOptions{Image: "img", Duration: time.Minute}, r)
	if !strings.Contains(b.String(), "verify: FAILED: the container did not start under the profile: OCI runtime create failed: operation not permitted\n") {
		t.Errorf("start failure summary:\n%s", b.String())
	}
}
