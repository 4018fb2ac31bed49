package report_test

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dockaudit/dockaudit/internal/finding"
	"github.com/dockaudit/dockaudit/internal/report"
)

func TestSARIFGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := report.WriteSARIF(&buf, liveReport(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "host.sarif.golden", buf.Bytes())
}

// TestSARIFForCodeScanning checks the properties GitHub code scanning requires or reads
// (docs.github.com, "SARIF support for code scanning"): version 2.1.0, one run with
// tool.driver.name and rules, and per result a ruleId that resolves through ruleIndex,
// a message, a level from the SARIF enumeration, at least one physical location with a
// relative artifact URI and a region, and partialFingerprints to de-duplicate alerts.
func TestSARIFForCodeScanning(t *testing.T) {
	r := liveReport(t)
	var buf bytes.Buffer
	if err := report.WriteSARIF(&buf, r); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Schema  string `json:"$schema"`
		Version string
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string
					Rules []struct {
						ID               string
						ShortDescription struct{ Text string }
						FullDescription  struct{ Text string }
						Help             struct{ Text string }
						Properties       map[string]any
					}
				}
			}
			Results []struct {
				RuleID    string
				RuleIndex int
				Level     string
				Message   struct{ Text string }
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine int }
					}
				}
				PartialFingerprints map[string]string
			}
			Invocations []struct {
				ExecutionSuccessful bool
			}
		}
	}
	dec := json.NewDecoder(&buf)
	if err := dec.Decode(&log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || !strings.Contains(log.Schema, "sarif-2.1.0") || len(log.Runs) != 1 {
		t.Fatalf("header: %q %q runs=%d", log.Version, log.Schema, len(log.Runs))
	}
	run := log.Runs[0]
	d := run.Tool.Driver
	if d.Name != "dockaudit" || len(d.Rules) != 140 || len(run.Invocations) != 1 {
		t.Fatalf("driver %q rules %d", d.Name, len(d.Rules))
	}
	for _, ru := range d.Rules {
		sev, ok := ru.Properties["security-severity"].(string)
		if _, err := strconv.ParseFloat(sev, 64); !ok || err != nil || ru.ShortDescription.Text == "" || ru.FullDescription.Text == "" || ru.Help.Text == "" {
			t.Errorf("rule %s: %+v", ru.ID, ru)
		}
	}
	problems := 0
	for _, f := range r.Findings {
		if f.Status == finding.Fail || f.Status == finding.Warn {
			problems++
		}
	}
	if len(run.Results) != problems || problems == 0 {
		t.Errorf("%d results for %d fail/warn findings", len(run.Results), problems)
	}
	fps := map[string]bool{}
	for _, res := range run.Results {
		if res.RuleIndex < 0 || res.RuleIndex >= len(d.Rules) || d.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %s: ruleIndex %d does not point at its rule", res.RuleID, res.RuleIndex)
		}
		if res.Level != "error" && res.Level != "warning" && res.Level != "note" {
			t.Errorf("result %s: level %q", res.RuleID, res.Level)
		}
		if res.Message.Text == "" || len(res.Locations) == 0 {
			t.Errorf("result %s: no message or location", res.RuleID)
			continue
		}
		loc := res.Locations[0].PhysicalLocation
		if loc.ArtifactLocation.URI == "" || strings.HasPrefix(loc.ArtifactLocation.URI, "/") || loc.Region.StartLine < 1 {
			t.Errorf("result %s: location %+v", res.RuleID, loc)
		}
		fp := res.PartialFingerprints["dockauditFinding/v1"]
		if fp == "" || fps[fp] {
			t.Errorf("result %s: fingerprint %q missing or repeated", res.RuleID, fp)
		}
		fps[fp] = true
	}
}

// TestSARIFURIsEscaped: target names and file paths become valid relative URIs.
func TestSARIFURIsEscaped(t *testing.T) {
	rule := finding.Rule{ID: "SECCOMP-ARCH", Title: "t", Severity: finding.Low, Section: "S", Scope: finding.KindProfile}
	f := finding.Finding{Rule: "SECCOMP-ARCH", Status: finding.Warn, Severity: finding.Low, Message: "m",
		Target: finding.Target{Kind: finding.KindProfile, Name: "sp ace/p#1%.json"}, Location: &finding.Location{Path: "sp ace/p#1%.json"}}
	r := report.Build(report.Tool{Name: "dockaudit"}, "seccomp lint", time.Time{}, report.Context{}, []finding.Rule{rule}, nil, []finding.Finding{f}, report.Gate{})
	var buf bytes.Buffer
	if err := report.WriteSARIF(&buf, r); err != nil {
		t.Fatal(err)
	}
	if want := `"uri": "profile/sp_ace_p%231%25.json/sp%20ace/p%231%25.json"`; !strings.Contains(buf.String(), want) {
		t.Errorf("no %s in\n%s", want, buf.String())
	}
}
