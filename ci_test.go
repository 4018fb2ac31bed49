package dockaudit_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestCIRunsTheREADMECommand keeps .ci/run and the README's test command identical, so
// what CI runs is what a developer is told to run.
func TestCIRunsTheREADMECommand(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?m)^# 2\\. Run the tests.*\n(.+)$").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no '# 2. Run the tests' command")
	}
	cmd := strings.TrimSpace(string(m[1]))
	ci, err := os.ReadFile(".ci/run")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ci), "\n"+cmd+"\n") {
		t.Errorf(".ci/run does not run the README's test command %q", cmd)
	}
}
