package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dockaudit/dockaudit/internal/testenv"
)

// TestREADMEUsage: the README's usage block is every command with every flag it
// really takes (dockaudit help synopsis), so the two cannot drift.
func TestREADMEUsage(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## Usage\n\n```\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no usage block")
	}
	code, out, errs := runCLI(t, nil, "help", "synopsis")
	if code != 0 {
		t.Fatalf("help synopsis: exit %d, %s", code, errs)
	}
	if string(m[1]) != out {
		t.Errorf("the README's usage block is not dockaudit help synopsis: paste its output into the README.\nREADME:\n%s\nflags:\n%s", m[1], out)
	}
	for _, f := range []string{"--ignore-unfixed", "--severity", "--vex", "--db-dir", "--compose-file", "--env-file"} {
		if !strings.Contains(out, f) {
			t.Errorf("the synopsis lacks %s", f)
		}
	}
}

// TestHelpHasExamples: every command's --help ends with examples.
func TestHelpHasExamples(t *testing.T) {
	for _, p := range commandPaths {
		code, out, _ := runCLI(t, nil, append(p, "--help")...)
		if code != 0 || !strings.Contains(out, "\nExamples:\n  ") {
			t.Errorf("dockaudit %s --help: exit %d, no examples", strings.Join(p, " "), code)
		}
	}
}

func completionScript(t *testing.T, shell string) string {
	t.Helper()
	code, out, errs := runCLI(t, nil, "completion", shell)
	if code != 0 || errs != "" {
		t.Fatalf("completion %s: exit %d, %s", shell, code, errs)
	}
	p := filepath.Join(t.TempDir(), "dockaudit."+shell)
	os.WriteFile(p, []byte(out), 0o644)
	return p
}

// TestCompletionBash runs the bash completion in a real bash, as the shell would on
// TAB: commands, subcommands, a command's flags, file names after a flag's value.
func TestCompletionBash(t *testing.T) {
	script := completionScript(t, "bash")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "compose.yaml"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "my report.json"), nil, 0o644)
	for line, want := range map[string][]string{
		"dockaudit ho":                      {"host"},
		"dockaudit db up":                   {"update"},
		"dockaudit serve token ":            {"create", "list", "revoke"},
		"dockaudit config --compose-f":      {"--compose-file"},
		"dockaudit image --ignore-un":       {"--ignore-unfixed"},
		"dockaudit config --compose-file c": {"compose.yaml"},
		"dockaudit host --all --fo":         {"--format"},
		"dockaudit host --output my":        {"my report.json"}, // one name, not two words
	} {
		words := strings.Fields(line)
		if strings.HasSuffix(line, " ") {
			words = append(words, "")
		}
		var quoted []string
		for _, w := range words {
			quoted = append(quoted, "'"+w+"'")
		}
		cmd := exec.Command("bash", "-c", "source "+script+"; COMP_WORDS=("+strings.Join(quoted, " ")+"); COMP_CWORD="+strconv.Itoa(len(words)-1)+"; _dockaudit; printf '%s|' \"${COMPREPLY[@]}\"")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil || string(out) != strings.Join(want, "|")+"|" {
			t.Errorf("%q: %q, %v; want %q", line, out, err, want)
		}
	}
}

// TestCompletionZshFish loads the zsh and fish scripts in the real shells: zsh registers
// the completion, fish completes a command line.
func TestCompletionZshFish(t *testing.T) {
	if _, err := exec.LookPath("zsh"); err != nil {
		testenv.Missing(t, "no zsh (apt-get install zsh)")
	}
	if _, err := exec.LookPath("fish"); err != nil {
		testenv.Missing(t, "no fish (apt-get install fish)")
	}
	zsh := completionScript(t, "zsh")
	// compinit writes its dump file: a temporary one (given /dev/null, it replaces
	// /dev/null with a regular file).
	dump := filepath.Join(t.TempDir(), "zcompdump")
	out, err := exec.Command("zsh", "-fc", "autoload -Uz compinit && compinit -u -d "+dump+"; source "+zsh+"; print -r -- ${_comps[dockaudit]}").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "_bash_complete -o default -F _dockaudit" {
		t.Errorf("zsh: %q, %v; want the bash completion registered", out, err)
	}
	fish := completionScript(t, "fish")
	for line, want := range map[string]string{
		"dockaudit ho":                 "host",
		"dockaudit db st":              "status",
		"dockaudit config --compose-f": "--compose-file",
	} {
		out, err := exec.Command("fish", "--no-config", "-c", "source "+fish+"; complete -C '"+line+"'").CombinedOutput()
		got := strings.Fields(string(out))
		if err != nil || len(got) == 0 || got[0] != want {
			t.Errorf("fish %q: %q, %v; want %s first", line, out, err, want)
		}
	}
}
