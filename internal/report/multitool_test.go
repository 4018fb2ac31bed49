package report_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/dockaudit/dockaudit/internal/report"
	"github.com/dockaudit/dockaudit/internal/testenv"
)

// TestSARIFMultitool validates the SARIF output with Microsoft's SARIF Multitool, the
// reference validator, running both the SARIF schema rules and the GitHub code
// scanning ingestion rules ("Gh"). scripts/setup fetches it from the npm registry
// (@microsoft/sarif-multitool-linux) into /var/cache/dockaudit-test; the environment
// variable DOCKAUDIT_SARIF_MULTITOOL points elsewhere.
func TestSARIFMultitool(t *testing.T) {
	tool := os.Getenv("DOCKAUDIT_SARIF_MULTITOOL")
	if tool == "" {
		cache := os.Getenv("DOCKAUDIT_CACHE")
		if cache == "" {
			cache = "/var/cache/dockaudit-test"
		}
		found, _ := filepath.Glob(filepath.Join(cache, "sarif-multitool-*", "package", "Sarif.Multitool"))
		if len(found) == 0 {
			testenv.Missing(t, "no SARIF Multitool under %s (run scripts/setup) and DOCKAUDIT_SARIF_MULTITOOL is not set", cache)
		}
		tool = found[len(found)-1]
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "host.sarif"), filepath.Join(dir, "validation.sarif")
	var buf bytes.Buffer
	if err := report.WriteSARIF(&buf, liveReport(t)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tool, "validate", "--rule-kind", "Gh;Sarif", "-o", out, in)
	cmd.Env = append(os.Environ(), "DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1")
	msg, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("Sarif.Multitool validate: %v\n%s", err, msg)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("no validation log: %v\n%s", err, msg)
	}
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID  string
				Level   string
				Message struct{ Text string }
			}
		}
	}
	if err := json.Unmarshal(raw, &log); err != nil {
		t.Fatal(err)
	}
	for _, run := range log.Runs {
		for _, r := range run.Results {
			t.Errorf("%s %s: %s", r.Level, r.RuleID, r.Message.Text)
		}
	}
	if t.Failed() {
		t.Logf("validator output:\n%s", msg)
	}
}
