package auditlog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/sys/unix"
)

const (
	typeSeccomp = 1326 // AUDIT_SECCOMP
	groupRead   = 1    // AUDIT_NLGRP_READLOG
	// RetLog is SECCOMP_RET_LOG, the code of a syscall a SCMP_ACT_LOG rule let through.
	RetLog = 0x7ffc0000

	auditArchX86_64 = 0xc000003e
	auditArchI386   = 0x40000003
	x32Bit          = 0x40000000
)

// Record is one seccomp audit record.
type Record struct {
	PID     int
	Arch    uint32 // AUDIT_ARCH_*
	Syscall int    // as the kernel numbered it for Arch (x32 calls carry bit 30)
	Code    uint32 // the filter's return value (RetLog for a logged call)
	Comm    string
}

// Name is the syscall's name (and ABI, for calls that are not native x86_64:
// "i386", "x32"), or "" when the tables do not know it.
func (r Record) Name() (name, abi string) {
	switch {
	case r.Arch == auditArchX86_64 && r.Syscall&x32Bit != 0:
		return arch.X32.SyscallNumbers[r.Syscall&^x32Bit], "x32"
	case r.Arch == auditArchX86_64:
		return arch.X86_64.SyscallNumbers[r.Syscall], "x86_64"
	case r.Arch == auditArchI386:
		return arch.I386.SyscallNumbers[r.Syscall], "i386"
	}
	return "", fmt.Sprintf("arch 0x%x", r.Arch)
}

// Listener is a socket bound to the audit multicast group.
type Listener struct {
	fd  int
	buf []byte
}

// ErrPermission is returned by Open when the process lacks CAP_AUDIT_READ.
var ErrPermission = errors.New("reading the kernel's audit records needs root (CAP_AUDIT_READ)")

// Open joins the audit multicast group. Records logged from then on can be read.
func Open() (*Listener, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_AUDIT)
	if err != nil {
		return nil, fmt.Errorf("open an audit netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: groupRead}); err != nil {
		unix.Close(fd)
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return nil, ErrPermission
		}
		return nil, fmt.Errorf("join the audit multicast group: %w (the kernel needs CONFIG_AUDIT, Linux 3.16 or later)", err)
	}
	// A burst of records must not overflow the socket: ask for 8 MiB (FORCE needs
	// CAP_NET_ADMIN; the plain option is capped by net.core.rmem_max).
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 8<<20)
	}
	return &Listener{fd: fd, buf: make([]byte, 1<<16)}, nil
}

// Close leaves the group.
func (l *Listener) Close() error { return unix.Close(l.fd) }

// ErrTimeout is returned by Read when nothing arrived in time.
var ErrTimeout = errors.New("no audit record before the timeout")

// ErrOverrun means the socket dropped records: the recording is incomplete.
var ErrOverrun = errors.New("the kernel dropped audit records (socket buffer full)")

// Read returns the seccomp records of the next datagram, waiting at most wait.
// Datagrams of other record types give an empty slice.
func (l *Listener) Read(wait time.Duration) ([]Record, error) {
	fds := []unix.PollFd{{Fd: int32(l.fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, int(wait.Milliseconds()))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, ErrTimeout
		}
		break
	}
	n, _, err := unix.Recvfrom(l.fd, l.buf, unix.MSG_DONTWAIT)
	switch {
	case errors.Is(err, unix.ENOBUFS):
		return nil, ErrOverrun
	case errors.Is(err, unix.EAGAIN):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return Parse(l.buf[:n]), nil
}

// Parse takes the seccomp records out of a netlink datagram. The audit subsystem
// does not pad its messages to four bytes, so the standard netlink parser rejects
// many of them: headers are read here by hand.
func Parse(b []byte) []Record {
	var out []Record
	eachMessage(b, func(typ uint16, body []byte) bool {
		if typ == typeSeccomp {
			if r, ok := parseText(body); ok {
				out = append(out, r)
			}
		}
		return true
	})
	return out
}

// eachMessage calls f for each netlink message in a datagram, until f returns false.
// A length that runs past the datagram takes the rest; one that is too short ends it.
func eachMessage(b []byte, f func(typ uint16, body []byte) bool) {
	for len(b) >= unix.NLMSG_HDRLEN {
		size := int(binary.NativeEndian.Uint32(b[0:4]))
		typ := binary.NativeEndian.Uint16(b[4:6])
		if size < unix.NLMSG_HDRLEN || size > len(b) {
			size = len(b)
		}
		if !f(typ, b[unix.NLMSG_HDRLEN:size]) {
			return
		}
		next := (size + 3) &^ 3
		if next >= len(b) {
			return
		}
		b = b[next:]
	}
}

// parseText reads "audit(…): auid=… pid=1234 comm="sh" … arch=c000003e syscall=231
// … code=0x7ffc0000". Untrusted strings (comm, exe) never hold a space: the kernel
// hex-encodes them then. The last occurrence of a key wins.
func parseText(b []byte) (Record, bool) {
	var r Record
	b = bytes.TrimRight(b, "\x00\n")
	seen := 0
	for _, f := range strings.Fields(string(b)) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		switch k {
		case "pid":
			if n, err := strconv.Atoi(v); err == nil {
				r.PID, seen = n, seen|1
			}
		case "arch":
			if n, err := strconv.ParseUint(v, 16, 32); err == nil {
				r.Arch, seen = uint32(n), seen|2
			}
		case "syscall":
			if n, err := strconv.Atoi(v); err == nil {
				r.Syscall, seen = n, seen|4
			}
		case "code":
			if n, err := strconv.ParseUint(strings.TrimPrefix(v, "0x"), 16, 32); err == nil {
				r.Code, seen = uint32(n), seen|8
			}
		case "comm":
			r.Comm = strings.Trim(v, `"`)
		}
	}
	return r, seen == 15
}

// Status is part of the kernel's audit status (AUDIT_GET).
type Status struct {
	Enabled      uint32
	BacklogLimit uint32
	// Lost counts records the kernel could not queue (backlog limit, rate limit,
	// memory): a recording that spans a change of it may lack calls.
	Lost uint32
}

const (
	typeGet   = 1000 // AUDIT_GET
	statusLen = 8 * 4
)

// GetStatus asks the kernel for its audit status. It needs CAP_AUDIT_CONTROL and the
// initial PID namespace.
func GetStatus() (Status, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_AUDIT)
	if err != nil {
		return Status{}, err
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return Status{}, err
	}
	tv := unix.NsecToTimeval(int64(time.Second))
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	req := make([]byte, unix.NLMSG_HDRLEN)
	binary.NativeEndian.PutUint32(req[0:4], unix.NLMSG_HDRLEN)
	binary.NativeEndian.PutUint16(req[4:6], typeGet)
	binary.NativeEndian.PutUint16(req[6:8], unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	binary.NativeEndian.PutUint32(req[8:12], 1)
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return Status{}, err
	}
	buf := make([]byte, 8192)
	for range 4 {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return Status{}, err
		}
		var st Status
		var done bool
		eachMessage(buf[:n], func(typ uint16, body []byte) bool {
			switch {
			case typ == unix.NLMSG_ERROR && len(body) >= 4:
				if code := int32(binary.NativeEndian.Uint32(body[0:4])); code != 0 {
					err, done = unix.Errno(-code), true
				}
			case typ == typeGet && len(body) < statusLen:
				err, done = fmt.Errorf("audit status: %d bytes", len(body)), true
			case typ == typeGet:
				u := func(i int) uint32 { return binary.NativeEndian.Uint32(body[4*i:]) }
				st, done = Status{Enabled: u(1), BacklogLimit: u(5), Lost: u(6)}, true
			}
			return !done
		})
		if done {
			return st, err
		}
	}
	return Status{}, errors.New("audit status: no answer from the kernel")
}
