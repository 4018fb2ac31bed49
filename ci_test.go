package dockaudit_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestREADMERunsTheBinary: the README's first command ends by running the binary
// itself, so its exit code is dockaudit's (go run turns exit 3 into 1).
func TestREADMERunsTheBinary(t *testing.T) {
	cmd := readmeCommand(t, "# 1. Audit the local Docker daemon")
	if strings.Contains(cmd, "go run") || !strings.HasSuffix(cmd, "&& bin/dockaudit host") {
		t.Errorf("the README's command %q does not end by running the built binary", cmd)
	}
}

// TestSkipsGoThroughTestenv: a test skips only through internal/testenv, so that
// DOCKAUDIT_CI=1 turns a missing dependency into a failure (a raw t.Skip would let CI
// pass without having run the test).
func TestSkipsGoThroughTestenv(t *testing.T) {
	raw := regexp.MustCompile(`\b[tb]\.(Skip|Skipf|SkipNow)\(`)
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || p == filepath.Join("internal", "testenv")) {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if raw.MatchString(line) && !strings.Contains(line, "regexp.MustCompile") {
				t.Errorf("%s:%d: a raw skip (use testenv.Missing, or testenv.Optional for data that may be absent): %s", p, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCIRunsTheREADMECommand keeps .ci/run and the README's test command identical, so
// what CI runs is what a developer is told to run.
func TestCIRunsTheREADMECommand(t *testing.T) {
	cmd := readmeCommand(t, "# 2. Run the tests")
	ci, err := os.ReadFile(".ci/run")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ci), "\n"+cmd+"\n") {
		t.Errorf(".ci/run does not run the README's test command %q", cmd)
	}
}

// readmeCommand is the line after the README's set-up comment that starts with heading.
func readmeCommand(t *testing.T, heading string) string {
	t.Helper()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?m)^" + regexp.QuoteMeta(heading) + ".*\n(.+)$").FindSubmatch(readme)
	if m == nil {
		t.Fatalf("README has no %q command", heading)
	}
	return strings.TrimSpace(string(m[1]))
}
