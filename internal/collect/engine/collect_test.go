package engine

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/facts"
)

// recorded serves Engine API responses recorded from a Docker 20.10 daemon (API 1.41)
// running the integration test's containers. Paths with no recording answer 404.
type recorded struct {
	dir     string
	mu      sync.Mutex
	calls   []string
	vanish  map[string]bool // container IDs whose inspect answers 404
	failTop bool
	// stops holds container IDs that stop right after their first inspect: top
	// answers 409, a second inspect says exited (or, when removed, 404).
	stops   map[string]string
	inspect map[string]int
	// shim makes top answer as the daemon does while a container's process exits
	// (500 "ttrpc: closed"), and lag[id] inspects after the first still say running.
	shim bool
	lag  map[string]int
	// emptyTop makes top of a stopping container answer with no process (its cgroup
	// emptied before the daemon recorded the exit).
	emptyTop bool
}

func (r *recorded) Get(_ context.Context, path string, _ url.Values, out any) error {
	r.mu.Lock()
	r.calls = append(r.calls, path)
	r.mu.Unlock()
	file := ""
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case path == "/info", path == "/version", path == "/networks", path == "/volumes":
		file = parts[0] + ".json"
	case path == "/containers/json":
		file = "containers.json"
	case path == "/images/json":
		file = "images.json"
	case len(parts) == 3 && parts[0] == "containers" && parts[2] == "json":
		r.mu.Lock()
		n := r.inspect[parts[1]]
		if r.inspect != nil {
			r.inspect[parts[1]]++
		}
		r.mu.Unlock()
		stopped := n > r.lag[parts[1]]
		if r.vanish[parts[1]] || (stopped && r.stops[parts[1]] == "removed") {
			return &StatusError{Path: path, Code: 404, Message: "No such container: " + parts[1]}
		}
		file = "container-" + parts[1] + ".json"
		if stopped && r.stops[parts[1]] != "" {
			b, _ := os.ReadFile(filepath.Join(r.dir, file))
			var m map[string]any
			json.Unmarshal(b, &m)
			m["State"].(map[string]any)["Status"] = r.stops[parts[1]]
			m["State"].(map[string]any)["Pid"] = 0
			b, _ = json.Marshal(m)
			return json.Unmarshal(b, out)
		}
	case len(parts) == 3 && parts[0] == "containers" && parts[2] == "top":
		if r.emptyTop && r.stops[parts[1]] != "" {
			return json.Unmarshal([]byte(`{"Titles":["UID","PID","PPID","C","STIME","TTY","TIME","CMD"],"Processes":[]}`), out)
		}
		if r.shim && (r.failTop || r.stops[parts[1]] != "") {
			return &StatusError{Path: path, Code: 500, Message: "ttrpc: closed: unknown"}
		}
		if r.failTop || r.stops[parts[1]] != "" {
			return &StatusError{Path: path, Code: 409, Message: "container is not running"}
		}
		file = "top-" + parts[1] + ".json"
	case len(parts) == 3 && parts[0] == "images":
		kind := map[string]string{"json": "image-", "history": "history-"}[parts[2]]
		file = kind + strings.TrimPrefix(parts[1], "sha256:") + ".json"
	}
	b, err := os.ReadFile(filepath.Join(r.dir, file))
	if err != nil {
		return &StatusError{Path: path, Code: 404, Message: "not recorded"}
	}
	return json.Unmarshal(b, out)
}

func collect(t *testing.T, api API, all bool) *Result {
	t.Helper()
	res, err := Collect(context.Background(), api, Options{All: all, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	Processes(context.Background(), api, res.Containers, 4)
	return res
}

func byName(res *Result) map[string]facts.Container {
	m := map[string]facts.Container{}
	for _, c := range res.Containers {
		m[c.Name] = c
	}
	return m
}

func TestCollectEngine(t *testing.T) {
	res := collect(t, &recorded{dir: "testdata/api"}, false)
	e := res.Engine
	if e.ServerVersion != "20.10.24+dfsg1" || e.APIVersion != "1.41" || e.Driver != "overlay2" ||
		e.DockerRootDir != "/var/lib/docker" || e.LoggingDriver != "json-file" {
		t.Errorf("engine = %+v", e)
	}
	if d := cmp.Diff([]string{"name=seccomp,profile=default"}, e.SecurityOptions); d != "" {
		t.Errorf("security options (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"127.0.0.0/8"}, e.InsecureRegistryCIDRs); d != "" {
		t.Errorf("insecure CIDRs (-want +got):\n%s", d)
	}
	var names []string
	for _, c := range res.Containers {
		names = append(names, c.Name)
	}
	// Running containers only, sorted; the created da-priv is left out without --all.
	want := []string{"da-capsys", "da-good", "da-pidhost", "da-sock", "da-sshd", "da-varrun"}
	if d := cmp.Diff(want, names); d != "" {
		t.Errorf("containers (-want +got):\n%s", d)
	}
}

func TestCollectContainerFields(t *testing.T) {
	cs := byName(collect(t, &recorded{dir: "testdata/api"}, true))
	priv := cs["da-priv"]
	if !priv.HostConfig.Privileged || priv.Status() != "created" || priv.Processes != nil || priv.ProcessesError != "" {
		t.Errorf("da-priv = %+v", priv)
	}
	sock := cs["da-sock"]
	// A running container's real bindings: IPv4 and IPv6 wildcard, host port 80.
	wantPorts := []facts.Port{
		{ContainerPort: "8080/tcp", HostIP: "0.0.0.0", HostPort: "80"},
		{ContainerPort: "8080/tcp", HostIP: "::", HostPort: "80"},
	}
	if d := cmp.Diff(wantPorts, sock.Ports); d != "" {
		t.Errorf("da-sock ports (-want +got):\n%s", d)
	}
	wantMounts := []facts.Mount{
		{Type: "bind", Source: "/etc", Destination: "/hostetc", RW: false, Propagation: "rprivate", HostPath: "/etc"},
		{Type: "bind", Source: "/var/run/docker.sock", Destination: "/var/run/docker.sock", RW: true, Propagation: "rprivate", HostPath: "/var/run/docker.sock"},
	}
	if d := cmp.Diff(wantMounts, sock.Mounts); d != "" {
		t.Errorf("da-sock mounts (-want +got):\n%s", d)
	}
	good := cs["da-good"]
	if good.Config.User != "1000" || !good.HostConfig.ReadonlyRootfs || good.HostConfig.Memory != 64<<20 || good.HostConfig.PidsLimit != 50 ||
		good.HostConfig.CPUShares != 512 || !cmp.Equal(good.HostConfig.CapDrop, []string{"ALL"}) ||
		!cmp.Equal(good.HostConfig.SecurityOpt, []string{"no-new-privileges"}) ||
		!cmp.Equal(good.Config.Healthcheck, []string{"CMD-SHELL", "true"}) || good.HostConfig.NetworkMode != "none" {
		t.Errorf("da-good = %+v", good)
	}
	// Docker 20.10 stores added capabilities with the CAP_ prefix.
	capsys := cs["da-capsys"]
	if !cmp.Equal(capsys.HostConfig.CapAdd, []string{"CAP_SYS_ADMIN"}) || !cmp.Equal(capsys.HostConfig.SecurityOpt, []string{"seccomp=unconfined"}) {
		t.Errorf("da-capsys = %+v", capsys)
	}
	if got := cs["da-sshd"].Processes.Commands(); !cmp.Equal(got, []string{"/usr/sbin/sshd"}) || cs["da-sshd"].Processes.Source != "engine API top" {
		t.Errorf("da-sshd processes = %q from %q", got, cs["da-sshd"].Processes.Source)
	}
	if cs["da-sshd"].PID() == 0 {
		t.Error("the init PID of a running container was not read")
	}
	if cs["da-pidhost"].HostConfig.PidMode != "host" {
		t.Errorf("da-pidhost pid mode = %q", cs["da-pidhost"].HostConfig.PidMode)
	}
}

func TestCollectImages(t *testing.T) {
	res := collect(t, &recorded{dir: "testdata/api"}, false)
	if len(res.Images) != 2 {
		t.Fatalf("images = %d, want 2", len(res.Images))
	}
	im := res.Images[0]
	if !cmp.Equal(im.Tags, []string{"da-it:1"}) || len(im.History) != 3 {
		t.Fatalf("image 0 = %+v", im)
	}
	// Oldest first: the COPY of busybox comes before the RUN that installs the applets.
	if !strings.Contains(im.History[0].CreatedBy, "COPY file:") || !strings.Contains(im.History[1].CreatedBy, "--install") {
		t.Errorf("history = %+v", im.History)
	}
}

func TestCollectVanishedContainer(t *testing.T) {
	api := &recorded{dir: "testdata/api", vanish: map[string]bool{
		"2e8a3a3173fc6df7d3ff46197655600fefe70c59b2b711a22b2b363f5417f3f9": true, // da-sock
	}}
	cs := byName(collect(t, api, false))
	got := cs["da-sock"]
	want := facts.Container{ID: "2e8a3a3173fc6df7d3ff46197655600fefe70c59b2b711a22b2b363f5417f3f9", Name: "da-sock", Error: "container da-sock disappeared during the audit (it was listed, then removed before it could be inspected)", State: &facts.ContainerState{Status: "running"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("vanished container (-want +got):\n%s", d)
	}
	if len(cs) != 6 || cs["da-good"].Error != "" {
		t.Errorf("the other containers must still be read: %d, %q", len(cs), cs["da-good"].Error)
	}
}

func TestCollectTopError(t *testing.T) {
	cs := byName(collect(t, &recorded{dir: "testdata/api", failTop: true}, false))
	c := cs["da-sshd"]
	if c.Processes != nil || c.ProcessesError != "list processes: GET /containers/71efac0d87479ec5ed7d7be1d42b57f4b47e72a7fcfbde7abf89f40f01615cc8/top: 409 container is not running" {
		t.Errorf("da-sshd = %+v / %q", c.Processes, c.ProcessesError)
	}
}

// TestContainerStopsDuringTheAudit: a container that stops (or is removed) between its
// inspect and its process list is judged as stopped, with a note, not an error.
func TestContainerStopsDuringTheAudit(t *testing.T) {
	sshd := "71efac0d87479ec5ed7d7be1d42b57f4b47e72a7fcfbde7abf89f40f01615cc8"
	sock := "2e8a3a3173fc6df7d3ff46197655600fefe70c59b2b711a22b2b363f5417f3f9"
	api := &recorded{dir: "testdata/api", stops: map[string]string{sshd: "exited", sock: "removed"}, inspect: map[string]int{}}
	res, err := Collect(context.Background(), api, Options{Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	notes := Processes(context.Background(), api, res.Containers, 4)
	want := []string{
		"container da-sock was removed during the audit, after it was inspected: judged as a stopped container",
		"container da-sshd stopped during the audit (now exited), after it was inspected: judged as a stopped container",
	}
	if d := cmp.Diff(want, notes); d != "" {
		t.Errorf("notes (-want +got):\n%s", d)
	}
	cs := byName(res)
	for name, state := range map[string]string{"da-sshd": "exited", "da-sock": "removed"} {
		c := cs[name]
		if c.Status() != state || c.PID() != 0 || c.Processes != nil || c.ProcessesError != "" || c.Error != "" || c.Running() {
			t.Errorf("%s: state %q pid %d processes %v error %q %q", name, c.Status(), c.PID(), c.Processes, c.ProcessesError, c.Error)
		}
	}
	if cs["da-good"].Processes == nil {
		t.Error("the others' processes are still listed")
	}
}

// TestContainerExitsDuringTop: while a container's process exits, top fails with the
// shim's 500, or answers with no process, and the daemon records the exit only a
// moment later (both seen on the real daemon in TestContainersExitDuringTheAudit):
// asked again, it is judged as stopped, never as running without processes.
func TestContainerExitsDuringTop(t *testing.T) {
	defer func(d time.Duration) { topRetryDelay = d }(topRetryDelay)
	topRetryDelay = time.Millisecond
	sshd := "71efac0d87479ec5ed7d7be1d42b57f4b47e72a7fcfbde7abf89f40f01615cc8"
	for _, tc := range []struct {
		name            string
		shim, emptyTop  bool
		wantInspections int
	}{
		{"500 from the shim", true, false, 4}, // the first, twice still running, then exited
		{"no process", false, true, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := &recorded{dir: "testdata/api", stops: map[string]string{sshd: "exited"}, inspect: map[string]int{}, shim: tc.shim, emptyTop: tc.emptyTop, lag: map[string]int{sshd: 2}}
			res, err := Collect(context.Background(), api, Options{Concurrency: 4})
			if err != nil {
				t.Fatal(err)
			}
			notes := Processes(context.Background(), api, res.Containers, 4)
			want := []string{"container da-sshd stopped during the audit (now exited), after it was inspected: judged as a stopped container"}
			if d := cmp.Diff(want, notes); d != "" {
				t.Errorf("notes (-want +got):\n%s", d)
			}
			c := byName(res)["da-sshd"]
			if c.Status() != "exited" || c.ProcessesError != "" || c.Processes != nil {
				t.Errorf("da-sshd: state %q processes %v error %q", c.Status(), c.Processes, c.ProcessesError)
			}
			if n := api.inspect[sshd]; n != tc.wantInspections {
				t.Errorf("da-sshd inspected %d times, want %d", n, tc.wantInspections)
			}
		})
	}
}

// TestTopServerErrorOnARunningContainer: a top that keeps failing with a 5xx while the
// container stays running is an error after a bounded number of tries, not a note.
func TestTopServerErrorOnARunningContainer(t *testing.T) {
	defer func(d time.Duration) { topRetryDelay = d }(topRetryDelay)
	topRetryDelay = time.Millisecond
	api := &recorded{dir: "testdata/api", failTop: true, shim: true}
	cs := byName(collect(t, api, false))
	c := cs["da-sshd"]
	if c.Processes != nil || c.ProcessesError != "list processes: GET /containers/71efac0d87479ec5ed7d7be1d42b57f4b47e72a7fcfbde7abf89f40f01615cc8/top: 500 ttrpc: closed: unknown" {
		t.Errorf("da-sshd = %+v / %q", c.Processes, c.ProcessesError)
	}
	tops := 0
	for _, p := range api.calls {
		if p == "/containers/71efac0d87479ec5ed7d7be1d42b57f4b47e72a7fcfbde7abf89f40f01615cc8/top" {
			tops++
		}
	}
	if tops != topAttempts {
		t.Errorf("top asked %d times, want %d", tops, topAttempts)
	}
}

// TestOneReadPerContainer pins the cost model: per container one inspect, plus one top
// when it runs and its processes were not read from procfs; per image one inspect and
// one history.
func TestOneReadPerContainer(t *testing.T) {
	api := &recorded{dir: "testdata/api"}
	collect(t, api, true)
	count := map[string]int{}
	for _, c := range api.calls {
		parts := strings.Split(strings.Trim(c, "/"), "/")
		if len(parts) == 3 {
			count[parts[0]+"/"+parts[2]]++
		} else {
			count[c]++
		}
	}
	want := map[string]int{
		"/info": 1, "/version": 1, "/containers/json": 1, "/images/json": 1, "/networks": 1, "/volumes": 1,
		"containers/json": 7, "containers/top": 6, "images/json": 2, "images/history": 2,
	}
	if d := cmp.Diff(want, count); d != "" {
		t.Errorf("API calls (-want +got):\n%s", d)
	}
}

func TestCollectDaemonErrors(t *testing.T) {
	api := &recorded{dir: t.TempDir()} // nothing recorded: /info answers 404
	_, err := Collect(context.Background(), api, Options{})
	var se *StatusError
	if !errors.As(err, &se) || err.Error() != "read daemon info: GET /info: 404 not recorded" {
		t.Errorf("err = %v", err)
	}
}

// TestVolumeBinds: a local volume created as a bind of a host directory exposes that
// directory; the mount records it as its host path.
func TestVolumeBinds(t *testing.T) {
	var inspect wireContainer
	raw := []byte(`{"Id":"x","Name":"/v","State":{"Status":"running"},"Mounts":[
		{"Type":"volume","Name":"etcvol","Driver":"local","Source":"/var/lib/docker/volumes/etcvol/_data","Destination":"/x","RW":false},
		{"Type":"volume","Name":"data","Driver":"local","Source":"/var/lib/docker/volumes/data/_data","Destination":"/data","RW":true},
		{"Type":"bind","Source":"/srv","Destination":"/srv","RW":true}]}`)
	if err := json.Unmarshal(raw, &inspect); err != nil {
		t.Fatal(err)
	}
	c := inspect.facts(map[string]string{"etcvol": "/etc"})
	want := []facts.Mount{
		{Type: "volume", Name: "data", Source: "/var/lib/docker/volumes/data/_data", Destination: "/data", RW: true},
		{Type: "bind", Source: "/srv", Destination: "/srv", RW: true, HostPath: "/srv"},
		{Type: "volume", Name: "etcvol", Source: "/var/lib/docker/volumes/etcvol/_data", Destination: "/x", HostPath: "/etc"},
	}
	if d := cmp.Diff(want, c.Mounts); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestBindDevice(t *testing.T) {
	for _, tt := range []struct {
		driver string
		opts   map[string]string
		want   string
	}{
		{"local", map[string]string{"type": "none", "o": "bind", "device": "/etc"}, "/etc"},
		{"local", map[string]string{"type": "none", "o": "ro,rbind", "device": "/srv/x"}, "/srv/x"},
		{"local", map[string]string{"type": "nfs", "o": "addr=10.0.0.1,rw", "device": ":/export"}, ""},
		{"local", map[string]string{"type": "tmpfs", "device": "tmpfs"}, ""},
		{"rexray", map[string]string{"o": "bind", "device": "/etc"}, ""},
	} {
		if got, _ := facts.BindDevice(tt.driver, tt.opts); got != tt.want {
			t.Errorf("BindDevice(%s, %v) = %q, want %q", tt.driver, tt.opts, got, tt.want)
		}
	}
}

// TestNullSections: an inspect answer whose State, Config, HostConfig, Mounts and
// NetworkSettings are null gives a container whose parts are missing, with the reason;
// no zero value stands in for them.
func TestNullSections(t *testing.T) {
	var w wireContainer
	if err := json.Unmarshal([]byte(`{"Id":"abc","Name":"/nulls","Image":"sha256:i","State":null,"Config":null,"HostConfig":null,"Mounts":null,"NetworkSettings":null}`), &w); err != nil {
		t.Fatal(err)
	}
	c := w.facts(nil)
	if c.State != nil || c.Config != nil || c.HostConfig != nil || c.Mounts != nil || c.Ports != nil || c.Networks != nil {
		t.Errorf("zero values stand in for null sections: %+v", c)
	}
	want := map[facts.Part]string{
		facts.PartState:      "the daemon's inspect answer has no State for this container",
		facts.PartConfig:     "the daemon's inspect answer has no Config for this container",
		facts.PartHostConfig: "the daemon's inspect answer has no HostConfig for this container",
		facts.PartMounts:     "the daemon's inspect answer has no Mounts for this container",
		facts.PartPorts:      "the daemon's inspect answer has no HostConfig (and no bound ports in NetworkSettings) for this container",
		facts.PartNetworks:   "the daemon's inspect answer has no NetworkSettings for this container",
	}
	if d := cmp.Diff(want, c.Unknown); d != "" {
		t.Errorf("reasons (-want +got):\n%s", d)
	}
	// A volume whose options could not be listed may be a bind of any host path.
	json.Unmarshal([]byte(`{"Id":"v","State":{"Status":"running"},"Mounts":[{"Type":"volume","Name":"data","Driver":"local","Destination":"/data"}]}`), &w)
	if m := w.facts(nil).Mounts; len(m) != 1 || m[0].HostPathUnknown == "" {
		t.Errorf("volume with unknown options: %+v", m)
	}
	if m := w.facts(map[string]string{}).Mounts; len(m) != 1 || m[0].HostPathUnknown != "" {
		t.Errorf("volume with known options: %+v", m)
	}
}

// FuzzInspect: whatever a daemon answers to an inspect, mapping it never panics, and a
// section it leaves out is missing in the facts, never a zero value.
func FuzzInspect(f *testing.F) {
	for _, name := range []string{"container-46388d76cc04dd593cae09089c8b27f43c272f0c87bad9294f41299b0a0ebe32.json", "container-e0c5c414ae5a2bea21c52206df695c9ee120ffd725613a39f73bc6478f1ff7a9.json"} {
		b, err := os.ReadFile(filepath.Join("testdata/api", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"Id":"abc","State":null,"Config":null,"HostConfig":null,"Mounts":null,"NetworkSettings":null}`))
	f.Add([]byte(`{"HostConfig":{"PortBindings":{"80/tcp":null}},"NetworkSettings":{"Ports":{"80/tcp":[{}]}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var w wireContainer
		if json.Unmarshal(b, &w) != nil {
			return
		}
		c := w.facts(nil)
		if (w.HostConfig == nil) != (c.HostConfig == nil) || (w.State == nil) != (c.State == nil) || (w.Config == nil) != (c.Config == nil) {
			t.Fatalf("sections do not follow the answer: %+v", c)
		}
		for _, p := range []facts.Part{facts.PartState, facts.PartConfig, facts.PartHostConfig, facts.PartMounts, facts.PartPorts, facts.PartNetworks} {
			if why, missing := c.Missing(p); missing && why == "" {
				t.Fatalf("%s missing without a reason", p)
			}
		}
	})
}
