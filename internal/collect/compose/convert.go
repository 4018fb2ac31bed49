package compose

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/dockaudit/dockaudit/internal/collect/dockerfile"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
)

// Service is one service as the container docker compose would create for it.
type Service struct {
	Name string
	// Container is what an inspect of the created container would show, as far as the
	// files decide; the rest is in Container.Unknown.
	Container facts.Container
	// Image is the image: key, or "" when the service is only built.
	Image string
	// Build is the service's build section, nil when it has none.
	Build *Build
}

// Build is where a service's image is built from.
type Build struct {
	Context    string // absolute, or a URL for a remote context
	Dockerfile string // absolute; "" for dockerfile_inline or a remote context
	Target     string
	Args       map[string]string
	// NotRead says what of the build dockaudit config does not read: a
	// dockerfile_inline, a remote context, additional_contexts.
	NotRead []string
}

// remoteContext says a build context is fetched (git, an URL), not a directory.
func remoteContext(c string) bool {
	return strings.Contains(c, "://") || strings.HasPrefix(c, "git@") || strings.HasSuffix(c, ".git")
}

// ContainerName is the name docker compose gives a service's first container.
func ContainerName(project string, s types.ServiceConfig) string {
	if s.ContainerName != "" {
		return s.ContainerName
	}
	return project + "-" + s.Name + "-1"
}

// convert builds the container facts of one service as docker compose v2 creates its
// container (pkg/compose/create.go): the keys a rule reads, mapped to the fields an
// inspect shows.
func convert(p *types.Project, s types.ServiceConfig, profiles map[string]profileFile) Service {
	out := Service{Name: s.Name, Image: s.Image}
	c := facts.Container{
		Name:     ContainerName(p.Name, s),
		State:    &facts.ContainerState{Status: "created"},
		Networks: []string{}, // created, not started: attached to nothing yet
		Unknown:  map[facts.Part]string{},
	}
	image := s.Image
	if s.Build != nil {
		b := &Build{Context: s.Build.Context, Target: s.Build.Target, Args: map[string]string{}}
		switch {
		case s.Build.DockerfileInline != "":
			b.NotRead = append(b.NotRead, "its dockerfile_inline")
		case remoteContext(b.Context):
			b.NotRead = append(b.NotRead, "its remote build context "+b.Context)
		}
		if len(s.Build.AdditionalContexts) > 0 {
			b.NotRead = append(b.NotRead, "its additional_contexts")
		}
		if s.Build.DockerfileInline == "" && !remoteContext(b.Context) {
			b.Dockerfile = s.Build.Dockerfile
			if b.Dockerfile == "" {
				b.Dockerfile = "Dockerfile"
			}
			if !filepath.IsAbs(b.Dockerfile) {
				b.Dockerfile = filepath.Join(b.Context, b.Dockerfile)
			}
		}
		for k, v := range s.Build.Args {
			if v != nil {
				b.Args[k] = *v
			}
		}
		out.Build = b
		if image == "" {
			image = p.Name + "-" + s.Name
		}
	}
	c.Config = &facts.ContainerConfig{Image: image, User: s.User}
	var built *facts.ImageConfig
	if out.Build != nil && out.Build.Dockerfile != "" {
		if df, err := dockerfile.Read(out.Build.Dockerfile); err == nil {
			target := len(df.Stages) - 1
			if out.Build.Target != "" {
				target = df.Stage(out.Build.Target)
			}
			if target >= 0 {
				im := df.ImageAt(target)
				built = im.Config
			}
		}
	}
	if s.User == "" {
		switch {
		case built != nil && !slices.Contains(built.Inherited, "user"):
			c.Config.User = built.User
		default:
			c.Unknown[facts.PartUser] = "the service sets no user: and its image " + image + " decides it, which dockaudit config does not read (set user:, or audit the image with dockaudit image)"
		}
	}
	switch hc := s.HealthCheck; {
	case hc != nil && hc.Disable:
		c.Config.Healthcheck = []string{"NONE"}
	case hc != nil && len(hc.Test) > 0:
		c.Config.Healthcheck = slices.Clone(hc.Test)
	case built != nil && !slices.Contains(built.Inherited, "healthcheck"):
		c.Config.Healthcheck = built.Healthcheck
	default:
		c.Unknown[facts.PartHealthcheck] = "the service sets no healthcheck: and its image " + image + " may define one, which dockaudit config does not read"
	}

	hc := &facts.HostConfig{
		Privileged:     s.Privileged,
		CapAdd:         slices.Clone(s.CapAdd),
		CapDrop:        slices.Clone(s.CapDrop),
		NetworkMode:    networkMode(p, s),
		Memory:         int64(s.MemLimit),
		CPUShares:      s.CPUShares,
		NanoCPUs:       int64(s.CPUS * 1e9),
		CPUQuota:       s.CPUQuota,
		CpusetCpus:     s.CPUSet,
		ReadonlyRootfs: s.ReadOnly,
		PidMode:        serviceMode(p, s.Pid),
		IpcMode:        serviceMode(p, s.Ipc),
		UTSMode:        s.Uts,
		UsernsMode:     s.UserNSMode,
		CgroupParent:   s.CgroupParent,
		PidsLimit:      s.PidsLimit,
		RestartPolicy:  "no",
		Devices:        []facts.Device{},
		Ulimits:        []facts.Ulimit{},
	}
	if d := s.Deploy; d != nil && d.Resources.Limits != nil {
		l := d.Resources.Limits
		if l.MemoryBytes > 0 {
			hc.Memory = int64(l.MemoryBytes)
		}
		if l.NanoCPUs > 0 {
			hc.NanoCPUs = int64(float64(l.NanoCPUs) * 1e9)
		}
		if l.Pids > 0 {
			hc.PidsLimit = l.Pids
		}
	}
	hc.RestartPolicy, hc.RestartRetries = restart(s)
	for _, o := range s.SecurityOpt {
		hc.SecurityOpt = append(hc.SecurityOpt, securityOpt(p.WorkingDir, o, profiles))
	}
	for _, d := range s.Devices {
		hc.Devices = append(hc.Devices, facts.Device{PathOnHost: d.Source, PathInContainer: d.Target, CgroupPermissions: cmpOr(d.Permissions, "rwm")})
	}
	names := make([]string, 0, len(s.Ulimits))
	for n := range s.Ulimits {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		u := s.Ulimits[n]
		soft, hard := u.Soft, u.Hard
		if u.Single != 0 {
			soft, hard = u.Single, u.Single
		}
		hc.Ulimits = append(hc.Ulimits, facts.Ulimit{Name: n, Soft: int64(soft), Hard: int64(hard)})
	}
	c.HostConfig = hc

	c.Mounts = mounts(p, s)
	c.Ports = []facts.Port{}
	for _, pt := range s.Ports {
		proto := cmpOr(pt.Protocol, "tcp")
		c.Ports = append(c.Ports, facts.Port{ContainerPort: fmt.Sprintf("%d/%s", pt.Target, proto), HostIP: pt.HostIP, HostPort: pt.Published})
	}
	c.ProcessesError = "the container does not exist yet: dockaudit config reads files"
	out.Container = c
	return out
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// networkMode is the network mode docker compose sets: network_mode as written
// (service:X becomes X's container), else the service's first network by priority, else
// the project's default network.
func networkMode(p *types.Project, s types.ServiceConfig) string {
	if s.NetworkMode != "" {
		return serviceMode(p, s.NetworkMode)
	}
	net := "default"
	if len(s.Networks) > 0 {
		net = s.NetworksByPriority()[0]
	}
	if n, ok := p.Networks[net]; ok && n.Name != "" {
		return n.Name
	}
	return p.Name + "_" + net
}

// serviceMode turns service:X (of network_mode, pid, ipc) into container:NAME, the
// container docker compose creates for X.
func serviceMode(p *types.Project, mode string) string {
	name, ok := strings.CutPrefix(mode, "service:")
	if !ok {
		return mode
	}
	if other, ok := p.Services[name]; ok {
		return "container:" + ContainerName(p.Name, other)
	}
	return "container:" + p.Name + "-" + name + "-1"
}

// restart is the restart policy docker compose sets: deploy.restart_policy wins over
// restart.
func restart(s types.ServiceConfig) (string, int) {
	if d := s.Deploy; d != nil && d.RestartPolicy != nil {
		retries := 0
		if d.RestartPolicy.MaxAttempts != nil {
			retries = int(*d.RestartPolicy.MaxAttempts)
		}
		switch d.RestartPolicy.Condition {
		case "any":
			return "always", 0
		case "":
			return "no", 0 // docker compose sends the empty condition: no restart
		case "none":
			return "no", 0
		case "on-failure":
			return "on-failure", retries
		default:
			return d.RestartPolicy.Condition, retries
		}
	}
	policy, n, _ := strings.Cut(s.Restart, ":")
	if policy == "" {
		return "no", 0
	}
	retries, _ := strconv.Atoi(n)
	return policy, retries
}

// securityOpt is a security option as docker compose sends it: seccomp=FILE becomes the
// file's compacted content, read relative to the project directory.
func securityOpt(dir, o string, profiles map[string]profileFile) string {
	k, v, ok := strings.Cut(o, "=")
	if !ok {
		k, v, ok = strings.Cut(o, ":")
	}
	if !ok || k != "seccomp" || v == "unconfined" || v == "builtin" {
		return o
	}
	path := v
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	pf, ok := profiles[filepath.Clean(path)]
	if !ok || pf.err != "" {
		return o // left as written; the rule reports a profile it cannot parse
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(pf.content)); err != nil {
		return o
	}
	return "seccomp=" + buf.String()
}

// mounts are the service's mounts as an inspect shows them: binds with their host path
// (compose-go made relative sources absolute), named volumes with the host directory
// a bind-style local volume exposes, the Docker socket use_api_socket adds, and what
// volumes_from copies.
func mounts(p *types.Project, s types.ServiceConfig) []facts.Mount {
	out := []facts.Mount{}
	for _, v := range s.Volumes {
		m := facts.Mount{Type: v.Type, Source: v.Source, Destination: v.Target, RW: !v.ReadOnly}
		switch v.Type {
		case types.VolumeTypeBind:
			m.HostPath = v.Source
			m.Propagation = "rprivate"
			if v.Bind != nil && v.Bind.Propagation != "" {
				m.Propagation = v.Bind.Propagation
			}
		case types.VolumeTypeVolume:
			m.Name = v.Source
			if vol, ok := p.Volumes[v.Source]; ok {
				m.Name = cmpOr(vol.Name, v.Source)
				if vol.External {
					m.HostPathUnknown = "the external volume " + m.Name + " is the daemon's: its options are not in the files"
				} else if dev, ok := facts.BindDevice(vol.Driver, vol.DriverOpts); ok {
					m.HostPath = dev
				} else if vol.Driver != "" && vol.Driver != "local" {
					m.HostPathUnknown = "the volume driver " + vol.Driver + " decides where " + m.Name + " lives"
				}
			}
		}
		out = append(out, m)
	}
	// File secrets and configs are bind mounts of host files (docker compose without
	// swarm): /etc/shadow as a secret is /etc/shadow in the container.
	for _, sec := range s.Secrets {
		if def, ok := p.Secrets[sec.Source]; ok {
			out = appendFileMount(out, types.FileObjectConfig(def), sec.Source, sec.Target, "/run/secrets/")
		}
	}
	for _, cfg := range s.Configs {
		if def, ok := p.Configs[cfg.Source]; ok {
			out = appendFileMount(out, types.FileObjectConfig(def), cfg.Source, cfg.Target, "/")
		}
	}
	if s.UseAPISocket {
		out = append(out, facts.Mount{Type: "bind", Source: "/var/run/docker.sock", Destination: "/var/run/docker.sock", RW: true, HostPath: "/var/run/docker.sock", Propagation: "rprivate"})
	}
	for _, from := range s.VolumesFrom {
		name, mode, _ := strings.Cut(strings.TrimPrefix(from, "service:"), ":")
		if name, ok := strings.CutPrefix(from, "container:"); ok {
			// Another container's mounts: not in the files, so not known.
			out = append(out, facts.Mount{Type: "volume", Name: name, Destination: "(volumes_from " + from + ")",
				HostPathUnknown: "volumes_from " + from + ": that container's mounts are not in the files"})
			continue
		}
		if other, ok := p.Services[name]; ok && other.Name != s.Name {
			for _, m := range mounts(&types.Project{Name: p.Name, Volumes: p.Volumes, Services: types.Services{}}, other) {
				if mode == "ro" {
					m.RW = false
				}
				out = append(out, m)
			}
		}
	}
	return out
}

// appendFileMount adds the mount a secret or config makes: a read-only bind of its file,
// or, for an external one, a mount whose host path is not in the files. One from an
// environment variable or inline content is written into the container: no host path.
func appendFileMount(out []facts.Mount, def types.FileObjectConfig, source, target, dir string) []facts.Mount {
	if target == "" {
		target = source
	}
	if !strings.HasPrefix(target, "/") {
		target = dir + target
	}
	switch {
	case bool(def.External):
		return append(out, facts.Mount{Type: "bind", Name: source, Destination: target,
			HostPathUnknown: "the external secret or config " + source + " is not in the files"})
	case def.File != "":
		return append(out, facts.Mount{Type: "bind", Source: def.File, Destination: target, HostPath: def.File, Propagation: "rprivate"})
	}
	return out
}

// Locate is where a service's setting is written: the first of keys (paths under
// services.NAME, such as cap_add or deploy.resources.limits.memory) some file writes,
// at the list item said (a finding's words) mentions; else the service's own line.
func (p *Project) Locate(service string, keys []string, said string) finding.Location {
	files := p.index.files
	for _, k := range keys {
		if loc, ok := p.index.lookup(files, "services."+service+"."+k, said); ok {
			return loc
		}
	}
	if loc, ok := p.index.first("services." + service); ok {
		return loc
	}
	return finding.Location{Path: p.Files[0]}
}
