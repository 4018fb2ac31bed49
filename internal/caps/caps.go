package caps

import (
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
)

// ByBit are the capabilities in bit order (linux/capability.h), up to
// CAP_CHECKPOINT_RESTORE (Linux 5.9).
var ByBit = []string{
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
	"LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
	"SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
	"SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
	"MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
	"CHECKPOINT_RESTORE",
}

// All is every capability, sorted by name.
var All = func() []string {
	s := slices.Clone(ByBit)
	slices.Sort(s)
	return s
}()

// Default is the set Docker gives a container that is not privileged, sorted.
var Default = []string{
	"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
	"NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}

// Norm turns "cap_sys_admin", "CAP_SYS_ADMIN" and "SYS_ADMIN" into "SYS_ADMIN".
func Norm(c string) string {
	return strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(c)), "CAP_")
}

// Effective applies --cap-add and --cap-drop to Docker's default set the way the
// daemon does: "ALL" in cap-add grants everything not dropped; "ALL" in cap-drop keeps
// only what cap-add names; otherwise defaults minus drops plus adds. Privileged gets
// everything. Sorted.
func Effective(add, drop []string, privileged bool) []string {
	if privileged {
		return slices.Clone(All)
	}
	adds, drops := map[string]bool{}, map[string]bool{}
	for _, c := range add {
		adds[Norm(c)] = true
	}
	for _, c := range drop {
		drops[Norm(c)] = true
	}
	var out []string
	switch {
	case adds["ALL"]:
		for _, c := range All {
			if !drops[c] {
				out = append(out, c)
			}
		}
	case drops["ALL"]:
		for c := range adds {
			out = append(out, c)
		}
	default:
		for _, c := range Default {
			if !drops[c] {
				out = append(out, c)
			}
		}
		for c := range adds {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Decode turns a capability mask as /proc/PID/status prints it ("00000000a80425fb")
// into names, sorted. Bits beyond the known capabilities come out as "CAP_<bit>".
func Decode(hex string) ([]string, error) {
	m, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
	if err != nil {
		return nil, fmt.Errorf("capability mask %q: not hexadecimal", hex)
	}
	var out []string
	for m != 0 {
		b := bits.TrailingZeros64(m)
		m &^= 1 << b
		if b < len(ByBit) {
			out = append(out, ByBit[b])
		} else {
			out = append(out, fmt.Sprintf("CAP_%d", b))
		}
	}
	slices.Sort(out)
	return out, nil
}

// Risk is why holding a capability beyond Docker's default matters.
type Risk struct {
	Severity string // critical, high, medium, low
	Why      string
}

// Risks are the capabilities that matter most in a container.
var Risks = map[string]Risk{
	"SYS_ADMIN":       {"critical", "mount, namespaces, BPF and most of the kernel's administration: the usual way out of a container"},
	"SYS_MODULE":      {"critical", "loads kernel modules: code in the host kernel"},
	"SYS_RAWIO":       {"high", "raw I/O ports and /dev/mem"},
	"SYS_PTRACE":      {"high", "traces any process it can see (all of the host's with --pid host)"},
	"DAC_READ_SEARCH": {"high", "open_by_handle_at: reads host files by handle (the Shocker breakout)"},
	"NET_ADMIN":       {"high", "reconfigures networking: firewall rules, interfaces, routes"},
	"BPF":             {"high", "loads eBPF programs into the kernel"},
	"MAC_ADMIN":       {"high", "changes the AppArmor or SELinux policy"},
	"MAC_OVERRIDE":    {"high", "overrides mandatory access control"},
	"SYS_BOOT":        {"medium", "reboots the host and loads new kernels (kexec)"},
	"SYS_TIME":        {"medium", "sets the host's clock"},
	"SYSLOG":          {"medium", "reads the kernel log and kernel addresses"},
	"PERFMON":         {"medium", "kernel performance monitoring"},
	"AUDIT_CONTROL":   {"medium", "changes the host's audit rules"},
	"LINUX_IMMUTABLE": {"medium", "clears the immutable and append-only flags"},
	"SYS_RESOURCE":    {"low", "overrides resource limits"},
	"IPC_OWNER":       {"low", "bypasses IPC permission checks"},
}
