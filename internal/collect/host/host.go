package host

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dockaudit/dockaudit/internal/collect/daemon"
	"github.com/dockaudit/dockaudit/internal/collect/hostfs"
	"github.com/dockaudit/dockaudit/internal/facts"
)

// Options say where the host is and which daemon to look for.
type Options struct {
	Root string // host filesystem root, "/" normally
	Proc string // procfs of the daemon's PID namespace, "/proc" normally
	// Host is the daemon address the audit talks to (unix:///var/run/docker.sock, tcp://…).
	Host string
	// Engine is what the daemon said about itself (data root, security options).
	Engine facts.Engine
	// Auditctl runs "auditctl -l"; nil means the loaded audit rules are not read.
	Auditctl func(ctx context.Context) ([]byte, error)
}

// Result is what was learned about the host.
type Result struct {
	Access facts.HostAccess
	Daemon *facts.DaemonProcess
	Host   *facts.Host
}

// Collect finds the daemon process behind opts.Host and reads its host. When no dockerd
// can be tied to the address (a remote daemon, a forwarded socket), Access.Local is false
// and Reason says why; nothing else is read then, because the files here would belong to
// a different machine than the daemon.
func Collect(ctx context.Context, opts Options) Result {
	proc := daemon.Proc{Root: opts.Proc}
	pid, foundBy, err := findDaemon(ctx, proc, opts.Host)
	if err != nil {
		return Result{Access: facts.HostAccess{Local: false, Reason: err.Error()}}
	}
	fsys := hostfs.New(opts.Root)
	d := readDaemon(proc, fsys, pid, foundBy, opts.Engine)
	h := readHost(ctx, fsys, d, opts)
	return Result{Access: facts.HostAccess{Local: true, Root: fsys.Root}, Daemon: d, Host: h}
}

// findDaemon ties the daemon address to a dockerd PID.
func findDaemon(ctx context.Context, proc daemon.Proc, host string) (int, string, error) {
	u, err := url.Parse(host)
	if err != nil {
		return 0, "", err
	}
	switch u.Scheme {
	case "unix":
		pid, err := daemon.PeerPID(ctx, u.Path)
		if err != nil {
			return 0, "", fmt.Errorf("cannot read the peer credentials of %s: %v", u.Path, err)
		}
		if isDockerd(proc, pid) {
			return pid, "peer credentials of " + u.Path, nil
		}
		// Socket activation: the listener was created by systemd. Find the dockerd that
		// holds the same listening socket, by the path it was bound at.
		paths := []string{u.Path}
		if real, err := filepath.EvalSymlinks(u.Path); err == nil {
			paths = append(paths, real)
		}
		pids, err := proc.OwnerPIDs(paths, pid)
		if err == nil {
			for _, p := range pids {
				if isDockerd(proc, p) {
					return p, "owner of the listening socket " + u.Path, nil
				}
			}
		}
		return 0, "", fmt.Errorf("the process behind %s (PID %d, %s) is not dockerd: the daemon may run on another host (a forwarded socket) or in another PID namespace; run dockaudit on the daemon's host, in a container with --pid=host", u.Path, pid, describe(proc, pid))
	case "tcp", "http", "https":
		return findTCPDaemon(ctx, proc, u)
	case "ssh":
		return 0, "", fmt.Errorf("the daemon is reached over ssh (%s): its host is another machine as far as this audit can tell; run dockaudit on that host for the host checks", u.Redacted())
	}
	return 0, "", fmt.Errorf("address %s is not a local socket", host)
}

// findTCPDaemon finds the dockerd that listens on a tcp:// address: in this network
// namespace, on that port, bound to that address or to a wildcard.
func findTCPDaemon(ctx context.Context, proc daemon.Proc, u *url.URL) (int, string, error) {
	hostname, port := u.Hostname(), u.Port()
	remote := fmt.Errorf("the daemon at %s is not on this host (no local dockerd listens on it)", u.Host)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, hostname)
	if err != nil || len(addrs) == 0 {
		return 0, "", remote
	}
	local := false
	for _, a := range addrs {
		if a.IP.IsLoopback() || isLocalIP(a.IP) {
			local = true
		}
	}
	if !local {
		return 0, "", remote
	}
	selfNS, _ := os.Readlink(filepath.Join(proc.Root, "self", "ns", "net"))
	ents, err := os.ReadDir(proc.Root)
	if err != nil {
		return 0, "", remote
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !isDockerd(proc, pid) {
			continue
		}
		if ns, _ := os.Readlink(filepath.Join(proc.Root, e.Name(), "ns", "net")); ns != selfNS {
			continue // a daemon in another network namespace listens on another network
		}
		ls, err := proc.Listeners(pid)
		if err != nil {
			continue
		}
		for _, l := range ls {
			if l.Network == "unix" {
				continue
			}
			h, p, _ := net.SplitHostPort(l.Address)
			if !portMatches(p, port) {
				continue
			}
			ip := net.ParseIP(h)
			for _, a := range addrs {
				if ip != nil && (ip.IsUnspecified() || ip.Equal(a.IP)) {
					return pid, "listener of " + l.Address, nil
				}
			}
		}
	}
	return 0, "", remote
}

// portMatches compares a listener's port with the one dialled; no port means the
// docker CLI's defaults, 2375 or 2376.
func portMatches(listening, dialled string) bool {
	if dialled == "" {
		return listening == "2375" || listening == "2376"
	}
	return listening == dialled
}

func isLocalIP(ip net.IP) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}

func isDockerd(proc daemon.Proc, pid int) bool {
	if exe, err := proc.Exe(pid); err == nil {
		return daemon.IsDockerd(exe)
	}
	args, err := proc.Args(pid)
	return err == nil && daemon.IsDockerd(args[0])
}

func describe(proc daemon.Proc, pid int) string {
	if exe, err := proc.Exe(pid); err == nil {
		return exe
	}
	if args, err := proc.Args(pid); err == nil {
		return args[0]
	}
	return "unknown program"
}

func readDaemon(proc daemon.Proc, fsys *hostfs.FS, pid int, foundBy string, eng facts.Engine) *facts.DaemonProcess {
	d := &facts.DaemonProcess{PID: pid, FoundBy: foundBy, Config: map[string]facts.Setting{}, Listeners: []facts.Listener{}}
	d.Exe, _ = proc.Exe(pid)
	d.UID, _ = proc.UID(pid)
	args, err := proc.Args(pid)
	if err != nil {
		d.ConfigError = fmt.Sprintf("read command line of PID %d: %v", pid, err)
		return d
	}
	d.Args = args
	if d.Exe == "" {
		d.Exe = args[0]
	}
	flags, err := daemon.ParseArgs(args[1:])
	if err != nil {
		d.ConfigError = err.Error()
		flags = map[string]facts.Setting{}
	}
	d.ConfigFile = daemon.DefaultConfigFile
	if s, ok := flags["config-file"]; ok {
		d.ConfigFile = s.Value()
	} else if _, rootless := eng.SecurityOption("rootless"); rootless || flags["rootless"].Value() == "true" {
		d.ConfigFile = rootlessConfig(processEnv(proc, pid))
	}
	var file map[string]facts.Setting
	b, err := fsys.ReadFile(d.ConfigFile)
	switch {
	case err == nil:
		d.ConfigFileExists = true
		file, err = daemon.ParseConfigFile(b)
		if err != nil {
			d.ConfigError = fmt.Sprintf("%s: %v", d.ConfigFile, err)
		}
	case errors.Is(err, os.ErrNotExist):
	default:
		d.ConfigError = fmt.Sprintf("read %s: %v", d.ConfigFile, err)
	}
	d.Config = daemon.Merge(flags, file)
	if ls, err := proc.Listeners(pid); err == nil {
		d.Listeners = ls
	} else {
		d.Listeners, d.ListenersError = nil, err.Error()
	}
	if eng.DockerRootDir != "" {
		var err1, err2 error
		d.DataRootMount, err1 = proc.MountOf(pid, eng.DockerRootDir)
		d.RootMount, err2 = proc.MountOf(pid, "/")
		if err := cmp.Or(err1, err2); err != nil {
			d.MountsError = err.Error()
		}
	}
	env := processEnv(proc, pid)
	d.ContainerdSocket = containerdSocket(fsys, d, env)
	if d.ConfigFileExists {
		d.ConfigChangedSinceStart = modifiedSince(fsys, d.ConfigFile, proc, pid)
	}
	d.TLS = daemonTLS(d, processHome(env, fsys, d.UID), env)
	return d
}

// modifiedSince reports whether a host file changed after a process started.
func modifiedSince(fsys *hostfs.FS, file string, proc daemon.Proc, pid int) bool {
	started, err := proc.StartTime(pid)
	if err != nil {
		return false
	}
	mtime, err := fsys.ModTime(file)
	return err == nil && mtime.After(started)
}

// processHome is the home directory of the user a process runs as: $HOME from its
// environment when readable, else the passwd entry for its UID.
func processHome(env map[string]string, fsys *hostfs.FS, uid int) string {
	if h := env["HOME"]; h != "" {
		return h
	}
	if h := fsys.HomeOf(uid); h != "" {
		return h
	}
	return "/root"
}

func processEnv(proc daemon.Proc, pid int) map[string]string {
	env, _ := os.ReadFile(path.Join(proc.Root, strconv.Itoa(pid), "environ"))
	vars := map[string]string{}
	for _, kv := range bytes.Split(env, []byte{0}) {
		if k, v, ok := strings.Cut(string(kv), "="); ok {
			vars[k] = v
		}
	}
	return vars
}

// rootlessConfig is where a rootless daemon reads daemon.json: $XDG_CONFIG_HOME/docker or
// ~/.config/docker of the user it runs as.
func rootlessConfig(vars map[string]string) string {
	if x := vars["XDG_CONFIG_HOME"]; x != "" {
		return path.Join(x, "docker", "daemon.json")
	}
	if h := vars["HOME"]; h != "" {
		return path.Join(h, ".config", "docker", "daemon.json")
	}
	return daemon.DefaultConfigFile
}

// containerdSocket is the containerd the daemon talks to: --containerd, or the one
// dockerd starts itself under its exec-root, or the system one.
func containerdSocket(fsys *hostfs.FS, d *facts.DaemonProcess, env map[string]string) string {
	if s, ok := d.Lookup("containerd"); ok && s.Value() != "" {
		return strings.TrimPrefix(s.Value(), "unix://")
	}
	execRoot := "/var/run/docker"
	if x := env["XDG_RUNTIME_DIR"]; x != "" && (d.Bool("rootless", false) || env["ROOTLESSKIT_STATE_DIR"] != "") {
		execRoot = path.Join(x, "docker") // a rootless daemon's exec root
	}
	if s, ok := d.Lookup("exec-root"); ok {
		execRoot = s.Value()
	}
	managed := path.Join(execRoot, "containerd", "containerd.sock")
	if fsys.Stat(managed).Exists {
		return managed
	}
	return "/run/containerd/containerd.sock"
}

var unitDirs = []string{"/etc/systemd/system", "/run/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system"}
var binDirs = []string{"/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin", "/bin", "/sbin"}

func locate(fsys *hostfs.FS, dirs []string, name string) facts.Located {
	for _, dir := range dirs {
		p := path.Join(dir, name)
		if fsys.Stat(p).Exists {
			real, err := fsys.Resolve(p, true)
			if err != nil {
				real = p
			}
			return facts.Located{Path: p, Real: real}
		}
	}
	return facts.Located{}
}

func readHost(ctx context.Context, fsys *hostfs.FS, d *facts.DaemonProcess, opts Options) *facts.Host {
	h := &facts.Host{Files: map[string]facts.File{}, CertsD: []string{}}
	if b, err := fsys.ReadFile("/etc/hostname"); err == nil {
		h.Hostname = strings.TrimSpace(string(b))
	}
	if h.Hostname == "" && fsys.Root == "/" {
		h.Hostname, _ = os.Hostname()
	}
	h.Paths = facts.HostPaths{
		DockerService:    locate(fsys, unitDirs, "docker.service"),
		DockerSocketUnit: locate(fsys, unitDirs, "docker.socket"),
		Containerd:       locate(fsys, binDirs, "containerd"),
		ContainerdShim:   locate(fsys, binDirs, "containerd-shim"),
		ShimRuncV1:       locate(fsys, binDirs, "containerd-shim-runc-v1"),
		ShimRuncV2:       locate(fsys, binDirs, "containerd-shim-runc-v2"),
		Runc:             locate(fsys, binDirs, "runc"),
	}
	sock := dockerSocket(opts.Host, d)
	if real, err := fsys.Resolve(sock, true); err == nil {
		h.Paths.DockerSock = facts.Located{Path: sock, Real: real}
	} else {
		h.Paths.DockerSock = facts.Located{Path: sock, Real: sock}
	}

	paths := []string{
		"/etc/docker", "/etc/default/docker", "/etc/sysconfig/docker", "/etc/containerd/config.toml",
		"/run/containerd", sock, d.ConfigFile, d.ContainerdSocket, d.Exe, opts.Engine.DockerRootDir,
	}
	for _, l := range []facts.Located{h.Paths.DockerService, h.Paths.DockerSocketUnit, h.Paths.Containerd,
		h.Paths.ContainerdShim, h.Paths.ShimRuncV1, h.Paths.ShimRuncV2, h.Paths.Runc} {
		paths = append(paths, l.Path)
	}
	paths = append(paths, d.TLS.CACert, d.TLS.Cert, d.TLS.Key)
	if certs, err := fsys.Walk("/etc/docker/certs.d", 10000); err == nil || len(certs) > 0 {
		h.CertsD = certs
		paths = append(paths, certs...)
	}
	for _, p := range paths {
		if p != "" && path.IsAbs(p) {
			if _, done := h.Files[p]; !done {
				h.Files[p] = fsys.Stat(p)
			}
		}
	}

	h.Audit = readAudit(ctx, fsys, opts.Auditctl)
	h.Audit.Resolved = resolveWatches(fsys, append(append([]string{}, h.Audit.Loaded...), h.Audit.Files...))
	h.DockerGroup = dockerGroup(fsys, d, h.Files[sock])
	h.AppArmor = apparmor(fsys)
	h.SELinux = selinux(fsys)
	return h
}

// dockerSocket is the unix socket clients use: the one we were pointed at, else the
// daemon's first unix host, else Docker's default.
func dockerSocket(host string, d *facts.DaemonProcess) string {
	if u, err := url.Parse(host); err == nil && u.Scheme == "unix" {
		return u.Path
	}
	if s, ok := d.Lookup("hosts"); ok {
		for _, h := range s.Values {
			if p, ok := strings.CutPrefix(h, "unix://"); ok && p != "" {
				return p
			}
		}
	}
	return "/var/run/docker.sock"
}

// daemonTLS works out the daemon's effective TLS setup the way dockerd does: --tlsverify
// implies --tls, and when tlsverify is not given at all it takes the value of tls (so
// "--tls" alone still demands client certificates; tried on Engine 20.10), or true when
// dockerd's environment sets DOCKER_TLS_VERIFY. Files default to DOCKER_CERT_PATH, else
// ~/.docker of the user the daemon runs as.
func daemonTLS(d *facts.DaemonProcess, home string, env map[string]string) facts.TLS {
	t := facts.TLS{Enabled: d.Bool("tls", false)}
	t.Verify = t.Enabled
	if _, set := d.Lookup("tlsverify"); set {
		t.Verify = d.Bool("tlsverify", false)
	} else if env["DOCKER_TLS_VERIFY"] != "" {
		t.Verify = true
	}
	t.Enabled = t.Enabled || t.Verify
	dir := path.Join(home, ".docker")
	if c := env["DOCKER_CERT_PATH"]; c != "" {
		dir = c
	}
	file := func(key, def string) string {
		if s, ok := d.Lookup(key); ok && s.Value() != "" {
			return s.Value()
		}
		if t.Enabled {
			return path.Join(dir, def)
		}
		return ""
	}
	t.CACert, t.Cert, t.Key = file("tlscacert", "ca.pem"), file("tlscert", "cert.pem"), file("tlskey", "key.pem")
	return t
}

func readAudit(ctx context.Context, fsys *hostfs.FS, auditctl func(context.Context) ([]byte, error)) facts.Audit {
	a := facts.Audit{Files: []string{}}
	files := []string{"/etc/audit/audit.rules"}
	if ents, err := fsys.ReadDir("/etc/audit/rules.d"); err == nil {
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".rules") {
				files = append(files, "/etc/audit/rules.d/"+e.Name())
			}
		}
	}
	for _, f := range files {
		b, err := fsys.ReadFile(f)
		if err != nil {
			continue
		}
		a.Files = append(a.Files, ruleLines(b)...)
	}
	if auditctl == nil {
		a.LoadedError = "auditctl was not run (host root is not /)"
		return a
	}
	out, err := auditctl(ctx)
	if err != nil {
		a.LoadedError = err.Error()
		return a
	}
	a.Loaded = ruleLines(out)
	if len(a.Loaded) == 1 && a.Loaded[0] == "No rules" {
		a.Loaded = []string{}
	}
	return a
}

// resolveWatches records what the kernel watches for each watched path of the rules:
// the path with its directories resolved and its last component as written.
func resolveWatches(fsys *hostfs.FS, rules []string) map[string]string {
	out := map[string]string{}
	for _, r := range rules {
		for _, w := range facts.ParseAuditRule(r) {
			if _, done := out[w.Path]; done || !path.IsAbs(w.Path) {
				continue
			}
			if real, err := fsys.Resolve(w.Path, false); err == nil && real != w.Path {
				out[w.Path] = real
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func ruleLines(b []byte) []string {
	out := []string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	return out
}

// Auditctl runs the host's auditctl to list the loaded rules (read-only).
func Auditctl(ctx context.Context) ([]byte, error) {
	bin, err := exec.LookPath("auditctl")
	if err != nil {
		return nil, errors.New("auditctl is not installed")
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-l").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && len(ee.Stderr) > 0 {
			return nil, fmt.Errorf("auditctl -l: %s", strings.TrimSpace(string(ee.Stderr)))
		}
		return nil, fmt.Errorf("auditctl -l: %w", err)
	}
	return out, nil
}

// dockerGroup is the group that owns the socket and everyone in it (each of them can
// drive the daemon and so is root on this host), and the group the daemon was told to
// use (dockerd's -G, "docker" by default).
func dockerGroup(fsys *hostfs.FS, d *facts.DaemonProcess, sock facts.File) facts.DockerGroup {
	g := facts.DockerGroup{GID: -1, Configured: "docker", Members: []string{}, Error: fsys.AccountsError()}
	if s, ok := d.Lookup("group"); ok && s.Value() != "" {
		g.Configured = s.Value()
	}
	if c, ok := fsys.LookupGroup(g.Configured); ok {
		g.ConfiguredGID, g.ConfiguredExists = c.GID, true
	}
	switch {
	case sock.Exists:
		g.GID = sock.GID
	case g.ConfiguredExists:
		g.GID = g.ConfiguredGID
	default:
		return g
	}
	grp, ok := fsys.LookupGID(g.GID)
	if !ok {
		return g
	}
	g.Name, g.Exists = grp.Name, true
	all := append(append([]string{}, grp.Members...), fsys.UsersWithPrimaryGroup(g.GID)...)
	slices.Sort(all)
	g.Members = slices.Compact(all)
	return g
}

func apparmor(fsys *hostfs.FS) facts.LSM {
	const p = "/sys/module/apparmor/parameters/enabled"
	b, err := fsys.ReadFile(p)
	if err != nil {
		return facts.LSM{Evidence: p + " is absent (AppArmor is not in this kernel)"}
	}
	v := strings.TrimSpace(string(b))
	return facts.LSM{Enabled: v == "Y", Evidence: p + " = " + v}
}

func selinux(fsys *hostfs.FS) facts.LSM {
	const p = "/sys/fs/selinux/enforce"
	b, err := fsys.ReadFile(p)
	if err != nil {
		return facts.LSM{Evidence: "selinuxfs is not mounted (" + p + " is absent)"}
	}
	mode := "permissive"
	if strings.TrimSpace(string(b)) == "1" {
		mode = "enforcing"
	}
	return facts.LSM{Enabled: true, Evidence: "SELinux is " + mode}
}

// ContainerProcesses fills in the process lists of running containers from procfs in
// one pass. Containers it finds no process for are left for the Engine API's top.
func ContainerProcesses(procRoot string, cs []facts.Container) {
	ids := map[string]bool{}
	for _, c := range cs {
		if c.Error == "" && c.Running() {
			ids[c.ID] = true
		}
	}
	if len(ids) == 0 {
		return
	}
	lists, err := daemon.Proc{Root: procRoot}.ContainerProcesses(ids)
	if err != nil {
		return
	}
	for i := range cs {
		// A container with no process in procfs has no list here: what the engine's
		// top listed while it ran is kept.
		if l, ok := lists[cs[i].ID]; ok {
			cs[i].Processes = l
		}
	}
}

// ResolveMounts records, for every mount that exposes a host path, that path with
// symlinks resolved on the host: a bind of /var/run is a bind of /run, and on a
// merged-/usr system a bind of /bin is a bind of /usr/bin.
func ResolveMounts(root string, cs []facts.Container) {
	fsys := hostfs.New(root)
	for i := range cs {
		for j := range cs[i].Mounts {
			m := &cs[i].Mounts[j]
			if m.HostPath == "" || !path.IsAbs(m.HostPath) {
				continue
			}
			if real, err := fsys.Resolve(m.HostPath, true); err == nil {
				m.RealHostPath = real
			}
		}
	}
}

var selfIDRE = regexp.MustCompile(`/(?:docker|containers)/([0-9a-f]{64})\b`)

// SelfContainerID returns the ID of the Docker container this process runs in, or "".
// Docker bind-mounts the container's hostname, hosts and resolv.conf from
// /var/lib/docker/containers/ID/, and on cgroup v1 the cgroup path names the ID.
func SelfContainerID(procRoot string) string {
	for _, f := range []string{"self/mountinfo", "self/cgroup"} {
		b, err := os.ReadFile(filepath.Join(procRoot, f))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if f == "self/mountinfo" && !strings.Contains(line, " /etc/hostname ") {
				continue
			}
			if m := selfIDRE.FindStringSubmatch(line); m != nil {
				return m[1]
			}
		}
	}
	return ""
}
