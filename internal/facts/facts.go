package facts

import (
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SchemaVersion changes whenever a field changes meaning; --from-facts refuses other versions.
const SchemaVersion = 2

// Snapshot is everything the host audit looked at, collected once.
type Snapshot struct {
	SchemaVersion int       `json:"schemaVersion"`
	CollectedAt   time.Time `json:"collectedAt"`
	// Endpoint is the daemon address the collector talked to (DOCKER_HOST or the default socket).
	Endpoint string `json:"endpoint"`
	// DockerContext is the docker CLI context the endpoint came from, when one was
	// named (--context, DOCKER_CONTEXT, the current context); EndpointFrom says what
	// chose the endpoint (--host, DOCKER_HOST, a context, the default socket).
	DockerContext string `json:"dockerContext,omitempty"`
	EndpointFrom  string `json:"endpointFrom,omitempty"`
	// IncludesStopped is true when created and stopped containers were collected too (--all).
	IncludesStopped bool `json:"includesStopped"`

	Engine Engine `json:"engine"`
	// HostAccess says whether the host's files and processes were readable. When it is false,
	// Daemon and Host are nil and host-only checks report skip with HostAccess.Reason.
	HostAccess HostAccess     `json:"hostAccess"`
	Daemon     *DaemonProcess `json:"daemon,omitempty"`
	Host       *Host          `json:"host,omitempty"`
	// Client is the auditing client's environment; nil when not recorded.
	Client *Client `json:"client,omitempty"`

	Containers []Container `json:"containers"`
	Images     []Image     `json:"images"`
	Networks   []Network   `json:"networks"`
	Volumes    []Volume    `json:"volumes"`
	Swarm      *Swarm      `json:"swarm,omitempty"`
	// Endpoints are daemon addresses probed over the network (dockaudit endpoint, and
	// the daemon's TCP listeners under dockaudit host); Registries registries probed.
	Endpoints  []Endpoint `json:"endpoints,omitempty"`
	Registries []Registry `json:"registries,omitempty"`
	// Profiles are seccomp profiles: files dockaudit seccomp lint was given, or the
	// custom profiles of the audited containers and daemon.
	Profiles []Profile `json:"profiles,omitempty"`
	// Notes are things the collectors could not read that weaken some checks, in words
	// (the volume list failed, so volume binds were not resolved).
	Notes []string `json:"notes,omitempty"`
	// NoDaemon says why no daemon was asked at all (dockaudit config reads files): it
	// is the reason the engine and its security options are missing.
	NoDaemon string `json:"noDaemon,omitempty"`
}

// Missing reports whether a daemon- or client-wide part of the facts is missing, and
// why.
func (s *Snapshot) Missing(p Part) (string, bool) {
	if s.NoDaemon != "" && (p == PartEngine || p == PartSecurityOptions) {
		return s.NoDaemon, true
	}
	switch p {
	case PartEngine:
		if !s.Engine.Info || s.Engine.ServerVersion == "" {
			return "the daemon's /info and /version were not read", true
		}
	case PartSecurityOptions:
		if s.Engine.SecurityOptions == nil {
			return "the daemon's /info gave no SecurityOptions", true
		}
	case PartDaemonNetworks:
		if s.Networks == nil {
			return "the daemon's networks were not listed", true
		}
	case PartClient:
		if s.Client == nil {
			return "the auditing client's environment was not recorded", true
		}
	}
	return "", false
}

// Volume is one daemon volume.
type Volume struct {
	Name    string `json:"name"`
	Driver  string `json:"driver"`
	Options Labels `json:"options,omitempty"`
}

// HostAccess records whether the audit runs on the daemon's host.
type HostAccess struct {
	Local  bool   `json:"local"`
	Root   string `json:"root,omitempty"`   // --host-root the files were read under
	Reason string `json:"reason,omitempty"` // why not, when Local is false
}

// Engine is the daemon as the Engine API describes it (/info and /version).
type Engine struct {
	// Info says /info was answered (with a data root and a storage driver): the rest
	// of the engine's facts are known. Without it, rules that need them skip.
	Info                  bool        `json:"info"`
	ID                    string      `json:"id"`
	Name                  string      `json:"name"`
	ServerVersion         string      `json:"serverVersion"`
	Components            [][2]string `json:"components,omitempty"` // name and version: containerd, runc, …
	APIVersion            string      `json:"apiVersion"`
	OSType                string      `json:"osType"`
	OperatingSystem       string      `json:"operatingSystem"`
	Architecture          string      `json:"architecture"`
	KernelVersion         string      `json:"kernelVersion"`
	Driver                string      `json:"driver"`
	DriverStatus          [][2]string `json:"driverStatus,omitempty"`
	DockerRootDir         string      `json:"dockerRootDir"`
	LoggingDriver         string      `json:"loggingDriver"`
	CgroupDriver          string      `json:"cgroupDriver"`
	CgroupVersion         string      `json:"cgroupVersion"`
	SecurityOptions       []string    `json:"securityOptions"`
	LiveRestoreEnabled    bool        `json:"liveRestoreEnabled"`
	ExperimentalBuild     bool        `json:"experimentalBuild"`
	Debug                 bool        `json:"debug"`
	InsecureRegistryCIDRs []string    `json:"insecureRegistryCIDRs"`
	InsecureRegistries    []string    `json:"insecureRegistries"` // index names marked not secure
	RegistryMirrors       []string    `json:"registryMirrors,omitempty"`
	AuthorizationPlugins  []string    `json:"authorizationPlugins"`
	Warnings              []string    `json:"warnings,omitempty"`
	DefaultRuntime        string      `json:"defaultRuntime"`
	ContainersTotal       int         `json:"containersTotal"`
	ContainersRunning     int         `json:"containersRunning"`
	ImagesTotal           int         `json:"imagesTotal"`
	Swarm                 SwarmInfo   `json:"swarm"`
}

// SecurityOption returns the key=value pairs of the /info SecurityOptions entry called name
// ("seccomp", "apparmor", "selinux", "userns", "rootless"), and whether it is there.
func (e Engine) SecurityOption(name string) (map[string]string, bool) {
	for _, opt := range e.SecurityOptions {
		kv := map[string]string{}
		for _, part := range strings.Split(opt, ",") {
			k, v, _ := strings.Cut(part, "=")
			kv[k] = v
		}
		if kv["name"] == name {
			return kv, true
		}
	}
	return nil, false
}

// SwarmInfo is the swarm part of /info.
type SwarmInfo struct {
	LocalNodeState   string `json:"localNodeState"` // inactive, pending, active, error, locked
	NodeID           string `json:"nodeID,omitempty"`
	NodeAddr         string `json:"nodeAddr,omitempty"`
	ControlAvailable bool   `json:"controlAvailable"`
	Managers         int    `json:"managers,omitempty"`
	Nodes            int    `json:"nodes,omitempty"`
}

// Active reports whether this node takes part in a swarm.
func (s SwarmInfo) Active() bool { return s.LocalNodeState == "active" || s.LocalNodeState == "locked" }

// DaemonProcess is the dockerd process behind the socket, read from the host.
type DaemonProcess struct {
	PID     int      `json:"pid"`
	UID     int      `json:"uid"`
	Exe     string   `json:"exe"`     // resolved /proc/PID/exe
	Args    []string `json:"args"`    // argv
	FoundBy string   `json:"foundBy"` // how PID was tied to the socket
	// ConfigFile is the daemon.json that daemon reads: its --config-file, or the default path.
	ConfigFile       string `json:"configFile"`
	ConfigFileExists bool   `json:"configFileExists"`
	ConfigError      string `json:"configError,omitempty"`
	// Config is the effective configuration: flags and daemon.json merged, keyed by the
	// daemon.json name of each option. Options set nowhere are absent.
	Config map[string]Setting `json:"config"`
	// TLS is the daemon's effective TLS setup for its TCP listeners.
	TLS TLS `json:"tls"`
	// TLSMaterial is the daemon's certificates, read from its host (nil without TLS
	// files).
	TLSMaterial *TLSMaterial `json:"tlsMaterial,omitempty"`
	// ContainerdSocket is the containerd socket this daemon uses.
	ContainerdSocket string `json:"containerdSocket"`
	// Listeners are the sockets this process is listening on (TCP and unix); nil,
	// with ListenersError, when they could not be read.
	Listeners      []Listener `json:"listeners"`
	ListenersError string     `json:"listenersError,omitempty"`
	// DataRootMount is the mount that holds DockerRootDir, in the daemon's mount namespace.
	DataRootMount *Mountpoint `json:"dataRootMount,omitempty"`
	// RootMount is the mount of "/" in the same namespace, to tell a bind mount of a
	// directory of the root filesystem from a separate filesystem.
	RootMount *Mountpoint `json:"rootMount,omitempty"`
	// MountsError says why the daemon's mount table could not be read.
	MountsError string `json:"mountsError,omitempty"`
	// ConfigChangedSinceStart is set when daemon.json was modified after the daemon
	// started: the running daemon may still use the old settings.
	ConfigChangedSinceStart bool `json:"configChangedSinceStart,omitempty"`
}

// Setting is one effective daemon option and where it came from.
type Setting struct {
	Values []string `json:"values"`
	Source string   `json:"source"` // "flag --icc=false", "daemon.json"
}

// Value is the last value of the setting (the one that wins for scalar options).
func (s Setting) Value() string {
	if len(s.Values) == 0 {
		return ""
	}
	return s.Values[len(s.Values)-1]
}

// Lookup returns an option of the effective configuration.
func (d *DaemonProcess) Lookup(name string) (Setting, bool) {
	if d == nil {
		return Setting{}, false
	}
	s, ok := d.Config[name]
	return s, ok
}

// Bool returns a boolean option, or def when it is unset or not a boolean.
func (d *DaemonProcess) Bool(name string, def bool) bool {
	s, ok := d.Lookup(name)
	if !ok {
		return def
	}
	switch strings.ToLower(s.Value()) {
	case "true", "1":
		return true
	case "false", "0":
		return false
	}
	return def
}

// TLS is how the daemon secures TCP: whether TLS is on, whether client certificates are
// verified, and the files it uses (dockerd's defaults filled in when TLS is on).
type TLS struct {
	Enabled bool   `json:"enabled"`
	Verify  bool   `json:"verify"`
	CACert  string `json:"cacert,omitempty"`
	Cert    string `json:"cert,omitempty"`
	Key     string `json:"key,omitempty"`
}

// Listener is a listening socket of the daemon process.
type Listener struct {
	Network string `json:"network"` // tcp, tcp6, unix
	Address string `json:"address"` // ip:port, [ip]:port, or a path
}

// Mountpoint is one line of mountinfo.
type Mountpoint struct {
	MountPoint string `json:"mountPoint"`
	Source     string `json:"source"`
	FSType     string `json:"fsType"`
	Device     string `json:"device"` // major:minor of the filesystem
	Root       string `json:"root"`   // the directory of that filesystem mounted here ("/" unless a bind mount)
}

// Host is what was read from the daemon's host filesystem.
type Host struct {
	Hostname string `json:"hostname"`
	// Files holds every file the checks look at, keyed by absolute host path. A file that
	// does not exist is present with Exists false.
	Files map[string]File `json:"files"`
	// Locations of files whose path differs between distributions, resolved once.
	Paths HostPaths `json:"paths"`
	// CertsD lists every file under /etc/docker/certs.d.
	CertsD []string `json:"certsD"`

	Audit       Audit       `json:"audit"`
	DockerGroup DockerGroup `json:"dockerGroup"`
	AppArmor    LSM         `json:"apparmor"`
	SELinux     LSM         `json:"selinux"`
}

// HostPaths are where the daemon's parts live on this host (zero when not found).
type HostPaths struct {
	DockerService    Located `json:"dockerService"`
	DockerSocketUnit Located `json:"dockerSocketUnit"`
	DockerSock       Located `json:"dockerSock"`
	Containerd       Located `json:"containerd"`
	ContainerdShim   Located `json:"containerdShim"`
	ShimRuncV1       Located `json:"shimRuncV1"`
	ShimRuncV2       Located `json:"shimRuncV2"`
	Runc             Located `json:"runc"`
}

// Located is a path found on the host and, when it is a symlink, the path it resolves to.
type Located struct {
	Path string `json:"path,omitempty"`
	Real string `json:"real,omitempty"`
}

// Found reports whether the path was found.
func (l Located) Found() bool { return l.Path != "" }

// File is the stat of one host path, symlinks followed (a link to daemon.json is judged
// by the file it points to).
type File struct {
	Path   string `json:"path"`
	Real   string `json:"real,omitempty"` // Path with symlinks resolved (audit watches follow inodes)
	Exists bool   `json:"exists"`
	Type   string `json:"type,omitempty"` // file, dir, socket, other
	Mode   uint32 `json:"mode,omitempty"` // permission bits only (0o7777)
	UID    int    `json:"uid"`
	GID    int    `json:"gid"`
	User   string `json:"user,omitempty"`  // name of UID, if the host's passwd has it
	Group  string `json:"group,omitempty"` // name of GID
	Err    string `json:"error,omitempty"` // could not stat (other than not existing)
}

// Audit is the host's audit configuration.
type Audit struct {
	// Loaded are the rules in the kernel (auditctl -l); nil when they could not be listed.
	Loaded []string `json:"loaded"`
	// LoadedError says why the loaded rules could not be listed.
	LoadedError string `json:"loadedError,omitempty"`
	// Files are the rules in /etc/audit/audit.rules and /etc/audit/rules.d/*.rules.
	Files []string `json:"files"`
	// Resolved maps each watched path of those rules to what the kernel watches: its
	// parent directories resolved, the last component as written (a watch on a symlink
	// watches the link). Paths that resolve to themselves are left out.
	Resolved map[string]string `json:"resolved,omitempty"`
}

// AuditWatch is one path an audit rule watches.
type AuditWatch struct {
	Path      string
	Recursive bool // -w on a directory and -F dir= cover what is below
}

// ParseAuditRule returns the paths an audit rule watches: "-w PATH", "-F path=PATH"
// (exact) and "-F dir=DIR" (recursive).
func ParseAuditRule(rule string) []AuditWatch {
	var out []AuditWatch
	f := strings.Fields(rule)
	for i := 0; i < len(f); i++ {
		switch {
		case f[i] == "-w" && i+1 < len(f):
			out = append(out, AuditWatch{Path: path.Clean(f[i+1]), Recursive: true})
			i++
		case strings.HasPrefix(f[i], "-w") && len(f[i]) > 2:
			out = append(out, AuditWatch{Path: path.Clean(f[i][2:]), Recursive: true})
		case f[i] == "-F" && i+1 < len(f):
			k, v, _ := strings.Cut(f[i+1], "=")
			switch k {
			case "path":
				out = append(out, AuditWatch{Path: path.Clean(v)})
			case "dir":
				out = append(out, AuditWatch{Path: path.Clean(v), Recursive: true})
			}
			i++
		}
	}
	return out
}

// DockerGroup is the group that owns the daemon's socket, and so who can use the
// daemon, next to the group the daemon was told to give it (-G, "group").
type DockerGroup struct {
	GID     int      `json:"gid"`     // the socket's group (-1 when the socket was not found)
	Name    string   `json:"name"`    // its name in the host's /etc/group, "" when not there
	Exists  bool     `json:"exists"`  // found in /etc/group
	Members []string `json:"members"` // secondary members and users whose primary group it is, sorted

	Configured       string `json:"configured"` // the daemon's group option, "docker" by default
	ConfiguredGID    int    `json:"configuredGID"`
	ConfiguredExists bool   `json:"configuredExists"`
	// Error says why the host's accounts could not be read: then nothing above is known.
	Error string `json:"error,omitempty"`
}

// LSM is whether a Linux security module is active on the host.
type LSM struct {
	Enabled  bool   `json:"enabled"`
	Evidence string `json:"evidence"`
}

// Client is the auditing client's own environment.
type Client struct {
	ContentTrust string `json:"contentTrust"` // DOCKER_CONTENT_TRUST
	// DockerHost, TLSVerify and CertPath are the client's DOCKER_HOST,
	// DOCKER_TLS_VERIFY and DOCKER_CERT_PATH.
	DockerHost string `json:"dockerHost,omitempty"`
	TLSVerify  string `json:"tlsVerify,omitempty"`
	CertPath   string `json:"certPath,omitempty"`
	// Context is the named docker CLI context the client uses ("" for DOCKER_HOST or
	// the default socket), DockerHost then its endpoint, and ContextTLS its TLS:
	// "verified" (a CA, or the system roots), "unverified" (SkipTLSVerify) or "none".
	Context    string `json:"context,omitempty"`
	ContextTLS string `json:"contextTLS,omitempty"`
	// Config is the docker CLI configuration's credential setup, when it was read.
	Config *ClientConfig `json:"config,omitempty"`
}

// ClientConfig is what the docker CLI's config.json says about credentials. Values
// are never kept: only which registries store what.
type ClientConfig struct {
	Path string `json:"path"`
	// PlaintextAuths are registries whose credentials are stored in the file itself
	// (an "auth", "password" or "identitytoken" entry), not in a credential store.
	PlaintextAuths []string `json:"plaintextAuths"`
	CredsStore     string   `json:"credsStore,omitempty"`
	CredHelpers    []string `json:"credHelpers,omitempty"` // registries with a helper
	Mode           uint32   `json:"mode"`
	// Error says why the file, which is there, could not be read.
	Error string `json:"error,omitempty"`
}

// Container is one container, from a single inspect plus its process list.
//
// What the inspect answer holds in sections is kept in sections: State, Config and
// HostConfig are nil, and Mounts, Ports and Networks are nil slices, when the daemon
// did not say (a null section) or a facts file does not hold them. Absence is never a
// safe value: a rule that needs a part declares it (check.Check.Needs) and reports
// skip with the reason, which Unknown keeps when the collector knew it.
type Container struct {
	ID      string           `json:"id"`
	Name    string           `json:"name"`
	ImageID string           `json:"imageID"`
	State   *ContainerState  `json:"state,omitempty"`
	Config  *ContainerConfig `json:"config,omitempty"`
	// HostConfig is what the container was created with: the requested options.
	HostConfig *HostConfig `json:"hostConfig,omitempty"`
	// AppArmorProfile and ProcessLabel are what the daemon applied ("" for none).
	AppArmorProfile string   `json:"apparmorProfile"`
	ProcessLabel    string   `json:"processLabel"`
	Mounts          []Mount  `json:"mounts"`
	Ports           []Port   `json:"ports"`
	Networks        []string `json:"networks"` // network IDs the container is attached to
	// Processes is the container's process list; ProcessesError why it is missing.
	Processes      *ProcessList `json:"processes,omitempty"`
	ProcessesError string       `json:"processesError,omitempty"`
	// Confinement is read from procfs for running containers on the daemon's host.
	Confinement *Confinement `json:"confinement,omitempty"`
	// Unknown says, by part, why a part is missing.
	Unknown map[Part]string `json:"unknown,omitempty"`
	// Error is set when the container could not be read (it vanished mid-audit, say).
	Error string `json:"error,omitempty"`
}

// ContainerState is the inspect answer's State.
type ContainerState struct {
	Status string `json:"status"`        // created, running, paused, restarting, exited, dead, removed
	PID    int    `json:"pid,omitempty"` // the init process, in the daemon's PID namespace
	Health string `json:"health,omitempty"`
}

// ContainerConfig is the part of the inspect answer's Config the checks read.
type ContainerConfig struct {
	Image       string   `json:"image"` // the image name the container was created from
	User        string   `json:"user"`
	Healthcheck []string `json:"healthcheck,omitempty"` // Healthcheck.Test
}

// HostConfig is the part of the inspect answer's HostConfig the checks read.
type HostConfig struct {
	Privileged     bool     `json:"privileged"`
	CapAdd         []string `json:"capAdd"`
	CapDrop        []string `json:"capDrop"`
	SecurityOpt    []string `json:"securityOpt"`
	PublishAll     bool     `json:"publishAll"`
	NetworkMode    string   `json:"networkMode"`
	Memory         int64    `json:"memory"`
	CPUShares      int64    `json:"cpuShares"`
	NanoCPUs       int64    `json:"nanoCPUs"`
	CPUQuota       int64    `json:"cpuQuota"`
	CpusetCpus     string   `json:"cpusetCpus,omitempty"`
	ReadonlyRootfs bool     `json:"readonlyRootfs"`
	RestartPolicy  string   `json:"restartPolicy"`
	RestartRetries int      `json:"restartRetries"`
	PidMode        string   `json:"pidMode"`
	IpcMode        string   `json:"ipcMode"`
	UTSMode        string   `json:"utsMode"`
	UsernsMode     string   `json:"usernsMode"`
	Devices        []Device `json:"devices"`
	Ulimits        []Ulimit `json:"ulimits"`
	CgroupParent   string   `json:"cgroupParent"`
	PidsLimit      int64    `json:"pidsLimit"` // 0 or negative: unlimited
}

// Part names a part of a container's facts that can be missing.
type Part string

// The parts of the facts a rule can need: of a container, of an image, or of the
// snapshot (the daemon and the client).
const (
	PartEngine          Part = "engine"          // the daemon's /info and /version
	PartSecurityOptions Part = "securityOptions" // /info SecurityOptions
	PartDaemonNetworks  Part = "daemonNetworks"  // the daemon's network list
	PartClient          Part = "client"          // the auditing client's environment
	PartImageConfig     Part = "imageConfig"
	PartHistory         Part = "history"
	PartContent         Part = "content" // what an image's layers hold
	PartRef             Part = "ref"     // how the user named an image
	PartBuildContext    Part = "buildContext"

	PartState      Part = "state"
	PartConfig     Part = "config"
	PartHostConfig Part = "hostConfig"
	PartMounts     Part = "mounts"
	PartPorts      Part = "ports"
	PartNetworks   Part = "networks"
	// PartUser and PartHealthcheck are a container's user and health check when its
	// configuration is otherwise known but these come from an image not read (a Compose
	// service that sets neither).
	PartUser        Part = "user"
	PartHealthcheck Part = "healthcheck"
)

// Missing reports whether a part is missing and why.
func (c *Container) Missing(p Part) (string, bool) {
	var missing bool
	switch p {
	case PartState:
		missing = c.State == nil
	case PartConfig:
		missing = c.Config == nil
	case PartHostConfig:
		missing = c.HostConfig == nil
	case PartMounts:
		missing = c.Mounts == nil
	case PartPorts:
		missing = c.Ports == nil
	case PartNetworks:
		missing = c.Networks == nil
	case PartUser, PartHealthcheck:
		missing = c.Config == nil || c.Unknown[p] != ""
	}
	if !missing {
		return "", false
	}
	if why := c.Unknown[p]; why != "" {
		return why, true
	}
	return "the facts hold no " + string(p) + " for this container", true
}

// Clone is a deep copy: a container whose sections can be changed without changing
// the original's.
func (c Container) Clone() Container {
	if c.State != nil {
		st := *c.State
		c.State = &st
	}
	if c.Config != nil {
		cf := *c.Config
		cf.Healthcheck = slices.Clone(cf.Healthcheck)
		c.Config = &cf
	}
	if c.HostConfig != nil {
		h := *c.HostConfig
		h.CapAdd, h.CapDrop, h.SecurityOpt = slices.Clone(h.CapAdd), slices.Clone(h.CapDrop), slices.Clone(h.SecurityOpt)
		h.Devices, h.Ulimits = slices.Clone(h.Devices), slices.Clone(h.Ulimits)
		c.HostConfig = &h
	}
	c.Mounts, c.Ports, c.Networks = slices.Clone(c.Mounts), slices.Clone(c.Ports), slices.Clone(c.Networks)
	if c.Unknown != nil {
		c.Unknown = maps.Clone(c.Unknown)
	}
	return c
}

// Status is the container's state, "" when it is not known.
func (c Container) Status() string {
	if c.State == nil {
		return ""
	}
	return c.State.Status
}

// PID is the container's init process, 0 when not running or not known.
func (c Container) PID() int {
	if c.State == nil {
		return 0
	}
	return c.State.PID
}

// Running reports whether the container's processes exist (false when its state is
// not known).
func (c Container) Running() bool { return RunningState(c.Status()) }

// RunningState reports whether a container state means its processes exist.
func RunningState(s string) bool { return s == "running" || s == "paused" || s == "restarting" }

// VersionLess compares dotted version numbers numerically ("1.9" < "1.41").
func VersionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// SecurityOptValues returns the values of a --security-opt key ("seccomp", "apparmor",
// "label", "no-new-privileges"), accepting both key=value and the legacy key:value.
// A bare key (no-new-privileges) returns "true".
func (c Container) SecurityOptValues(key string) []string {
	if c.HostConfig == nil {
		return nil
	}
	var out []string
	for _, opt := range c.HostConfig.SecurityOpt {
		k, v, ok := strings.Cut(opt, "=")
		if !ok {
			k, v, ok = strings.Cut(opt, ":")
		}
		if k != key {
			continue
		}
		if !ok {
			v = "true"
		}
		out = append(out, v)
	}
	return out
}

// Labels is a sorted list of label pairs (a slice, so the facts file is stable).
type Labels [][2]string

// Get returns a label's value.
func (l Labels) Get(k string) (string, bool) {
	i := slices.IndexFunc(l, func(p [2]string) bool { return p[0] == k })
	if i < 0 {
		return "", false
	}
	return l[i][1], true
}

// Mount is one mount of a container.
type Mount struct {
	Type        string `json:"type"`           // bind, volume, tmpfs, npipe
	Name        string `json:"name,omitempty"` // the volume's name, for volumes
	Source      string `json:"source"`
	Destination string `json:"destination"`
	RW          bool   `json:"rw"`
	Propagation string `json:"propagation,omitempty"`
	// HostPath is the host path the mount exposes: the source of a bind mount, or the
	// device of a local volume created as a bind (--opt type=none --opt o=bind
	// --opt device=/etc). Empty for ordinary volumes and tmpfs.
	HostPath string `json:"hostPath,omitempty"`
	// RealHostPath is HostPath with symlinks resolved on the daemon's host, as the
	// kernel resolved them when it made the mount. Only set with host access.
	RealHostPath string `json:"realHostPath,omitempty"`
	// HostPathUnknown says why HostPath may be missing: a local volume whose options
	// could not be read may be a bind of any host directory.
	HostPathUnknown string `json:"hostPathUnknown,omitempty"`
}

// Port is one published port. HostIP "" means every address (IPv4 and IPv6).
type Port struct {
	ContainerPort string `json:"containerPort"` // "80/tcp"
	HostIP        string `json:"hostIP"`
	HostPort      string `json:"hostPort"` // a number, a range "8000-8010", or "" (random)
}

// Device is a host device passed to a container.
type Device struct {
	PathOnHost        string `json:"pathOnHost"`
	PathInContainer   string `json:"pathInContainer"`
	CgroupPermissions string `json:"cgroupPermissions"`
}

// Ulimit is one resource limit of a container.
type Ulimit struct {
	Name string `json:"name"`
	Soft int64  `json:"soft"`
	Hard int64  `json:"hard"`
}

// ProcessList is a container's processes: the processes in its cgroup, listed by the
// Engine API's top, or read from procfs when the audit runs on the daemon's host.
type ProcessList struct {
	Source    string     `json:"source"` // "engine API top" or "procfs"
	Titles    []string   `json:"titles"`
	Processes [][]string `json:"processes"`
}

// Commands returns the command column of every process.
func (p *ProcessList) Commands() []string {
	if p == nil {
		return nil
	}
	col := -1
	for i, t := range p.Titles {
		if t == "CMD" || t == "COMMAND" || t == "ARGS" {
			col = i
		}
	}
	if col < 0 {
		return nil
	}
	out := make([]string, 0, len(p.Processes))
	for _, row := range p.Processes {
		if col < len(row) {
			out = append(out, row[col])
		}
	}
	return out
}

// Image is one image of the daemon, listed once per image ID.
//
// Config is nil, and History a nil slice, when they were not read (a daemon's null
// answer, a facts file without them); rules that need them skip.
type Image struct {
	ID      string       `json:"id"`
	Tags    []string     `json:"tags"`
	Digests []string     `json:"digests"`
	Created string       `json:"created,omitempty"`
	Config  *ImageConfig `json:"config,omitempty"`
	History []History    `json:"history"`
	Error   string       `json:"error,omitempty"`
	// Unknown says, by part, why a part is missing.
	Unknown map[Part]string `json:"unknown,omitempty"`

	// The rest is set by dockaudit image, which reads the image itself.
	Source   string       `json:"source,omitempty"` // daemon, docker-archive, oci, registry, dir
	Ref      string       `json:"ref,omitempty"`    // as the user wrote it
	Digest   string       `json:"digest,omitempty"` // manifest digest, when the source has one
	Platform string       `json:"platform,omitempty"`
	Layers   []ImageLayer `json:"layers,omitempty"`
	// Content is what the layers hold; nil when they were not read (dockaudit host).
	Content *ImageContent `json:"content,omitempty"`
	// VulnDB says whether and against what the packages were matched; Vulns is what
	// matched.
	VulnDB *VulnDB `json:"vulnDB,omitempty"`
	Vulns  []Vuln  `json:"vulns,omitempty"`
	// Annotations are the image manifest's (registry and OCI layout images).
	Annotations map[string]string `json:"annotations,omitempty"`
	// Base is what the image says it is built on, when it says; Trust what was found
	// of its signatures (nil: not looked for).
	Base  *Base  `json:"base,omitempty"`
	Trust *Trust `json:"trust,omitempty"`
	// Context is what the Dockerfile's COPY and ADD take from the build context (dockaudit
	// config); nil for a built image, which keeps no build context.
	Context *BuildContext `json:"context,omitempty"`
}

// BuildContext is a build context as the builder receives it: the files under its
// root that .dockerignore does not exclude, and what each COPY or ADD takes from it.
type BuildContext struct {
	Root string `json:"root"`
	// Assumed says the root is the Dockerfile's directory because nothing named one
	// (docker build's usual `docker build .` beside it).
	Assumed bool `json:"assumed,omitempty"`
	// IgnoreFile is the .dockerignore applied ("" when there is none).
	IgnoreFile string        `json:"ignoreFile,omitempty"`
	Copies     []ContextCopy `json:"copies"`
	// Error says why the context could not be read: the copies are then unknown.
	Error string `json:"error,omitempty"`
}

// ContextCopy is one COPY or ADD from the build context.
type ContextCopy struct {
	File   string `json:"file"` // the Dockerfile
	Line   int    `json:"line"`
	Column int    `json:"column,omitempty"`
	// Instruction is the instruction as written, Stage the stage it is in ("" for an
	// unnamed one), Final whether that stage is the built image or one it is built on.
	Instruction string `json:"instruction"`
	Stage       string `json:"stage,omitempty"`
	Final       bool   `json:"final"`
	// Files is how many context files it takes; Secrets the credentials among them
	// (values never kept), GitDirs the .git directories it takes.
	Files   int      `json:"files"`
	Secrets []Secret `json:"secrets,omitempty"`
	GitDirs []string `json:"gitDirs,omitempty"`
	// Unscanned are files it takes that could not be scanned (over 1 GiB, unreadable,
	// an archive ADD unpacks), each with why when it is not the size.
	Unscanned []string `json:"unscanned,omitempty"`
	// Unresolved says why what it takes is not known (a source naming a build
	// argument with no default).
	Unresolved string `json:"unresolved,omitempty"`
}

// Base is the image an image says it was built on: the OCI annotations
// org.opencontainers.image.base.name and .base.digest (BuildKit and other builders
// write them), in the manifest or as configuration labels.
type Base struct {
	Name   string `json:"name"`
	Digest string `json:"digest,omitempty"`
	From   string `json:"from"` // "manifest annotation" or "label"
}

// Trust is what was found of an image's signatures, and against what they were
// verified.
type Trust struct {
	// Looked says whether signatures were looked for; Why says why not (an image read
	// from a file or a daemon, where no signature travels) or why the lookup failed.
	Looked bool   `json:"looked"`
	Why    string `json:"why,omitempty"`
	// Policy is what signatures were verified against ("" when nothing was given):
	// "key cosign.pub (sha256:…)".
	Policy     []string    `json:"policy,omitempty"`
	Signatures []Signature `json:"signatures,omitempty"`
	// Attestations are the in-toto statements found for the image (BuildKit's
	// attestation manifests in its index: SLSA provenance, SBOMs).
	Attestations []Attestation `json:"attestations,omitempty"`
	// IndexVerified says a verified signature covers the index that lists the
	// attestations (they carry no signature of their own).
	IndexVerified bool `json:"indexVerified,omitempty"`
	// Requires is what a trust policy file asks of the image's provenance, when it
	// asks anything.
	Requires *ProvenanceRequirement `json:"requires,omitempty"`
}

// ProvenanceRequirement is what a trust policy entry asks of an image's SLSA
// provenance: verified, and built by this builder from this source (each exact, or a
// regular expression; "" asks nothing of it).
type ProvenanceRequirement struct {
	Policy        string `json:"policy"` // "FILE, entry 2 (ghcr.io/org/*)"
	Builder       string `json:"builder,omitempty"`
	BuilderRegexp string `json:"builderRegexp,omitempty"`
	Source        string `json:"source,omitempty"`
	SourceRegexp  string `json:"sourceRegexp,omitempty"`
}

// Attestation is one in-toto statement about an image.
type Attestation struct {
	PredicateType string `json:"predicateType"`
	From          string `json:"from"`   // "buildkit attestation manifest sha256:…"
	Digest        string `json:"digest"` // the statement's blob, and its size
	Size          int64  `json:"size"`
	// For SLSA provenance: who built it, how, and from what.
	Builder   string `json:"builder,omitempty"`
	BuildType string `json:"buildType,omitempty"`
	Source    string `json:"source,omitempty"` // the build's configuration source (a git URL)
	Commit    string `json:"commit,omitempty"`
	// Materials are the build's inputs as named (pkg:docker/debian@12?…).
	Materials []string `json:"materials,omitempty"`
	Problem   string   `json:"problem,omitempty"` // why it could not be read
	// A cosign attestation is signed itself: Verified says the policy verified its
	// signature (Key: by what), Unverified why not. BuildKit's carry no signature:
	// a verified signature of the index that lists them vouches for them.
	Verified   bool   `json:"verified,omitempty"`
	Key        string `json:"key,omitempty"`
	Unverified string `json:"unverified,omitempty"`
	// InIndex marks an attestation BuildKit listed in the image's index.
	InIndex bool `json:"inIndex,omitempty"`
}

// Vouched says whether something verified vouches for an attestation: its own
// signature, or, for BuildKit's, a verified signature of the index that lists it.
func (t *Trust) Vouched(a Attestation) bool {
	return a.Verified || a.InIndex && t.IndexVerified
}

// ProvenancePrefix begins the predicate type of every SLSA provenance version.
const ProvenancePrefix = "https://slsa.dev/provenance/"

// Provenance is the provenance attestation IMG-PROVENANCE judges: the first one
// something verified vouches for and that could be read, else the first; false when
// there is none.
func (t *Trust) Provenance() (Attestation, bool) {
	var first *Attestation
	for i, a := range t.Attestations {
		if !strings.HasPrefix(a.PredicateType, ProvenancePrefix) {
			continue
		}
		if a.Problem == "" && t.Vouched(a) {
			return a, true
		}
		if first == nil {
			first = &t.Attestations[i]
		}
	}
	if first == nil {
		return Attestation{}, false
	}
	return *first, true
}

// Signature is one signature found for an image.
type Signature struct {
	Format   string `json:"format"`   // cosign
	Location string `json:"location"` // where it was found: REPO:sha256-HEX.sig
	// Signs is the manifest digest the signed payload names; Verified whether a key
	// of the policy verified it for this image; Problem why not, when not.
	Signs    string `json:"signs"`
	Verified bool   `json:"verified"`
	Problem  string `json:"problem,omitempty"`
	Key      string `json:"key,omitempty"` // the key that verified it: FILE (sha256:…)
	// For keyless signatures: the certificate's identity and issuer, when it expires,
	// and the transparency-log entry that vouches for the signing time.
	Identity  string `json:"identity,omitempty"`
	Issuer    string `json:"issuer,omitempty"`
	Expires   string `json:"certificateExpires,omitempty"`
	TlogIndex int64  `json:"tlogIndex,omitempty"`
}

// ImageConfig is the part of an image's configuration the checks read. An image
// without a config section has an empty one: no user (root), no healthcheck.
type ImageConfig struct {
	// Inherited names the settings (user, healthcheck) the image takes from a base
	// image that was not read, when it was read from its Dockerfile: unknown, not unset.
	Inherited    []string `json:"inherited,omitempty"`
	User         string   `json:"user"`
	Healthcheck  []string `json:"healthcheck,omitempty"`
	Env          []string `json:"env,omitempty"`
	Labels       Labels   `json:"labels,omitempty"`
	Entrypoint   []string `json:"entrypoint,omitempty"`
	Cmd          []string `json:"cmd,omitempty"`
	Volumes      []string `json:"volumes,omitempty"`
	ExposedPorts []string `json:"exposedPorts,omitempty"`
}

// Missing reports whether a part of the image's facts is missing, and why.
func (im *Image) Missing(p Part) (string, bool) {
	var missing bool
	switch p {
	case PartImageConfig:
		missing = im.Config == nil
	case PartHistory:
		missing = im.History == nil
	case PartContent:
		missing = im.Content == nil || im.Content.PackagesOnly != ""
	case PartRef:
		missing = im.Ref == ""
	case PartBuildContext:
		missing = im.Context == nil || im.Context.Error != ""
	}
	if !missing {
		return "", false
	}
	if why := im.Unknown[p]; why != "" {
		return why, true
	}
	switch p {
	case PartBuildContext:
		if im.Context != nil {
			return "the build context " + im.Context.Root + " could not be read: " + im.Context.Error, true
		}
		return "a built image keeps no build context (dockaudit config reads it beside the Dockerfile)", true
	case PartContent:
		return "the image's files were not read (dockaudit image reads them)", true
	case PartRef:
		return "how the image was named is not known", true
	}
	return "the facts hold no " + string(p) + " for this image", true
}

// VulnDB is the advisory database packages were matched against.
type VulnDB struct {
	Path  string    `json:"path,omitempty"`
	Built time.Time `json:"built,omitzero"`
	// Error says why packages were not matched (no database); empty when they were.
	Error string `json:"error,omitempty"`
	// Unmatched counts packages with an advisory whose versions could not be compared
	// (left out; the package's other advisories still count).
	Unmatched int `json:"unmatched,omitempty"`
	// Coverage says, for each ecosystem of the image's packages, whether the database
	// could match them and against which sources; what no source covers is listed
	// with the reason, never counted as clean.
	Coverage []Coverage `json:"coverage,omitempty"`
}

// Coverage is how one group of an image's packages was matched.
type Coverage struct {
	// Ecosystem is the advisories' ecosystem ("Debian:12", "Go"), or for packages no
	// source is defined for, their kind ("rpm on rhel 9").
	Ecosystem string   `json:"ecosystem"`
	Packages  int      `json:"packages"`
	Sources   []string `json:"sources,omitempty"` // the database's sources for it
	// Uncovered says why these packages were not matched ("" when they were).
	Uncovered string `json:"uncovered,omitempty"`
	// Note says what matching them had to assume or leave out, when it did.
	Note string `json:"note,omitempty"`
}

// Vuln is one known vulnerability of one package.
type Vuln struct {
	ID            string   `json:"id"`
	Aliases       []string `json:"aliases,omitempty"`
	Package       string   `json:"package"`
	Version       string   `json:"version"`
	SourceName    string   `json:"sourceName,omitempty"`
	SourceVersion string   `json:"sourceVersion,omitempty"`
	Type          string   `json:"type"`
	PURL          string   `json:"purl,omitempty"`
	Ecosystem     string   `json:"ecosystem"`
	Fixed         string   `json:"fixed,omitempty"`
	// Status: fixed (a fix is available), fix-pending, unfixed, no-dsa, fix-deferred,
	// wont-fix, end-of-life, undetermined.
	Status   string   `json:"status"`
	Severity string   `json:"severity,omitempty"` // critical, high, medium, low, negligible; "" unknown
	Sources  []string `json:"sources"`
	Summary  string   `json:"summary,omitempty"`
	Note     string   `json:"note,omitempty"`
	Path     string   `json:"path"`
	Layer    int      `json:"layer"`
}

// ImageLayer is one layer of an image.
type ImageLayer struct {
	Digest    string `json:"digest"`
	Entries   int    `json:"entries"`
	CreatedBy string `json:"createdBy,omitempty"` // the history step that made it
}

// ImageContent is what an image's layers hold, as far as the checks need it.
type ImageContent struct {
	OS       OS        `json:"os"`
	Packages []Package `json:"packages"`
	// Notes say what could not be inventoried (a corrupt rpm database, a truncated file).
	Notes []string `json:"notes,omitempty"`
	// Unread are package databases that are there but were not read, with why: their
	// packages are missing from Packages, so nothing said of Packages covers them.
	Unread    []string   `json:"unread,omitempty"`
	Setuid    []FileMeta `json:"setuid"`  // regular files with the setuid or setgid bit
	Secrets   []Secret   `json:"secrets"` // in any layer, also where a later layer removed them
	GitDirs   []string   `json:"gitDirs"`
	Sudo      []string   `json:"sudo"`
	Caches    []Cache    `json:"caches"`
	Accounts  Accounts   `json:"accounts"`
	Anomalies []Anomaly  `json:"anomalies,omitempty"`
	Entries   int        `json:"entries"` // tar entries over all layers
	// PackagesOnly says why only OS and Packages are known (an SBOM lists packages,
	// not files): the rest is not empty but unknown, and the rules reading it skip.
	PackagesOnly string `json:"packagesOnly,omitempty"`
}

// FileMeta is a file's metadata in an image.
type FileMeta struct {
	Path  string `json:"path"`
	Mode  uint32 `json:"mode"` // permission and special bits
	UID   int    `json:"uid"`
	GID   int    `json:"gid"`
	Layer int    `json:"layer"`
}

// Secret is a credential found in an image file. The value is never kept: Hash is the
// first 12 hex digits of its sha256.
type Secret struct {
	Kind    string `json:"kind"`
	Path    string `json:"path"`
	Layer   int    `json:"layer"`
	Line    int    `json:"line,omitempty"`
	Hash    string `json:"hash"`
	Length  int    `json:"length"`
	Detail  string `json:"detail,omitempty"`
	Removed bool   `json:"removed,omitempty"` // a later layer deleted or replaced the file
}

// Cache is a package-manager cache left in an image.
type Cache struct {
	Path  string `json:"path"`
	Files int    `json:"files"`
}

// Accounts are problems of the image's /etc/passwd, /etc/shadow and /etc/group.
type Accounts struct {
	EmptyPassword []string `json:"emptyPassword"` // users who log in without a password
	DuplicateUIDs []string `json:"duplicateUIDs"` // "0: root, toor"
	DuplicateGIDs []string `json:"duplicateGIDs"` // "100: users, staff"
	Read          bool     `json:"read"`          // /etc/passwd was found
}

// Anomaly is something in a layer no image builder writes.
type Anomaly struct {
	Layer  int    `json:"layer"`
	Path   string `json:"path,omitempty"`
	Reason string `json:"reason"`
}

// History is one entry of an image's history, oldest first.
type History struct {
	CreatedBy  string `json:"createdBy"`
	EmptyLayer bool   `json:"emptyLayer"`
	// File, Line and Column say where the step is written, for an image read from
	// its Dockerfile (dockaudit config).
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
}

// Network is one daemon network.
type Network struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Driver  string `json:"driver"`
	Scope   string `json:"scope"`
	Options Labels `json:"options,omitempty"`
}

// Swarm is the cluster as a manager sees it; only collected on an active manager.
type Swarm struct {
	Managers       int    `json:"managers"`
	Nodes          []Node `json:"nodes"`
	Secrets        int    `json:"secrets"`
	AutoLock       bool   `json:"autoLock"`
	NodeCertExpiry string `json:"nodeCertExpiry"` // a Go duration
	RootRotation   bool   `json:"rootRotationInProgress"`
	Error          string `json:"error,omitempty"`
}

// Node is one swarm node.
type Node struct {
	ID       string `json:"id"`
	Hostname string `json:"hostname"`
	Role     string `json:"role"`
	Leader   bool   `json:"leader"`
	Addr     string `json:"addr"`
}

// Package is one installed package found in an image, however it was found.
type Package struct {
	Name          string   `json:"name"`
	Version       string   `json:"version"`
	Arch          string   `json:"arch,omitempty"`
	SourceName    string   `json:"sourceName,omitempty"`
	SourceVersion string   `json:"sourceVersion,omitempty"`
	Type          string   `json:"type"` // deb, apk, rpm, golang, pypi, npm, maven: the PURL type
	PURL          string   `json:"purl"`
	Licenses      []string `json:"licenses,omitempty"`
	// Path is where the package was found (its database, metadata file or binary);
	// Layer the index of the layer that introduced it (0 = base).
	Path  string `json:"path"`
	Layer int    `json:"layer"`
	// Platform is the os/arch a binary was built for, when it says (Go binaries).
	Platform string `json:"platform,omitempty"`
	// Module is the module stream an rpm was built in, its modularity label
	// ("nodejs:18:9040020240101000000:rhel9"); "" outside modules.
	Module string `json:"module,omitempty"`
}

// OS is what an image says about its operating system.
type OS struct {
	ID         string   `json:"id"` // debian, ubuntu, alpine, rhel, almalinux, rocky, fedora, wolfi, busybox, scratch…
	IDLike     []string `json:"idLike,omitempty"`
	VersionID  string   `json:"versionID,omitempty"`
	Codename   string   `json:"codename,omitempty"`
	PrettyName string   `json:"prettyName,omitempty"`
	Distroless bool     `json:"distroless,omitempty"`
	// ContentSets are the Red Hat repositories the image's packages came from, as
	// its /root/buildinfo/content_manifests/*.json say.
	ContentSets []string `json:"contentSets,omitempty"`
	// Products are the SUSE products installed, as their release packages name them
	// ("sles-release", "sles-ltss-release", "sle-module-basesystem-release").
	Products []string `json:"products,omitempty"`
}

// BindDevice returns the host path a local volume binds (created with --opt type=none
// --opt o=bind --opt device=PATH, or a Compose volume with those driver_opts).
func BindDevice(driver string, opts map[string]string) (string, bool) {
	dev := opts["device"]
	if (driver != "local" && driver != "") || !strings.HasPrefix(dev, "/") {
		return "", false
	}
	for _, o := range strings.Split(opts["o"], ",") {
		if o == "bind" || o == "rbind" {
			return dev, true
		}
	}
	return "", false
}
