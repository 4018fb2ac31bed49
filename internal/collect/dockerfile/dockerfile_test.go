package dockerfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/dockaudit/dockaudit/internal/safefile"
)

const multiStage = `# syntax=docker/dockerfile:1
ARG BASE=debian
ARG VERSION=12
FROM ${BASE}:${VERSION} AS build
  RUN apt-get update && \
      apt-get install -y gcc
COPY <<EOF /etc/motd
hello
EOF

FROM build AS test
USER root

FROM gcr.io/distroless/static@sha256:0000000000000000000000000000000000000000000000000000000000000000
	HEALTHCHECK CMD ["/app", "-health"]
`

// TestParse: stages with their bases expanded as docker build expands them (global
// ARG defaults), a stage built on an earlier one, and every instruction at its line,
// column and last line (continuations, heredocs).
func TestParse(t *testing.T) {
	f, err := Parse("Dockerfile", []byte(multiStage))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]Arg{{Name: "BASE", Default: "debian", HasDefault: true, Pos: Pos{2, 1, 2}}, {Name: "VERSION", Default: "12", HasDefault: true, Pos: Pos{3, 1, 3}}}, f.Args); d != "" {
		t.Errorf("args (-want +got):\n%s", d)
	}
	type ins struct {
		Name string
		Pos  Pos
	}
	type stage struct {
		Name, BaseRaw, Base string
		FromStage           int
		Pos                 Pos
		Ins                 []ins
	}
	var got []stage
	for _, s := range f.Stages {
		st := stage{s.Name, s.BaseRaw, s.Base, s.FromStage, s.Pos, nil}
		for _, in := range s.Instructions {
			st.Ins = append(st.Ins, ins{in.Name, in.Pos})
		}
		got = append(got, st)
	}
	digest := "sha256:" + strings.Repeat("0", 64)
	want := []stage{
		{"build", "${BASE}:${VERSION}", "debian:12", -1, Pos{4, 1, 4}, []ins{{"run", Pos{5, 3, 6}}, {"copy", Pos{7, 1, 9}}}},
		{"test", "build", "build", 0, Pos{11, 1, 11}, []ins{{"user", Pos{12, 1, 12}}}},
		{"", "gcr.io/distroless/static@" + digest, "gcr.io/distroless/static@" + digest, -1, Pos{14, 1, 14}, []ins{{"healthcheck", Pos{15, 2, 15}}}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("stages (-want +got):\n%s", d)
	}
	run, ok := f.Stages[0].Instructions[0].Command.(*instructions.RunCommand)
	if !ok || !strings.Contains(strings.Join(run.CmdLine, " "), "apt-get install -y gcc") {
		t.Errorf("RUN: %#v", f.Stages[0].Instructions[0].Command)
	}
	if u := f.Stages[1].Instructions[0].Command.(*instructions.UserCommand); u.User != "root" {
		t.Errorf("USER: %q", u.User)
	}
}

// TestParseErrors: what is no Dockerfile, or an instruction BuildKit refuses, is one
// error naming the file and, when the parser knows it, the line.
func TestParseErrors(t *testing.T) {
	for body, want := range map[string]string{
		"RUN echo hi\n":         "Dockerfile:1: no build stage in current context",
		"# only a comment\n":    "Dockerfile:1: file with no instructions",
		"FROM debian\nFROB x\n": "Dockerfile:2: unknown instruction: FROB",
	} {
		_, err := Parse("Dockerfile", []byte(body))
		if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: %v, want %s…", body, err, want)
		}
	}
}

// TestRead: a Dockerfile larger than MaxSize, a FIFO named as one, and a directory are
// each refused without being read.
func TestRead(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "Dockerfile.big")
	os.WriteFile(big, []byte("FROM debian\n"+strings.Repeat("# padding\n", MaxSize/10+1)), 0o644)
	if _, err := Read(big); !errors.Is(err, safefile.ErrTooLarge) {
		t.Errorf("too large: %v", err)
	}
	fifo := filepath.Join(dir, "Dockerfile.fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(fifo); !errors.Is(err, safefile.ErrNotRegular) {
		t.Errorf("FIFO: %v", err)
	}
	if _, err := Read(dir); !errors.Is(err, safefile.ErrNotRegular) {
		t.Errorf("directory: %v", err)
	}
	ok := filepath.Join(dir, "Dockerfile")
	os.WriteFile(ok, []byte("FROM debian:12\nUSER app\n"), 0o644)
	if f, err := Read(ok); err != nil || len(f.Stages) != 1 || f.Stages[0].Base != "debian:12" || f.Path != ok {
		t.Errorf("a Dockerfile: %+v %v", f, err)
	}
}

func TestContextCopies(t *testing.T) {
	f, err := Parse("Dockerfile", []byte("ARG SRC=app\n"+
		"FROM debian:12 AS build\n"+
		"COPY --from=other /x /x\n"+
		"COPY ${SRC}/ /src/\n"+
		"ADD https://example.com/a.tgz keys/ /opt/\n"+
		"ARG SRC\n"+
		"ARG LATE\n"+
		"COPY $SRC/$LATE /late/\n"+
		"FROM build\n"+
		"COPY --exclude=*.md ../../docs /docs\n"+
		"COPY <<EOT /etc/motd\nhi\nEOT\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range f.ContextCopies(nil) {
		got = append(got, fmt.Sprintf("%d:%d %v %v %q", c.Stage, c.Instruction.Pos.Line, c.Sources, c.Excludes, c.Unresolved))
	}
	want := []string{
		// A global argument is not in scope in a stage until the stage declares it:
		// empty, as BuildKit expands it, so the whole context.
		`0:4 [.] [] ""`,
		`0:5 [keys] [] ""`,
		`0:8 [] [] "the source $SRC/$LATE names LATE, which has no value in the Dockerfile (a --build-arg decides it)"`,
		`1:10 [docs] [*.md] ""`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("copies (-want +got):\n%s", d)
	}
	if c := f.Chain(1); len(c) != 2 || c[0] != 0 || c[1] != 1 {
		t.Errorf("chain %v", c)
	}
}
