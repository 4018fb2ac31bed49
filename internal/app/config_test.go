package app

import (
	"bytes"
	"context"
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
	if _, err := Config(context.Background(), opts, &buf); err != nil {
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

// TestConfigWarnings: what BuildKit's parser warns of in a Dockerfile is a note at its
// line, not dropped.
func TestConfigWarnings(t *testing.T) {
	dir := t.TempDir()
	df := filepath.Join(dir, "Dockerfile")
	os.WriteFile(df, []byte("FROM debian:12\nRUN echo ghp_0123456789abcdefghijABCDEFGHIJ012345 \\\n\n  b\n"), 0o644)
	var buf bytes.Buffer
	opts := ConfigOptions{ImageOptions: ImageOptions{Output: Output{Format: "json"}, Selection: check.Selection{Include: []string{"CIS-4.7"}}}, Paths: []string{df}}
	r, err := Config(context.Background(), opts, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{df + ":4: Empty continuation line found in: RUN echo [redacted: 40 characters, sha256:d8fe76b428b9]   b"}, r.Context.Notes); d != "" {
		t.Errorf("notes (-want +got):\n%s", d)
	}
}
