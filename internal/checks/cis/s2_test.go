package cis

import (
	"testing"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
)

func set(d *facts.DaemonProcess, key, source string, values ...string) {
	d.Config[key] = facts.Setting{Values: values, Source: source}
}

func TestDaemonTLS(t *testing.T) {
	tests := []struct {
		name   string
		config map[string]facts.Setting
		tls    facts.TLS
		want   string
	}{
		{"unix socket only", nil, facts.TLS{}, "pass: node1: the daemon does not serve the API over TCP"},
		{"plain tcp", map[string]facts.Setting{"hosts": {Values: []string{"unix:///var/run/docker.sock", "tcp://0.0.0.0:2375"}, Source: "flags --host"}},
			facts.TLS{}, "fail: node1: the API is served over plain TCP on tcp://0.0.0.0:2375: anyone who can reach it controls the host"},
		{"tls without client verification", map[string]facts.Setting{"hosts": {Values: []string{"tcp://0.0.0.0:2376"}, Source: "daemon.json"}},
			facts.TLS{Enabled: true, Cert: "/etc/docker/tls/cert.pem", Key: "/etc/docker/tls/key.pem"},
			"fail: node1: the API is served over TLS on tcp://0.0.0.0:2376 without client certificate verification: anyone who can reach it controls the host"},
		{"tlsverify", map[string]facts.Setting{"hosts": {Values: []string{"tcp://10.0.0.5:2376"}, Source: "daemon.json"}},
			facts.TLS{Enabled: true, Verify: true, CACert: "/etc/docker/tls/ca.pem"}, "pass: node1: the API on tcp://10.0.0.5:2376 requires client certificates"},
		{"loopback is still TCP", map[string]facts.Setting{"hosts": {Values: []string{"tcp://127.0.0.1:2375"}, Source: "daemon.json"}},
			facts.TLS{}, "fail: node1: the API is served over plain TCP on tcp://127.0.0.1:2375: anyone who can reach it controls the host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base()
			for k, v := range tt.config {
				s.Daemon.Config[k] = v
			}
			s.Daemon.TLS = tt.tls
			statuses(t, run(t, s, "2.7"), tt.want)
		})
	}

	// Socket activation: -H fd:// and a TCP ListenStream in docker.socket; only the
	// daemon's listening sockets show the TCP API.
	s0 := base()
	set(s0.Daemon, "hosts", "flag --host=fd://", "fd://")
	s0.Daemon.Listeners = []facts.Listener{{Network: "tcp6", Address: "[::]:2375"}, {Network: "tcp", Address: "0.0.0.0:2377"}, {Network: "unix", Address: "/run/docker.sock"}}
	statuses(t, run(t, s0, "2.7"), "fail: node1: the API is served over plain TCP on tcp://[::]:2375: anyone who can reach it controls the host")
	// The daemon's warning wins over flags that seem to say otherwise.
	s0.Daemon.TLS = facts.TLS{Enabled: true, Verify: true}
	s0.Engine.Warnings = []string{"WARNING: API is accessible on https://0.0.0.0:2375 without TLS client verification."}
	statuses(t, run(t, s0, "2.7"), "fail: node1: the API is served over TLS on tcp://[::]:2375 without client certificate verification: anyone who can reach it controls the host")
	// Swarm and metrics ports are not the API.
	s0 = base()
	set(s0.Daemon, "metrics-addr", "daemon.json", "127.0.0.1:9323")
	s0.Daemon.Listeners = []facts.Listener{{Network: "tcp", Address: "0.0.0.0:2377"}, {Network: "tcp", Address: "127.0.0.1:9323"}}
	statuses(t, run(t, s0, "2.7"), "pass: node1: the daemon does not serve the API over TCP")

	// Remote: the daemon's own /info warnings decide.
	s := base()
	s.Daemon, s.Host, s.HostAccess = nil, nil, facts.HostAccess{Reason: "remote"}
	statuses(t, run(t, s, "2.7"), "pass: node1: the daemon reports no TCP listener without TLS client verification")
	s.Engine.Warnings = []string{"WARNING: API is accessible on http://0.0.0.0:2375 without encryption.\n         Access to the remote API is equivalent to root access on the host."}
	statuses(t, run(t, s, "2.7"), "fail: node1: the daemon reports: API is accessible on http://0.0.0.0:2375 without encryption. Access to the remote API is equivalent to root access on the host.")
	fs := run(t, s, "2.7")
	if len(fs) != 1 || fs[0].Severity != finding.Critical || fs[0].Evidence[0].Actual != "API is accessible on http://0.0.0.0:2375 without encryption. Access to the remote API is equivalent to root access on the host." {
		t.Errorf("remote plain tcp: %+v", fs)
	}
	s.Engine.Warnings, s.Engine.APIVersion = nil, "1.40"
	statuses(t, run(t, s, "2.7"), "skip: node1: this Engine does not report insecure listeners through the API; needs access to the daemon's host: remote")
}

func TestDaemonSettings(t *testing.T) {
	s := base()
	statuses(t, run(t, s, "2.2"), "fail: node1: containers on the default bridge can reach each other (icc is enabled)")
	s.Networks[0].Options = facts.Labels{{"com.docker.network.bridge.enable_icc", "false"}}
	set(s.Daemon, "icc", "daemon.json", "false")
	expect(t, run(t, s, "2.2"), brief{finding.Pass, finding.Medium, "node1", "containers on the default bridge cannot talk to each other",
		[]finding.Evidence{ev("default bridge enable_icc", "false", "false"), ev("icc", "false (daemon.json)", "false")}})

	statuses(t, run(t, s, "2.3"), "pass: node1: the daemon logs at level info")
	set(s.Daemon, "log-level", "flag --log-level=debug", "debug")
	statuses(t, run(t, s, "2.3"), "fail: node1: the daemon logs at level debug")
	set(s.Daemon, "log-level", "daemon.json", "error")
	statuses(t, run(t, s, "2.3"), "fail: node1: the daemon logs at level error")

	statuses(t, run(t, s, "2.4"), "pass: node1: the daemon manages iptables")
	set(s.Daemon, "iptables", "flag --iptables=false", "false")
	statuses(t, run(t, s, "2.4"), "fail: node1: the daemon may not change iptables, so container networking rules are left to hand-written firewall rules")

	statuses(t, run(t, s, "2.5"), "pass: node1: no registry beyond loopback is marked insecure")
	s.Engine.InsecureRegistryCIDRs = append(s.Engine.InsecureRegistryCIDRs, "10.0.0.0/8")
	s.Engine.InsecureRegistries = []string{"registry.local:5000"}
	statuses(t, run(t, s, "2.5"), "fail: node1: the daemon talks to 10.0.0.0/8, registry.local:5000 without TLS verification")

	s.Engine.Driver = "aufs"
	statuses(t, run(t, s, "2.6"), "fail: node1: the daemon uses the aufs storage driver")

	statuses(t, run(t, s, "2.8"), "warn: node1: no default ulimits are set, so containers inherit the daemon's own limits")
	set(s.Daemon, "default-ulimits", "daemon.json", `nofile={"Hard":64000,"Name":"nofile","Soft":64000}`)
	statuses(t, run(t, s, "2.8"), `pass: node1: default ulimits are set: nofile={"Hard":64000,"Name":"nofile","Soft":64000}`)

	statuses(t, run(t, s, "2.9"), "fail: node1: user namespace remapping is off: root in a container is root on the host")
	s.Engine.SecurityOptions = []string{"name=seccomp,profile=builtin", "name=userns"}
	statuses(t, run(t, s, "2.9"), "pass: node1: user namespace remapping is on")

	set(s.Daemon, "cgroup-parent", "daemon.json", "/batch")
	statuses(t, run(t, s, "2.10"), "warn: node1: containers are placed under the cgroup /batch; confirm it is intended")

	s.Engine.Driver = "devicemapper"
	set(s.Daemon, "storage-opts", "daemon.json", "dm.basesize=20G")
	statuses(t, run(t, s, "2.11"), "warn: node1: the devicemapper base device size is changed: dm.basesize=20G")

	statuses(t, run(t, s, "2.12"), "fail: node1: no authorization plugin is loaded: every client that reaches the API may do anything")
	s.Engine.AuthorizationPlugins = []string{"opa-docker-authz"}
	statuses(t, run(t, s, "2.12"), "pass: node1: authorization plugins: opa-docker-authz")

	for drv, want := range map[string]string{
		"json-file": `fail: node1: container logs stay on this host (log driver "json-file")`,
		"journald":  "warn: node1: container logs go to journald; confirm the journal is forwarded to a central store",
		"syslog":    "pass: node1: container logs go to the syslog driver",
	} {
		s.Engine.LoggingDriver = drv
		statuses(t, run(t, s, "2.13"), want)
	}

	statuses(t, run(t, s, "2.14"), "fail: node1: containers may gain privileges through setuid binaries unless each one sets no-new-privileges")
	set(s.Daemon, "no-new-privileges", "daemon.json", "true")
	statuses(t, run(t, s, "2.14"), "pass: node1: new containers get no-new-privileges by default")

	statuses(t, run(t, s, "2.15"), "fail: node1: live restore is disabled: containers stop whenever the daemon stops or restarts")
	s.Engine.Swarm.LocalNodeState = "active"
	statuses(t, run(t, s, "2.15"), "skip: node1: not applicable: live restore cannot be used in swarm mode")

	statuses(t, run(t, s, "2.16"), "fail: node1: the userland proxy is enabled (a docker-proxy process per published port)")
	set(s.Daemon, "userland-proxy", "daemon.json", "false")
	statuses(t, run(t, s, "2.16"), "pass: node1: the userland proxy is disabled; published ports are handled by iptables")

	// Engine 23 renamed the default profile "builtin"; it is the default all the same.
	statuses(t, run(t, s, "2.17"), "pass: node1: containers get Docker's default seccomp profile unless they opt out")
	s.Engine.SecurityOptions = []string{"name=seccomp,profile=unconfined"}
	statuses(t, run(t, s, "2.17"), "fail: node1: the daemon-wide seccomp profile is unconfined: containers get no syscall filter by default")
	s.Engine.SecurityOptions = []string{}
	statuses(t, run(t, s, "2.17"), "fail: node1: the daemon does not apply seccomp (the kernel or the build lacks it)")

	s.Engine.ExperimentalBuild = true
	statuses(t, run(t, s, "2.18"), "fail: node1: experimental features are enabled")

	statuses(t, run(t, s, "2.1"), "warn: node1: the daemon runs as root; consider rootless mode where the workloads allow it")
	s.Engine.SecurityOptions = []string{"name=rootless"}
	statuses(t, run(t, s, "2.1"), "pass: node1: the daemon runs in rootless mode")
}

func TestUnreadableDaemonConfig(t *testing.T) {
	s := base()
	s.Daemon.ConfigError = "/etc/docker/daemon.json: parse daemon.json: invalid character '}'"
	for _, id := range []string{"2.3", "2.4", "2.8", "2.10", "2.14", "2.16"} {
		statuses(t, run(t, s, id), "error: node1: cannot read the daemon's configuration: /etc/docker/daemon.json: parse daemon.json: invalid character '}'")
	}
}

func TestConfigChangedSinceStart(t *testing.T) {
	s := base()
	set(s.Daemon, "no-new-privileges", "daemon.json", "true")
	s.Daemon.ConfigChangedSinceStart = true
	expect(t, run(t, s, "2.14"), brief{finding.Pass, finding.Medium, "node1", "new containers get no-new-privileges by default",
		[]finding.Evidence{ev("no-new-privileges", "true (daemon.json); daemon.json changed after dockerd started, so the running daemon may still use an older value", "true")}})
}
