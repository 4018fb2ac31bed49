package report_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/checks"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
	"github.com/dockaudit/dockaudit/internal/report"
)

var update = flag.Bool("update", false, "rewrite golden files")

// liveReport is the host report over the facts recorded from the live fixture, with the
// volatile fields (time, tool version) fixed.
func liveReport(t *testing.T) *report.Report {
	t.Helper()
	raw, err := os.ReadFile("../checks/cis/testdata/live.facts.json")
	if err != nil {
		t.Fatal(err)
	}
	var s facts.Snapshot
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	all := checks.All()
	fs := check.Run(all, &s, check.Options{})
	var rules []finding.Rule
	for _, c := range all {
		rules = append(rules, c.Rule)
	}
	var targets []finding.Target
	targets = append(targets, check.HostTarget(&s), check.DaemonTarget(&s))
	for i := range s.Containers {
		targets = append(targets, check.ContainerTarget(&s.Containers[i]))
	}
	high := finding.High
	ctx := report.Context{Endpoint: s.Endpoint, Daemon: s.Engine.Name, ServerVersion: s.Engine.ServerVersion,
		APIVersion: s.Engine.APIVersion, HostAccess: true, Containers: len(s.Containers), Images: len(s.Images)}
	return report.Build(report.Tool{Name: "dockaudit", Version: "v0.0.0-test", URI: "https://github.com/dockaudit/dockaudit"},
		"host", time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), ctx, rules, targets, fs, report.Gate{FailOn: &high})
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := "testdata/" + name
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from the golden file (go test -update, then review the diff)\n%s", name, firstLineDiff(string(want), string(got)))
	}
}

func firstLineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + ":\nwant " + x + "\n got " + y
		}
	}
	return ""
}

func TestTableGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := report.WriteTable(&buf, liveReport(t), report.TableOptions{Remediation: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "\x1b[") {
		t.Error("colour codes in a table written without Color")
	}
	golden(t, "host.table.golden", buf.Bytes())
}

func TestTableWithoutRemediation(t *testing.T) {
	var buf bytes.Buffer
	if err := report.WriteTable(&buf, liveReport(t), report.TableOptions{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "fix: ") {
		t.Error("remediation printed although not asked for")
	}
}

func TestTableColor(t *testing.T) {
	var buf bytes.Buffer
	if err := report.WriteTable(&buf, liveReport(t), report.TableOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "\x1b[31mFAIL") {
		t.Error("no red FAIL in a coloured table")
	}
}

func TestJSONGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, liveReport(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "host.json.golden", buf.Bytes())
	// The contract: it reads back into the same report.
	var back report.Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Findings) != len(liveReport(t).Findings) || back.SchemaVersion != "1" {
		t.Errorf("round trip lost data: %d findings", len(back.Findings))
	}
}

// TestJSONStreamsTheEncodersBytes: the streaming writer writes exactly what
// json.Encoder does, with and without findings and images.
func TestJSONStreamsTheEncodersBytes(t *testing.T) {
	full := liveReport(t)
	empty := liveReport(t)
	empty.Findings = nil
	withImages := liveReport(t)
	withImages.Images = []report.Inventory{{Source: "dir", Notes: []string{"<&>"}}}
	for name, r := range map[string]*report.Report{"full": full, "no findings": empty, "images": withImages} {
		var got, want bytes.Buffer
		if err := report.WriteJSON(&got, r); err != nil {
			t.Fatal(err)
		}
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		enc.Encode(r)
		if got.String() != want.String() {
			t.Errorf("%s: differs from json.Encoder\n%s", name, firstLineDiff(want.String(), got.String()))
		}
	}
}

// maxWrite records the largest single write.
type maxWrite struct{ n, max int }

func (m *maxWrite) Write(p []byte) (int, error) {
	m.n += len(p)
	m.max = max(m.max, len(p))
	return len(p), nil
}

// TestWritersStream: the JSON and SARIF writers hand the report over in pieces; a
// report of many megabytes is never built whole in memory first (a host of 10,000
// containers peaked at 1.08 GB for 185 MB of JSON when it was).
func TestWritersStream(t *testing.T) {
	r := liveReport(t)
	for len(r.Findings) < 40000 {
		r.Findings = append(r.Findings, r.Findings...)
	}
	for name, write := range map[string]func(io.Writer, *report.Report) error{"json": report.WriteJSON, "sarif": report.WriteSARIF} {
		var m maxWrite
		if err := write(&m, r); err != nil {
			t.Fatal(err)
		}
		if m.n < 4<<20 || m.max > 256<<10 {
			t.Errorf("%s: %d bytes written, the largest write %d bytes", name, m.n, m.max)
		}
	}
}

func TestSummary(t *testing.T) {
	r := liveReport(t)
	s := r.Summary
	if n := s.Rules.Fail + s.Rules.Warn + s.Rules.Error + s.Rules.Manual + s.Rules.Info + s.Rules.Pass + s.Rules.Skip; n != len(r.Rules) {
		t.Errorf("rule counts %+v add up to %d, not the %d rules", s.Rules, n, len(r.Rules))
	}
	n := 0
	for _, f := range r.Findings {
		if f.Status.Problem() && f.Severity >= finding.High {
			n++
		}
	}
	if s.Failing != n || n == 0 || s.FailOn != "high" {
		t.Errorf("failing = %d (%s), want %d", s.Failing, s.FailOn, n)
	}
}

func TestTableControlCharactersAndLists(t *testing.T) {
	rule := finding.Rule{ID: "X-1", Title: "t", Severity: finding.High, Section: "S", Scope: finding.KindContainer}
	var fs []finding.Finding
	for i := 0; i < 30; i++ {
		fs = append(fs, finding.Finding{Rule: "X-1", Status: finding.Fail, Severity: finding.Medium,
			Target: finding.Target{Kind: finding.KindContainer, Name: fmt.Sprintf("container-number-%02d", i)}, Message: "same"})
	}
	fs = append(fs, finding.Finding{Rule: "X-1", Status: finding.Fail, Severity: finding.Low,
		Target: finding.Target{Kind: finding.KindContainer, Name: "evil"}, Message: "runs \x1b[2J\x1b]0;pwned\a"})
	// A hostile daemon names itself too.
	ctx := report.Context{Daemon: "vm\x1b]0;pwned\a", ServerVersion: "20.10\x1b[2J", APIVersion: "1.41\r", Endpoint: "tcp://h\x1b[H:2375",
		HostAccessNote: "remote\x1b[31m"}
	r := report.Build(report.Tool{Name: "dockaudit"}, "host", time.Time{}, ctx, []finding.Rule{rule}, nil, fs, report.Gate{})
	var buf bytes.Buffer
	if err := report.WriteTable(&buf, r, report.TableOptions{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.ContainsAny(out, "\x1b\a\r") {
		t.Errorf("control characters reached the terminal:\n%q", out)
	}
	for _, want := range []string{
		"  FAIL    medium    X-1", // the worst problem found, not the rule's high
		"evil: runs \\x1b[2J\\x1b]0;pwned\\x07",
		"same (30 containers):",
		"container-number-29",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if len(l) > 140 {
			t.Errorf("line of %d characters: %q", len(l), l)
		}
	}
}

// TestTableTrust: an image's signatures, provenance and base are summed up under it.
func TestTableTrust(t *testing.T) {
	r := liveReport(t)
	r.Command = "image"
	r.Images = []report.Inventory{{Target: finding.Target{Kind: finding.KindImage, Name: "registry:r.example/app:1"}, Source: "registry",
		Signatures: []facts.Signature{
			{Format: "notation-jws", Verified: true, Key: "x509 sha256:ab", Identity: "CN=release,O=Example,C=DE"},
			{Format: "cosign", Verified: true, Key: "cosign.pub (sha256:cd)"},
			{Format: "cosign", Problem: "copied"},
		},
		Attestations: []facts.Attestation{{PredicateType: "https://spdx.dev/Document"}, {PredicateType: "https://slsa.dev/provenance/v1", Builder: "https://github.com/actions/runner"}},
		Base:         &facts.Base{Name: "docker.io/library/debian:12", Digest: "sha256:ef"},
	}}
	var buf bytes.Buffer
	if err := report.WriteTable(&buf, r, report.TableOptions{}); err != nil {
		t.Fatal(err)
	}
	want := "    trust: 3 signatures, 2 verified (CN=release,O=Example,C=DE, cosign.pub (sha256:cd)); provenance: built by https://github.com/actions/runner (unverified); an SBOM attached (dockaudit sbom --attested); base docker.io/library/debian:12@sha256:ef\n"
	if !strings.Contains(buf.String(), want) {
		t.Errorf("no trust line %q in\n%s", want, buf.String())
	}
}
