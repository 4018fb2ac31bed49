package engine

import (
	"cmp"
	"slices"
	"strings"

	"github.com/dockaudit/dockaudit/internal/facts"
)

// The wire types decode only the fields the checks use, from any API version since 1.24.
// Unknown and differently-typed fields elsewhere in a response cannot break decoding.

type wireVersion struct {
	Version    string
	APIVersion string `json:"ApiVersion"`
	Components []struct{ Name, Version string }
}

type wireInfo struct {
	ID                 string
	Name               string
	ServerVersion      string
	OSType             string
	OperatingSystem    string
	Architecture       string
	KernelVersion      string
	Driver             string
	DriverStatus       [][2]string
	DockerRootDir      string
	LoggingDriver      string
	CgroupDriver       string
	CgroupVersion      string
	SecurityOptions    []string
	LiveRestoreEnabled bool
	ExperimentalBuild  bool
	Debug              bool
	DefaultRuntime     string
	Containers         int
	ContainersRunning  int
	Images             int
	Warnings           []string
	RegistryConfig     struct {
		InsecureRegistryCIDRs []string
		IndexConfigs          map[string]struct {
			Name   string
			Secure bool
		}
		Mirrors []string
	}
	Plugins struct {
		Authorization []string
	}
	Swarm struct {
		LocalNodeState   string
		NodeID           string
		NodeAddr         string
		ControlAvailable bool
		Managers         int
		Nodes            int
	}
}

func (w wireInfo) facts(v wireVersion) facts.Engine {
	e := facts.Engine{
		ID: w.ID, Name: w.Name, ServerVersion: cmp.Or(v.Version, w.ServerVersion), APIVersion: v.APIVersion,
		OSType: w.OSType, OperatingSystem: w.OperatingSystem, Architecture: w.Architecture,
		KernelVersion: w.KernelVersion, Driver: w.Driver, DriverStatus: w.DriverStatus,
		DockerRootDir: w.DockerRootDir, LoggingDriver: w.LoggingDriver, CgroupDriver: w.CgroupDriver,
		CgroupVersion: w.CgroupVersion, SecurityOptions: nonNil(w.SecurityOptions),
		LiveRestoreEnabled: w.LiveRestoreEnabled, ExperimentalBuild: w.ExperimentalBuild, Debug: w.Debug,
		InsecureRegistryCIDRs: nonNil(w.RegistryConfig.InsecureRegistryCIDRs),
		InsecureRegistries:    []string{},
		RegistryMirrors:       w.RegistryConfig.Mirrors,
		AuthorizationPlugins:  nonNil(w.Plugins.Authorization),
		Warnings:              w.Warnings,
		DefaultRuntime:        w.DefaultRuntime,
		ContainersTotal:       w.Containers, ContainersRunning: w.ContainersRunning, ImagesTotal: w.Images,
		Swarm: facts.SwarmInfo{
			LocalNodeState: w.Swarm.LocalNodeState, NodeID: w.Swarm.NodeID, NodeAddr: w.Swarm.NodeAddr,
			ControlAvailable: w.Swarm.ControlAvailable, Managers: w.Swarm.Managers, Nodes: w.Swarm.Nodes,
		},
	}
	for _, c := range v.Components {
		if c.Name != "Engine" {
			e.Components = append(e.Components, [2]string{c.Name, c.Version})
		}
	}
	for name, ic := range w.RegistryConfig.IndexConfigs {
		if !ic.Secure {
			e.InsecureRegistries = append(e.InsecureRegistries, cmp.Or(ic.Name, name))
		}
	}
	slices.Sort(e.InsecureRegistries)
	slices.Sort(e.SecurityOptions)
	return e
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type wireContainerSummary struct {
	ID    string `json:"Id"`
	Names []string
	State string
}

type wirePortBinding struct {
	HostIP   string `json:"HostIp"`
	HostPort string
}

type wireContainer struct {
	ID    string `json:"Id"`
	Name  string
	Image string
	State struct {
		Status string
		Pid    int
		Health *struct{ Status string }
	}
	AppArmorProfile string
	ProcessLabel    string
	Config          struct {
		User        string
		Image       string
		Healthcheck *struct{ Test []string }
	}
	HostConfig struct {
		Privileged      bool
		CapAdd          []string
		CapDrop         []string
		SecurityOpt     []string
		NetworkMode     string
		PortBindings    map[string][]wirePortBinding
		PublishAllPorts bool
		Memory          int64
		CPUShares       int64 `json:"CpuShares"`
		NanoCPUs        int64 `json:"NanoCpus"`
		CPUQuota        int64 `json:"CpuQuota"`
		CpusetCpus      string
		ReadonlyRootfs  bool
		RestartPolicy   struct {
			Name              string
			MaximumRetryCount int
		}
		PidMode      string
		IpcMode      string
		UTSMode      string
		UsernsMode   string
		Devices      []facts.Device
		Ulimits      []facts.Ulimit
		CgroupParent string
		PidsLimit    *int64
	}
	Mounts []struct {
		Type        string
		Name        string
		Driver      string
		Source      string
		Destination string
		RW          bool
		Propagation string
	}
	NetworkSettings struct {
		Ports    map[string][]wirePortBinding
		Networks map[string]struct{ NetworkID string }
	}
}

// facts maps an inspect answer onto facts. binds maps local volumes created as binds to
// the host path they expose.
func (w wireContainer) facts(binds map[string]string) facts.Container {
	h := w.HostConfig
	c := facts.Container{
		ID: w.ID, Name: strings.TrimPrefix(w.Name, "/"), Image: w.Config.Image, ImageID: w.Image,
		State: w.State.Status, PID: w.State.Pid, User: w.Config.User,
		Privileged: h.Privileged, CapAdd: nonNil(h.CapAdd), CapDrop: nonNil(h.CapDrop),
		SecurityOpt: nonNil(h.SecurityOpt), AppArmorProfile: w.AppArmorProfile, ProcessLabel: w.ProcessLabel,
		PublishAll: h.PublishAllPorts, NetworkMode: h.NetworkMode, Memory: h.Memory,
		CPUShares: h.CPUShares, NanoCPUs: h.NanoCPUs, CPUQuota: h.CPUQuota, CpusetCpus: h.CpusetCpus,
		ReadonlyRootfs: h.ReadonlyRootfs, RestartPolicy: h.RestartPolicy.Name,
		RestartRetries: h.RestartPolicy.MaximumRetryCount, PidMode: h.PidMode, IpcMode: h.IpcMode,
		UTSMode: h.UTSMode, UsernsMode: h.UsernsMode, CgroupParent: h.CgroupParent,
		Devices: h.Devices, Ulimits: h.Ulimits, Mounts: []facts.Mount{}, Ports: []facts.Port{},
		Networks: []string{},
	}
	if c.Devices == nil {
		c.Devices = []facts.Device{}
	}
	if c.Ulimits == nil {
		c.Ulimits = []facts.Ulimit{}
	}
	if h.PidsLimit != nil {
		c.PidsLimit = *h.PidsLimit
	}
	if w.State.Health != nil {
		c.Health = w.State.Health.Status
	}
	if w.Config.Healthcheck != nil {
		c.Healthcheck = w.Config.Healthcheck.Test
	}
	for _, m := range w.Mounts {
		fm := facts.Mount{Type: m.Type, Name: m.Name, Source: m.Source, Destination: m.Destination, RW: m.RW, Propagation: m.Propagation}
		switch m.Type {
		case "bind":
			fm.HostPath = m.Source
		case "volume":
			fm.HostPath = binds[m.Name]
		}
		c.Mounts = append(c.Mounts, fm)
	}
	slices.SortFunc(c.Mounts, func(a, b facts.Mount) int { return cmp.Compare(a.Destination, b.Destination) })
	// A running container's NetworkSettings.Ports holds what the daemon actually bound
	// (IPv4 and IPv6 entries); a created or stopped one only has the requested bindings.
	ports := w.NetworkSettings.Ports
	if !c.Running() || len(ports) == 0 {
		ports = h.PortBindings
	}
	for cport, binds := range ports {
		for _, b := range binds {
			c.Ports = append(c.Ports, facts.Port{ContainerPort: cport, HostIP: b.HostIP, HostPort: b.HostPort})
		}
	}
	slices.SortFunc(c.Ports, func(a, b facts.Port) int {
		return cmp.Or(cmp.Compare(a.ContainerPort, b.ContainerPort), cmp.Compare(a.HostIP, b.HostIP), cmp.Compare(a.HostPort, b.HostPort))
	})
	for _, n := range w.NetworkSettings.Networks {
		if n.NetworkID != "" { // a never-started container names its network without an ID
			c.Networks = append(c.Networks, n.NetworkID)
		}
	}
	slices.Sort(c.Networks)
	return c
}

type wireImageSummary struct {
	ID          string `json:"Id"`
	RepoTags    []string
	RepoDigests []string
}

type wireImage struct {
	Created string
	Config  struct {
		User        string
		Env         []string
		Healthcheck *struct{ Test []string }
	}
}

type wireHistory struct {
	CreatedBy string
	Size      int64
}

type wireVolumes struct {
	Volumes []struct {
		Name    string
		Driver  string
		Options map[string]string
	}
}

type wireNetwork struct {
	ID      string `json:"Id"`
	Name    string
	Driver  string
	Scope   string
	Options map[string]string
}

type wireSwarm struct {
	Spec struct {
		EncryptionConfig struct{ AutoLockManagers bool }
		CAConfig         struct{ NodeCertExpiry int64 }
	}
	RootRotationInProgress bool
}

type wireNode struct {
	ID            string
	Description   struct{ Hostname string }
	Spec          struct{ Role string }
	Status        struct{ Addr string }
	ManagerStatus *struct {
		Leader bool
		Addr   string
	}
}
