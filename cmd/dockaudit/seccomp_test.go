package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// golden compares got with testdata/seccomp/NAME, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "seccomp", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -update, then review the diff); got:\n%s", name, got)
	}
}

func TestSeccompLintGolden(t *testing.T) {
	code, out, errs := runCLI(t, nil, "seccomp", "lint", "--color", "never", "testdata/seccomp/weak.json", "testdata/seccomp/strict.json")
	if code != 3 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	golden(t, "lint.table.golden", out)

	code, out, _ = runCLI(t, nil, "seccomp", "lint", "--format", "json", "testdata/seccomp/weak.json", "testdata/seccomp/strict.json")
	var r struct {
		Command  string
		Findings json.RawMessage
	}
	if code != 3 || json.Unmarshal([]byte(out), &r) != nil || r.Command != "seccomp lint" {
		t.Fatalf("json: exit %d, command %q", code, r.Command)
	}
	b, _ := json.MarshalIndent(r.Findings, "", "  ")
	golden(t, "lint.findings.json.golden", string(b)+"\n")

	// The strict profile alone passes every rule.
	code, out, _ = runCLI(t, nil, "seccomp", "lint", "testdata/seccomp/strict.json")
	if code != 0 || !strings.Contains(out, "6 rules: 0 fail, 0 warn, 0 error, 0 manual, 0 info, 6 pass, 0 skip") {
		t.Errorf("strict: exit %d\n%s", code, out)
	}
}

func TestSeccompDiffGolden(t *testing.T) {
	code, out, errs := runCLI(t, nil, "seccomp", "diff", "--engine", "20.10", "testdata/seccomp/weak.json")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	golden(t, "diff.weak-vs-20.10.golden", out)
	code, out, _ = runCLI(t, nil, "seccomp", "diff", "--format", "json", "--cap-add", "SYS_ADMIN", "testdata/seccomp/weak.json", "testdata/seccomp/strict.json")
	if code != 0 {
		t.Fatalf("json: exit %d", code)
	}
	golden(t, "diff.weak-vs-strict.sysadmin.json.golden", out)
	// --exit-code: 3 when A allows what B refuses, 0 otherwise.
	if code, _, _ := runCLI(t, nil, "seccomp", "diff", "--exit-code", "testdata/seccomp/weak.json", "testdata/seccomp/strict.json"); code != 3 {
		t.Errorf("weak vs strict --exit-code: %d", code)
	}
	if code, _, _ := runCLI(t, nil, "seccomp", "diff", "--exit-code", "testdata/seccomp/strict.json"); code != 0 {
		t.Errorf("strict vs default --exit-code: %d", code)
	}
}

func TestSeccompUsage(t *testing.T) {
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "x.json")
	os.WriteFile(notJSON, []byte("mount\n"), 0o644)
	tests := []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"seccomp"}, 2, seccompUsage},
		{[]string{"seccomp", "audit"}, 2, "dockaudit seccomp: unknown subcommand \"audit\" (want lint, diff or record)\n"},
		{[]string{"seccomp", "lint"}, 2, "dockaudit seccomp lint: name at least one profile file, or - for stdin (see dockaudit seccomp lint --help)\n"},
		{[]string{"seccomp", "lint", "--format", "xml", "x"}, 2, "dockaudit seccomp lint: --format \"xml\": want table, json, sarif or html\n"},
		{[]string{"seccomp", "lint", dir}, 1, "dockaudit seccomp lint: " + dir + " is not a regular file\n"},
		{[]string{"seccomp", "diff"}, 2, "dockaudit seccomp diff: name one profile (compared with Docker's default) or two (see dockaudit seccomp diff --help)\n"},
		{[]string{"seccomp", "diff", "a", "b", "c"}, 2, "dockaudit seccomp diff: name one profile (compared with Docker's default) or two (see dockaudit seccomp diff --help)\n"},
		{[]string{"seccomp", "diff", "--engine", "19.03", "testdata/seccomp/strict.json"}, 2, "dockaudit seccomp diff: --engine: no embedded default profile for Docker 19.03 (have 20.10, 23.0, 24.0, 25.0, 28.5, 29.7)\n"},
		{[]string{"seccomp", "diff", "--cap-add", "SYS_WIZARD", "testdata/seccomp/strict.json"}, 2, "dockaudit seccomp diff: \"SYS_WIZARD\" is not a capability (see man 7 capabilities; ALL for all)\n"},
		{[]string{"seccomp", "diff", notJSON}, 1, "dockaudit seccomp diff: " + notJSON + ": not a seccomp profile: invalid character 'm' looking for beginning of value\n"},
		{[]string{"seccomp", "diff", "--format", "yaml", "x"}, 2, "dockaudit seccomp diff: --format \"yaml\": want text or json\n"},
		{[]string{"seccomp", "lint", "-", "x", "-"}, 2, "dockaudit seccomp lint: - (stdin) can be named only once\n"},
		{[]string{"seccomp", "diff", "-", "-"}, 2, "dockaudit seccomp diff: - (stdin) can be named only once\n"},
		{[]string{"seccomp", "record"}, 2, "dockaudit seccomp record: name the IMAGE to run (see dockaudit seccomp record --help)\n"},
		{[]string{"seccomp", "record", "--duration", "0s", "img"}, 2, "dockaudit seccomp record: --duration 0s: want a positive duration such as 30s\n"},
		{[]string{"seccomp", "record", "--cap-add", "WIZARD", "img"}, 2, "dockaudit seccomp record: \"WIZARD\" is not a capability\n"},
		{[]string{"seccomp", "record", "--output", filepath.Join(dir, "no", "p.json"), "img"}, 2, "dockaudit seccomp record: --output " + filepath.Join(dir, "no", "p.json") + ": its directory does not exist\n"},
		{[]string{"seccomp", "record", "--bogus", "img"}, 2, "dockaudit seccomp record: flag provided but not defined: --bogus (see dockaudit seccomp record --help)\n"},
	}
	for _, tt := range tests {
		code, _, errs := runCLI(t, nil, tt.args...)
		if code != tt.code || errs != tt.err {
			t.Errorf("%v: exit %d, stderr %q; want %d, %q", tt.args, code, errs, tt.code, tt.err)
		}
	}
	// --help teaches, on stdout, exit 0.
	for _, sub := range []string{"lint", "diff", "record"} {
		code, out, _ := runCLI(t, nil, "seccomp", sub, "--help")
		if code != 0 || !strings.HasPrefix(out, "Usage: dockaudit seccomp "+sub) || !strings.Contains(out, "Examples:") || !strings.Contains(out, "\nFlags:\n") {
			t.Errorf("seccomp %s --help: exit %d\n%s", sub, code, out)
		}
	}
}
