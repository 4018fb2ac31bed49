package cis

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"slices"
	"testing"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/finding"
)

// TestLiveGolden runs every check over facts recorded from a real Docker 20.10 daemon
// with the integration test's containers (da-priv created, the rest running) and
// compares every finding, evidence included, with the golden file. Regenerate both with
// testdata/README.md; review the diff before committing.
func TestLiveGolden(t *testing.T) {
	s := loadFacts(t, "live.facts.json")
	fs := check.Run(Checks(), s, check.Options{})
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(fs); err != nil {
		t.Fatal(err)
	}
	const golden = "testdata/live.findings.golden.json"
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, buf.Bytes()) {
		var w []finding.Finding
		json.Unmarshal(want, &w)
		t.Errorf("findings differ from %s (run go test -update and review the diff); first difference:\n%s", golden, firstDiff(w, fs))
	}
}

func firstDiff(want, got []finding.Finding) string {
	for i := 0; i < len(want) || i < len(got); i++ {
		var a, b []byte
		if i < len(want) {
			a, _ = json.Marshal(want[i])
		}
		if i < len(got) {
			b, _ = json.Marshal(got[i])
		}
		if !bytes.Equal(a, b) {
			return "want " + string(a) + "\n got " + string(b)
		}
	}
	return "(none)"
}

// TestLiveFindingsByContainer pins, in words, what the golden file says for each
// deliberately misconfigured container: the exact set of container rules that fail.
func TestLiveFindingsByContainer(t *testing.T) {
	s := loadFacts(t, "live.facts.json")
	failing := map[string][]string{}
	audited := map[string]bool{}
	for _, f := range check.Run(Checks(), s, check.Options{}) {
		if f.Target.Kind == finding.KindContainer {
			audited[f.Target.Name] = true
		}
		if f.Target.Kind == finding.KindContainer && f.Status == finding.Fail {
			failing[f.Target.Name] = append(failing[f.Target.Name], f.Rule)
		}
	}
	common := []string{"CIS-4.1", "CIS-5.11", "CIS-5.12", "CIS-5.13", "CIS-5.26", "CIS-5.27", "CIS-5.29", "CIS-5.30"}
	with := func(more ...string) []string {
		return slices.Sorted(slices.Values(append(slices.Clone(common), more...)))
	}
	want := map[string][]string{
		"da-capsys":  with("CIS-5.4", "CIS-5.22"),
		"da-priv":    with("CIS-5.4", "CIS-5.5", "CIS-5.22"),
		"da-sock":    with("CIS-5.6", "CIS-5.8", "CIS-5.14", "CIS-5.32"),
		"da-varrun":  with("CIS-5.32"),
		"da-pidhost": with("CIS-5.16"),
		"da-sshd":    with("CIS-5.7"),
		"da-good":    nil, // --read-only --user 1000 --cap-drop ALL --security-opt no-new-privileges --memory 64m --pids-limit 50 --cpu-shares 512, health check, --network none
	}
	// Every container of the facts is accounted for, the hardened one included.
	if got, w := slices.Sorted(maps.Keys(audited)), slices.Sorted(maps.Keys(want)); !slices.Equal(got, w) {
		t.Errorf("containers audited %v, want %v", got, w)
	}
	for name, rules := range want {
		got := slices.Sorted(slices.Values(failing[name]))
		if !slices.Equal(rules, got) {
			t.Errorf("%s fails %v, want %v", name, got, rules)
		}
	}
}
