package check

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
)

func rule(id string, scope finding.Kind, tags ...string) finding.Rule {
	return finding.Rule{ID: id, Title: "title of " + id, Severity: finding.High, Scope: scope, Tags: tags}
}

func snap() *facts.Snapshot {
	return &facts.Snapshot{
		Engine:     facts.Engine{ID: "E", Name: "node1"},
		HostAccess: facts.HostAccess{Local: true},
		Host:       &facts.Host{Hostname: "node1"},
		Containers: []facts.Container{{ID: "2", Name: "b", State: &facts.ContainerState{}, Config: &facts.ContainerConfig{}, HostConfig: &facts.HostConfig{}, Mounts: []facts.Mount{}, Ports: []facts.Port{}, Networks: []string{}}, {ID: "1", Name: "a", State: &facts.ContainerState{}, Config: &facts.ContainerConfig{}, HostConfig: &facts.HostConfig{}, Mounts: []facts.Mount{}, Ports: []facts.Port{}, Networks: []string{}}, {ID: "3", Name: "gone", Error: "container gone disappeared"}},
		Images:     []facts.Image{{ID: "sha256:0123456789abcdef0123", Tags: nil}},
	}
}

type line struct {
	Rule, Status, Target, Message string
}

func lines(fs []finding.Finding) []line {
	var out []line
	for _, f := range fs {
		out = append(out, line{f.Rule, f.Status.String(), f.Target.String(), f.Message})
	}
	return out
}

func TestRun(t *testing.T) {
	checks := []Check{
		{Rule: rule("X-2", finding.KindContainer), Run: func(p *Pass) {
			if p.Container.Name == "b" {
				p.Fail("b is bad", Ev("k", "v", "w"))
			}
		}},
		{Rule: rule("X-1", finding.KindDaemon), Run: func(p *Pass) { p.Warn("daemon warning") }},
		{Rule: rule("X-3", finding.KindHost), NeedsHost: true, Run: func(p *Pass) {}},
		{Rule: rule("X-4", finding.KindImage), Run: func(p *Pass) { panic("boom") }},
	}
	got := lines(Run(checks, snap(), Options{Concurrency: 3}))
	want := []line{
		{"AUDIT-COLLECT", "error", "container gone", "container gone disappeared"},
		{"X-2", "pass", "container a", "title of X-2"},
		{"X-2", "fail", "container b", "b is bad"},
		{"X-1", "warn", "daemon node1", "daemon warning"},
		{"X-3", "pass", "host node1", "title of X-3"},
		{"X-4", "error", "image 0123456789ab", "check X-4 failed internally: boom"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestRunWithoutHost(t *testing.T) {
	s := snap()
	s.HostAccess = facts.HostAccess{Reason: "the daemon is remote"}
	called := false
	checks := []Check{{Rule: rule("X-3", finding.KindHost), NeedsHost: true, Run: func(p *Pass) { called = true }}}
	got := lines(Run(checks, s, Options{}))
	if called {
		t.Error("a host check ran without host access")
	}
	want := []line{
		{"AUDIT-COLLECT", "error", "container gone", "container gone disappeared"},
		{"X-3", "skip", "host node1", "needs access to the daemon's host: the daemon is remote"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestRunDeterministic: the output order does not depend on scheduling.
func TestRunDeterministic(t *testing.T) {
	var checks []Check
	for _, id := range []string{"A-1", "A-2", "A-3", "A-4", "A-5"} {
		checks = append(checks, Check{Rule: rule(id, finding.KindContainer), Run: func(p *Pass) {
			p.Fail("one")
			p.Fail("two")
		}})
	}
	first := lines(Run(checks, snap(), Options{Concurrency: 8}))
	// Rule order, then target name, then message; the vanished container first.
	want := []line{{"AUDIT-COLLECT", "error", "container gone", "container gone disappeared"}}
	for _, id := range []string{"A-1", "A-2", "A-3", "A-4", "A-5"} {
		for _, c := range []string{"container a", "container b"} {
			want = append(want, line{id, "fail", c, "one"}, line{id, "fail", c, "two"})
		}
	}
	if d := cmp.Diff(want, first); d != "" {
		t.Fatalf("order (-want +got):\n%s", d)
	}
	for i := 0; i < 20; i++ {
		if d := cmp.Diff(first, lines(Run(checks, snap(), Options{Concurrency: 8}))); d != "" {
			t.Fatalf("run %d differs:\n%s", i, d)
		}
	}
}

func TestSelection(t *testing.T) {
	checks := []Check{
		{Rule: rule("CIS-1.1.1", finding.KindHost, "host", "level1")},
		{Rule: rule("CIS-1.1.10", finding.KindHost, "host", "level2")},
		{Rule: rule("CIS-1.2.1", finding.KindHost, "host", "level1")},
		{Rule: rule("CIS-5.4", finding.KindContainer, "runtime", "level1")},
		{Rule: rule("CIS-5.40", finding.KindContainer, "runtime", "level1")},
	}
	ids := func(cs []Check) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	tests := []struct {
		sel  Selection
		want []string
	}{
		{Selection{}, []string{"CIS-1.1.1", "CIS-1.1.10", "CIS-1.2.1", "CIS-5.4", "CIS-5.40"}},
		{Selection{Include: []string{"cis-5.4"}}, []string{"CIS-5.4"}},
		{Selection{Include: []string{"5.4"}}, []string{"CIS-5.4"}},
		{Selection{Include: []string{"1.1"}}, []string{"CIS-1.1.1", "CIS-1.1.10"}},
		{Selection{Include: []string{"CIS-1"}}, []string{"CIS-1.1.1", "CIS-1.1.10", "CIS-1.2.1"}},
		{Selection{Include: []string{"CIS-1.1.1"}}, []string{"CIS-1.1.1"}},
		{Selection{Include: []string{"level2", "runtime"}}, []string{"CIS-1.1.10", "CIS-5.4", "CIS-5.40"}},
		{Selection{Exclude: []string{"host"}}, []string{"CIS-5.4", "CIS-5.40"}},
		{Selection{Include: []string{"CIS"}, Exclude: []string{"5.40", "1.1"}}, []string{"CIS-1.2.1", "CIS-5.4"}},
	}
	for _, tt := range tests {
		got, err := tt.sel.Apply(checks)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(tt.want, ids(got)); d != "" {
			t.Errorf("%+v (-want +got):\n%s", tt.sel, d)
		}
	}
	_, err := Selection{Include: []string{"CIS-9.9"}}.Apply(checks)
	if err == nil || !strings.Contains(err.Error(), `selector "CIS-9.9" matches no rule`) {
		t.Errorf("unknown selector: %v", err)
	}
	_, err = Selection{Exclude: []string{"nosuchtag"}}.Apply(checks)
	if err == nil {
		t.Error("unknown exclude selector: no error")
	}
}

// TestRunNeeds: a check whose facts are missing is not called; its target gets skip
// with the reason the collector recorded (or that the facts lack the part).
func TestRunNeeds(t *testing.T) {
	s := snap()
	s.Containers[0].HostConfig = nil
	s.Containers[0].Unknown = map[facts.Part]string{facts.PartHostConfig: "the daemon's inspect answer has no HostConfig for this container"}
	s.Containers[1].Mounts = nil
	called := map[string]bool{}
	checks := []Check{
		{Rule: rule("N-1", finding.KindContainer), Needs: []facts.Part{facts.PartHostConfig, facts.PartMounts},
			Run: func(p *Pass) { called[p.Container.Name] = true }},
		{Rule: rule("N-2", finding.KindDaemon), Needs: []facts.Part{facts.PartEngine}, Run: func(p *Pass) { called["daemon"] = true }},
	}
	got := lines(Run(checks, s, Options{}))
	want := []line{
		{"AUDIT-COLLECT", "error", "container gone", "container gone disappeared"},
		{"N-1", "skip", "container a", "not known: the facts hold no mounts for this container"},
		{"N-1", "skip", "container b", "not known: the daemon's inspect answer has no HostConfig for this container"},
		{"N-2", "skip", "daemon node1", "not known: the daemon's /info and /version were not read"},
	}
	if d := cmp.Diff(want, got); d != "" || len(called) > 0 {
		t.Errorf("(-want +got):\n%s\ncalled %v", d, called)
	}
}
