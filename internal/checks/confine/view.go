package confine

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dockaudit/dockaudit/internal/caps"
	"github.com/dockaudit/dockaudit/internal/facts"
)

// The views below decide a container's confinement once, for every rule that judges
// it: the CIS items judge what was requested (CIS-5.4, 5.22, 5.26, 5.31), the CONFINE
// rules what the kernel shows, and both read the same view, so one report never says
// a thing and its opposite.

// Kernel is the kernel's view of a running container's init process: Conf when it was
// read, else Why it was not.
type Kernel struct {
	Conf *facts.Confinement
	Why  string
}

// KernelOf reads the kernel's view from the facts.
func KernelOf(s *facts.Snapshot, c *facts.Container) Kernel {
	conf, why := effective(s, c)
	return Kernel{Conf: conf, Why: strings.TrimPrefix(why, "not read: ")}
}

// Seccomp is a container's seccomp: the profile requested and the kernel's view.
type Seccomp struct {
	request
	Kernel
	// Problem is what is wrong, in one sentence: no filter requested, a profile that
	// allows what it does not name, or a kernel that shows no filter. "" when none.
	Problem string
}

// SeccompOf decides a container's seccomp. The container's HostConfig must be known;
// without the daemon's security options only the container's own options decide.
func SeccompOf(s *facts.Snapshot, c *facts.Container) Seccomp {
	v := Seccomp{request: requestedSeccomp(s, c), Kernel: KernelOf(s, c)}
	switch {
	case v.kind == "disabled":
		v.Problem = "privileged: no seccomp filter, every syscall reaches the kernel"
	case v.kind == "unconfined":
		v.Problem = "runs with " + v.desc + ": every syscall reaches the kernel"
	case v.kind == "none":
		v.Problem = "the daemon applies no seccomp filter (built without it, or the kernel lacks it): every syscall reaches the kernel"
	case v.Conf != nil && v.Conf.Seccomp != 2:
		v.Problem = fmt.Sprintf("%s was requested, but the kernel shows no filter on PID %d (Seccomp: %s)", v.desc, v.Conf.PID, seccompMode(v.Conf.Seccomp))
	case v.profile != nil && (v.profile.DefaultAction == "SCMP_ACT_ALLOW" || v.profile.DefaultAction == "SCMP_ACT_LOG"):
		v.Problem = fmt.Sprintf("runs with %s, whose default action is %s: every syscall it does not name is allowed (see the profile's findings)",
			v.desc, v.profile.DefaultAction)
	}
	return v
}

// DaemonDecides says what the container asks for depends on the daemon's security
// options, which are not known; why says it in words.
func (v Seccomp) DaemonDecides() (why string, ok bool) {
	if v.kind != "unknown" {
		return "", false
	}
	if strings.HasPrefix(v.desc, "seccomp=builtin") {
		return "asks for Docker's builtin profile, which applies only where the daemon has seccomp", true
	}
	return "asks for no seccomp profile of its own, so the daemon's default decides", true
}

// Requested describes the profile the container runs with, as requested.
func (v Seccomp) Requested() string { return v.desc }

// Caps is a container's capabilities: requested, and the bounding and effective sets
// the kernel shows.
type Caps struct {
	Requested []string
	// Bounding is the kernel's bounding set when it was read, else the requested set;
	// FromKernel says which. Effective is the kernel's effective set (nil when not read).
	Bounding, Effective []string
	FromKernel          bool
	Kernel
	// Undecodable says why the kernel's masks, read, could not be decoded: then
	// nothing is known of what the process holds.
	Undecodable string
	// Beyond is what Bounding holds beyond Docker's default set; Unrequested what the
	// kernel shows beyond the requested set.
	Beyond, Unrequested []string
}

// CapsOf decides a container's capabilities (HostConfig must be known).
func CapsOf(s *facts.Snapshot, c *facts.Container) Caps {
	h := c.HostConfig
	v := Caps{Requested: caps.Effective(h.CapAdd, h.CapDrop, h.Privileged), Kernel: KernelOf(s, c)}
	v.Bounding = v.Requested
	if conf := v.Conf; conf != nil {
		b, err1 := caps.Decode(conf.CapBnd)
		e, err2 := caps.Decode(conf.CapEff)
		switch {
		case err1 != nil:
			v.Undecodable = fmt.Sprintf("CapBnd %q of PID %d: %v", conf.CapBnd, conf.PID, err1)
		case err2 != nil:
			v.Undecodable = fmt.Sprintf("CapEff %q of PID %d: %v", conf.CapEff, conf.PID, err2)
		default:
			v.Bounding, v.Effective, v.FromKernel = b, e, true
			v.Unrequested = minus(b, v.Requested)
		}
	}
	v.Beyond = minus(v.Bounding, caps.Default)
	return v
}

// NNP is a container's no-new-privileges: requested (on the container, else by the
// daemon's default) and the kernel's view.
type NNP struct {
	Requested bool
	// Source says where the request comes from; "" when the container sets nothing
	// and the daemon's default could not be read.
	Source string
	Kernel
}

// NNPOf decides a container's no-new-privileges (HostConfig must be known).
func NNPOf(s *facts.Snapshot, c *facts.Container) NNP {
	v := NNP{Kernel: KernelOf(s, c)}
	if vals := c.SecurityOptValues("no-new-privileges"); len(vals) > 0 {
		val := vals[len(vals)-1]
		b, err := strconv.ParseBool(val)
		v.Requested, v.Source = err == nil && b, "--security-opt no-new-privileges="+val
	} else if d := s.Daemon; d != nil && d.ConfigError == "" {
		v.Requested, v.Source = d.Bool("no-new-privileges", false), "daemon default"
	}
	return v
}

// Userns is where UID 0 of a container lives: the daemon's remapping, the
// container's --userns, and the kernel's uid_map.
type Userns struct {
	Remap, Rootless, OptOut bool
	Kernel
}

// UsernsOf decides a container's user namespace (HostConfig and the daemon's security
// options must be known).
func UsernsOf(s *facts.Snapshot, c *facts.Container) Userns {
	_, remap := s.Engine.SecurityOption("userns")
	_, rootless := s.Engine.SecurityOption("rootless")
	v := Userns{Remap: remap, Rootless: rootless, OptOut: c.HostConfig.UsernsMode == "host", Kernel: KernelOf(s, c)}
	if v.Conf != nil && v.Conf.UIDMapError != "" {
		v.Why, v.Conf = "uid_map could not be read: "+v.Conf.UIDMapError, nil
	}
	return v
}

// HostRoot reports whether root in the container is root on the host, as far as the
// configuration says (the kernel's uid_map, when read, decides in CONFINE-USERNS). A
// rootless daemon's containers share its own unprivileged namespace, --userns=host
// or not.
func (v Userns) HostRoot() bool { return !v.Rootless && (v.OptOut || !v.Remap) }
