package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
)

// commandPaths are every command and subcommand that takes flags, in the order the
// README's usage block and the shell completions list them.
var commandPaths = [][]string{
	{"host"}, {"image"}, {"config"}, {"sbom"},
	{"db", "update"}, {"db", "import"}, {"db", "export"}, {"db", "status"},
	{"endpoint"}, {"registry"}, {"certs"},
	{"seccomp", "lint"}, {"seccomp", "diff"}, {"seccomp", "record"},
	{"rules"}, {"serve"}, {"serve", "token", "create"}, {"serve", "token", "list"}, {"serve", "token", "revoke"},
	{"plugin", "install"}, {"completion"},
}

// cmdFlag is one flag as a command's --help lists it.
type cmdFlag struct {
	Long, Short, Value string
}

// cmdInfo is a command as its own --help describes it: the real flags, so what is
// generated from it cannot drift from them.
type cmdInfo struct {
	Path  []string
	Args  string // what follows [flags] in its usage line: REF..., [PATH...]
	Flags []cmdFlag
}

var (
	flagLineRE = regexp.MustCompile(`^  (?:-([A-Za-z]), )?--([a-z][a-z0-9-]*)(?: (\S+))?$`)
)

// describe runs a command's --help and reads its usage line and flags.
func describe(path []string) (cmdInfo, error) {
	var out bytes.Buffer
	e := env{stdout: &out, stderr: io.Discard, usage: io.Discard, getenv: func(string) string { return "" }}
	if code := dispatch(context.Background(), append(slices.Clone(path), "--help"), e); code != exitOK {
		return cmdInfo{}, fmt.Errorf("dockaudit %s --help: exit %d", strings.Join(path, " "), code)
	}
	info := cmdInfo{Path: path}
	lines := strings.Split(out.String(), "\n")
	rest, ok := strings.CutPrefix(lines[0], "Usage: dockaudit "+strings.Join(path, " "))
	if !ok || (rest != "" && rest[0] != ' ') {
		return cmdInfo{}, fmt.Errorf("dockaudit %s --help: usage line %q", strings.Join(path, " "), lines[0])
	}
	info.Args = strings.TrimSpace(rest)
	// Flags written into the usage line itself (serve --database DSN) are listed below
	// as well: keep only the positional part.
	var pos []string
	toks := strings.Fields(info.Args)
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t == "[flags]" {
			continue
		}
		if strings.HasPrefix(t, "--") || strings.HasPrefix(t, "[--") {
			if !strings.HasSuffix(t, "]") && i+1 < len(toks) && !strings.HasPrefix(toks[i+1], "-") && !strings.HasPrefix(toks[i+1], "[") {
				i++ // its value
			}
			continue
		}
		pos = append(pos, t)
	}
	info.Args = strings.Join(pos, " ")
	inFlags := false
	for _, l := range lines[1:] {
		if l == "Flags:" {
			inFlags = true
			continue
		}
		if m := flagLineRE.FindStringSubmatch(l); inFlags && m != nil {
			info.Flags = append(info.Flags, cmdFlag{Short: m[1], Long: m[2], Value: m[3]})
		}
	}
	return info, nil
}

// describeAll describes every command.
func describeAll() ([]cmdInfo, error) {
	var out []cmdInfo
	for _, p := range commandPaths {
		info, err := describe(p)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// synopsis is the README's usage block: every command with every flag, wrapped at 88
// columns under the command's name.
func synopsis(cmds []cmdInfo) string {
	var b strings.Builder
	for _, c := range cmds {
		head := "dockaudit " + strings.Join(c.Path, " ")
		words := []string{}
		for _, f := range c.Flags {
			w := "--" + f.Long
			if f.Value != "" {
				w += " " + f.Value
			}
			words = append(words, "["+w+"]")
		}
		if c.Args != "" {
			words = append(words, c.Args)
		}
		line, indent := head, strings.Repeat(" ", len(head)+1)
		for _, w := range words {
			if len(line)+1+len(w) > 88 && strings.TrimSpace(line) != "" && line != head {
				b.WriteString(line + "\n")
				line = indent + w
				continue
			}
			line += " " + w
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}
