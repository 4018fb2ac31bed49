package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dockaudit/dockaudit/internal/facts"
)

// API is the one call the collector needs: a GET of an Engine API path decoded into out.
// *Client implements it; tests use a fake that serves recorded responses.
type API interface {
	Get(ctx context.Context, path string, query url.Values, out any) error
}

// Options control what is collected.
type Options struct {
	// All includes created, exited and dead containers, not only running ones.
	All bool
	// Concurrency bounds the Engine API requests in flight (0 means 16).
	Concurrency int
}

// Result is what the Engine API told us.
type Result struct {
	Engine     facts.Engine
	Containers []facts.Container
	Images     []facts.Image
	Networks   []facts.Network
	Volumes    []facts.Volume
	Swarm      *facts.Swarm
	Notes      []string
}

// Collect reads the daemon: /version and /info, every container (one inspect), every
// image (inspect and history), networks and, on a swarm manager, the cluster. A
// container or image that cannot be read is kept with its Error set; only daemon-wide
// failures return an error. Process lists come separately (Processes), because on the
// daemon's host procfs gives them far more cheaply than top.
func Collect(ctx context.Context, api API, opts Options) (*Result, error) {
	res := &Result{}
	var info wireInfo
	if err := api.Get(ctx, "/info", nil, &info); err != nil {
		return nil, fmt.Errorf("read daemon info: %w", err)
	}
	var ver wireVersion
	if err := api.Get(ctx, "/version", nil, &ver); err != nil {
		return nil, fmt.Errorf("read daemon version: %w", err)
	}
	res.Engine = info.facts(ver)

	var list []wireContainerSummary
	if err := api.Get(ctx, "/containers/json", url.Values{"all": {"1"}}, &list); err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	var imgs []wireImageSummary
	if err := api.Get(ctx, "/images/json", nil, &imgs); err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	var nets []wireNetwork
	if err := api.Get(ctx, "/networks", nil, &nets); err != nil {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	if nets != nil {
		res.Networks = []facts.Network{} // answered null: not known
	} else {
		res.Notes = append(res.Notes, "the daemon answered null to the network list; rules about the default bridge were skipped")
	}
	for _, n := range nets {
		res.Networks = append(res.Networks, facts.Network{
			ID: n.ID, Name: n.Name, Driver: n.Driver, Scope: n.Scope, Options: sortedPairs(n.Options),
		})
	}
	slices.SortFunc(res.Networks, func(a, b facts.Network) int { return cmp.Compare(a.Name, b.Name) })
	var vols wireVolumes
	var binds map[string]string // local volumes that are binds of a host path; nil: not known
	if err := api.Get(ctx, "/volumes", nil, &vols); err != nil {
		// A hung volume plugin must not stop the audit; only volume binds go unseen.
		res.Notes = append(res.Notes, fmt.Sprintf("list volumes: %v; volumes created as binds of host directories were not resolved", err))
	} else if vols.Volumes == nil {
		res.Notes = append(res.Notes, "the daemon answered the volume list without volumes (null); volumes created as binds of host directories were not resolved")
	} else {
		binds = map[string]string{}
	}
	res.Volumes = []facts.Volume{}
	for _, v := range vols.Volumes {
		res.Volumes = append(res.Volumes, facts.Volume{Name: v.Name, Driver: v.Driver, Options: sortedPairs(v.Options)})
		if dev, ok := facts.BindDevice(v.Driver, v.Options); ok {
			binds[v.Name] = dev
		}
	}
	slices.SortFunc(res.Volumes, func(a, b facts.Volume) int { return cmp.Compare(a.Name, b.Name) })

	var selected []wireContainerSummary
	listed := map[string]bool{}
	for _, c := range list {
		if listed[c.ID] {
			continue // listed twice: audited once
		}
		listed[c.ID] = true
		if opts.All || facts.RunningState(c.State) {
			selected = append(selected, c)
		}
	}
	res.Containers = make([]facts.Container, len(selected))
	res.Images = make([]facts.Image, len(imgs))

	n := opts.Concurrency
	if n <= 0 {
		n = 16
	}
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	do := func(f func()) {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			f()
		}()
	}
	for i, c := range selected {
		do(func() { res.Containers[i] = container(ctx, api, c, binds) })
	}
	for i, im := range imgs {
		do(func() { res.Images[i] = image(ctx, api, im) })
	}
	if res.Engine.Swarm.Active() && res.Engine.Swarm.ControlAvailable {
		do(func() { res.Swarm = swarm(ctx, api) })
	}
	wg.Wait()

	slices.SortFunc(res.Containers, func(a, b facts.Container) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	slices.SortFunc(res.Images, func(a, b facts.Image) int {
		return cmp.Or(cmp.Compare(firstTag(a), firstTag(b)), cmp.Compare(a.ID, b.ID))
	})
	return res, nil
}

func firstTag(im facts.Image) string {
	if len(im.Tags) == 0 {
		return "\uffff" // untagged images after tagged ones
	}
	return im.Tags[0]
}

func container(ctx context.Context, api API, sum wireContainerSummary, binds map[string]string) facts.Container {
	name := sum.ID
	if len(sum.Names) > 0 {
		name = strings.TrimPrefix(sum.Names[0], "/")
	}
	var w wireContainer
	if err := api.Get(ctx, "/containers/"+url.PathEscape(sum.ID)+"/json", nil, &w); err != nil {
		msg := fmt.Sprintf("inspect container %s: %v", name, err)
		if IsNotFound(err) {
			msg = fmt.Sprintf("container %s disappeared during the audit (it was listed, then removed before it could be inspected)", name)
		}
		return facts.Container{ID: sum.ID, Name: name, State: &facts.ContainerState{Status: sum.State}, Error: msg}
	}
	if w.ID != sum.ID {
		// Another container's answer (or none) must not be judged, nor its processes
		// listed, under this one's name.
		return facts.Container{ID: sum.ID, Name: name, State: &facts.ContainerState{Status: sum.State},
			Error: fmt.Sprintf("the daemon's inspect answer for container %s names another container (%q)", name, w.ID)}
	}
	return w.facts(binds)
}

// Processes fills in the process list of every running container that has none yet,
// with one Engine API top per container (the daemon runs ps for each), concurrently.
// A container that stopped (or was removed) since it was inspected is judged as
// stopped: its state is updated and the returned notes say so, sorted.
func Processes(ctx context.Context, api API, cs []facts.Container, concurrency int) []string {
	if concurrency <= 0 {
		concurrency = 16
	}
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var notes []string
	for i := range cs {
		c := &cs[i]
		if c.Error != "" || !c.Running() || c.Processes != nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			for attempt := 1; ; attempt++ {
				top := facts.ProcessList{Source: "engine API top"}
				err := api.Get(ctx, "/containers/"+url.PathEscape(c.ID)+"/top", nil, &top)
				if err == nil && len(top.Processes) == 0 && attempt < topAttempts {
					// No process in a running container: it is exiting. Ask the daemon
					// again, as for a failed top.
					if note, ok := stopped(ctx, api, c, &StatusError{Code: http.StatusConflict}); ok {
						mu.Lock()
						notes = append(notes, note)
						mu.Unlock()
						return
					}
					if sleep(ctx, topRetryDelay) {
						continue
					}
				}
				if err == nil {
					top.Source = "engine API top"
					c.Processes = &top
					return
				}
				if note, ok := stopped(ctx, api, c, err); ok {
					mu.Lock()
					notes = append(notes, note)
					mu.Unlock()
					return
				}
				// A container whose process is exiting can fail top with a 500 (the
				// shim's "ttrpc: closed") before the daemon records the exit: ask
				// again a few times before calling it a failure.
				var se *StatusError
				if attempt == topAttempts || !errors.As(err, &se) || se.Code < 500 || !sleep(ctx, topRetryDelay) {
					c.ProcessesError = fmt.Sprintf("list processes: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	slices.Sort(notes)
	return notes
}

// topAttempts and topRetryDelay bound how long a top that fails with a server error
// is retried while the container may be exiting (at most about a second).
var (
	topAttempts   = 6
	topRetryDelay = 200 * time.Millisecond
)

// sleep waits d, or less when ctx ends; it says whether the whole wait passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// stopped tells a container that stopped or went away after its inspect (top answers
// 409 "is not running", 404, or a 5xx while the process exits) from a failure to list
// its processes: it asks the daemon again, and on a state that is no longer running,
// records that state.
func stopped(ctx context.Context, api API, c *facts.Container, topErr error) (string, bool) {
	var se *StatusError
	if !errors.As(topErr, &se) || (se.Code != http.StatusConflict && se.Code != http.StatusNotFound && se.Code < 500) {
		return "", false
	}
	var w wireContainer
	err := api.Get(ctx, "/containers/"+url.PathEscape(c.ID)+"/json", nil, &w)
	switch {
	case IsNotFound(err):
		c.State = &facts.ContainerState{Status: "removed"}
		return fmt.Sprintf("container %s was removed during the audit, after it was inspected: judged as a stopped container", c.Name), true
	case err != nil:
		return "", false
	case w.State == nil || w.State.Status == "" || facts.RunningState(w.State.Status):
		return "", false
	}
	c.State = &facts.ContainerState{Status: w.State.Status, Health: c.State.Health}
	return fmt.Sprintf("container %s stopped during the audit (now %s), after it was inspected: judged as a stopped container", c.Name, w.State.Status), true
}

func image(ctx context.Context, api API, sum wireImageSummary) facts.Image {
	im := facts.Image{ID: sum.ID, Tags: realTags(sum.RepoTags), Digests: realTags(sum.RepoDigests)}
	var w wireImage
	if err := api.Get(ctx, "/images/"+url.PathEscape(sum.ID)+"/json", nil, &w); err != nil {
		im.Error = fmt.Sprintf("inspect image %s: %v", sum.ID, err)
		if IsNotFound(err) {
			im.Error = fmt.Sprintf("image %s disappeared during the audit", sum.ID)
		}
		return im
	}
	im.Created = w.Created
	if w.Config != nil {
		im.Config = &facts.ImageConfig{User: w.Config.User, Env: w.Config.Env}
		if w.Config.Healthcheck != nil {
			im.Config.Healthcheck = w.Config.Healthcheck.Test
		}
	} else {
		im.Unknown = map[facts.Part]string{facts.PartImageConfig: "the daemon's inspect answer has no Config for this image"}
	}
	var hist []wireHistory
	if err := api.Get(ctx, "/images/"+url.PathEscape(sum.ID)+"/history", nil, &hist); err != nil {
		im.Error = fmt.Sprintf("read history of image %s: %v", sum.ID, err)
		return im
	}
	if hist == nil {
		// Every image has at least one step: null is no answer, not an empty history.
		if im.Unknown == nil {
			im.Unknown = map[facts.Part]string{}
		}
		im.Unknown[facts.PartHistory] = "the daemon answered null to this image's history"
		return im
	}
	im.History = []facts.History{}
	for i := len(hist) - 1; i >= 0; i-- { // the API lists newest first
		im.History = append(im.History, facts.History{CreatedBy: hist[i].CreatedBy, EmptyLayer: hist[i].Size == 0})
	}
	return im
}

func realTags(tags []string) []string {
	out := []string{}
	for _, t := range tags {
		if t != "<none>:<none>" && t != "<none>@<none>" {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

func swarm(ctx context.Context, api API) *facts.Swarm {
	out := &facts.Swarm{}
	var sw wireSwarm
	if err := api.Get(ctx, "/swarm", nil, &sw); err != nil {
		out.Error = fmt.Sprintf("inspect swarm: %v", err)
		return out
	}
	if sw.Spec == nil {
		out.Error = "the daemon answered /swarm without a Spec (null)"
		return out
	}
	out.AutoLock = sw.Spec.EncryptionConfig.AutoLockManagers
	out.NodeCertExpiry = time.Duration(sw.Spec.CAConfig.NodeCertExpiry).String()
	out.RootRotation = sw.RootRotationInProgress
	var nodes []wireNode
	if err := api.Get(ctx, "/nodes", nil, &nodes); err != nil {
		out.Error = fmt.Sprintf("list swarm nodes: %v", err)
		return out
	}
	if nodes == nil {
		out.Error = "the daemon answered null to the swarm's node list"
		return out
	}
	for _, n := range nodes {
		node := facts.Node{ID: n.ID, Hostname: n.Description.Hostname, Role: n.Spec.Role, Addr: n.Status.Addr}
		if n.ManagerStatus != nil {
			out.Managers++
			node.Leader = n.ManagerStatus.Leader
			node.Addr = n.ManagerStatus.Addr
		}
		out.Nodes = append(out.Nodes, node)
	}
	slices.SortFunc(out.Nodes, func(a, b facts.Node) int { return cmp.Compare(a.Hostname+a.ID, b.Hostname+b.ID) })
	var secrets []struct{ ID string }
	if err := api.Get(ctx, "/secrets", nil, &secrets); err != nil {
		out.Error = fmt.Sprintf("list swarm secrets: %v", err)
		return out
	}
	if secrets == nil {
		out.Error = "the daemon answered null to the swarm's secret list"
		return out
	}
	out.Secrets = len(secrets)
	return out
}

func sortedPairs(m map[string]string) facts.Labels {
	if len(m) == 0 {
		return nil
	}
	out := make(facts.Labels, 0, len(m))
	for k, v := range m {
		out = append(out, [2]string{k, v})
	}
	slices.SortFunc(out, func(a, b [2]string) int { return cmp.Compare(a[0], b[0]) })
	return out
}
