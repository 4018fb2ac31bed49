package cis

import (
	"fmt"
	"path"
	"strings"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
)

// hostPath is where on the host a mount points. With host access it is the path with
// symlinks resolved, as the kernel resolved them when it made the mount; without, the
// only symlink assumed is /var/run -> /run, which every current distribution has.
func hostPath(m facts.Mount) string {
	if m.RealHostPath != "" {
		return m.RealHostPath
	}
	return canonical(m.HostPath)
}

func canonical(p string) string {
	if p == "" {
		return ""
	}
	p = path.Clean(p)
	if p == "/var/run" || strings.HasPrefix(p, "/var/run/") {
		p = "/run" + strings.TrimPrefix(p, "/var/run")
	}
	return p
}

// within reports whether p is dir or inside it.
func within(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}

// sensitiveDirs are the host directories CIS 5.6 names, the merged-/usr aliases of
// /usr's directories, /root, and Docker's own data root (every container's files).
func sensitiveDirs(s *facts.Snapshot) []string {
	dirs := []string{"/", "/boot", "/dev", "/etc", "/lib", "/proc", "/sys", "/usr", "/bin", "/sbin", "/lib64", "/root"}
	root := s.Engine.DockerRootDir
	if root == "" {
		root = "/var/lib/docker"
	}
	return append(dirs, path.Clean(root))
}

// harmlessReadOnly are host files and directories containers commonly mount read-only
// to share the host's time zone, identity or public certificates. Mounted read-only
// they expose nothing secret; read-write they are reported like the rest.
var harmlessReadOnly = []string{
	"/etc/localtime", "/etc/timezone", "/usr/share/zoneinfo", "/etc/machine-id", "/etc/hostname",
	"/etc/hosts", "/etc/resolv.conf", "/etc/os-release", "/usr/lib/os-release",
	"/etc/ssl/certs", "/etc/pki/tls/certs", "/etc/pki/ca-trust/extracted", "/etc/ca-certificates",
	"/usr/share/ca-certificates", "/usr/local/share/ca-certificates",
}

// harmless reports a read-only mount of one of harmlessReadOnly (or below one).
func harmless(m facts.Mount) bool {
	if m.RW {
		return false
	}
	for _, p := range []string{path.Clean(m.HostPath), hostPath(m)} {
		for _, h := range harmlessReadOnly {
			if within(p, h) {
				return true
			}
		}
	}
	return false
}

// exposedDir finds the sensitive directory a host path exposes: the directory itself,
// something inside it, or a parent of it (a mount of /var exposes /var/lib/docker).
func exposedDir(h string, dirs []string) (dir string, viaParent, ok bool) {
	for _, d := range dirs {
		if d == "/" && h != "/" {
			continue // everything is inside /; only a mount of / itself exposes it
		}
		if within(h, d) {
			return d, false, true
		}
	}
	for _, d := range dirs {
		if d != "/" && h != "/" && within(d, h) {
			return d, true, true
		}
	}
	return "", false, false
}

// subject names what a mount brings in, for messages.
func subject(m facts.Mount) string {
	if m.Type == "volume" {
		return fmt.Sprintf("volume %s (a bind of the host's %s)", m.Name, m.HostPath)
	}
	return "the host's " + m.Source
}

// mountEvidence shows the mount and, when symlinks changed it, where it really points.
func mountEvidence(m facts.Mount, expected string) []finding.Evidence {
	evs := []finding.Evidence{ev("mount", describeMount(m), expected)}
	if h := hostPath(m); h != "" && h != path.Clean(m.HostPath) {
		evs = append(evs, ev("host path", m.HostPath+" -> "+h, ""))
	}
	return evs
}

// socket is a root-equivalent API socket on the host, by its real path.
type socket struct {
	path, what, consequence string
}

// apiSockets are the Docker and containerd sockets of the audited daemon, by real path.
func apiSockets(s *facts.Snapshot) []socket {
	docker := "/run/docker.sock"
	containerd := []string{"/run/containerd/containerd.sock", "/run/docker/containerd/containerd.sock"}
	if s.Host != nil {
		if r := s.Host.Paths.DockerSock.Real; r != "" {
			docker = r
		}
		if s.Daemon != nil && s.Daemon.ContainerdSocket != "" {
			real := canonical(s.Daemon.ContainerdSocket)
			if f, ok := s.Host.Files[s.Daemon.ContainerdSocket]; ok && f.Real != "" {
				real = f.Real
			}
			containerd = []string{real}
		}
	}
	out := []socket{{docker, "the Docker socket", "the container controls the daemon"}}
	for _, c := range containerd {
		out = append(out, socket{c, "the containerd socket", "the container controls containerd, and through it every container"})
	}
	return out
}

// exposedSocket finds the socket a host path is, or contains.
func exposedSocket(h string, socks []socket) (socket, bool) {
	for _, s := range socks {
		if within(s.path, h) {
			return s, true
		}
	}
	return socket{}, false
}
