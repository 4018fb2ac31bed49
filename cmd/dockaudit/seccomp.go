package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dockaudit/dockaudit/internal/app"
	"github.com/dockaudit/dockaudit/internal/caps"
	"github.com/dockaudit/dockaudit/internal/seccomp"
	"github.com/dockaudit/dockaudit/internal/suggest"
)

const seccompUsage = `Usage: dockaudit seccomp <lint|diff|record> [flags] ...

Seccomp profiles, the JSON Docker takes with --security-opt seccomp=FILE:
  lint    check profiles: syntax Docker refuses or ignores, the default action,
          dangerous syscalls allowed without a capability or argument condition,
          unknown syscall names, tracer actions, missing architectures
  diff    show what one profile allows that another does not (by default: Docker's
          own profile for an Engine version)
  record  run a container and write the smallest profile that lets it do what it did

Run "dockaudit seccomp <subcommand> --help" for the flags of each.
`

func runSeccomp(ctx context.Context, args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.usage, seccompUsage)
		return exitUsage
	}
	switch args[0] {
	case "lint":
		return runSeccompLint(ctx, args[1:], e)
	case "diff":
		return runSeccompDiff(args[1:], e)
	case "record":
		return runSeccompRecord(ctx, args[1:], e)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(e.stdout, seccompUsage)
		return exitOK
	}
	fmt.Fprintf(e.stderr, "dockaudit seccomp: unknown subcommand %q%s (want lint, diff or record)\n", args[0], suggest.Phrase(suggest.Closest(args[0], []string{"lint", "diff", "record"})))
	return exitUsage
}

const seccompLintUsage = `Usage: dockaudit seccomp lint [flags] PROFILE...

Checks seccomp profiles (files, or - for stdin) the way Docker will read them and
reports, per profile:
  SECCOMP-SYNTAX           what Docker refuses (unknown actions, operators, argument
                           indexes, architectures) or silently ignores (unknown fields)
  SECCOMP-DEFAULT-ACTION   a default action of allow or log (a deny list)
  SECCOMP-DANGEROUS        mount and the new mount API, unshare, setns, clone without
                           the namespace-flag mask, ptrace, bpf, keyrings, kexec, module
                           loading, open_by_handle_at, userfaultfd, io_uring, ... allowed
                           with no capability or argument condition
  SECCOMP-ACTION           syscalls handed to a tracer or user-space agent
  SECCOMP-UNKNOWN-SYSCALL  names no architecture has (typos)
  SECCOMP-ARCH             no architectures listed
dockaudit host runs the same rules on every custom profile its containers use.

Examples:
  dockaudit seccomp lint profile.json
  dockaudit seccomp lint --format sarif --output lint.sarif profiles/*.json
  cat profile.json | dockaudit seccomp lint -
`

func runSeccompLint(ctx context.Context, args []string, e env) int {
	fs := newFlagSet("seccomp lint", seccompLintUsage)
	var of outputFlags
	of.register(fs)
	var o app.ProbeOptions
	files, err := fs.parse(args, e)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	} else if err != nil {
		return exitUsage
	}
	if len(files) == 0 {
		fmt.Fprintln(e.stderr, "dockaudit seccomp lint: name at least one profile file, or - for stdin (see dockaudit seccomp lint --help)")
		return exitUsage
	}
	if stdinTwice(files) {
		fmt.Fprintln(e.stderr, "dockaudit seccomp lint: - (stdin) can be named only once")
		return exitUsage
	}
	o.Timeout = 1 // unused; finishProbe wants it positive
	if code := finishProbe(&o, &of, files, e, "seccomp lint"); code >= 0 {
		return code
	}
	r, err := app.SeccompLint(ctx, o, os.Stdin, e.stdout)
	return probeExit(e, "seccomp lint", r, err)
}

const seccompDiffUsage = `Usage: dockaudit seccomp diff [flags] A [B]

Shows which x86_64 syscalls profile A allows that B refuses (+), which B allows that A
refuses (-), and which both allow but only one under argument conditions (~), for a
container with Docker's default capabilities changed by --cap-add and --cap-drop (a
profile's capability-gated rules count only when the capability is held). Without B,
A is compared with Docker's own default profile for --engine (embedded: ` + "%s" + `).

Exit status: 0, or with --exit-code 3 when A allows a syscall B refuses.

Examples:
  dockaudit seccomp diff profile.json
  dockaudit seccomp diff --engine 20.10 --cap-add SYS_ADMIN profile.json
  dockaudit seccomp diff --format json old.json new.json
`

func runSeccompDiff(args []string, e env) int {
	fs := newFlagSet("seccomp diff", fmt.Sprintf(seccompDiffUsage, strings.Join(seccomp.DefaultVersions, ", ")))
	o := app.DiffOptions{Stdin: os.Stdin}
	newest := seccomp.DefaultVersions[len(seccomp.DefaultVersions)-1]
	fs.StringVar(&o.Engine, "engine", newest, "compare with Docker's default profile of Engine `VERSION` (20.10 or later)")
	var add, drop listFlag
	fs.Var(&add, "cap-add", "`CAPS` the container adds (repeatable, comma-separated, e.g. SYS_ADMIN)")
	fs.Var(&drop, "cap-drop", "`CAPS` the container drops (ALL for all)")
	fs.StringVar(&o.Format, "format", "text", "`FORMAT`: text or json")
	exitCodeFlag := fs.Bool("exit-code", false, "exit 3 when A allows a syscall B refuses")
	pos, err := fs.parse(args, e)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	} else if err != nil {
		return exitUsage
	}
	switch {
	case len(pos) == 0 || len(pos) > 2:
		fmt.Fprintln(e.stderr, "dockaudit seccomp diff: name one profile (compared with Docker's default) or two (see dockaudit seccomp diff --help)")
		return exitUsage
	case o.Format != "text" && o.Format != "json":
		fmt.Fprintf(e.stderr, "dockaudit seccomp diff: --format %q: want text or json\n", o.Format)
		return exitUsage
	}
	if stdinTwice(pos) {
		fmt.Fprintln(e.stderr, "dockaudit seccomp diff: - (stdin) can be named only once")
		return exitUsage
	}
	o.A = pos[0]
	if len(pos) == 2 {
		o.B = pos[1]
	}
	for _, c := range append(append([]string{}, add...), drop...) {
		if !knownCap(c) {
			fmt.Fprintf(e.stderr, "dockaudit seccomp diff: %q is not a capability (see man 7 capabilities; ALL for all)\n", c)
			return exitUsage
		}
	}
	o.CapAdd, o.CapDrop = add, drop
	d, err := app.SeccompDiff(o)
	if err != nil {
		return exitCode(e, "seccomp diff", nil, err)
	}
	if err := app.WriteDiff(e.stdout, d, o.Format); err != nil {
		fmt.Fprintf(e.stderr, "dockaudit seccomp diff: %v\n", err)
		return exitFailed
	}
	if *exitCodeFlag && len(d.OnlyA) > 0 {
		return exitFindings
	}
	return exitOK
}

func knownCap(c string) bool {
	n := caps.Norm(c)
	return n == "ALL" || slices.Contains(caps.All, n)
}

const seccompRecordUsage = `Usage: dockaudit seccomp record [flags] IMAGE [COMMAND [ARG...]]

Runs IMAGE (with COMMAND, or its own) in a new container under a profile that allows
and logs every syscall, reads what the kernel logged for the container's processes
from the audit multicast group (no auditd needed and no audit setting changed; the
kernel also hands the records to auditd or, rate-limited, to its log), and
writes the smallest allow-list profile that covers it, plus the calls the runtime
(runc) may make after loading the filter. clone is allowed without the namespace flags
only, and clone3 answers ENOSYS so libc falls back to clone, as in Docker's default.

Then it proves the profile: the same workload runs again under it and must end the
same way, and a tiny probe makes one syscall outside the set, which must be refused
under the profile (EPERM) and allowed under Docker's default.

A workload still running after --duration is stopped: what it did until then is the
recording (exercise a server meanwhile). Flags must come before IMAGE. The container
is removed afterwards. Needs root (CAP_AUDIT_READ), an x86_64 host, the daemon on this
machine, and a kernel that logs seccomp decisions (Linux 4.14+).

Examples:
  dockaudit seccomp record --output nginx.json nginx:1.27
  dockaudit seccomp record --duration 10s --output app.json myapp:1 /app --serve
  docker run --security-opt seccomp=nginx.json nginx:1.27
`

func runSeccompRecord(ctx context.Context, args []string, e env) int {
	fs := newFlagSet("seccomp record", seccompRecordUsage)
	o := app.RecordOptions{ProcRoot: "/proc", SysRoot: "/proc/sys"}
	var daemon daemonFlags
	daemon.register(fs)
	fs.StringVar(&o.Output, "output", "-", "write the profile to `FILE` (- for stdout); written whole or not at all")
	fs.StringVar(&o.Output, "o", "-", "short for --output")
	fs.DurationVar(&o.Duration, "duration", time.Minute, "stop the workload after `DURATION` if it has not exited")
	noVerify := fs.Bool("no-verify", false, "write the profile without running the workload again under it")
	fs.StringVar(&o.User, "user", "", "run as `USER` (as docker run --user)")
	var envs, add, drop listFlag
	fs.Var(&envs, "env", "`NAME=VALUE` for the workload (repeatable)")
	fs.Var(&add, "cap-add", "`CAPS` to add, as docker run --cap-add")
	fs.Var(&drop, "cap-drop", "`CAPS` to drop, as docker run --cap-drop")
	fs.StringVar(&o.Network, "network", "", "connect the container to `NETWORK` (default: the daemon's default bridge)")
	entry := fs.String("entrypoint", "", "override the image's entrypoint with `PATH`")
	if err := fs.FlagSet.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(e.stdout, fs.synopsis)
			fmt.Fprintln(e.stdout, "\nFlags:")
			printFlags(e.stdout, fs.FlagSet)
			return exitOK
		}
		msg := strings.NewReplacer("defined: -", "defined: --", "for flag -", "for flag --").Replace(err.Error())
		fmt.Fprintf(e.stderr, "dockaudit seccomp record: %s (see dockaudit seccomp record --help)\n", msg)
		return exitUsage
	}
	rest := fs.Args()
	if len(rest) > 0 && rest[0] == "--" {
		rest = rest[1:]
	}
	switch {
	case len(rest) == 0:
		fmt.Fprintln(e.stderr, "dockaudit seccomp record: name the IMAGE to run (see dockaudit seccomp record --help)")
		return exitUsage
	case o.Duration <= 0:
		fmt.Fprintf(e.stderr, "dockaudit seccomp record: --duration %s: want a positive duration such as 30s\n", o.Duration)
		return exitUsage
	}
	for _, c := range append(append([]string{}, add...), drop...) {
		if !knownCap(c) {
			fmt.Fprintf(e.stderr, "dockaudit seccomp record: %q is not a capability\n", c)
			return exitUsage
		}
	}
	o.Image, o.EnvVars, o.CapAdd, o.CapDrop, o.Verify = rest[0], envs, add, drop, !*noVerify
	if len(rest) > 1 {
		o.Cmd = rest[1:]
	}
	if *entry != "" {
		o.Entrypoint = []string{*entry}
	}
	if o.Output != "-" {
		if fi, err := os.Stat(filepath.Dir(o.Output)); err != nil || !fi.IsDir() {
			fmt.Fprintf(e.stderr, "dockaudit seccomp record: --output %s: its directory does not exist\n", o.Output)
			return exitUsage
		}
	}
	denv, err := daemon.resolve(e, "seccomp record")
	if err != nil {
		fmt.Fprintf(e.stderr, "dockaudit seccomp record: %v\n", err)
		return exitFailed
	}
	o.Env = denv
	progress := io.Discard
	if e.stderrTTY {
		progress = e.stderr
	}
	res, err := app.Record(ctx, o, e.stdout, progress)
	if res != nil {
		app.WriteRecordSummary(e.stderr, o, res)
	}
	if err != nil {
		return exitCode(e, "seccomp record", nil, err)
	}
	return exitOK
}

// stdinTwice reports "-" named more than once: the second read would be empty.
func stdinTwice(args []string) bool {
	n := 0
	for _, a := range args {
		if a == "-" {
			n++
		}
	}
	return n > 1
}
