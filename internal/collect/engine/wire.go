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
		CgroupVersion: w.CgroupVersion, SecurityOptions: securityOptions(w.SecurityOptions),
		// A daemon's /info always names its data root and storage driver: an answer
		// without them (a null, an empty object) was not an answer.
		Info:               w.DockerRootDir != "" || w.Driver != "",
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

// securityOptions keeps a missing list missing (nil: not known) and writes the
// pre-1.26 form ("seccomp") as the current one ("name=seccomp").
func securityOptions(opts []string) []string {
	if opts == nil {
		return nil
	}
	out := make([]string, 0, len(opts))
	for _, o := range opts {
		if !strings.Contains(o, "=") {
			o = "name=" + o
		}
		out = append(out, o)
	}
	return out
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

// wireContainer is an inspect answer. Its sections are pointers: a daemon (or a proxy
// in front of one) may answer null, and null must become "not known", never a zero
// value a rule would take for a safe setting.
type wireContainer struct {
	ID    string `json:"Id"`
	Name  string
	Image string
	State *struct {
		Status string
		Pid    int
		Health *struct{ Status string }
	}
	AppArmorProfile string
	ProcessLabel    string
	Config          *struct {
		User        string
		Image       string
		Healthcheck *struct{ Test []string }
	}
	HostConfig *struct {
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
	NetworkSettings *struct {
		Ports    map[string][]wirePortBinding
		Networks map[string]struct{ NetworkID string }
	}
}

// facts maps an inspect answer onto facts. binds maps local volumes created as binds to
// the host path they expose; nil when the volume list could not be read (a local
// volume's host path is then unknown).
func (w wireContainer) facts(binds map[string]string) facts.Container {
	c := facts.Container{ID: w.ID, Name: strings.TrimPrefix(w.Name, "/"), ImageID: w.Image,
		AppArmorProfile: w.AppArmorProfile, ProcessLabel: w.ProcessLabel, Unknown: map[facts.Part]string{}}
	unknown := func(p facts.Part, section string) {
		c.Unknown[p] = "the daemon's inspect answer has no " + section + " for this container"
	}
	if st := w.State; st != nil {
		c.State = &facts.ContainerState{Status: st.Status, PID: st.Pid}
		if st.Health != nil {
			c.State.Health = st.Health.Status
		}
	} else {
		unknown(facts.PartState, "State")
	}
	if cf := w.Config; cf != nil {
		c.Config = &facts.ContainerConfig{Image: cf.Image, User: cf.User}
		if cf.Healthcheck != nil {
			c.Config.Healthcheck = cf.Healthcheck.Test
		}
	} else {
		unknown(facts.PartConfig, "Config")
	}
	if h := w.HostConfig; h != nil {
		c.HostConfig = &facts.HostConfig{
			Privileged: h.Privileged, CapAdd: nonNil(h.CapAdd), CapDrop: nonNil(h.CapDrop),
			SecurityOpt: nonNil(h.SecurityOpt), PublishAll: h.PublishAllPorts, NetworkMode: h.NetworkMode, Memory: h.Memory,
			CPUShares: h.CPUShares, NanoCPUs: h.NanoCPUs, CPUQuota: h.CPUQuota, CpusetCpus: h.CpusetCpus,
			ReadonlyRootfs: h.ReadonlyRootfs, RestartPolicy: h.RestartPolicy.Name,
			RestartRetries: h.RestartPolicy.MaximumRetryCount, PidMode: h.PidMode, IpcMode: h.IpcMode,
			UTSMode: h.UTSMode, UsernsMode: h.UsernsMode, CgroupParent: h.CgroupParent,
			Devices: h.Devices, Ulimits: h.Ulimits,
		}
		if c.HostConfig.Devices == nil {
			c.HostConfig.Devices = []facts.Device{}
		}
		if c.HostConfig.Ulimits == nil {
			c.HostConfig.Ulimits = []facts.Ulimit{}
		}
		if h.PidsLimit != nil {
			c.HostConfig.PidsLimit = *h.PidsLimit
		}
	} else {
		unknown(facts.PartHostConfig, "HostConfig")
	}
	if w.Mounts != nil {
		c.Mounts = []facts.Mount{}
	} else {
		unknown(facts.PartMounts, "Mounts")
	}
	for _, m := range w.Mounts {
		fm := facts.Mount{Type: m.Type, Name: m.Name, Source: m.Source, Destination: m.Destination, RW: m.RW, Propagation: m.Propagation}
		switch m.Type {
		case "bind":
			fm.HostPath = m.Source
		case "volume":
			fm.HostPath = binds[m.Name]
			if binds == nil && (m.Driver == "" || m.Driver == "local") {
				fm.HostPathUnknown = "the volume list could not be read, so whether this volume is a bind of a host directory is not known"
			}
		}
		c.Mounts = append(c.Mounts, fm)
	}
	slices.SortFunc(c.Mounts, func(a, b facts.Mount) int { return cmp.Compare(a.Destination, b.Destination) })
	// A running container's NetworkSettings.Ports holds what the daemon actually bound
	// (IPv4 and IPv6 entries); a created or stopped one only has the requested bindings.
	var ports map[string][]wirePortBinding
	switch {
	case w.NetworkSettings != nil && c.Running() && len(w.NetworkSettings.Ports) > 0:
		ports = w.NetworkSettings.Ports
	case w.HostConfig != nil:
		ports = w.HostConfig.PortBindings
	default:
		unknown(facts.PartPorts, "HostConfig (and no bound ports in NetworkSettings)")
	}
	if _, missing := c.Unknown[facts.PartPorts]; !missing {
		c.Ports = []facts.Port{}
	}
	for cport, binds := range ports {
		for _, b := range binds {
			c.Ports = append(c.Ports, facts.Port{ContainerPort: cport, HostIP: b.HostIP, HostPort: b.HostPort})
		}
	}
	slices.SortFunc(c.Ports, func(a, b facts.Port) int {
		return cmp.Or(cmp.Compare(a.ContainerPort, b.ContainerPort), cmp.Compare(a.HostIP, b.HostIP), cmp.Compare(a.HostPort, b.HostPort))
	})
	if w.NetworkSettings != nil {
		c.Networks = []string{}
		for _, n := range w.NetworkSettings.Networks {
			if n.NetworkID != "" { // a never-started container names its network without an ID
				c.Networks = append(c.Networks, n.NetworkID)
			}
		}
		slices.Sort(c.Networks)
	} else {
		unknown(facts.PartNetworks, "NetworkSettings")
	}
	if len(c.Unknown) == 0 {
		c.Unknown = nil
	}
	return c
}

type wireImageSummary struct {
	ID          string `json:"Id"`
	RepoTags    []string
	RepoDigests []string
}

type wireImage struct {
	Created string
	Config  *struct {
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
	Spec *struct {
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
