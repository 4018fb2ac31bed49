package daemon

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dockaudit/dockaudit/internal/facts"
)

// Proc reads process facts under a procfs mount (normally /proc; the PID namespace must be
// the daemon's, so in a container run with --pid=host).
type Proc struct{ Root string }

// PeerPID dials a unix socket and returns the PID of the process that listens on it,
// from the kernel's peer credentials (SO_PEERCRED). With systemd socket activation this
// is systemd (PID 1), not dockerd: OwnerPIDs resolves that case.
func PeerPID(ctx context.Context, socket string) (int, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	raw, err := c.(*net.UnixConn).SyscallConn()
	if err != nil {
		return 0, err
	}
	var cred *unix.Ucred
	var serr error
	if err := raw.Control(func(fd uintptr) {
		cred, serr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return 0, err
	}
	if serr != nil {
		return 0, fmt.Errorf("SO_PEERCRED on %s: %w", socket, serr)
	}
	return int(cred.Pid), nil
}

// Exe returns the resolved executable path of a process.
func (p Proc) Exe(pid int) (string, error) {
	return os.Readlink(filepath.Join(p.Root, strconv.Itoa(pid), "exe"))
}

// Args returns the argv of a process.
func (p Proc) Args(pid int) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(p.Root, strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return nil, err
	}
	b = []byte(strings.TrimRight(string(b), "\x00"))
	if len(b) == 0 {
		return nil, fmt.Errorf("process %d has an empty command line", pid)
	}
	return strings.Split(string(b), "\x00"), nil
}

// UID returns the real UID of a process.
func (p Proc) UID(pid int) (int, error) {
	b, err := os.ReadFile(filepath.Join(p.Root, strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				return strconv.Atoi(f[0])
			}
		}
	}
	return 0, fmt.Errorf("no Uid line in /proc/%d/status", pid)
}

// IsDockerd reports whether an executable looks like the Docker daemon.
func IsDockerd(exe string) bool {
	b := path.Base(strings.TrimSuffix(exe, " (deleted)"))
	return b == "dockerd" || strings.HasPrefix(b, "dockerd-")
}

// socketInodes returns the inodes of every socket a process holds open.
func (p Proc) socketInodes(pid int) (map[uint64]bool, error) {
	dir := filepath.Join(p.Root, strconv.Itoa(pid), "fd")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[uint64]bool{}
	for _, e := range ents {
		l, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		if s, ok := strings.CutPrefix(l, "socket:["); ok {
			if n, err := strconv.ParseUint(strings.TrimSuffix(s, "]"), 10, 64); err == nil {
				out[n] = true
			}
		}
	}
	return out, nil
}

// OwnerPIDs returns the processes holding a listening unix socket bound at one of paths
// (the kernel records the path the listener was bound at, which may differ from the one
// a client dialled through a symlink: /run/docker.sock against /var/run/docker.sock).
// The socket table is read in the network namespace of netnsPID, the process that
// answered on the socket. It scans every process's file descriptors: the slow path.
func (p Proc) OwnerPIDs(paths []string, netnsPID int) ([]int, error) {
	inodes := map[uint64]string{}
	for _, path := range slices.Compact(slices.Sorted(slices.Values(paths))) {
		found, err := p.listeningUnix(netnsPID, path)
		if err != nil {
			return nil, err
		}
		maps.Copy(inodes, found)
	}
	if len(inodes) == 0 {
		return nil, fmt.Errorf("no process listens on %s", strings.Join(paths, " or "))
	}
	ents, err := os.ReadDir(p.Root)
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		held, err := p.socketInodes(pid)
		if err != nil {
			continue
		}
		for ino := range inodes {
			if held[ino] {
				pids = append(pids, pid)
				break
			}
		}
	}
	slices.Sort(pids)
	return pids, nil
}

// listeningUnix returns inode → path of listening unix sockets in a process's network
// namespace (pid 0: the reader's own), restricted to one path when path is not "".
func (p Proc) listeningUnix(pid int, only string) (map[uint64]string, error) {
	file := filepath.Join(p.Root, "net", "unix")
	if pid > 0 {
		file = filepath.Join(p.Root, strconv.Itoa(pid), "net", "unix")
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[uint64]string{}
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		// Num RefCount Protocol Flags Type St Inode Path
		fields := strings.Fields(sc.Text())
		if len(fields) < 8 {
			continue
		}
		flags, err := strconv.ParseUint(fields[3], 16, 32)
		if err != nil || flags&0x10000 == 0 { // __SO_ACCEPTCON: listening
			continue
		}
		if only != "" && fields[7] != only {
			continue
		}
		ino, err := strconv.ParseUint(fields[6], 10, 64)
		if err != nil {
			continue
		}
		out[ino] = fields[7]
	}
	return out, sc.Err()
}

// Listeners returns the sockets a process listens on, read in its own network namespace.
func (p Proc) Listeners(pid int) ([]facts.Listener, error) {
	held, err := p.socketInodes(pid)
	if err != nil {
		return nil, err
	}
	var out []facts.Listener
	for _, proto := range []string{"tcp", "tcp6"} {
		socks, err := p.listeningTCP(pid, proto)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, err
		}
		for ino, addr := range socks {
			if held[ino] {
				out = append(out, facts.Listener{Network: proto, Address: addr})
			}
		}
	}
	unixSocks, err := p.listeningUnix(pid, "")
	if err == nil {
		for ino, path := range unixSocks {
			if held[ino] && path != "" && !strings.HasPrefix(path, "@") {
				out = append(out, facts.Listener{Network: "unix", Address: path})
			}
		}
	}
	slices.SortFunc(out, func(a, b facts.Listener) int {
		return strings.Compare(a.Network+" "+a.Address, b.Network+" "+b.Address)
	})
	return slices.Compact(out), nil
}

// listeningTCP parses /proc/PID/net/tcp or tcp6 and returns inode → "ip:port" of sockets
// in state LISTEN.
func (p Proc) listeningTCP(pid int, proto string) (map[uint64]string, error) {
	f, err := os.Open(filepath.Join(p.Root, strconv.Itoa(pid), "net", proto))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[uint64]string{}
	sc := bufio.NewScanner(f)
	sc.Scan()
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[3] != "0A" { // 0A = TCP_LISTEN
			continue
		}
		addr, err := ParseProcAddr(fields[1])
		if err != nil {
			continue
		}
		ino, err := strconv.ParseUint(fields[9], 10, 64)
		if err != nil {
			continue
		}
		out[ino] = addr
	}
	return out, sc.Err()
}

// ParseProcAddr decodes a /proc/net/tcp{,6} address ("0100007F:0CEA") into "ip:port".
// The kernel prints each 32-bit word of the address in host (little-endian) byte order.
func ParseProcAddr(s string) (string, error) {
	hexIP, hexPort, ok := strings.Cut(s, ":")
	if !ok {
		return "", fmt.Errorf("bad address %q", s)
	}
	raw, err := hex.DecodeString(hexIP)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return "", fmt.Errorf("bad address %q", s)
	}
	for i := 0; i < len(raw); i += 4 {
		raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil {
		return "", fmt.Errorf("bad port in %q", s)
	}
	return net.JoinHostPort(net.IP(raw).String(), strconv.FormatUint(port, 10)), nil
}

// MountOf returns the mount that holds dir in a process's mount namespace: the longest
// mount point that is dir or one of its parents.
func (p Proc) MountOf(pid int, dir string) (*facts.Mountpoint, error) {
	b, err := os.ReadFile(filepath.Join(p.Root, strconv.Itoa(pid), "mountinfo"))
	if err != nil {
		return nil, err
	}
	return MountFromInfo(b, dir)
}

// MountFromInfo picks the mountinfo entry holding dir (the last one wins for a path
// mounted over more than once, as in the kernel).
func MountFromInfo(mountinfo []byte, dir string) (*facts.Mountpoint, error) {
	dir = path.Clean(dir)
	var best *facts.Mountpoint
	for _, line := range strings.Split(string(mountinfo), "\n") {
		// id parent maj:min root mountpoint options [optional...] - fstype source superopts
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f := strings.Fields(pre)
		g := strings.Fields(post)
		if len(f) < 5 || len(g) < 2 {
			continue
		}
		mp := unescapeMount(f[4])
		if mp != "/" && dir != mp && !strings.HasPrefix(dir, mp+"/") {
			continue
		}
		if best == nil || len(mp) >= len(best.MountPoint) {
			best = &facts.Mountpoint{MountPoint: mp, FSType: g[0], Source: unescapeMount(g[1]), Device: f[2], Root: unescapeMount(f[3])}
		}
	}
	if best == nil {
		return nil, fmt.Errorf("no mount holds %s", dir)
	}
	return best, nil
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

var containerIDRE = regexp.MustCompile(`[0-9a-f]{64}`)

// ContainerProcesses lists the processes of the given containers (by full ID) from
// procfs: a process belongs to a container when its cgroup path names the container's ID,
// which is how the runtime (and so the Engine API's top) finds them too. One pass over
// /proc serves every container; dockerd's top forks ps once per container.
func (p Proc) ContainerProcesses(ids map[string]bool) (map[string]*facts.ProcessList, error) {
	ents, err := os.ReadDir(p.Root)
	if err != nil {
		return nil, err
	}
	out := map[string]*facts.ProcessList{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cg, err := os.ReadFile(filepath.Join(p.Root, e.Name(), "cgroup"))
		if err != nil {
			continue // exited meanwhile
		}
		id := ""
		for _, line := range strings.Split(string(cg), "\n") {
			ms := containerIDRE.FindAllString(line, -1)
			for i := len(ms) - 1; i >= 0; i-- { // the innermost container of a nested path
				if ids[ms[i]] {
					id = ms[i]
					break
				}
			}
			if id != "" {
				break
			}
		}
		if id == "" {
			continue
		}
		cmd := p.command(pid)
		l := out[id]
		if l == nil {
			l = &facts.ProcessList{Source: "procfs", Titles: []string{"PID", "CMD"}}
			out[id] = l
		}
		l.Processes = append(l.Processes, []string{strconv.Itoa(pid), cmd})
	}
	for _, l := range out {
		slices.SortFunc(l.Processes, func(a, b []string) int {
			x, _ := strconv.Atoi(a[0])
			y, _ := strconv.Atoi(b[0])
			return x - y
		})
	}
	return out, nil
}

// command is a process's command line as ps prints it, or [comm] when it has none.
func (p Proc) command(pid int) string {
	b, err := os.ReadFile(filepath.Join(p.Root, strconv.Itoa(pid), "cmdline"))
	if err == nil && len(b) > 0 {
		return strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
	}
	comm, _ := os.ReadFile(filepath.Join(p.Root, strconv.Itoa(pid), "comm"))
	return "[" + strings.TrimSpace(string(comm)) + "]"
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times; 100 on every Linux ABI
// Docker runs on.
const clockTicks = 100

// StartTime returns when a process started, from its start time in /proc/PID/stat
// (clock ticks after boot) and the boot time in /proc/stat.
func (p Proc) StartTime(pid int) (time.Time, error) {
	stat, err := os.ReadFile(filepath.Join(p.Root, strconv.Itoa(pid), "stat"))
	if err != nil {
		return time.Time{}, err
	}
	// The command name (field 2) may hold spaces and parentheses: fields count from
	// the last ')'.
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 {
		return time.Time{}, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 20 {
		return time.Time{}, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	ticks, err := strconv.ParseInt(f[19], 10, 64) // field 22 overall
	if err != nil {
		return time.Time{}, err
	}
	sys, err := os.ReadFile(filepath.Join(p.Root, "stat"))
	if err != nil {
		return time.Time{}, err
	}
	for _, line := range strings.Split(string(sys), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			boot, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return time.Time{}, err
			}
			return time.Unix(boot, 0).Add(time.Duration(ticks) * (time.Second / clockTicks)), nil
		}
	}
	return time.Time{}, fmt.Errorf("no btime in /proc/stat")
}
