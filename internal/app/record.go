package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dockaudit/dockaudit/internal/caps"
	"github.com/dockaudit/dockaudit/internal/collect/auditlog"
	"github.com/dockaudit/dockaudit/internal/collect/engine"
	"github.com/dockaudit/dockaudit/internal/seccomp"
)

// RecordOptions are the settings of dockaudit seccomp record.
type RecordOptions struct {
	Env        engine.Env
	Image      string
	Cmd        []string // nil: the image's command
	Entrypoint []string // nil: the image's
	User       string
	EnvVars    []string
	Network    string
	CapAdd     []string
	CapDrop    []string
	// Duration bounds the workload: a container still running then is stopped, and
	// what it did until then is the recording (a server: exercise it meanwhile).
	Duration time.Duration
	Output   string // profile file, "-" for stdout
	Verify   bool
	// ProcRoot is procfs, for telling the workload's processes from others.
	ProcRoot string
	// SysRoot is where the kernel's seccomp settings are read (/proc/sys/kernel/seccomp).
	SysRoot string
}

// RecordResult is what a recording found and what its verification showed.
type RecordResult struct {
	Recorded      []string // syscalls the workload made
	Runtime       []string // added for the runtime (runc's calls after the filter is loaded)
	Profile       *seccomp.Profile
	ExitCode      int
	Stopped       bool // still running after Duration, and stopped
	Records       int
	Unattributed  int // records from processes that exited before they could be checked
	Foreign       int // records from other processes under a logging filter, left out
	Unknown       []string
	Elapsed       time.Duration
	EngineVersion string
	// LostUnchecked says why the kernel's lost-record count could not be compared.
	LostUnchecked string
	Verify        *VerifyResult
}

// VerifyResult is the proof: the workload under its own profile, and a syscall
// outside the set refused.
type VerifyResult struct {
	Err           string // the verification could not be completed
	ExitCode      int
	Stopped       bool
	StartError    string // the runtime could not start the container under the profile
	WorkloadOK    bool   // it ended as it did while recorded
	Passed        bool   // WorkloadOK, and the probe was refused (or could not be run)
	Output        string // the workload's last lines, when it failed
	Probe         string // the syscall outside the set
	ProbeExit     int    // exit status of the probe under the recorded profile (1: EPERM)
	ProbeControl  int    // under Docker's default profile (0: allowed)
	ProbeSkipped  string
	DockerDefault int // how many syscalls Docker's default allows, for scale
}

// RecordError is a recording that could not be made, or a verification that failed.
type RecordError struct{ Msg string }

func (e *RecordError) Error() string { return e.Msg }

// RuntimeBaseline are the syscalls runc makes between loading a container's seccomp
// filter and starting the workload, and the Go runtime calls its init process may
// make at any time in that window (signals for preemption, futexes, timers). A
// recording sees the ones one run happened to make; a profile without the others
// can fail to start the next container.
var RuntimeBaseline = []string{
	// runc init: finalizeNamespace, the exec FIFO, execve.
	"capget", "capset", "prctl", "setgroups", "setresuid", "setresgid", "setuid", "setgid", "getuid", "getgid",
	"geteuid", "getegid", "chdir", "fchdir", "getcwd", "openat", "open", "close", "close_range", "read", "write",
	"fcntl", "fstat", "newfstatat", "statx", "readlinkat", "dup3", "getdents64", "execve", "execveat", "getppid",
	"getpid", "gettid", "umask",
	// The Go runtime.
	"futex", "sched_yield", "nanosleep", "clock_nanosleep", "clock_gettime", "gettimeofday", "tgkill", "rt_sigaction",
	"rt_sigprocmask", "rt_sigreturn", "sigaltstack", "mmap", "munmap", "mprotect", "madvise", "brk", "epoll_pwait",
	"epoll_wait", "epoll_ctl", "epoll_create1", "pipe2", "eventfd2", "getrandom", "sched_getaffinity", "arch_prctl",
	"set_tid_address", "set_robust_list", "rseq", "prlimit64", "uname", "exit", "exit_group",
}

// probeCandidates are harmless calls that succeed with all-zero arguments and a
// small non-negative result, none in RuntimeBaseline; the first one outside the
// recorded set shows the profile refuses it.
var probeCandidates = []string{"getpgrp", "getsid", "getpgid", "alarm", "sched_getscheduler", "getpriority", "sync", "sched_get_priority_max"}

// logProfile lets everything through and logs it.
const logProfile = `{"defaultAction":"SCMP_ACT_LOG","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"]}`

// Record runs the workload under a logging profile, writes the allow-list profile
// that covers it, and (with Verify) proves it. progress gets one line per step.
func Record(ctx context.Context, o RecordOptions, stdout, progress io.Writer) (*RecordResult, error) {
	if runtime.GOARCH != "amd64" {
		return nil, &RecordError{fmt.Sprintf("seccomp record writes x86_64 profiles and runs on x86_64 hosts only (this is %s)", runtime.GOARCH)}
	}
	if err := seccompLogAvailable(o.SysRoot); err != nil {
		return nil, err
	}
	l, err := auditlog.Open()
	if err != nil {
		return nil, &RecordError{err.Error()}
	}
	defer l.Close()
	client, err := engine.New(o.Env)
	if err != nil {
		return nil, err // as dockaudit host: exit 1
	}
	defer client.Close()
	if client.SocketPath == "" {
		return nil, &RecordError{fmt.Sprintf("seccomp record reads this kernel's audit records, so the daemon must run on this machine: DOCKER_HOST is %s", client.Host)}
	}
	var ver struct{ Version string }
	if err := withTimeout(ctx, func(ctx context.Context) error {
		if err := client.Negotiate(ctx); err != nil {
			return err
		}
		return client.Get(ctx, "/version", nil, &ver)
	}); err != nil {
		return nil, err
	}

	run := client.Runner()
	spec := engine.Spec{Image: o.Image, Cmd: o.Cmd, Entrypoint: o.Entrypoint, User: o.User, Env: o.EnvVars,
		NetworkMode: o.Network, CapAdd: o.CapAdd, CapDrop: o.CapDrop, SecurityOpt: []string{"seccomp=" + logProfile}}
	fmt.Fprintf(progress, "dockaudit: recording %s under a logging profile (at most %s)\n", o.Image, o.Duration)
	start := time.Now()
	res := &RecordResult{}
	names := map[string]bool{}
	unknown := map[string]bool{}
	before, statusErr := auditlog.GetStatus()
	var rec recorder
	exit, stopped, _, err := runContainer(ctx, run, spec, o.Duration, func(id string) {
		rec = recorder{l: l, id: id, proc: o.ProcRoot, owner: map[int]bool{}}
		rec.start()
	})
	if rec.done != nil {
		rec.stop()
	}
	if ctx.Err() != nil {
		return nil, &RecordError{"interrupted; the container was removed and nothing was written"}
	}
	if err != nil {
		return nil, err
	}
	if rec.err != nil {
		return nil, &RecordError{rec.err.Error()}
	}
	if statusErr == nil {
		if after, err := auditlog.GetStatus(); err == nil && after.Lost > before.Lost {
			return nil, &RecordError{fmt.Sprintf("the kernel dropped %d audit records while recording (audit backlog limit %d), so the profile could miss syscalls; "+
				"nothing was written: raise the limit (auditctl -b 8192) and record again", after.Lost-before.Lost, after.BacklogLimit)}
		}
	} else {
		res.LostUnchecked = statusErr.Error()
	}
	res.Elapsed = time.Since(start)
	res.ExitCode, res.Stopped = exit, stopped
	res.Records, res.Unattributed, res.Foreign = rec.records, rec.unattributed, rec.foreign
	for _, r := range rec.kept {
		n, abi := r.Name()
		switch {
		case n == "":
			unknown[fmt.Sprintf("%s:%d", abi, r.Syscall)] = true
		default:
			names[n] = true
		}
	}
	if len(names) == 0 {
		return nil, &RecordError{fmt.Sprintf("no syscall of %s was recorded (%d audit records seen): the kernel did not log the workload's calls; "+
			"check that \"log\" is in /proc/sys/kernel/seccomp/actions_logged and that the daemon applied the profile", o.Image, rec.records)}
	}
	for n := range names {
		res.Recorded = append(res.Recorded, n)
	}
	slices.Sort(res.Recorded)
	for n := range unknown {
		res.Unknown = append(res.Unknown, n)
	}
	slices.Sort(res.Unknown)
	for _, n := range RuntimeBaseline {
		if !names[n] {
			res.Runtime = append(res.Runtime, n)
		}
	}
	slices.Sort(res.Runtime)
	res.Profile = recordedProfile(o, res)
	res.EngineVersion = ver.Version
	if err := writeProfile(o.Output, res.Profile, stdout); err != nil {
		return nil, err
	}
	if !o.Verify {
		return res, nil
	}
	v, err := verify(ctx, run, spec, o, res, progress)
	res.Verify = v
	if err != nil {
		if ctx.Err() != nil {
			err = &RecordError{"interrupted while verifying; the profile was written, the containers removed"}
		}
		v.Err = err.Error()
		return res, err
	}
	if !v.Passed {
		return res, &RecordError{"verification failed (see above); the profile was written, but do not use it as is"}
	}
	return res, nil
}

// seccompLogAvailable checks that the kernel can log seccomp decisions and does.
func seccompLogAvailable(sysRoot string) error {
	dir := filepath.Join(sysRoot, "kernel", "seccomp")
	avail, err := os.ReadFile(filepath.Join(dir, "actions_avail"))
	if err != nil {
		return &RecordError{fmt.Sprintf("this kernel has no seccomp logging (%v): Linux 4.14 or later with CONFIG_SECCOMP_FILTER is needed", err)}
	}
	if !slices.Contains(strings.Fields(string(avail)), "log") {
		return &RecordError{fmt.Sprintf("this kernel cannot log seccomp decisions: %s/actions_avail has no \"log\" (Linux 4.14 or later)", dir)}
	}
	logged, err := os.ReadFile(filepath.Join(dir, "actions_logged"))
	if err == nil && !slices.Contains(strings.Fields(string(logged)), "log") {
		return &RecordError{fmt.Sprintf("the kernel does not log SCMP_ACT_LOG decisions: %s/actions_logged (%s) lacks \"log\"; add it (it is there by default) and retry",
			dir, strings.TrimSpace(string(logged)))}
	}
	return nil
}

// runContainer creates, starts and waits for a container, stopping it after d, and
// always removes it. started runs once the container exists, before it starts.
func runContainer(ctx context.Context, run engine.Runner, spec engine.Spec, d time.Duration, started func(id string)) (exit int, stopped bool, logs string, err error) {
	// A name of our own: the container can be removed by it even when the answer to
	// the create request was lost (an interrupt in the middle of it).
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	name := "dockaudit-record-" + hex.EncodeToString(rnd[:])
	// Removal must happen even when ctx is cancelled (Ctrl-C).
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = run.Remove(rctx, name)
	}()
	var id string
	err = withTimeout(ctx, func(ctx context.Context) (err error) {
		id, err = run.Create(ctx, name, spec)
		return err
	})
	if err != nil {
		if engine.IsNotFound(err) {
			return 0, false, "", &UsageError{Err: fmt.Errorf("image %s is not on the daemon (dockaudit does not pull: docker pull it first)", spec.Image)}
		}
		return 0, false, "", fmt.Errorf("create the container: %w", err)
	}
	if started != nil {
		started(id)
	}
	if err := withTimeout(ctx, func(ctx context.Context) error { return run.Start(ctx, id) }); err != nil {
		return 0, false, "", fmt.Errorf("start the container: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, d)
	exit, err = run.Wait(wctx, id)
	cancel()
	if err != nil && ctx.Err() == nil && wctx.Err() != nil {
		stopped = true
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		_ = run.Stop(sctx, id, 2*time.Second)
		exit, err = run.Wait(sctx, id)
		cancel()
	}
	if err != nil {
		return 0, stopped, "", fmt.Errorf("wait for the container: %w", err)
	}
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	logs, _ = run.Logs(lctx, id, 20)
	cancel()
	return exit, stopped, logs, nil
}

// recorder reads audit records in the background and keeps those of the container's
// processes: a process is the container's when its cgroup names the container.
type recorder struct {
	l     *auditlog.Listener
	id    string
	proc  string
	owner map[int]bool // PID → the container's

	kept                           []auditlog.Record
	records, unattributed, foreign int
	err                            error
	quit, done                     chan struct{}
}

func (r *recorder) start() {
	r.quit, r.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(r.done)
		// Once the container has exited, take what is still queued: until the socket
		// has been quiet for 100 ms, or for 2 s at most.
		var drainUntil time.Time
		for {
			recs, err := r.l.Read(100 * time.Millisecond)
			switch {
			case errors.Is(err, auditlog.ErrTimeout):
				if !drainUntil.IsZero() {
					return
				}
			case err != nil:
				r.err = err
				return
			}
			for _, rec := range recs {
				r.take(rec)
			}
			if drainUntil.IsZero() {
				select {
				case <-r.quit:
					drainUntil = time.Now().Add(2 * time.Second)
				default:
				}
			} else if time.Now().After(drainUntil) {
				return
			}
		}
	}()
}

func (r *recorder) stop() {
	close(r.quit)
	<-r.done
}

func (r *recorder) take(rec auditlog.Record) {
	if rec.Code != auditlog.RetLog {
		return // another filter's decision (a refusal logged by SECCOMP_FILTER_FLAG_LOG)
	}
	r.records++
	ours, known := r.owner[rec.PID]
	if !known {
		cg, err := os.ReadFile(filepath.Join(r.proc, strconv.Itoa(rec.PID), "cgroup"))
		switch {
		case err != nil:
			// Gone already (a short-lived child). Only processes under a logging
			// filter emit these records, so it is ours unless another such workload
			// runs at the same moment: keep it, and say so.
			ours = true
			r.unattributed++
		default:
			ours = strings.Contains(string(cg), r.id)
		}
		r.owner[rec.PID] = ours
	}
	if !ours {
		r.foreign++
		return
	}
	r.kept = append(r.kept, rec)
}

// recordedProfile is the allow list: the recorded calls, then the runtime's; clone
// only without the namespace flags and clone3 refused with ENOSYS (so libc falls back
// to clone), as in Docker's default: the audit records do not show arguments, and a
// recording must not open the way to new namespaces.
func recordedProfile(o RecordOptions, res *RecordResult) *seccomp.Profile {
	eperm, enosys := uint(1), uint(38)
	cmd := o.Image
	if len(o.Cmd) > 0 {
		cmd += " " + strings.Join(o.Cmd, " ")
	}
	plain := func(names []string) []string {
		return slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == "clone" || n == "clone3" })
	}
	p := &seccomp.Profile{DefaultAction: "SCMP_ACT_ERRNO", DefaultErrnoRet: &eperm,
		Architectures: []string{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"},
		Syscalls: []seccomp.Syscall{{Names: plain(res.Recorded), Action: "SCMP_ACT_ALLOW",
			Comment: "recorded by dockaudit seccomp record from a run of " + cmd}}}
	if rt := plain(res.Runtime); len(rt) > 0 {
		p.Syscalls = append(p.Syscalls, seccomp.Syscall{Names: rt, Action: "SCMP_ACT_ALLOW",
			Comment: "what the runtime (runc and its Go runtime) may call between loading the filter and starting the workload"})
	}
	p.Syscalls = append(p.Syscalls,
		seccomp.Syscall{Names: []string{"clone"}, Action: "SCMP_ACT_ALLOW",
			Args:    []seccomp.Arg{{Index: 0, Value: seccomp.NamespaceFlags, ValueTwo: 0, Op: "SCMP_CMP_MASKED_EQ"}},
			Comment: "processes and threads, but no new namespaces (the CLONE_NEW* flags)"},
		seccomp.Syscall{Names: []string{"clone3"}, Action: "SCMP_ACT_ERRNO", ErrnoRet: &enosys,
			Comment: "ENOSYS: libc falls back to clone, whose flags the rule above can check"})
	return p
}

// writeProfile writes the profile whole or not at all.
func writeProfile(path string, p *seccomp.Profile, stdout io.Writer) error {
	b := seccomp.Marshal(p)
	return WriteOutput(path, 0o644, stdout, func(w io.Writer) error {
		if _, err := w.Write(b); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		return nil
	})
}

// callTimeout bounds each Engine API call of a recording that is not waiting for the
// workload (STYLE 5: a hung daemon must not hang the command).
const callTimeout = 30 * time.Second

func withTimeout(ctx context.Context, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	return f(ctx)
}

// verify runs the workload under its profile, then a probe that makes one syscall
// outside it, under the profile and under Docker's default.
func verify(ctx context.Context, run engine.Runner, spec engine.Spec, o RecordOptions, res *RecordResult, progress io.Writer) (*VerifyResult, error) {
	v := &VerifyResult{}
	def, defJSON, err := seccomp.DefaultJSON(res.EngineVersion)
	if err != nil {
		return v, err
	}
	v.DockerDefault = len(seccomp.Effective(def, "amd64", caps.Effective(o.CapAdd, o.CapDrop, false), "").AllowedNames(seccomp.NativeNames()))
	profile := string(seccomp.Marshal(res.Profile))
	spec.SecurityOpt = []string{"seccomp=" + profile}
	fmt.Fprintf(progress, "dockaudit: verifying: the workload under the recorded profile\n")
	exit, stopped, logs, err := runContainer(ctx, run, spec, o.Duration, nil)
	if err != nil {
		var se *engine.StatusError
		if errors.As(err, &se) {
			// The runtime could not even start the container under the profile.
			v.StartError = se.Message
			return v, nil
		}
		return v, err
	}
	v.ExitCode, v.Stopped = exit, stopped
	v.WorkloadOK = exit == res.ExitCode && stopped == res.Stopped
	if !v.WorkloadOK {
		v.Output = logs
		return v, nil
	}
	allowed := map[string]bool{}
	for _, s := range res.Profile.Syscalls {
		if s.Action == "SCMP_ACT_ALLOW" {
			for _, n := range s.Names {
				allowed[n] = true
			}
		}
	}
	exitCall := "exit_group"
	if !allowed[exitCall] {
		exitCall = "exit"
	}
	for _, c := range probeCandidates {
		if !allowed[c] {
			v.Probe = c
			break
		}
	}
	switch {
	case !allowed[exitCall]:
		v.ProbeSkipped = "the profile allows neither exit nor exit_group, which the probe needs to report"
	case v.Probe == "":
		v.ProbeSkipped = "the profile allows every probe syscall (" + strings.Join(probeCandidates, ", ") + ")"
	}
	if v.ProbeSkipped != "" {
		v.Passed = true
		return v, nil
	}
	elf, err := seccomp.ProbeELF(v.Probe, exitCall)
	if err != nil {
		return v, err
	}
	dir, err := os.MkdirTemp("", "dockaudit-probe-")
	if err != nil {
		return v, err
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		return v, err
	}
	probe := filepath.Join(dir, "probe")
	if err := os.WriteFile(probe, elf, 0o755); err != nil {
		return v, err
	}
	fmt.Fprintf(progress, "dockaudit: verifying: %s, outside the profile, under it and under Docker's default\n", v.Probe)
	// ",z": on an SELinux host the runtime relabels the private directory so the
	// container may execute the probe; elsewhere it is ignored.
	ps := engine.Spec{Image: spec.Image, Entrypoint: []string{"/.dockaudit-probe"}, Cmd: []string{}, User: spec.User,
		NetworkMode: "none", Binds: []string{probe + ":/.dockaudit-probe:ro,z"}, SecurityOpt: []string{"seccomp=" + profile}}
	if v.ProbeExit, _, _, err = runContainer(ctx, run, ps, 30*time.Second, nil); err != nil {
		return v, fmt.Errorf("probe: %w", err)
	}
	// The control: Docker's own default for this Engine, whatever the daemon's is.
	ps.SecurityOpt = []string{"seccomp=" + string(defJSON)}
	if v.ProbeControl, _, _, err = runContainer(ctx, run, ps, 30*time.Second, nil); err != nil {
		return v, fmt.Errorf("probe: %w", err)
	}
	v.Passed = v.ProbeExit == 1 && v.ProbeControl == 0
	return v, nil
}

// WriteRecordSummary tells what was recorded, written and proved.
func WriteRecordSummary(w io.Writer, o RecordOptions, r *RecordResult) {
	how := describeEnd(r.ExitCode, r.Stopped, o.Duration)
	out := o.Output
	if out == "" || out == "-" {
		out = "stdout"
	}
	fmt.Fprintf(w, "recorded %d syscalls from %d audit records of %s (it %s; %.1fs); added %d the runtime may need; wrote %s\n",
		len(r.Recorded), r.Records-r.Foreign, o.Image, how, r.Elapsed.Seconds(), len(r.Runtime), out)
	if r.Unattributed > 0 {
		fmt.Fprintf(w, "note: %d records came from processes that exited before they could be checked; they were kept (any other workload under a logging profile at the same time would have added to the list)\n", r.Unattributed)
	}
	if r.Foreign > 0 {
		fmt.Fprintf(w, "note: %d records of other processes under a logging profile were left out\n", r.Foreign)
	}
	if len(r.Unknown) > 0 {
		fmt.Fprintf(w, "note: syscalls the tables here do not name were left out: %s\n", strings.Join(r.Unknown, ", "))
	}
	if risky := seccomp.Lint(r.Profile, nil); len(risky) > 0 {
		for _, p := range risky {
			fmt.Fprintf(w, "note: the workload needs %s: %s\n", p.Syscall, p.Message)
		}
	}
	if r.LostUnchecked != "" {
		fmt.Fprintf(w, "note: whether the kernel dropped audit records could not be checked (%s)\n", r.LostUnchecked)
	}
	v := r.Verify
	if v == nil {
		return
	}
	if v.Err != "" {
		fmt.Fprintf(w, "verify: not completed: %s\n", v.Err)
		return
	}
	allowed := 0
	for _, s := range r.Profile.Syscalls {
		if s.Action == "SCMP_ACT_ALLOW" {
			allowed += len(s.Names)
		}
	}
	if v.DockerDefault > 0 {
		fmt.Fprintf(w, "the profile allows %d syscalls; Docker's default allows %d\n", allowed, v.DockerDefault)
	}
	switch {
	case v.StartError != "":
		fmt.Fprintf(w, "verify: FAILED: the container did not start under the profile: %s\n", v.StartError)
		return
	case !v.WorkloadOK:
		fmt.Fprintf(w, "verify: FAILED: under the profile the workload %s, while recorded it %s\n", describeEnd(v.ExitCode, v.Stopped, o.Duration), how)
		if v.Output != "" {
			fmt.Fprintf(w, "its last output:\n%s\n", strings.TrimRight(v.Output, "\n"))
		}
		return
	}
	fmt.Fprintf(w, "verify: under the profile the workload %s, as while recorded\n", how)
	switch {
	case v.ProbeSkipped != "":
		fmt.Fprintf(w, "verify: no refusal shown: %s\n", v.ProbeSkipped)
	case v.ProbeExit == 1 && v.ProbeControl == 0:
		fmt.Fprintf(w, "verify: %s, outside the profile, is refused under it (EPERM) and allowed under Docker's default\n", v.Probe)
	default:
		fmt.Fprintf(w, "verify: FAILED: the probe calling %s exited %d under the profile (want 1, EPERM) and %d under Docker's default (want 0)\n",
			v.Probe, v.ProbeExit, v.ProbeControl)
	}
}

func describeEnd(exit int, stopped bool, d time.Duration) string {
	if stopped {
		return fmt.Sprintf("was still running after %s (stopped)", d)
	}
	return fmt.Sprintf("exited %d", exit)
}
