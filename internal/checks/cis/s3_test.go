package cis

import (
	"testing"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
)

func TestFileModesAreBits(t *testing.T) {
	tests := []struct {
		mode uint32
		want string
	}{
		{0o644, "pass: node1: /lib/systemd/system/docker.service has mode 0644"},
		{0o600, "pass: node1: /lib/systemd/system/docker.service has mode 0600"},
		{0o444, "pass: node1: /lib/systemd/system/docker.service has mode 0444"},
		// 477 < 644 as numbers, which is how docker-bench compares; as bits it grants
		// write and execute to others.
		{0o477, "fail: node1: /lib/systemd/system/docker.service has mode 0477, which also grants 0033"},
		{0o664, "fail: node1: /lib/systemd/system/docker.service has mode 0664, which also grants 0020"},
		{0o4644, "fail: node1: /lib/systemd/system/docker.service has mode 4644, which also grants 4000"},
	}
	for _, tt := range tests {
		s := base()
		f := s.Host.Files["/lib/systemd/system/docker.service"]
		f.Mode = tt.mode
		s.Host.Files[f.Path] = f
		statuses(t, run(t, s, "3.2"), tt.want)
	}
}

func TestOwnership(t *testing.T) {
	s := base()
	expect(t, run(t, s, "3.15"), brief{finding.Pass, finding.High, "node1", "/var/run/docker.sock is owned by 0:999",
		[]finding.Evidence{ev("owner", "0:999", "root:docker")}})
	f := s.Host.Files["/var/run/docker.sock"]
	f.UID, f.User, f.Group = 1000, "alice", "docker"
	s.Host.Files[f.Path] = f
	statuses(t, run(t, s, "3.15"), "fail: node1: /var/run/docker.sock is owned by alice:docker")
	// The socket group may be root when there is no docker group.
	f.UID, f.GID, f.User, f.Group = 0, 0, "root", "root"
	s.Host.Files[f.Path] = f
	statuses(t, run(t, s, "3.15"), "pass: node1: /var/run/docker.sock is owned by root:root")

	// A socket group other than the configured one fails, whatever it is called.
	f.GID, f.Group = 50, "staff"
	s.Host.Files[f.Path] = f
	statuses(t, run(t, s, "3.15"), "fail: node1: /var/run/docker.sock is owned by root:staff")
	// Rootless: the socket belongs to the daemon's user.
	s.Engine.SecurityOptions = []string{"name=rootless", "name=seccomp,profile=builtin"}
	s.Daemon.UID = 1000
	f.UID, f.GID, f.User, f.Group = 1000, 1000, "alice", "alice"
	s.Host.Files[f.Path] = f
	expect(t, run(t, s, "3.15"), brief{finding.Pass, finding.High, "node1", "/var/run/docker.sock is owned by alice:alice",
		[]finding.Evidence{ev("owner", "alice:alice", "1000 (the rootless daemon's user)")}})
	s.Engine.SecurityOptions = []string{"name=seccomp,profile=builtin"}

	d := s.Host.Files["/etc/docker"]
	d.GID, d.Group = 999, "docker"
	s.Host.Files[d.Path] = d
	statuses(t, run(t, s, "3.5"), "fail: node1: /etc/docker is owned by 0:docker")

	statuses(t, run(t, s, "3.19"), "skip: node1: /etc/default/docker is not present on this host")
	statuses(t, run(t, s, "3.22"), "skip: node1: /etc/sysconfig/docker is not present on this host")
}

func TestTLSFiles(t *testing.T) {
	s := base()
	statuses(t, run(t, s, "3.9"), "skip: node1: not applicable: the daemon does not use TLS")
	s.Daemon.TLS = facts.TLS{Enabled: true, Verify: true, CACert: "/etc/docker/tls/ca.pem", Cert: "/etc/docker/tls/cert.pem", Key: "/etc/docker/tls/key.pem"}
	for _, f := range []facts.File{
		{Path: "/etc/docker/tls/ca.pem", Exists: true, Type: "file", Mode: 0o444},
		{Path: "/etc/docker/tls/cert.pem", Exists: true, Type: "file", Mode: 0o644},
		{Path: "/etc/docker/tls/key.pem", Exists: true, Type: "file", Mode: 0o440},
	} {
		s.Host.Files[f.Path] = f
	}
	statuses(t, run(t, s, "3.10"), "pass: node1: /etc/docker/tls/ca.pem has mode 0444")
	statuses(t, run(t, s, "3.12"), "fail: node1: /etc/docker/tls/cert.pem has mode 0644, which also grants 0200")
	statuses(t, run(t, s, "3.14"), "fail: node1: /etc/docker/tls/key.pem has mode 0440, which also grants 0040")
	statuses(t, run(t, s, "3.13"), "pass: node1: /etc/docker/tls/key.pem is owned by 0:0")
	delete(s.Host.Files, "/etc/docker/tls/key.pem")
	statuses(t, run(t, s, "3.14"), "error: node1: the server key (/etc/docker/tls/key.pem) was not collected")
}

func TestRegistryCerts(t *testing.T) {
	s := base()
	statuses(t, run(t, s, "3.7"), "skip: node1: /etc/docker/certs.d holds no registry certificates")
	s.Host.CertsD = []string{"/etc/docker/certs.d/r:5000/ca.crt", "/etc/docker/certs.d/r:5000/client.key"}
	s.Host.Files["/etc/docker/certs.d/r:5000/ca.crt"] = facts.File{Path: "/etc/docker/certs.d/r:5000/ca.crt", Exists: true, Mode: 0o444}
	s.Host.Files["/etc/docker/certs.d/r:5000/client.key"] = facts.File{Path: "/etc/docker/certs.d/r:5000/client.key", Exists: true, Mode: 0o600, UID: 1000, User: "alice"}
	statuses(t, run(t, s, "3.8"),
		"pass: node1: /etc/docker/certs.d/r:5000/ca.crt has mode 0444",
		"fail: node1: /etc/docker/certs.d/r:5000/client.key has mode 0600, which also grants 0200")
	statuses(t, run(t, s, "3.7"),
		"pass: node1: /etc/docker/certs.d/r:5000/ca.crt is owned by 0:0",
		"fail: node1: /etc/docker/certs.d/r:5000/client.key is owned by alice:0")
	fs := run(t, s, "3.8")
	if fs[1].Location == nil || fs[1].Location.Path != "/etc/docker/certs.d/r:5000/client.key" {
		t.Errorf("location = %+v", fs[1].Location)
	}
}
