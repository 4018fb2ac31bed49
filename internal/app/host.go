package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/checks"
	"github.com/dockaudit/dockaudit/internal/collect/endpoint"
	"github.com/dockaudit/dockaudit/internal/collect/engine"
	"github.com/dockaudit/dockaudit/internal/collect/host"
	"github.com/dockaudit/dockaudit/internal/collect/registry"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
	"github.com/dockaudit/dockaudit/internal/parallel"
	"github.com/dockaudit/dockaudit/internal/report"
	"github.com/dockaudit/dockaudit/internal/safefile"
)

// HostOptions are the settings of dockaudit host.
type HostOptions struct {
	Output
	Selection    check.Selection
	All          bool
	HostRoot     string
	Timeout      time.Duration
	TrustedUsers []string
	SaveFacts    string
	FromFacts    string
	Concurrency  int
	Env          engine.Env
	ContentTrust string
	// DockerConfig is the docker CLI configuration directory whose credential storage
	// is checked ("" skips it).
	DockerConfig string
	Now          func() time.Time
	// OnFacts, when set, sees the facts the report is judged from (dockaudit host
	// --submit sends the containers' images with the report).
	OnFacts func(*facts.Snapshot)
}

// Host runs the host audit and writes its report. It returns the report so the caller
// can decide the exit code. progress may be nil.
func Host(ctx context.Context, opts HostOptions, stdout io.Writer, progress io.Writer) (*report.Report, error) {
	if progress == nil {
		progress = io.Discard
	}
	selected, err := opts.Selection.Apply(checks.All())
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	var snap *facts.Snapshot
	if opts.FromFacts != "" {
		snap, err = readFacts(opts.FromFacts)
	} else {
		snap, err = collectHost(ctx, opts, progress)
	}
	if err != nil {
		return nil, err
	}
	if opts.OnFacts != nil {
		opts.OnFacts(snap)
	}
	if opts.SaveFacts != "" {
		// Facts hold image environments and the daemon's configuration, which may carry
		// credentials: only the owner may read them.
		if err := WriteOutput(opts.SaveFacts, 0o600, stdout, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(snap)
		}); err != nil {
			return nil, fmt.Errorf("save facts: %w", err)
		}
	}
	cfg := check.Config{TrustedUsers: opts.TrustedUsers}
	findings := check.Run(selected, snap, check.Options{Concurrency: opts.Concurrency, Config: cfg})
	rules := make([]finding.Rule, 0, len(selected)+1)
	for _, f := range findings {
		if f.Rule == check.CollectRule().ID {
			rules = append(rules, check.CollectRule())
			break
		}
	}
	for _, c := range selected {
		rules = append(rules, c.Rule)
	}
	findings, rules, suppressed, leftOut := opts.suppress(findings, rules, nil, opts.now())
	r := report.Build(toolInfo(), "host", opts.now(), hostContext(snap), rules, hostTargets(snap), findings, report.Gate{FailOn: opts.FailOn, UnknownAs: opts.UnknownAs})
	r.Summary.Suppressed = suppressed
	r.Summary.LeftOut = append(r.Summary.LeftOut, leftOut...)
	if err := opts.write(stdout, r); err != nil {
		return nil, err
	}
	return r, nil
}

func (o HostOptions) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func collectHost(ctx context.Context, opts HostOptions, progress io.Writer) (*facts.Snapshot, error) {
	client, err := engine.New(opts.Env)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	fmt.Fprintf(progress, "dockaudit: reading the daemon at %s\n", client.Host)
	if err := client.Negotiate(ctx); err != nil {
		return nil, err
	}
	res, err := engine.Collect(ctx, client, engine.Options{All: opts.All, Concurrency: opts.Concurrency})
	if ctx.Err() != nil {
		// Past the deadline every remaining read failed: a partial audit must not pass.
		return nil, fmt.Errorf("the daemon at %s did not answer everything within %s (raise --timeout)", client.Host, timeout)
	}
	if err != nil {
		return nil, err
	}
	snap := &facts.Snapshot{
		SchemaVersion:   facts.SchemaVersion,
		CollectedAt:     opts.now().UTC(),
		Endpoint:        client.Host,
		DockerContext:   opts.Env.Context,
		EndpointFrom:    opts.Env.From,
		IncludesStopped: opts.All,
		Engine:          res.Engine,
		Client:          clientFacts(opts, client),
		Containers:      res.Containers,
		Images:          res.Images,
		Networks:        res.Networks,
		Volumes:         res.Volumes,
		Notes:           withNote(res.Notes, opts.Env.Note),
		Swarm:           res.Swarm,
	}
	if snap.Containers == nil {
		snap.Containers = []facts.Container{}
	}
	if snap.Images == nil {
		snap.Images = []facts.Image{}
	}
	if snap.Volumes == nil {
		snap.Volumes = []facts.Volume{}
	}
	fmt.Fprintf(progress, "dockaudit: %d containers, %d images; reading the host\n", len(snap.Containers), len(snap.Images))
	hopts := host.Options{Root: opts.HostRoot, Proc: "/proc", Host: client.Host, Engine: res.Engine}
	if hopts.Root == "" || hopts.Root == "/" {
		hopts.Auditctl = host.Auditctl
	}
	h := host.Collect(ctx, hopts)
	snap.HostAccess, snap.Daemon, snap.Host = h.Access, h.Daemon, h.Host
	// Run in a container (the README's way), dockaudit would audit itself: it needs the
	// host's root and socket, which is what the runtime checks fail.
	if self := host.SelfContainerID("/proc"); self != "" {
		snap.Containers = slices.DeleteFunc(snap.Containers, func(c facts.Container) bool {
			if c.ID == self {
				snap.Notes = append(snap.Notes, "container "+c.Name+" is dockaudit itself and was not audited")
				return true
			}
			return false
		})
	}
	profileRoot := ""
	if h.Access.Local {
		profileRoot = h.Access.Root
		host.ContainerProcesses(hopts.Proc, snap.Containers)
		host.ContainerConfinement(hopts.Proc, snap.Containers)
		host.ResolveMounts(h.Access.Root, snap.Containers)
		if snap.Daemon != nil {
			snap.Daemon.TLSMaterial = host.ReadTLSMaterial(h.Access.Root, snap.Daemon.TLS)
			snap.Endpoints = probeListeners(ctx, snap.Daemon, hopts.Proc)
		}
		snap.Client.Config = clientConfig(opts.DockerConfig)
	}
	snap.Profiles = host.SeccompProfiles(profileRoot, snap.Engine, snap.Containers)
	// Whatever procfs could not give (a remote daemon, a container that just started)
	// comes from the Engine API.
	snap.Notes = append(snap.Notes, engine.Processes(ctx, client, snap.Containers, opts.Concurrency)...)
	if ctx.Err() != nil {
		return nil, fmt.Errorf("the daemon at %s did not answer everything within %s (raise --timeout)", client.Host, timeout)
	}
	return snap, nil
}

// maxTargets bounds the containers (and the images) one audit holds: a daemon's
// container list, capped at 64 MiB, lists about as many.
const maxTargets = 65536

// maxFacts bounds a facts file: a snapshot of thousands of containers is a few MiB.
const maxFacts = 256 << 20

func readFacts(path string) (*facts.Snapshot, error) {
	b, err := safefile.Read(path, maxFacts)
	switch {
	case errors.Is(err, safefile.ErrNotRegular):
		return nil, fmt.Errorf("read facts %s: not a regular file", path)
	case errors.Is(err, safefile.ErrTooLarge):
		return nil, fmt.Errorf("read facts %s: more than a facts file can be (%d bytes)", path, maxFacts)
	case err != nil:
		return nil, fmt.Errorf("read facts: %w", err)
	}
	var snap facts.Snapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return nil, fmt.Errorf("read facts %s: not a dockaudit facts file: %v", path, err)
	}
	// Each target is dozens of evaluations: a few MB of minimal containers must not
	// become gigabytes of findings. A daemon's list answer allows about as many.
	if n := max(len(snap.Containers), len(snap.Images)); n > maxTargets {
		return nil, fmt.Errorf("read facts %s: %d containers and %d images; dockaudit audits at most %d of each at once", path, len(snap.Containers), len(snap.Images), maxTargets)
	}
	if snap.SchemaVersion != facts.SchemaVersion {
		return nil, fmt.Errorf("read facts %s: schema version %d, this dockaudit reads version %d (write them again with this dockaudit's --save-facts)", path, snap.SchemaVersion, facts.SchemaVersion)
	}
	if err := validFacts(&snap); err != nil {
		return nil, fmt.Errorf("read facts %s: %v", path, err)
	}
	return &snap, nil
}

// withNote appends note to notes when there is one.
func withNote(notes []string, note string) []string {
	if note == "" {
		return notes
	}
	return append(notes, note)
}

// clientFacts is how this client reaches the daemon: DOCKER_HOST and its TLS
// variables, or a named context's endpoint and TLS.
func clientFacts(opts HostOptions, client *engine.Client) *facts.Client {
	c := &facts.Client{ContentTrust: opts.ContentTrust, DockerHost: opts.Env.Host, TLSVerify: opts.Env.TLSVerify, CertPath: opts.Env.CertPath}
	if t := opts.Env.ContextTLS; t != nil {
		c.Context, c.TLSVerify, c.CertPath = opts.Env.Context, "", ""
		switch {
		case !client.TLS:
			c.ContextTLS = "none"
		case t.SkipVerify:
			c.ContextTLS = "unverified"
		default:
			c.ContextTLS = "verified"
		}
	}
	return c
}

func hostContext(s *facts.Snapshot) report.Context {
	return report.Context{
		Endpoint: s.Endpoint, DockerContext: s.DockerContext, EndpointFrom: s.EndpointFrom, Daemon: s.Engine.Name, ServerVersion: s.Engine.ServerVersion,
		APIVersion: s.Engine.APIVersion, HostAccess: s.HostAccess.Local, HostAccessNote: s.HostAccess.Reason,
		Containers: len(s.Containers), Images: len(s.Images), Notes: s.Notes,
	}
}

func hostTargets(s *facts.Snapshot) []finding.Target {
	out := []finding.Target{check.HostTarget(s), check.DaemonTarget(s)}
	for i := range s.Containers {
		out = append(out, check.ContainerTarget(&s.Containers[i]))
	}
	for i := range s.Images {
		out = append(out, check.ImageTarget(&s.Images[i]))
	}
	for i := range s.Endpoints {
		out = append(out, check.EndpointTarget(&s.Endpoints[i]))
	}
	for i := range s.Profiles {
		out = append(out, check.ProfileTarget(&s.Profiles[i]))
	}
	return out
}

// validFacts rejects a facts file that lacks what the checks take for granted, so a
// hand-edited file gives a clear error instead of odd findings.
func validFacts(s *facts.Snapshot) error {
	switch {
	case s.Engine.ServerVersion == "" || s.Engine.APIVersion == "":
		return errors.New("engine.serverVersion and engine.apiVersion are required")
	case s.HostAccess.Local && (s.Daemon == nil || s.Host == nil):
		return errors.New("hostAccess.local is true but the daemon or host section is missing")
	case !s.HostAccess.Local && s.HostAccess.Reason == "":
		return errors.New("hostAccess.reason is required when hostAccess.local is false")
	case s.HostAccess.Local && s.Host.DockerGroup.Configured == "":
		return errors.New("host.dockerGroup.configured is required")
	}
	for i, c := range s.Containers {
		if c.ID == "" || c.Name == "" {
			return fmt.Errorf("containers[%d] has no id or name", i)
		}
	}
	for i, im := range s.Images {
		if im.ID == "" {
			return fmt.Errorf("images[%d] has no id", i)
		}
	}
	return nil
}

// probeListeners probes the daemon's TCP API listeners, from its own network
// namespace: the addresses its hosts setting names (a wildcard address is dialled on
// loopback), and, under socket activation, the TCP sockets it holds that are not the
// swarm or metrics ports.
func probeListeners(ctx context.Context, d *facts.DaemonProcess, proc string) []facts.Endpoint {
	type target struct{ addr, source string }
	var targets []target
	seen := map[string]bool{}
	add := func(addr, source string) {
		if !seen[addr] {
			seen[addr] = true
			targets = append(targets, target{addr, source})
		}
	}
	hosts, _ := d.Lookup("hosts")
	fd := false
	for _, h := range hosts.Values {
		switch {
		case strings.HasPrefix(h, "tcp://"):
			hp := strings.TrimPrefix(h, "tcp://")
			host, port, err := net.SplitHostPort(hp)
			if err != nil {
				continue
			}
			switch host {
			case "", "0.0.0.0":
				host = "127.0.0.1"
			case "::":
				host = "::1"
			}
			add("tcp://"+net.JoinHostPort(host, port), hosts.Source)
		case strings.HasPrefix(h, "fd://"):
			fd = true
		}
	}
	if fd {
		skip := map[string]bool{"2377": true, "7946": true}
		if m, ok := d.Lookup("metrics-addr"); ok {
			if _, port, err := net.SplitHostPort(m.Value()); err == nil {
				skip[port] = true
			}
		}
		for _, l := range d.Listeners {
			host, port, err := net.SplitHostPort(l.Address)
			if err != nil || !strings.HasPrefix(l.Network, "tcp") || skip[port] {
				continue
			}
			if host == "0.0.0.0" || host == "" {
				host = "127.0.0.1"
			} else if host == "::" {
				host = "::1"
			}
			add("tcp://"+net.JoinHostPort(host, port), "socket activation")
		}
	}
	o := endpoint.Options{Timeout: 3 * time.Second}
	if ns := fmt.Sprintf("%s/%d/ns/net", proc, d.PID); !sameFile(ns, proc+"/self/ns/net") {
		o.NetNS = ns
	}
	eps := make([]facts.Endpoint, len(targets))
	parallel.Do(len(targets), 4, func(i int) {
		eps[i] = endpoint.Probe(ctx, targets[i].addr, o)
		eps[i].Source = targets[i].source
	})
	return eps
}

func sameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// clientConfig reads the credential setup of the docker CLI configuration in dir.
func clientConfig(dir string) *facts.ClientConfig {
	if dir == "" {
		return nil
	}
	p := filepath.Join(dir, "config.json")
	fi, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &facts.ClientConfig{Path: p, Error: err.Error()}
	}
	cfg, err := registry.LoadDockerConfig(dir)
	if err != nil {
		return &facts.ClientConfig{Path: p, Error: err.Error()}
	}
	out := &facts.ClientConfig{Path: p, PlaintextAuths: cfg.PlaintextRegistries(), CredsStore: cfg.CredsStore, Mode: uint32(fi.Mode().Perm())}
	for reg := range cfg.CredHelpers {
		out.CredHelpers = append(out.CredHelpers, reg)
	}
	sort.Strings(out.CredHelpers)
	if out.PlaintextAuths == nil {
		out.PlaintextAuths = []string{}
	}
	return out
}
