package app

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/collect/engine"
	"github.com/dockaudit/dockaudit/internal/enginetest"
	"github.com/dockaudit/dockaudit/internal/finding"
	"github.com/dockaudit/dockaudit/internal/report"
)

// fakeDaemon serves the Engine API answers recorded from the live fixture over a unix
// socket; containers listed in gone answer 404 to inspect, as if removed mid-audit.
func fakeDaemon(t *testing.T, gone map[string]bool) string {
	t.Helper()
	const dir = "../collect/engine/testdata/api"
	sock := filepath.Join(t.TempDir(), "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			t.Errorf("the audit sent %s %s", r.Method, r.URL.Path)
		}
		if r.URL.Path == "/_ping" {
			w.Header().Set("Api-Version", "1.41")
			w.Write([]byte("OK"))
			return
		}
		p := strings.TrimPrefix(r.URL.Path, "/v1.41")
		parts := strings.Split(strings.Trim(p, "/"), "/")
		file := ""
		switch {
		case len(parts) == 1:
			file = parts[0] + ".json"
		case parts[0] == "containers" && parts[1] == "json":
			file = "containers.json"
		case parts[0] == "images" && parts[1] == "json":
			file = "images.json"
		case parts[0] == "containers" && parts[2] == "json":
			if gone[parts[1]] {
				w.WriteHeader(404)
				w.Write([]byte(`{"message":"No such container: ` + parts[1] + `"}`))
				return
			}
			file = "container-" + parts[1] + ".json"
		case parts[0] == "containers" && parts[2] == "top":
			file = "top-" + parts[1] + ".json"
		case parts[0] == "images":
			file = map[string]string{"json": "image-", "history": "history-"}[parts[2]] + strings.TrimPrefix(parts[1], "sha256:") + ".json"
		}
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			w.WriteHeader(404)
			w.Write([]byte(`{"message":"not recorded"}`))
			return
		}
		w.Write(b)
	})
	srv := &http.Server{Handler: h}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return sock
}

func TestHostVanishedContainerAndRemoteDaemon(t *testing.T) {
	sock := fakeDaemon(t, map[string]bool{"2e8a3a3173fc6df7d3ff46197655600fefe70c59b2b711a22b2b363f5417f3f9": true}) // da-sock
	high := finding.High
	var out bytes.Buffer
	r, err := Host(context.Background(), HostOptions{
		Output:  Output{Format: "json", FailOn: &high},
		All:     true,
		Timeout: 10 * time.Second,
		Env:     engine.Env{Host: "unix://" + sock},
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
	host := enginetest.Start(b, enginetest.Daemon{Dir: "../collect/engine/testdata/api", Clones: 2000})
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
