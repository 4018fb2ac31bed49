// Package dockerfile reads a Dockerfile with BuildKit's own parser (the one docker
// build uses) into its stages and instructions, each with the file, line and column it
// is at, and the base image of each stage with its build arguments expanded as BuildKit
// expands them. It is the first part of dockaudit config (docs/design/config.md); it
// judges nothing.
package dockerfile

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/dockaudit/dockaudit/internal/safefile"
	"github.com/dockaudit/dockaudit/internal/textsafe"
)

// MaxSize bounds a Dockerfile read (the largest in the wild are tens of kilobytes).
const MaxSize = 1 << 20

// Pos is where something is in a file: 1-based line and column, and the last line of
// an instruction continued over several.
type Pos struct {
	Line, Column, EndLine int
}

// File is a parsed Dockerfile.
type File struct {
	Path string
	// Args are the build arguments declared before the first FROM, with their defaults.
	Args []Arg
	// Stages in file order; the last is what docker build produces by default.
	Stages   []Stage
	Warnings []Warning

	escape rune // the escape character the file declares
}

// Arg is a build argument and its default ("" when it has none).
type Arg struct {
	Name, Default string
	HasDefault    bool
	Pos           Pos
}

// Stage is one FROM and what follows it.
type Stage struct {
	Name string // AS name, lowercased as BuildKit keeps it; "" when unnamed
	// BaseRaw is the FROM argument as written, Base with the global build arguments
	// expanded; FromStage is the index of the earlier stage Base names, or -1 for an
	// image.
	BaseRaw, Base string
	FromStage     int
	Platform      string
	Pos           Pos
	Instructions  []Instruction
}

// Instruction is one instruction of a stage.
type Instruction struct {
	Name     string // lowercase: run, copy, add, user, env, arg, healthcheck…
	Original string // the instruction as written, continuation lines joined
	Pos      Pos
	// Command is BuildKit's parsed form (*instructions.RunCommand and the like).
	Command instructions.Command
}

// Warning is something the parser warned of (an empty continuation line, say).
type Warning struct {
	Message string
	Pos     Pos
}

// Error is a Dockerfile that does not parse, with where when the parser said.
type Error struct {
	Path string
	Pos  Pos
	Err  error
}

func (e *Error) Error() string {
	if e.Pos.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.Path, e.Pos.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Path, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Read reads and parses the Dockerfile at path: a regular file of at most MaxSize
// bytes (a FIFO or a device is refused, never read).
func Read(path string) (*File, error) {
	b, err := safefile.Read(path, MaxSize)
	if err != nil {
		return nil, err
	}
	return Parse(path, b)
}

// Parse parses a Dockerfile's content.
func Parse(path string, data []byte) (*File, error) {
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, locate(path, err)
	}
	lines := strings.Split(string(data), "\n")
	f := &File{Path: path, escape: res.EscapeToken}
	for _, w := range res.Warnings {
		var p Pos
		if w.Location != nil {
			p = pos(lines, *w.Location, *w.Location)
		}
		f.Warnings = append(f.Warnings, Warning{Message: w.Short, Pos: p})
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, locate(path, err)
	}
	env := map[string]string{}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			arg := Arg{Name: kv.Key, Pos: rangePos(lines, a.Location())}
			if kv.Value != nil {
				arg.Default, arg.HasDefault = *kv.Value, true
				env[kv.Key] = *kv.Value
			}
			f.Args = append(f.Args, arg)
		}
	}
	lex := shell.NewLex(res.EscapeToken)
	byName := map[string]int{} // stage names seen so far, lowercased: the last one wins
	for i, st := range stages {
		s := Stage{Name: st.Name, BaseRaw: st.BaseName, Base: st.BaseName, FromStage: -1, Platform: st.Platform, Pos: rangePos(lines, st.Location)}
		// The base is expanded with the global build arguments' defaults, as docker
		// build does when none is given on its command line.
		if r, err := lex.ProcessWordWithMatches(st.BaseName, shell.EnvsFromSlice(envList(env))); err == nil {
			s.Base = r.Result
		}
		if j, ok := byName[strings.ToLower(s.Base)]; ok {
			s.FromStage = j
		}
		if st.Name != "" {
			byName[strings.ToLower(st.Name)] = i
		}
		for _, c := range st.Commands {
			in := Instruction{Name: strings.ToLower(c.Name()), Pos: rangePos(lines, c.Location()), Command: c}
			if str, ok := c.(fmt.Stringer); ok {
				in.Original = str.String()
			}
			s.Instructions = append(s.Instructions, in)
		}
		f.Stages = append(f.Stages, s)
	}
	if len(f.Stages) == 0 {
		return nil, &Error{Path: path, Err: errors.New("no FROM: not a Dockerfile")}
	}
	return f, nil
}

// locate turns a parser error into one that says the line, when the parser knew it.
func locate(path string, err error) error {
	e := &Error{Path: path, Err: err}
	var le *parser.LocationError
	if errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
		e.Pos = Pos{Line: le.Locations[0][0].Start.Line, Column: 1, EndLine: le.Locations[0][0].End.Line}
		e.Err = errors.New(firstLine(le.Unwrap().Error()))
	}
	return e
}

func firstLine(s string) string { return textsafe.FirstLine(s, 200) }

// rangePos is where the first range starts and the last ends.
func rangePos(lines []string, rs []parser.Range) Pos {
	if len(rs) == 0 {
		return Pos{}
	}
	return pos(lines, rs[0], rs[len(rs)-1])
}

// pos is a range's position; BuildKit gives lines only, so the column is where the
// text of the first line starts (after its indentation).
func pos(lines []string, first, last parser.Range) Pos {
	p := Pos{Line: first.Start.Line, Column: 1, EndLine: last.End.Line}
	if first.Start.Line >= 1 && first.Start.Line <= len(lines) {
		l := lines[first.Start.Line-1]
		p.Column = len(l) - len(strings.TrimLeft(l, " \t")) + 1
	}
	return p
}

func envList(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}
