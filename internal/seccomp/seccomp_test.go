package seccomp

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/caps"
)

func parse(t *testing.T, s string) (*Profile, []string) {
	t.Helper()
	p, unknown, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("Parse(%s): %v", s, err)
	}
	return p, unknown
}

func TestParseUnknownFields(t *testing.T) {
	_, unknown := parse(t, `{"DefaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"architecture":["SCMP_ARCH_X86_64"],
		"archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":[],"sub":1}],
		"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"valuetwo":0,"op":"SCMP_CMP_EQ","opp":1}],
		"includes":{"caps":["CAP_SYS_ADMIN"],"minkernel":"4.8","kernel":"5"}},{"nmes":["write"],"action":"SCMP_ACT_ALLOW"}]}`)
	want := []string{"archMap[0].sub", "architecture", "syscalls[0].args[0].opp", "syscalls[0].includes.kernel", "syscalls[1].nmes"}
	if d := cmp.Diff(want, unknown); d != "" {
		t.Errorf("unknown fields (-want +got):\n%s", d)
	}
}

func TestParseErrors(t *testing.T) {
	for in, want := range map[string]string{
		``:                                       `not a seccomp profile: unexpected end of JSON input`,
		`[]`:                                     `not a seccomp profile: json: cannot unmarshal array into Go value of type seccomp.Profile`,
		`{"defaultAction":1}`:                    `not a seccomp profile: json: cannot unmarshal number into Go struct field Profile.defaultAction of type string`,
		`{"syscalls":[{"args":[{"index":-1}]}]}`: `not a seccomp profile: json: cannot unmarshal number -1 into Go struct field Arg.syscalls.args.index of type uint`,
	} {
		if _, _, err := Parse([]byte(in)); err == nil || err.Error() != want {
			t.Errorf("Parse(%q) = %v, want %q", in, err, want)
		}
	}
}

// problems renders lint problems as "RULE severity syscall: message" lines.
func problems(ps []Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%s %s %s: %s", p.Rule, p.Severity, p.Syscall, p.Message))
	}
	return out
}

func TestLint(t *testing.T) {
	tests := []struct {
		name, profile string
		want          []string
	}{
		{"allow list, gated and masked", `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],"syscalls":[
			{"names":["read","write","exit_group"],"action":"SCMP_ACT_ALLOW"},
			{"names":["mount","unshare"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_SYS_ADMIN"]}},
			{"names":["clone"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":2114060288,"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"}]}]}`,
			nil},
		{"deny list", `{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"syscalls":[
			{"names":["reboot","kexec_load","kexec_file_load","init_module","finit_module","delete_module","create_module","bpf","mount","umount","umount2",
			 "fsopen","fsmount","fsconfig","fspick","move_mount","open_tree","mount_setattr","unshare","setns","ptrace","process_vm_readv","process_vm_writev",
			 "kcmp","pidfd_getfd","perf_event_open","keyctl","add_key","request_key","open_by_handle_at","userfaultfd","io_uring_setup","io_uring_enter",
			 "swapon","swapoff","syslog","acct","quotactl","iopl","ioperm","settimeofday","clock_settime","clock_adjtime","lookup_dcookie",
			 "fanotify_init","vm86","vm86old","uselib","nfsservctl","move_pages","migrate_pages","_sysctl","sysfs","ustat","pivot_root","clone3","personality","stime"],
			 "action":"SCMP_ACT_ERRNO"},
			{"names":["clone"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":268435456,"valueTwo":268435456,"op":"SCMP_CMP_MASKED_EQ"}]}]}`,
			[]string{
				"SECCOMP-DEFAULT-ACTION high : the default action is SCMP_ACT_ALLOW: a deny list, which lets through every syscall it does not name, new ones included",
				"SECCOMP-DANGEROUS high clone: clone is allowed without masking the namespace flags: any process can create a user namespace",
				"SECCOMP-DANGEROUS high io_uring_register: io_uring_register is allowed with no capability or argument condition: registers io_uring buffers and files",
			}},
		{"broken rules", `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_Z80"],"syscalls":[
			{"name":"read","names":["write"],"action":"SCMP_ACT_ALLOW"},
			{"names":["getpid"],"action":"SCMP_ACT_KILLL","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQQ"}]},
			{"names":["ptrace"],"action":"SCMP_ACT_TRACE"},
			{"names":["writ","s390_pci_mmio_read","sync_file_range2"],"action":"SCMP_ACT_ALLOW"},
			{"names":[],"action":"SCMP_ACT_ALLOW"},
			{"names":["clone"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"}]},
			{"names":["io_uring_setup","mount"],"action":"SCMP_ACT_LOG"}]}`, []string{
			"SECCOMP-DANGEROUS critical mount: mount is allowed with no capability or argument condition: mounts filesystems: the host's, with the right device or a leaked file descriptor",
			"SECCOMP-SYNTAX high : unknown architecture \"SCMP_ARCH_Z80\": Docker refuses the profile",
			"SECCOMP-SYNTAX high : rule 1: both name and names: Docker refuses the profile",
			"SECCOMP-SYNTAX high : rule 2: unknown action \"SCMP_ACT_KILLL\": Docker refuses the profile",
			"SECCOMP-SYNTAX high : rule 2: argument index 6: syscalls have six arguments (0-5)",
			"SECCOMP-SYNTAX high : rule 2: unknown operator \"SCMP_CMP_EQQ\": Docker refuses the profile",
			"SECCOMP-DANGEROUS high clone: clone is allowed with argument conditions that do not mask the namespace flags (CLONE_NEWUSER among them)",
			"SECCOMP-DANGEROUS high io_uring_setup: io_uring_setup is allowed with no capability or argument condition: io_uring bypasses syscall filtering for the I/O it queues, and has had many kernel bugs",
			"SECCOMP-ACTION medium : rule 3: SCMP_ACT_TRACE hands ptrace to an outside tracer or agent",
			"SECCOMP-SYNTAX medium : rule 5: names no syscall",
			"SECCOMP-UNKNOWN-SYSCALL low writ: \"writ\" is not a syscall of x86_64, i386, x32, arm64 or arm (a typo leaves the real call to the default action)",
		}},
	}
	for _, tt := range tests {
		p, unknown := parse(t, tt.profile)
		got := problems(Lint(p, unknown))
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, d)
		}
	}
}

// TestLintLogMode: under a default of SCMP_ACT_LOG nothing is refused, so every
// dangerous syscall is reported, clone and personality included.
func TestLintLogMode(t *testing.T) {
	p, _ := parse(t, `{"defaultAction":"SCMP_ACT_LOG"}`)
	ps := Lint(p, nil)
	var rules, names []string
	for _, pb := range ps {
		if pb.Syscall == "" {
			rules = append(rules, pb.Rule+" "+pb.Severity)
		} else {
			names = append(names, pb.Syscall)
		}
	}
	if d := cmp.Diff([]string{"SECCOMP-DEFAULT-ACTION high", "SECCOMP-ARCH low"}, rules); d != "" {
		t.Errorf("profile problems (-want +got):\n%s", d)
	}
	want := []string{"clone", "clone3", "personality"}
	for n := range dangerous {
		want = append(want, n)
	}
	slices.Sort(want)
	slices.Sort(names)
	if d := cmp.Diff(want, names); d != "" {
		t.Errorf("dangerous syscalls (-want +got):\n%s", d)
	}
	for i := 1; i < len(ps); i++ {
		if sevRank[ps[i].Severity] > sevRank[ps[i-1].Severity] {
			t.Fatalf("not sorted by severity at %d: %v", i, ps[i])
		}
	}
}

// TestLintSemantics covers what Docker and libseccomp make of a profile beyond its
// syntax: profiles that mean no seccomp at all, capability gates that gate nothing,
// masks runc undoes, deny lists.
func TestLintSemantics(t *testing.T) {
	tests := []struct {
		name, profile string
		want          []string
	}{
		{"empty object", `{}`, []string{
			"SECCOMP-DEFAULT-ACTION critical : no defaultAction and no syscalls: Docker treats this as no profile at all, and containers run without seccomp"}},
		{"misspelt keys", `{"defaltAction":"SCMP_ACT_ERRNO","sycalls":[]}`, []string{
			"SECCOMP-DEFAULT-ACTION critical : no defaultAction and no syscalls: Docker treats this as no profile at all, and containers run without seccomp",
			`SECCOMP-SYNTAX medium : unknown field "defaltAction": Docker ignores it silently`,
			`SECCOMP-SYNTAX medium : unknown field "sycalls": Docker ignores it silently`}},
		{"architectures and archMap", `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":[]}],"syscalls":[]}`,
			[]string{"SECCOMP-SYNTAX high : both architectures and archMap: Docker refuses the profile"}},
		{"filters Docker refuses or never matches", `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[
			{"names":["ptrace"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"4.8.1"}},
			{"names":["mount"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["SYS_ADMIN"],"minKernel":"0.0"}},
			{"names":["read"],"action":"SCMP_ACT_ALLOW","excludes":{"caps":["CAP_WIZARD"],"minKernel":"5.4"}}]}`, []string{
			"SECCOMP-SYNTAX high : rule 1: includes minKernel \"4.8.1\": Docker refuses the profile (it takes \"<kernel>.<major>\", such as \"4.8\")",
			"SECCOMP-SYNTAX high : rule 2: includes minKernel \"0.0\": Docker refuses the profile (it takes \"<kernel>.<major>\", such as \"4.8\")",
			"SECCOMP-SYNTAX medium : rule 2: includes capability \"SYS_ADMIN\" never matches: Docker compares names exactly (\"CAP_SYS_ADMIN\")",
			"SECCOMP-SYNTAX medium : rule 3: excludes capability \"CAP_WIZARD\" never matches: Docker compares names exactly (\"CAP_SYS_ADMIN\")",
			"SECCOMP-DANGEROUS medium ptrace: ptrace is allowed with no capability or argument condition: traces and rewrites the container's other processes (before Linux 4.8 it also bypassed seccomp)",
		}},
		{"gates that gate nothing, masks that mask nothing", `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[
			{"names":["keyctl"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_CHOWN"]}},
			{"names":["bpf"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_BPF"]}},
			{"names":["clone"],"action":"SCMP_ACT_ALLOW","args":[{"index":3,"value":2114060288,"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"}]},
			{"names":["clone"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":2114060288,"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"},{"index":0,"value":17,"op":"SCMP_CMP_EQ"}]},
			{"names":["clone"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":2114060288,"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"},{"index":1,"value":0,"op":"SCMP_CMP_EQ"}]},
			{"names":["clone3"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":2114060288,"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"}]}]}`, []string{
			"SECCOMP-DANGEROUS high clone: clone is allowed with argument conditions that do not mask the namespace flags (CLONE_NEWUSER among them)",
			"SECCOMP-DANGEROUS high clone: clone is allowed with argument conditions that do not mask the namespace flags (CLONE_NEWUSER among them)",
			"SECCOMP-DANGEROUS high clone3: clone3 is allowed: its flags sit in a structure seccomp cannot read, so nothing stops a new user namespace (Docker's default answers ENOSYS, errnoRet 38, and libc falls back to clone)",
			"SECCOMP-DANGEROUS high keyctl: keyctl is allowed with no capability or argument condition: the kernel keyring is not namespaced: keys of other containers and the host",
		}},
		{"deny list: conditional allowances and capability-limited refusals do not refuse", `{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"syscalls":[
			{"names":["reboot","kexec_load","kexec_file_load","init_module","finit_module","delete_module","create_module","bpf","umount","umount2",
			 "fsopen","fsmount","fsconfig","fspick","move_mount","open_tree","mount_setattr","unshare","setns","ptrace","process_vm_readv","process_vm_writev",
			 "kcmp","pidfd_getfd","perf_event_open","keyctl","add_key","request_key","open_by_handle_at","userfaultfd","io_uring_setup","io_uring_enter","io_uring_register",
			 "swapon","swapoff","syslog","acct","quotactl","iopl","ioperm","settimeofday","clock_settime","clock_adjtime","lookup_dcookie",
			 "fanotify_init","vm86","vm86old","uselib","nfsservctl","move_pages","migrate_pages","_sysctl","sysfs","ustat","pivot_root","clone3","personality","stime"],
			 "action":"SCMP_ACT_ERRNO"},
			{"names":["mount"],"action":"SCMP_ACT_ERRNO","excludes":{"caps":["CAP_SYS_ADMIN"]}},
			{"names":["clone"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":2114060288,"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"}]}]}`, []string{
			"SECCOMP-DANGEROUS critical mount: mount is allowed with no capability or argument condition: mounts filesystems: the host's, with the right device or a leaked file descriptor",
			"SECCOMP-DEFAULT-ACTION high : the default action is SCMP_ACT_ALLOW: a deny list, which lets through every syscall it does not name, new ones included",
			"SECCOMP-DANGEROUS high clone: clone is allowed without masking the namespace flags: any process can create a user namespace",
		}},
	}
	for _, tt := range tests {
		p, unknown := parse(t, tt.profile)
		if d := cmp.Diff(tt.want, problems(Lint(p, unknown))); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, d)
		}
	}
}

func TestLintUnknownField(t *testing.T) {
	p, unknown := parse(t, `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"nmes":["read"],"action":"SCMP_ACT_ALLOW"}]}`)
	want := []string{
		`SECCOMP-SYNTAX medium : unknown field "syscalls[0].nmes": Docker ignores it silently`,
		`SECCOMP-SYNTAX medium : rule 1: names no syscall`,
	}
	if d := cmp.Diff(want, problems(Lint(p, unknown))); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestDefaults pins what each embedded Docker default lets a container with the
// default capabilities do on x86_64, and what the linter says about it.
func TestDefaults(t *testing.T) {
	tests := []struct {
		engine, chosen string
		allowed        int
		ioUring        bool
		lint           []string
	}{
		{"20.10.24", "20.10", 292, true, []string{"io_uring_enter", "io_uring_register", "io_uring_setup", "ptrace", "clock_adjtime"}},
		{"23.0.1", "23.0", 304, true, []string{"io_uring_enter", "io_uring_register", "io_uring_setup", "process_vm_readv", "process_vm_writev", "ptrace", "clock_adjtime"}},
		{"24.0", "24.0", 298, true, []string{"io_uring_enter", "io_uring_register", "io_uring_setup", "process_vm_readv", "process_vm_writev", "ptrace", "clock_adjtime"}},
		{"27.1.1", "25.0", 301, false, []string{"process_vm_readv", "process_vm_writev", "ptrace", "clock_adjtime"}},
		{"28.5.2", "28.5", 309, false, []string{"process_vm_readv", "process_vm_writev", "ptrace", "clock_adjtime"}},
		{"29", "29.7", 309, false, []string{"process_vm_readv", "process_vm_writev", "ptrace", "clock_adjtime"}},
	}
	for _, tt := range tests {
		p, chosen, err := Default(tt.engine)
		if err != nil || chosen != tt.chosen {
			t.Fatalf("Default(%s) = %s, %v; want %s", tt.engine, chosen, err, tt.chosen)
		}
		set := Effective(p, "amd64", caps.Default, "6.1")
		if n := len(set.AllowedNames(NativeNames())); n != tt.allowed {
			t.Errorf("%s: %d syscalls allowed, want %d", tt.engine, n, tt.allowed)
		}
		if got := set.Decide("io_uring_setup").Allowed(); got != tt.ioUring {
			t.Errorf("%s: io_uring_setup allowed = %v", tt.engine, got)
		}
		if d := set.Decide("clone"); !d.Allowed() || !d.Conditional || !masksNamespaces(d.Conds[0], 0) {
			t.Errorf("%s: clone = %+v, want allowed under the namespace mask", tt.engine, d)
		}
		for _, n := range []string{"mount", "unshare", "bpf", "keyctl", "kexec_load", "open_by_handle_at", "init_module", "userfaultfd"} {
			if set.Decide(n).Allowed() {
				t.Errorf("%s: %s allowed with the default capabilities", tt.engine, n)
			}
		}
		admin := Effective(p, "amd64", append(slices.Clone(caps.Default), "SYS_ADMIN"), "6.1")
		for _, n := range []string{"mount", "unshare", "setns", "umount2"} {
			if d := admin.Decide(n); !d.Allowed() || !slices.Equal(d.Caps, []string{"CAP_SYS_ADMIN"}) {
				t.Errorf("%s: %s with CAP_SYS_ADMIN = %+v", tt.engine, n, d)
			}
		}
		if d := admin.Decide("clone"); d.Conditional {
			t.Errorf("%s: clone is still conditional with CAP_SYS_ADMIN", tt.engine)
		}
		var flagged []string
		for _, pb := range Lint(p, nil) {
			flagged = append(flagged, pb.Syscall)
		}
		if d := cmp.Diff(tt.lint, flagged); d != "" {
			t.Errorf("%s lint (-want +got):\n%s", tt.engine, d)
		}
	}
	if _, _, err := Default("19.03"); err == nil || err.Error() != "no embedded default profile for Docker 19.03 (have 20.10, 23.0, 24.0, 25.0, 28.5, 29.7)" {
		t.Errorf("Default(19.03) err = %v", err)
	}
}

func TestEffectiveFilters(t *testing.T) {
	p, _ := parse(t, `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
		{"names":["a_arm"],"action":"SCMP_ACT_ALLOW","includes":{"arches":["arm64"]}},
		{"names":["not_arm"],"action":"SCMP_ACT_ALLOW","excludes":{"arches":["arm64"]}},
		{"names":["new_kernel"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"5.10"}},
		{"names":["no_admin"],"action":"SCMP_ACT_ALLOW","excludes":{"caps":["CAP_SYS_ADMIN"]}},
		{"names":["two_caps"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_SYS_ADMIN","CAP_BPF"]}},
		{"names":["cond"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"}]},
		{"names":["cond"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":2,"op":"SCMP_CMP_EQ"}]},
		{"names":["uncond"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"}]},
		{"names":["uncond"],"action":"SCMP_ACT_ALLOW"},
		{"names":["logged"],"action":"SCMP_ACT_LOG"},
		{"names":["enosys"],"action":"SCMP_ACT_ERRNO","errnoRet":38}]}`)
	allowed := func(goarch string, held []string, kernel string) []string {
		return Effective(p, goarch, held, kernel).AllowedNames([]string{"a_arm", "not_arm", "new_kernel", "no_admin", "two_caps", "cond", "uncond", "logged", "enosys", "other"})
	}
	tests := []struct {
		goarch, kernel string
		held           []string
		want           []string
	}{
		{"amd64", "5.4", nil, []string{"cond", "logged", "no_admin", "not_arm", "uncond"}},
		{"amd64", "", nil, []string{"cond", "logged", "new_kernel", "no_admin", "not_arm", "uncond"}},
		{"arm64", "6.1", nil, []string{"a_arm", "cond", "logged", "new_kernel", "no_admin", "uncond"}},
		{"amd64", "6.1", []string{"SYS_ADMIN"}, []string{"cond", "logged", "new_kernel", "not_arm", "uncond"}},
		{"amd64", "6.1", []string{"CAP_SYS_ADMIN", "bpf"}, []string{"cond", "logged", "new_kernel", "not_arm", "two_caps", "uncond"}},
	}
	for _, tt := range tests {
		if d := cmp.Diff(tt.want, allowed(tt.goarch, tt.held, tt.kernel)); d != "" {
			t.Errorf("%s %s %v (-want +got):\n%s", tt.goarch, tt.kernel, tt.held, d)
		}
	}
	set := Effective(p, "amd64", nil, "")
	if d := set.Decide("enosys"); d.Allowed() || d.Action != "SCMP_ACT_ERRNO" {
		t.Errorf("enosys = %+v", d)
	}
	if d := set.Decide("cond"); !d.Conditional || len(d.Conds) != 2 {
		t.Errorf("cond = %+v, want two alternative conditions", d)
	}
	if d := set.Decide("uncond"); d.Conditional {
		t.Errorf("uncond = %+v, want unconditional", d)
	}
	if d := set.Decide("other"); d.Action != "SCMP_ACT_ERRNO" || d.Allowed() {
		t.Errorf("other = %+v, want the default action", d)
	}
}

// TestEffectiveLibseccomp: how libseccomp and dockerd combine rules.
func TestEffectiveLibseccomp(t *testing.T) {
	p, _ := parse(t, `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
		{"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]},
		{"names":["personality"],"action":"SCMP_ACT_ERRNO","errnoRet":22},
		{"names":["ioctl"],"action":"SCMP_ACT_ERRNO","args":[{"index":1,"value":1,"op":"SCMP_CMP_EQ"}]},
		{"names":["ioctl"],"action":"SCMP_ACT_ALLOW","args":[{"index":1,"value":2,"op":"SCMP_CMP_EQ"}]},
		{"names":["old_kernels"],"action":"SCMP_ACT_ALLOW","excludes":{"minKernel":"5.10"}},
		{"names":["bare_cap"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["SYS_ADMIN"]}}]}`)
	set := Effective(p, "amd64", []string{"SYS_ADMIN"}, "6.1")
	// An unconditional rule decides, whatever comes before it.
	if d := set.Decide("personality"); d.Allowed() || d.Conditional {
		t.Errorf("personality = %+v, want refused", d)
	}
	// A conditional refusal then a conditional allowance: allowed for some arguments.
	if d := set.Decide("ioctl"); !d.Allowed() || !d.Conditional || len(d.Conds) != 1 {
		t.Errorf("ioctl = %+v, want allowed under conditions", d)
	}
	// excludes.minKernel drops the rule from that kernel on.
	if set.Decide("old_kernels").Allowed() || !Effective(p, "amd64", nil, "5.4").Decide("old_kernels").Allowed() {
		t.Error("excludes.minKernel is not applied")
	}
	// dockerd compares capability names exactly: "SYS_ADMIN" never matches.
	if set.Decide("bare_cap").Allowed() {
		t.Error(`a rule gated on "SYS_ADMIN" applied`)
	}
	// Under a deny list, a conditional refusal leaves the rest to the default.
	deny, _ := parse(t, `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["clone"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":268435456,"valueTwo":268435456,"op":"SCMP_CMP_MASKED_EQ"}]}]}`)
	if d := Effective(deny, "amd64", nil, "").Decide("clone"); !d.Allowed() || !d.Conditional {
		t.Errorf("deny-list clone = %+v, want allowed for some arguments", d)
	}
}

func TestCompare(t *testing.T) {
	old, _, _ := Default("20.10")
	cur, _, _ := Default("29.7")
	d := Compare(old, cur, caps.Default)
	for _, n := range []string{"io_uring_setup", "io_uring_enter", "io_uring_register"} {
		if !slices.Contains(d.OnlyA, n) {
			t.Errorf("%s not in OnlyA %v", n, d.OnlyA)
		}
	}
	if got := Compare(cur, cur, caps.Default); len(got.OnlyA)+len(got.OnlyB)+len(got.ConditionalA)+len(got.ConditionalB) != 0 {
		t.Errorf("a profile differs from itself: %+v", got)
	}
	tight := AllowList([]string{"read", "write", "exit_group", "clone"})
	d = Compare(tight, cur, caps.Default)
	if len(d.OnlyA) != 0 || !slices.Equal(d.ConditionalB, []string{"clone"}) || len(d.OnlyB) != 309-4 {
		t.Errorf("allow list vs default: only a %v, conditional b %v, %d only in b", d.OnlyA, d.ConditionalB, len(d.OnlyB))
	}
}

func TestAllowList(t *testing.T) {
	p := AllowList([]string{"write", "read", "write", "exit_group"})
	b := Marshal(p)
	back, unknown := parse(t, string(b))
	if len(unknown) != 0 || !slices.Equal(back.Syscalls[0].Names, []string{"exit_group", "read", "write"}) || back.DefaultAction != "SCMP_ACT_ERRNO" ||
		*back.DefaultErrnoRet != 1 || len(Lint(back, nil)) != 0 {
		t.Errorf("allow list = %s", b)
	}
	set := Effective(back, "amd64", nil, "")
	if got := set.AllowedNames(NativeNames()); !slices.Equal(got, []string{"exit_group", "read", "write"}) {
		t.Errorf("allowed = %v", got)
	}
}

func TestKnown(t *testing.T) {
	for name, want := range map[string]bool{"read": true, "io_uring_setup": true, "arm_fadvise64_64": true, "socketcall": true,
		"s390_runtime_instr": true, "riscv_flush_icache": true, "writ": false, "": false, "SCMP_ACT_ALLOW": false} {
		if Known(name) != want {
			t.Errorf("Known(%q) = %v", name, !want)
		}
	}
}

// FuzzParse feeds arbitrary bytes to the profile parser: it must never panic, and
// whatever it accepts must lint, apply and round-trip through Marshal.
func FuzzParse(f *testing.F) {
	// Small seeds: the fuzzer minimises every new input it finds, which takes long on a
	// 20 KiB default profile. TestDefaults covers the embedded profiles.
	f.Add([]byte(`{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":["SCMP_ARCH_X86"]}],
		"syscalls":[{"names":["read","clone"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":2114060288,"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"}],
		"includes":{"caps":["CAP_SYS_ADMIN"],"arches":["amd64"],"minKernel":"4.8"},"excludes":{"caps":["CAP_BPF"]}}]}`))
	f.Add([]byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"x","names":["y"],"action":"SCMP_ACT_LOG","args":[{"index":9,"op":"?"}]}]}`))
	f.Add([]byte(`{"syscalls":[{"nmes":[1]}],"archMap":[{"sub":[[]]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, unknown, err := Parse(b)
		if err != nil {
			return
		}
		Lint(p, unknown)
		Effective(p, "amd64", caps.Default, "6.1")
		Compare(p, p, nil)
		out := Marshal(p)
		back, _, err := Parse(out)
		if err != nil {
			t.Fatalf("Marshal output does not parse: %v\n%s", err, out)
		}
		x, _ := json.Marshal(p)
		y, _ := json.Marshal(back)
		if string(x) != string(y) {
			t.Fatalf("round trip changed the profile:\n%s\n%s", x, y)
		}
	})
}

func BenchmarkLintDefault(b *testing.B) {
	p, _, _ := Default("29.7")
	for b.Loop() {
		Lint(p, nil)
	}
}

func BenchmarkEffectiveDefault(b *testing.B) {
	p, _, _ := Default("20.10")
	all := NativeNames()
	for b.Loop() {
		Effective(p, "amd64", caps.Default, "6.1").AllowedNames(all)
	}
}

func BenchmarkParseDefault(b *testing.B) {
	raw, _ := defaults.ReadFile("defaults/docker-29.7.json")
	for b.Loop() {
		if _, _, err := Parse(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// TestParseRefusesUnloadableProfiles: a profile far past what the kernel loads is
// refused before it is worked out (200,000 argument rules took 50 s and 2.4 GB).
func TestParseRefusesUnloadableProfiles(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[`)
	for i := range 20000 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":%d,"op":"SCMP_CMP_EQ"}]}`, i)
	}
	b.WriteString("]}")
	start := time.Now()
	_, _, err := Parse([]byte(b.String()))
	if err == nil || err.Error() != "the profile needs about 40000 BPF comparisons (20000 rules); the kernel loads a filter of at most 32768 instructions, so Docker could not apply it, and dockaudit reads at most 32768" {
		t.Errorf("err = %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %s", took)
	}
	// Docker's own default is far below the bound.
	def, _, err := Default("20.10.24")
	if err != nil || def.cost() > 2000 {
		t.Errorf("default profile cost %d, %v", def.cost(), err)
	}
}
