package check

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
)

// CollectRule carries the error findings for targets the collectors could not read (a
// container that vanished mid-audit). It is reported whatever the selection.
func CollectRule() finding.Rule { return collectRule }

var collectRule = finding.Rule{
	ID:          "AUDIT-COLLECT",
	Title:       "Every target could be read",
	Description: "A target that could not be read was not audited; its other rules have no findings.",
	Remediation: "Re-run the audit. A container that disappears between listing and inspection is normal on a busy host.",
	Severity:    finding.Medium,
	Section:     "Audit",
	Tags:        []string{"audit"},
}

// Options tune the runner.
type Options struct {
	// Concurrency bounds how many evaluations run at once; 0 means GOMAXPROCS.
	Concurrency int
	Config      Config
}

// Run evaluates every check against every target in its scope and returns the findings,
// sorted by rule order (the order of checks), target and location. A check that reports
// nothing for a target yields pass; a check that panics yields error for that target.
func Run(checks []Check, snap *facts.Snapshot, opts Options) []finding.Finding {
	type job struct {
		c  *Check
		ci int
		p  *Pass
	}
	var jobs []job
	var collectErrors []finding.Finding
	host := HostTarget(snap)
	daemon := DaemonTarget(snap)
	for i := range checks {
		c := &checks[i]
		switch c.Scope {
		case finding.KindHost, finding.KindDaemon:
			t := daemon
			if c.Scope == finding.KindHost {
				t = host
			}
			jobs = append(jobs, job{c, i, &Pass{Facts: snap, Config: &opts.Config, rule: &c.Rule, target: t}})
		case finding.KindContainer:
			for k := range snap.Containers {
				ct := &snap.Containers[k]
				if ct.Error != "" {
					continue
				}
				jobs = append(jobs, job{c, i, &Pass{Facts: snap, Config: &opts.Config, Container: ct, rule: &c.Rule, target: ContainerTarget(ct)}})
			}
		case finding.KindEndpoint:
			for k := range snap.Endpoints {
				ep := &snap.Endpoints[k]
				if ep.Error != "" {
					continue
				}
				jobs = append(jobs, job{c, i, &Pass{Facts: snap, Config: &opts.Config, Endpoint: ep, rule: &c.Rule, target: EndpointTarget(ep)}})
			}
		case finding.KindRegistry:
			for k := range snap.Registries {
				rg := &snap.Registries[k]
				if rg.Error != "" {
					continue
				}
				jobs = append(jobs, job{c, i, &Pass{Facts: snap, Config: &opts.Config, Registry: rg, rule: &c.Rule, target: RegistryTarget(rg)}})
			}
		case finding.KindProfile:
			for k := range snap.Profiles {
				pr := &snap.Profiles[k]
				if pr.Error != "" {
					continue
				}
				jobs = append(jobs, job{c, i, &Pass{Facts: snap, Config: &opts.Config, Profile: pr, rule: &c.Rule, target: ProfileTarget(pr)}})
			}
		case finding.KindImage:
			for k := range snap.Images {
				im := &snap.Images[k]
				if im.Error != "" {
					continue
				}
				jobs = append(jobs, job{c, i, &Pass{Facts: snap, Config: &opts.Config, Image: im, rule: &c.Rule, target: ImageTarget(im)}})
			}
		}
	}
	for k := range snap.Containers {
		if ct := &snap.Containers[k]; ct.Error != "" {
			collectErrors = append(collectErrors, collectError(ContainerTarget(ct), ct.Error))
		}
	}
	for k := range snap.Images {
		if im := &snap.Images[k]; im.Error != "" {
			collectErrors = append(collectErrors, collectError(ImageTarget(im), im.Error))
		}
	}
	for k := range snap.Endpoints {
		if ep := &snap.Endpoints[k]; ep.Error != "" {
			collectErrors = append(collectErrors, collectError(EndpointTarget(ep), ep.Error))
		}
	}
	for k := range snap.Registries {
		if rg := &snap.Registries[k]; rg.Error != "" {
			collectErrors = append(collectErrors, collectError(RegistryTarget(rg), rg.Error))
		}
	}
	for k := range snap.Profiles {
		if pr := &snap.Profiles[k]; pr.Error != "" {
			collectErrors = append(collectErrors, collectError(ProfileTarget(pr), pr.Error))
		}
	}

	n := opts.Concurrency
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, n)
	for _, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			evaluate(j.c, j.p)
		}()
	}
	wg.Wait()

	order := make(map[string]int, len(checks))
	for i, c := range checks {
		order[c.ID] = i
	}
	total := len(collectErrors)
	for _, j := range jobs {
		total += len(j.p.results)
	}
	out := make([]finding.Finding, 0, total)
	out = append(out, collectErrors...)
	for k := range jobs {
		for _, f := range jobs[k].p.results {
			out = append(out, *f)
		}
		jobs[k].p = nil // each evaluation's findings are copied once, then let go
	}
	Sort(out, func(rule string) int {
		if i, ok := order[rule]; ok {
			return i
		}
		return -1 // AUDIT-COLLECT first
	})
	return out
}

// evaluate runs one check for one target, turning "nothing reported" into pass, a missing
// host into skip and a panic into error.
func evaluate(c *Check, p *Pass) {
	defer func() {
		if r := recover(); r != nil {
			p.results = nil
			p.Error(fmt.Sprintf("check %s failed internally: %v", c.ID, r))
		}
	}()
	if c.NeedsHost && !p.Facts.HostAccess.Local {
		p.Skip("needs access to the daemon's host: " + p.Facts.HostAccess.Reason)
		return
	}
	for _, part := range c.Needs {
		if why, missing := p.missing(part); missing {
			p.Skip("not known: " + why)
			return
		}
	}
	c.Run(p)
	if testing.Testing() {
		// A finding worse than its rule's severity makes `rules` and the report disagree.
		for _, f := range p.results {
			if f.Severity != finding.Unknown && f.Severity > c.Worst() {
				panic(fmt.Sprintf("a %s finding, worse than the rule's severity %s", f.Severity, c.SeverityText()))
			}
		}
	}
	if len(p.results) == 0 {
		p.OK(c.Title)
	}
}

func collectError(t finding.Target, msg string) finding.Finding {
	return finding.Finding{
		Rule:     collectRule.ID,
		Status:   finding.Error,
		Severity: collectRule.Severity,
		Target:   t,
		Message:  msg,
	}
}

var kindOrder = map[finding.Kind]int{
	finding.KindHost: 0, finding.KindDaemon: 1, finding.KindEndpoint: 2, finding.KindRegistry: 3,
	finding.KindContainer: 4, finding.KindImage: 5, finding.KindProfile: 6,
}

// Sort orders findings deterministically: by rule rank, target kind, target name and ID,
// location, then message.
func Sort(fs []finding.Finding, rank func(rule string) int) {
	slices.SortStableFunc(fs, func(a, b finding.Finding) int {
		return cmp.Or(
			cmp.Compare(rank(a.Rule), rank(b.Rule)),
			cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(kindOrder[a.Target.Kind], kindOrder[b.Target.Kind]),
			cmp.Compare(a.Target.Name, b.Target.Name),
			cmp.Compare(a.Target.ID, b.Target.ID),
			cmp.Compare(locPath(a), locPath(b)),
			cmp.Compare(locLine(a), locLine(b)),
			cmp.Compare(a.Message, b.Message),
		)
	})
}

func locPath(f finding.Finding) string {
	if f.Location == nil {
		return ""
	}
	return f.Location.Path
}

// HostTarget names the daemon's host.
func HostTarget(s *facts.Snapshot) finding.Target {
	name := s.Engine.Name
	if s.Host != nil && s.Host.Hostname != "" {
		name = s.Host.Hostname
	}
	return finding.Target{Kind: finding.KindHost, Name: name}
}

// DaemonTarget names the daemon.
func DaemonTarget(s *facts.Snapshot) finding.Target {
	return finding.Target{Kind: finding.KindDaemon, Name: s.Engine.Name, ID: s.Engine.ID}
}

// ContainerTarget names a container.
func ContainerTarget(c *facts.Container) finding.Target {
	return finding.Target{Kind: finding.KindContainer, Name: c.Name, ID: c.ID}
}

// ImageTarget names an image by its first tag, or its short ID when untagged.
func ImageTarget(im *facts.Image) finding.Target {
	name := ShortID(im.ID)
	if len(im.Tags) > 0 {
		name = im.Tags[0]
	}
	return finding.Target{Kind: finding.KindImage, Name: name, ID: im.ID}
}

// EndpointTarget names a probed daemon address.
func EndpointTarget(ep *facts.Endpoint) finding.Target {
	return finding.Target{Kind: finding.KindEndpoint, Name: ep.Address}
}

// ProfileTarget names a seccomp profile: its path, or its digest.
func ProfileTarget(p *facts.Profile) finding.Target {
	return finding.Target{Kind: finding.KindProfile, Name: p.Name, ID: p.Digest}
}

// RegistryTarget names a probed registry.
func RegistryTarget(r *facts.Registry) finding.Target {
	return finding.Target{Kind: finding.KindRegistry, Name: r.URL}
}

// ShortID is the 12-hex-digit form of a container or image ID ("sha256:" dropped).
func ShortID(id string) string {
	if len(id) > 7 && id[:7] == "sha256:" {
		id = id[7:]
	}
	if len(id) > 12 {
		id = id[:12]
	}
	return id
}

// locLine orders findings in one file by line, then column.
func locLine(f finding.Finding) int {
	if f.Location == nil {
		return 0
	}
	return f.Location.Line<<16 | min(f.Location.Column, 1<<16-1)
}
