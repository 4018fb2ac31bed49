package cis

import (
	"testing"

	"github.com/dockaudit/dockaudit/internal/facts"
)

func TestSwarmInactive(t *testing.T) {
	s := base()
	for _, id := range []string{"7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "7.7", "7.8", "7.9"} {
		statuses(t, run(t, s, id), "skip: node1: not applicable: swarm mode is not active")
	}
}

func managerSnap() *facts.Snapshot {
	s := base()
	s.Engine.Swarm = facts.SwarmInfo{LocalNodeState: "active", NodeID: "n1", NodeAddr: "10.0.0.1", ControlAvailable: true, Managers: 2, Nodes: 3}
	s.Swarm = &facts.Swarm{Managers: 2, Secrets: 0, AutoLock: false, NodeCertExpiry: "2160h0m0s",
		Nodes: []facts.Node{{ID: "n1", Hostname: "node1", Role: "manager", Leader: true, Addr: "10.0.0.1:2377"}}}
	s.Daemon.Listeners = []facts.Listener{{Network: "tcp6", Address: "[::]:2377"}, {Network: "unix", Address: "/var/run/docker.sock"}}
	s.Networks = append(s.Networks,
		facts.Network{ID: "n-ingress", Name: "ingress", Driver: "overlay", Scope: "swarm"},
		facts.Network{ID: "n-sec", Name: "backend", Driver: "overlay", Scope: "swarm", Options: facts.Labels{{"encrypted", ""}}},
	)
	return s
}

func TestSwarmManager(t *testing.T) {
	s := managerSnap()
	statuses(t, run(t, s, "5.1"), "warn: node1: swarm mode is enabled on this node; confirm it is needed")
	statuses(t, run(t, s, "7.1"), "warn: node1: 2 managers: an even number tolerates no more failures than one fewer")
	statuses(t, run(t, s, "7.2"), "fail: node1: the swarm management port listens on every interface: [::]:2377")
	statuses(t, run(t, s, "7.3"),
		"pass: node1: overlay network backend is encrypted",
		"fail: node1: overlay network ingress is not encrypted")
	statuses(t, run(t, s, "7.4"), "info: node1: the swarm holds no secrets; if services need credentials, give them as Docker secrets rather than environment variables")
	statuses(t, run(t, s, "7.5"), "fail: node1: managers are not auto-locked: the raft keys sit unencrypted on disk")
	statuses(t, run(t, s, "7.7"), "manual: node1: node certificates are valid for 2160h0m0s and renewed automatically; confirm the period suits your policy")

	s.Swarm.Managers, s.Swarm.AutoLock, s.Swarm.Secrets = 3, true, 4
	s.Daemon.Listeners = []facts.Listener{{Network: "tcp", Address: "10.0.0.1:2377"}}
	statuses(t, run(t, s, "7.1"), "pass: node1: 3 managers")
	statuses(t, run(t, s, "7.2"), "pass: node1: the swarm management port is bound to 10.0.0.1:2377")
	statuses(t, run(t, s, "7.4"), "pass: node1: the swarm holds 4 secrets")
	statuses(t, run(t, s, "7.5"), "pass: node1: managers are auto-locked")
}

func TestSwarmWorker(t *testing.T) {
	s := managerSnap()
	s.Engine.Swarm.ControlAvailable, s.Swarm = false, nil
	statuses(t, run(t, s, "7.5"), "skip: node1: this node is a swarm worker: cluster settings can only be read on a manager")
	s.Swarm = &facts.Swarm{Error: "list swarm nodes: GET /nodes: 503 rpc error"}
	statuses(t, run(t, s, "7.1"), "error: node1: list swarm nodes: GET /nodes: 503 rpc error")
}

func TestSprawl(t *testing.T) {
	s := base()
	s.Images = append(s.Images, facts.Image{ID: "sha256:i2", Tags: []string{}}, facts.Image{ID: "sha256:i3", Tags: []string{"old:1"}})
	s.Engine.ContainersTotal, s.Engine.ContainersRunning = 30, 2
	statuses(t, run(t, s, "6.1"), "info: node1: 3 images: 1 used by running containers, 2 not used, 1 untagged")
	statuses(t, run(t, s, "6.2"), "info: node1: 30 containers: 2 running, 28 not running")
}
