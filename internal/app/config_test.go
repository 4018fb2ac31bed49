package app

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/check"
)

// TestConfigSARIF: a Dockerfile under the working directory is named relative to it,
// and SARIF points code scanning at its line and column under %SRCROOT%.
func TestConfigSARIF(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	os.MkdirAll(filepath.Join(dir, "svc"), 0o755)
	os.WriteFile(filepath.Join(dir, "svc", "Dockerfile"), []byte("FROM debian:12\n  RUN apt-get update\n"), 0o644)
	var buf bytes.Buffer
	opts := ConfigOptions{ImageOptions: ImageOptions{Output: Output{Format: "sarif"}, Selection: check.Selection{Include: []string{"CIS-4.7"}}}, Paths: []string{dir}}
	if _, err := Config(opts, &buf); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID    string
				Locations []json.RawMessage
			}
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil || len(log.Runs) != 1 || len(log.Runs[0].Results) != 1 {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	want := `{"physicalLocation":{"artifactLocation":{"uri":"svc/Dockerfile","uriBaseId":"%SRCROOT%"},"region":{"startLine":2,"startColumn":3}}}`
	var got bytes.Buffer
	json.Compact(&got, log.Runs[0].Results[0].Locations[0])
	if d := cmp.Diff(want, got.String()); d != "" {
		t.Errorf("location (-want +got):\n%s", d)
	}
}
