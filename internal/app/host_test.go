package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/collect/engine"
	"github.com/dockaudit/dockaudit/internal/enginetest"
	"github.com/dockaudit/dockaudit/internal/finding"
	"github.com/dockaudit/dockaudit/internal/report"
)

const recordedAPI = "../collect/engine/testdata/api"

func TestHostVanishedContainerAndRemoteDaemon(t *testing.T) {
	host := enginetest.Start(t, enginetest.Daemon{Dir: recordedAPI,
		Gone: map[string]bool{"2e8a3a3173fc6df7d3ff46197655600fefe70c59b2b711a22b2b363f5417f3f9": true}}) // da-sock
	high := finding.High
	var out bytes.Buffer
	r, err := Host(context.Background(), HostOptions{
		Output:  Output{Format: "json", FailOn: &high},
		All:     true,
		Timeout: 10 * time.Second,
		Env:     engine.Env{Host: host},
		Now:     func() time.Time { return time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC) },
	}, &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The socket is served by this test, not by dockerd: no host access, said once.
	if r.Context.HostAccess || !strings.Contains(r.Context.HostAccessNote, "is not dockerd") {
		t.Errorf("host access %v: %q", r.Context.HostAccess, r.Context.HostAccessNote)
	}
	var collect, hostSkips, sockFindings int
	for _, f := range r.Findings {
		switch {
		case f.Rule == check.CollectRule().ID:
			collect++
			if f.Status != finding.Error || f.Target.Name != "da-sock" ||
				f.Message != "container da-sock disappeared during the audit (it was listed, then removed before it could be inspected)" {
				t.Errorf("collect finding: %+v", f)
			}
		case f.Target.Name == "da-sock":
			sockFindings++
		case f.Rule == "CIS-1.1.3":
			hostSkips++
			if f.Status != finding.Skip || !strings.HasPrefix(f.Message, "needs access to the daemon's host: the process behind") {
				t.Errorf("1.1.3 remote: %+v", f)
			}
		}
	}
	if collect != 1 || sockFindings != 0 || hostSkips != 1 {
		t.Errorf("collect errors %d, other da-sock findings %d, 1.1.3 findings %d", collect, sockFindings, hostSkips)
	}
	// The other containers were audited: the privileged one fails 5.5.
	found := false
	for _, f := range r.Findings {
		if f.Rule == "CIS-5.5" && f.Target.Name == "da-priv" && f.Status == finding.Fail {
			found = true
		}
	}
	if !found {
		t.Error("the audit did not go on past the vanished container")
	}
	if r.Rules[0].ID != check.CollectRule().ID {
		t.Errorf("the collect rule is not in the report's rules: %s", r.Rules[0].ID)
	}
	var back report.Report
	if err := json.Unmarshal(out.Bytes(), &back); err != nil || len(back.Findings) != len(r.Findings) {
		t.Errorf("written report: %v, %d findings", err, len(back.Findings))
	}
}

// BenchmarkHostManyContainers audits a recorded daemon serving 2,000 containers and
// writes the JSON report (go test -bench HostMany -benchmem; compare peak RSS with
// /usr/bin/time on the binary against the same daemon for the closing notes).
func BenchmarkHostManyContainers(b *testing.B) {
	host := enginetest.Start(b, enginetest.Daemon{Dir: recordedAPI, Clones: 2000})
	var out countingWriter
	for b.Loop() {
		out = 0
		_, err := Host(context.Background(), HostOptions{Output: Output{Format: "json"}, All: true, Timeout: time.Minute,
			Concurrency: 16, Env: engine.Env{Host: host}}, &out, nil)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(out)/1e6, "MB-report")
}

type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

// TestHostNullInspectSections: a daemon whose inspect answer for a container has null
// HostConfig, Config and State gets no pass for that container (CIS-5.4, 5.5, 5.10,
// 5.32 and CONFINE-CAPS passed before): each rule that needs them skips and says why.
func TestHostNullInspectSections(t *testing.T) {
	const good = "46388d76cc04dd593cae09089c8b27f43c272f0c87bad9294f41299b0a0ebe32" // da-good
	host := enginetest.Start(t, enginetest.Daemon{Dir: recordedAPI, Edit: func(path string, a map[string]any) {
		if path == "/containers/"+good+"/json" {
			a["HostConfig"], a["Config"], a["State"] = nil, nil, nil
		}
	}})
	var out bytes.Buffer
	r, err := Host(context.Background(), HostOptions{Output: Output{Format: "json"}, All: true, Timeout: 10 * time.Second,
		Env: engine.Env{Host: host}}, &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range r.Findings {
		if f.Target.Name != "da-good" {
			continue
		}
		mountsOnly := f.Rule == "CIS-5.6" || f.Rule == "CIS-5.20" || f.Rule == "CIS-5.32" // its Mounts were answered
		if !mountsOnly && (f.Status == finding.Pass || f.Status == finding.Fail || f.Status == finding.Warn) {
			t.Errorf("%s %s: %s", f.Rule, f.Status, f.Message)
		}
		got[f.Rule] = f.Status.String() + ": " + f.Message
	}
	hc := "skip: not known: the daemon's inspect answer has no HostConfig for this container"
	for rule, want := range map[string]string{
		"CIS-5.4": hc, "CIS-5.5": hc, "CIS-5.10": hc, "CONFINE-CAPS": hc, "CONFINE-SECCOMP": hc,
		"CIS-5.32": "pass: mounts neither the Docker nor the containerd socket",
		"CIS-5.7":  "skip: not known: the daemon's inspect answer has no State for this container",
		"CIS-4.1":  "skip: not known: the daemon's inspect answer has no Config for this container",
	} {
		if got[rule] != want {
			t.Errorf("%s: %q, want %q", rule, got[rule], want)
		}
	}
}

// TestHostNullLists: null lists and sections from a daemon are not taken for empty
// ones (found in review): /info as {}, SecurityOptions missing, /networks and
// /volumes null, an image's history null, an inspect answer naming another
// container, a container listed twice.
func TestHostNullLists(t *testing.T) {
	const (
		good    = "46388d76cc04dd593cae09089c8b27f43c272f0c87bad9294f41299b0a0ebe32" // da-good
		sshd    = "71efac0d87479ec5ed7d7be1d42b57f4b47e72a7fcfbde7abf89f40f01615cc8" // da-sshd
		imageID = "267cc8b88744c73b1a3918aa2749cf33e70d18c729080bc378a255b0ad575773"
	)
	nulls := func(paths ...string) func(string) (string, bool) {
		return func(p string) (string, bool) { return "null", slices.Contains(paths, p) }
	}
	audit := func(edit func(path string, a map[string]any), replace ...func(string) (string, bool)) map[string]string {
		d := enginetest.Daemon{Dir: recordedAPI, Edit: edit}
		if len(replace) > 0 {
			d.Replace = replace[0]
		}
		host := enginetest.Start(t, d)
		r, err := Host(context.Background(), HostOptions{Output: Output{Format: "json"}, All: true, Timeout: 10 * time.Second,
			Env: engine.Env{Host: host}}, io.Discard, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, f := range r.Findings {
			got[f.Rule+" "+f.Target.Name] = f.Status.String() + ": " + f.Message
		}
		for _, n := range r.Context.Notes {
			got["note "+n] = "note"
		}
		return got
	}
	want := func(got map[string]string, pairs ...string) {
		t.Helper()
		for i := 0; i < len(pairs); i += 2 {
			if got[pairs[i]] != pairs[i+1] {
				t.Errorf("%s: %q, want %q", pairs[i], got[pairs[i]], pairs[i+1])
			}
		}
	}
	got := audit(func(path string, a map[string]any) {
		if path == "/info" {
			clear(a)
		}
	})
	want(got, "CIS-2.6 vm", "", "CIS-2.6 ", "skip: not known: the daemon's /info and /version were not read",
		"CIS-5.1 ", "skip: not known: the daemon's /info and /version were not read")
	got = audit(func(path string, a map[string]any) {
		if path == "/info" {
			delete(a, "SecurityOptions")
		}
	})
	want(got, "CIS-5.22 da-good", "skip: asks for no seccomp profile of its own, so the daemon's default decides: the daemon's /info gave no SecurityOptions",
		"CONFINE-SECCOMP da-good", "skip: asks for no seccomp profile of its own, so the daemon's default decides: the daemon's /info gave no SecurityOptions")
	got = audit(func(path string, a map[string]any) {
		switch path {
		case "/volumes":
			a["Volumes"] = nil
		case "/images/sha256:" + imageID + "/history":
		case "/containers/" + sshd + "/json":
			a["Id"] = good
		}
	})
	want(got, "AUDIT-COLLECT da-sshd", `error: the daemon's inspect answer for container da-sshd names another container ("`+good+`")`,
		"note the daemon answered the volume list without volumes (null); volumes created as binds of host directories were not resolved", "note")
	got = audit(nil, nulls("/networks", "/images/sha256:"+imageID+"/history"))
	want(got, "CIS-5.30 da-good", "skip: not known: the daemon's networks were not listed",
		"CIS-4.7 da-it:1", "skip: not known: the daemon answered null to this image's history",
		"note the daemon answered null to the network list; rules about the default bridge were skipped", "note")
}
