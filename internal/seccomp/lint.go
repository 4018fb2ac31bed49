package seccomp

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/dockaudit/dockaudit/internal/caps"

	"github.com/elastic/go-seccomp-bpf/arch"
)

// Problem is one thing a lint found.
type Problem struct {
	Rule     string // SECCOMP-…
	Severity string // critical, high, medium, low, info
	Message  string
	Syscall  string `json:",omitempty"`
}

// dangerous are syscalls that must not be allowed without a capability or an
// argument condition, and why (after Docker's seccomp documentation and the
// default profile's own gating).
var dangerous = map[string]struct{ sev, why string }{
	"mount":             {"critical", "mounts filesystems: the host's, with the right device or a leaked file descriptor"},
	"umount":            {"high", "unmounts filesystems"},
	"umount2":           {"high", "unmounts filesystems, exposing what a mount hid"},
	"pivot_root":        {"high", "changes the root filesystem"},
	"fsopen":            {"critical", "new mount API: builds mounts outside mount(2)'s checks"},
	"fsmount":           {"critical", "new mount API"},
	"fsconfig":          {"critical", "new mount API"},
	"fspick":            {"critical", "new mount API"},
	"move_mount":        {"critical", "new mount API: attaches mounts anywhere"},
	"open_tree":         {"critical", "new mount API: clones mount trees"},
	"mount_setattr":     {"high", "changes mount attributes (read-only, idmapping)"},
	"unshare":           {"high", "creates namespaces, the user namespace first: the start of most container escapes"},
	"setns":             {"high", "joins other namespaces"},
	"ptrace":            {"medium", "traces and rewrites the container's other processes (before Linux 4.8 it also bypassed seccomp)"},
	"process_vm_readv":  {"medium", "reads the memory of the container's other processes"},
	"process_vm_writev": {"medium", "writes the memory of the container's other processes"},
	"kcmp":              {"medium", "compares kernel objects of other processes (an information leak)"},
	"pidfd_getfd":       {"high", "steals file descriptors from other processes"},
	"bpf":               {"critical", "loads eBPF programs into the kernel"},
	"perf_event_open":   {"high", "kernel performance monitoring: a long record of privilege-escalation bugs"},
	"keyctl":            {"high", "the kernel keyring is not namespaced: keys of other containers and the host"},
	"add_key":           {"high", "the kernel keyring is not namespaced"},
	"request_key":       {"high", "the kernel keyring is not namespaced"},
	"kexec_load":        {"critical", "loads a new kernel"},
	"kexec_file_load":   {"critical", "loads a new kernel"},
	"init_module":       {"critical", "loads kernel modules"},
	"finit_module":      {"critical", "loads kernel modules"},
	"delete_module":     {"critical", "unloads kernel modules"},
	"create_module":     {"critical", "kernel modules (obsolete)"},
	"open_by_handle_at": {"critical", "opens host files by handle: the Shocker container breakout"},
	"userfaultfd":       {"high", "user page-fault handling, a common exploit primitive"},
	"io_uring_setup":    {"high", "io_uring bypasses syscall filtering for the I/O it queues, and has had many kernel bugs"},
	"io_uring_enter":    {"high", "submits io_uring work, which seccomp never sees"},
	"io_uring_register": {"high", "registers io_uring buffers and files"},
	"reboot":            {"high", "reboots the host (or a pid namespace)"},
	"swapon":            {"high", "changes the host's swap"},
	"swapoff":           {"high", "changes the host's swap"},
	"syslog":            {"medium", "reads the kernel log: kernel addresses and other containers' messages"},
	"acct":              {"medium", "process accounting for the host"},
	"quotactl":          {"medium", "host filesystem quotas"},
	"iopl":              {"critical", "raw I/O port access"},
	"ioperm":            {"critical", "raw I/O port access"},
	"settimeofday":      {"low", "sets the host's clock (time is not namespaced; the kernel still asks for CAP_SYS_TIME)"},
	"clock_settime":     {"low", "sets the host's clock (the kernel still asks for CAP_SYS_TIME)"},
	"clock_adjtime":     {"low", "adjusts the host's clock (reading is harmless; changing needs CAP_SYS_TIME)"},
	"stime":             {"low", "sets the host's clock (the kernel still asks for CAP_SYS_TIME)"},
	"lookup_dcookie":    {"medium", "kernel profiling, an information leak"},
	"fanotify_init":     {"medium", "watches filesystem events across the host"},
	"vm86":              {"medium", "virtual 8086 mode"},
	"vm86old":           {"medium", "virtual 8086 mode"},
	"uselib":            {"low", "obsolete; loads shared libraries by path"},
	"nfsservctl":        {"low", "obsolete"},
	"move_pages":        {"low", "moves pages between NUMA nodes of other processes"},
	"migrate_pages":     {"low", "moves pages of other processes"},
	"_sysctl":           {"low", "obsolete"},
	"sysfs":             {"low", "obsolete"},
	"ustat":             {"low", "obsolete"},
}

// NamespaceFlags are the CLONE_NEW* flags Docker's default profile masks out of clone.
const NamespaceFlags = 0x7E020000

// otherArch are syscalls that exist only on architectures without a table here
// (s390, powerpc, mips, riscv); Docker's default profile names several of them.
var otherArch = map[string]bool{
	"riscv_flush_icache": true, "riscv_hwprobe": true, "s390_pci_mmio_read": true, "s390_pci_mmio_write": true,
	"s390_runtime_instr": true, "s390_guarded_storage": true, "s390_sthyi": true, "swapcontext": true,
	"sync_file_range2": true, "spu_run": true, "spu_create": true, "subpage_prot": true, "switch_endian": true,
	"sys_debug_setcontext": true, "rtas": true, "pciconfig_read": true, "pciconfig_write": true,
	"pciconfig_iobase": true, "cacheflush": true, "sysmips": true, "multiplexer": true,
}

// Known reports a syscall name some architecture has: x86_64, i386, x32, arm64 and
// arm from their tables, the others from a short list.
func Known(name string) bool {
	for _, a := range []*arch.Info{arch.X86_64, arch.I386, arch.X32, arch.AARCH64, arch.ARM} {
		if _, ok := a.SyscallNames[name]; ok {
			return true
		}
	}
	return otherArch[name]
}

// NativeNames are the syscalls of x86_64, sorted. The slice is shared: do not change it.
func NativeNames() []string { return nativeNames }

var nativeNames = slices.Sorted(maps.Keys(arch.X86_64.SyscallNames))

// Lint finds what is wrong with a profile: its default action, actions and argument
// filters Docker does not take, unknown syscall names, dangerous syscalls allowed
// without a capability or argument condition, clone without a namespace mask, and
// missing architectures. unknownFields come from Parse.
func Lint(p *Profile, unknownFields []string) []Problem {
	var out []Problem
	add := func(rule, sev, msg, sc string) {
		out = append(out, Problem{Rule: rule, Severity: sev, Message: msg, Syscall: sc})
	}
	for _, f := range unknownFields {
		add("SECCOMP-SYNTAX", "medium", fmt.Sprintf("unknown field %q: Docker ignores it silently", f), "")
	}
	switch p.DefaultAction {
	case "SCMP_ACT_ALLOW":
		add("SECCOMP-DEFAULT-ACTION", "high", "the default action is SCMP_ACT_ALLOW: a deny list, which lets through every syscall it does not name, new ones included", "")
	case "SCMP_ACT_LOG":
		add("SECCOMP-DEFAULT-ACTION", "high", "the default action is SCMP_ACT_LOG: recording mode left on, nothing is refused", "")
	case "SCMP_ACT_TRACE", "SCMP_ACT_NOTIFY":
		add("SECCOMP-DEFAULT-ACTION", "medium", "the default action is "+p.DefaultAction+": an outside tracer or agent decides every call", "")
	case "":
		if len(p.Syscalls) == 0 {
			add("SECCOMP-DEFAULT-ACTION", "critical", "no defaultAction and no syscalls: Docker treats this as no profile at all, and containers run without seccomp", "")
			break
		}
		add("SECCOMP-SYNTAX", "high", "no defaultAction: the runtime refuses the profile", "")
	default:
		if !Actions[p.DefaultAction] {
			add("SECCOMP-SYNTAX", "high", fmt.Sprintf("unknown default action %q: Docker refuses the profile", p.DefaultAction), "")
		}
	}
	if len(p.Architectures) > 0 && len(p.ArchMap) > 0 {
		add("SECCOMP-SYNTAX", "high", "both architectures and archMap: Docker refuses the profile", "")
	}
	if len(p.Architectures) == 0 && len(p.ArchMap) == 0 && (p.DefaultAction != "" || len(p.Syscalls) > 0) {
		add("SECCOMP-ARCH", "low", "no architectures: only the native one is filtered, so 32-bit (i386) and x32 programs are killed on their first syscall", "")
	} else {
		for _, a := range p.Architectures {
			if !Arches[a] {
				add("SECCOMP-SYNTAX", "high", fmt.Sprintf("unknown architecture %q: Docker refuses the profile", a), "")
			}
		}
		for _, m := range p.ArchMap {
			for _, a := range append([]string{m.Arch}, m.SubArches...) {
				if !Arches[a] {
					add("SECCOMP-SYNTAX", "high", fmt.Sprintf("archMap: unknown architecture %q: Docker refuses the profile", a), "")
				}
			}
		}
	}
	unknownNames := map[string]bool{}
	allowedPlain := map[string]bool{}
	for i, r := range p.Syscalls {
		where := fmt.Sprintf("rule %d", i+1)
		if !Actions[r.Action] {
			add("SECCOMP-SYNTAX", "high", fmt.Sprintf("%s: unknown action %q: Docker refuses the profile", where, r.Action), "")
		} else if (r.Action == "SCMP_ACT_TRACE" || r.Action == "SCMP_ACT_NOTIFY") && len(r.AllNames()) > 0 {
			add("SECCOMP-ACTION", "medium", fmt.Sprintf("%s: %s hands %s to an outside tracer or agent", where, r.Action, strings.Join(r.AllNames(), ", ")), "")
		}
		if r.Name != "" && len(r.Names) > 0 {
			add("SECCOMP-SYNTAX", "high", where+": both name and names: Docker refuses the profile", "")
		}
		if len(r.AllNames()) == 0 {
			add("SECCOMP-SYNTAX", "medium", where+": names no syscall", "")
		}
		for _, a := range r.Args {
			if a.Index > 5 {
				add("SECCOMP-SYNTAX", "high", fmt.Sprintf("%s: argument index %d: syscalls have six arguments (0-5)", where, a.Index), "")
			}
			if !Ops[a.Op] {
				add("SECCOMP-SYNTAX", "high", fmt.Sprintf("%s: unknown operator %q: Docker refuses the profile", where, a.Op), "")
			}
		}
		for _, f := range []struct {
			what string
			f    *Filter
		}{{"includes", r.Includes}, {"excludes", r.Excludes}} {
			if f.f == nil {
				continue
			}
			for _, c := range f.f.Caps {
				if !strings.HasPrefix(c, "CAP_") || !slices.Contains(caps.All, strings.TrimPrefix(c, "CAP_")) {
					add("SECCOMP-SYNTAX", "medium", fmt.Sprintf("%s: %s capability %q never matches: Docker compares names exactly (\"CAP_SYS_ADMIN\")", where, f.what, c), "")
				}
			}
			if k := f.f.MinKernel; k != "" && !validKernel(k) {
				add("SECCOMP-SYNTAX", "high", fmt.Sprintf("%s: %s minKernel %q: Docker refuses the profile (it takes \"<kernel>.<major>\", such as \"4.8\")", where, f.what, k), "")
			}
		}
		gated := gatedByCapability(r)
		allow := allows(r.Action)
		for _, n := range r.AllNames() {
			if !Known(n) {
				unknownNames[n] = true
			}
			if !allow || gated {
				continue
			}
			switch {
			case n == "clone3":
				allowedPlain[n] = true // conditions on clone3 cannot see its flags
			case n == "clone" && len(r.Args) > 0 && !masksNamespaces(r.Args, cloneFlagsIndex(r)):
				add("SECCOMP-DANGEROUS", "high", "clone is allowed with argument conditions that do not mask the namespace flags (CLONE_NEWUSER among them)", n)
			case len(r.Args) == 0:
				allowedPlain[n] = true
			}
		}
	}
	for _, n := range slices.Sorted(maps.Keys(unknownNames)) {
		add("SECCOMP-UNKNOWN-SYSCALL", "low", fmt.Sprintf("%q is not a syscall of x86_64, i386, x32, arm64 or arm (a typo leaves the real call to the default action)", n), n)
	}
	if p.DefaultAction == "SCMP_ACT_ALLOW" || p.DefaultAction == "SCMP_ACT_LOG" {
		// Under a deny list everything not refused is allowed: refused for everyone,
		// that is, whatever the arguments and capabilities.
		refused := map[string]bool{}
		for _, r := range p.Syscalls {
			capFiltered := (r.Includes != nil && len(r.Includes.Caps) > 0) || (r.Excludes != nil && len(r.Excludes.Caps) > 0)
			if !allows(r.Action) && len(r.Args) == 0 && !capFiltered {
				for _, n := range r.AllNames() {
					refused[n] = true
				}
			}
		}
		for n := range dangerous {
			if !refused[n] && Known(n) {
				allowedPlain[n] = true
			}
		}
		for _, n := range []string{"clone", "clone3", "personality"} {
			if !refused[n] {
				allowedPlain[n] = true
			}
		}
	}
	names := slices.Sorted(maps.Keys(allowedPlain))
	for _, n := range names {
		if d, ok := dangerous[n]; ok {
			add("SECCOMP-DANGEROUS", d.sev, fmt.Sprintf("%s is allowed with no capability or argument condition: %s", n, d.why), n)
		}
		switch n {
		case "clone":
			add("SECCOMP-DANGEROUS", "high", "clone is allowed without masking the namespace flags: any process can create a user namespace", n)
		case "clone3":
			add("SECCOMP-DANGEROUS", "high", "clone3 is allowed: its flags sit in a structure seccomp cannot read, so nothing stops a new user namespace (Docker's default answers ENOSYS, errnoRet 38, and libc falls back to clone)", n)
		}
		if n == "personality" {
			add("SECCOMP-DANGEROUS", "low", "personality is allowed with any argument (Docker's default allows five values)", n)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return sevRank[out[i].Severity] > sevRank[out[j].Severity] })
	return out
}

var sevRank = map[string]int{"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}

// masksNamespaces reports argument conditions that refuse the CLONE_NEW* flags, as
// Docker's default does: clone's flags (argument flags) masked with them must equal
// zero. runc turns several conditions on one argument into alternatives, so any
// other condition on that argument undoes the mask.
func masksNamespaces(args []Arg, flags uint) bool {
	mask, other := false, false
	for _, a := range args {
		switch {
		case a.Index != flags:
		case a.Op == "SCMP_CMP_MASKED_EQ" && a.Value&NamespaceFlags == NamespaceFlags && a.ValueTwo == 0:
			mask = true
		default:
			other = true
		}
	}
	return mask && !other
}

// cloneFlagsIndex is the argument that holds clone's flags for the architectures a
// rule applies to: 1 on s390 and s390x, 0 elsewhere.
func cloneFlagsIndex(r Syscall) uint {
	if r.Includes != nil && len(r.Includes.Arches) > 0 && !slices.ContainsFunc(r.Includes.Arches, func(a string) bool { return a != "s390" && a != "s390x" }) {
		return 1
	}
	return 0
}

// gatedByCapability reports a rule that applies only to containers holding a
// capability Docker does not give by default (a gate on CAP_CHOWN gates nothing), or
// never, because it names a capability dockerd cannot match.
func gatedByCapability(r Syscall) bool {
	if r.Includes == nil {
		return false
	}
	return slices.ContainsFunc(r.Includes.Caps, func(c string) bool {
		n, ok := strings.CutPrefix(c, "CAP_")
		return !ok || !slices.Contains(caps.All, n) || !slices.Contains(caps.Default, n)
	})
}

// validKernel is the minKernel form dockerd accepts: "<kernel>.<major>", not 0.0.
func validKernel(k string) bool {
	a, b, ok := strings.Cut(k, ".")
	x, err1 := strconv.Atoi(a)
	y, err2 := strconv.Atoi(b)
	return ok && err1 == nil && err2 == nil && x >= 0 && y >= 0 && (x > 0 || y > 0) && !strings.ContainsAny(b, "+-.")
}

// Diff is what one profile allows that another does not, for one architecture and
// capability set.
type Diff struct {
	OnlyA, OnlyB []string // allowed by one only
	// ConditionalA and ConditionalB are allowed by both, but only under argument
	// conditions in one of them.
	ConditionalA, ConditionalB []string
}

// Compare compares what two profiles allow on x86_64 (amd64) with the capabilities.
func Compare(a, b *Profile, caps []string) Diff {
	ea, eb := Effective(a, "amd64", caps, ""), Effective(b, "amd64", caps, "")
	var d Diff
	for _, n := range NativeNames() {
		da, db := ea.Decide(n), eb.Decide(n)
		switch {
		case da.Allowed() && !db.Allowed():
			d.OnlyA = append(d.OnlyA, n)
		case db.Allowed() && !da.Allowed():
			d.OnlyB = append(d.OnlyB, n)
		case da.Allowed() && db.Allowed() && da.Conditional && !db.Conditional:
			d.ConditionalA = append(d.ConditionalA, n)
		case da.Allowed() && db.Allowed() && db.Conditional && !da.Conditional:
			d.ConditionalB = append(d.ConditionalB, n)
		}
	}
	return d
}

// AllowList is the smallest profile that allows exactly the named syscalls on
// x86_64 (and its 32-bit ABIs) and refuses everything else with EPERM.
func AllowList(names []string) *Profile {
	eperm := uint(1)
	n := slices.Clone(names)
	slices.Sort(n)
	n = slices.Compact(n)
	return &Profile{DefaultAction: "SCMP_ACT_ERRNO", DefaultErrnoRet: &eperm,
		Architectures: []string{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"},
		Syscalls:      []Syscall{{Names: n, Action: "SCMP_ACT_ALLOW", Comment: "recorded by dockaudit seccomp record"}}}
}
