package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/dockaudit/dockaudit/internal/caps"
	"github.com/dockaudit/dockaudit/internal/checks"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/report"
	"github.com/dockaudit/dockaudit/internal/safefile"
	"github.com/dockaudit/dockaudit/internal/seccomp"
	"github.com/dockaudit/dockaudit/internal/textsafe"
)

// maxProfileFile bounds a profile read from a file (Docker's default is 20 KiB).
const maxProfileFile = 4 << 20

// ReadProfileFile reads a seccomp profile file, "-" for stdin. It refuses what is not
// a regular file and anything larger than a profile can sensibly be.
func ReadProfileFile(path string, stdin io.Reader) ([]byte, error) {
	var b []byte
	var err error
	if path == "-" {
		if b, err = io.ReadAll(io.LimitReader(stdin, maxProfileFile+1)); err == nil && len(b) > maxProfileFile {
			err = safefile.ErrTooLarge
		}
	} else {
		b, err = safefile.Read(path, maxProfileFile)
	}
	switch {
	case errors.Is(err, safefile.ErrNotRegular):
		return nil, fmt.Errorf("%s is not a regular file", path)
	case errors.Is(err, safefile.ErrTooLarge):
		return nil, fmt.Errorf("%s is larger than %d bytes: not a seccomp profile", path, maxProfileFile)
	}
	return b, err
}

// SeccompLint lints profile files (Targets) and writes the report. A file that cannot
// be read is a ProbeError after the report of the others.
func SeccompLint(ctx context.Context, opts ProbeOptions, stdin io.Reader, stdout io.Writer) (*report.Report, error) {
	var profs []facts.Profile
	var failed []string
	for _, path := range opts.Targets {
		name := path
		if path == "-" {
			name = "(stdin)"
		}
		pr := facts.Profile{Name: name, Source: "file"}
		b, err := ReadProfileFile(path, stdin)
		if err != nil {
			pr.Error = err.Error()
			failed = append(failed, pr.Error)
		} else {
			pr.Content, pr.Digest = string(b), facts.ProfileDigest(string(b))
		}
		profs = append(profs, pr)
	}
	snap := &facts.Snapshot{SchemaVersion: facts.SchemaVersion, CollectedAt: opts.now().UTC(), Profiles: profs,
		HostAccess: facts.HostAccess{Reason: "dockaudit seccomp lint reads profile files"}}
	return probeReport(ctx, "seccomp lint", checks.Profile(), snap, opts, failed, stdout)
}

// DiffOptions are the settings of dockaudit seccomp diff.
type DiffOptions struct {
	A, B    string // files; B "" means Docker's default for Engine
	Engine  string
	CapAdd  []string
	CapDrop []string
	Format  string // text, json
	Stdin   io.Reader
}

// DiffResult is what dockaudit seccomp diff reports.
type DiffResult struct {
	A            string   `json:"a"`
	B            string   `json:"b"`
	Arch         string   `json:"arch"`
	Capabilities []string `json:"capabilities"`
	AllowedA     int      `json:"allowedA"`
	AllowedB     int      `json:"allowedB"`
	OnlyA        []string `json:"onlyA"`
	OnlyB        []string `json:"onlyB"`
	// ConditionalA: allowed by both, under argument conditions in A only.
	ConditionalA []string `json:"conditionalOnlyInA"`
	ConditionalB []string `json:"conditionalOnlyInB"`
}

// SeccompDiff compares two profiles, or one with Docker's default profile.
func SeccompDiff(o DiffOptions) (*DiffResult, error) {
	load := func(path string) (*seccomp.Profile, string, error) {
		if path == "" {
			p, chosen, err := seccomp.Default(o.Engine)
			if err != nil {
				return nil, "", &UsageError{Err: fmt.Errorf("--engine: %w", err)}
			}
			return p, "Docker " + chosen + " default profile", nil
		}
		b, err := ReadProfileFile(path, o.Stdin)
		if err != nil {
			return nil, "", err
		}
		p, _, err := seccomp.Parse(b)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", path, err)
		}
		return p, path, nil
	}
	a, nameA, err := load(o.A)
	if err != nil {
		return nil, err
	}
	b, nameB, err := load(o.B)
	if err != nil {
		return nil, err
	}
	held := caps.Effective(o.CapAdd, o.CapDrop, false)
	d := seccomp.Compare(a, b, held)
	all := seccomp.NativeNames()
	return &DiffResult{A: nameA, B: nameB, Arch: "x86_64", Capabilities: nonNil(held),
		AllowedA: len(seccomp.Effective(a, "amd64", held, "").AllowedNames(all)),
		AllowedB: len(seccomp.Effective(b, "amd64", held, "").AllowedNames(all)),
		OnlyA:    nonNil(d.OnlyA), OnlyB: nonNil(d.OnlyB), ConditionalA: nonNil(d.ConditionalA), ConditionalB: nonNil(d.ConditionalB)}, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Same reports profiles that allow the same syscalls under the same kind of condition.
func (d *DiffResult) Same() bool {
	return len(d.OnlyA)+len(d.OnlyB)+len(d.ConditionalA)+len(d.ConditionalB) == 0
}

// WriteDiff writes a diff as text (unified-diff-like: + only in A, - only in B) or JSON.
func WriteDiff(w io.Writer, d *DiffResult, format string) error {
	if format == "json" {
		b, err := json.MarshalIndent(d, "", "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "--- a: %s\n+++ b: %s\n", d.A, d.B)
	capDesc := "Docker's default set"
	if !slices.Equal(d.Capabilities, caps.Default) {
		capDesc = strings.Join(d.Capabilities, ", ")
		if capDesc == "" {
			capDesc = "none"
		}
	}
	fmt.Fprintf(&sb, "on %s, capabilities: %s\n", d.Arch, capDesc)
	section := func(title, mark string, names []string) {
		fmt.Fprintf(&sb, "\n%s (%d)\n", title, len(names))
		for _, n := range names {
			fmt.Fprintf(&sb, "%s %s\n", mark, n)
		}
	}
	section("allowed by a, refused by b", "+", d.OnlyA)
	section("refused by a, allowed by b", "-", d.OnlyB)
	section("allowed by both; argument conditions in a only", "~", d.ConditionalA)
	section("allowed by both; argument conditions in b only", "~", d.ConditionalB)
	fmt.Fprintf(&sb, "\na allows %d syscalls, b allows %d: %d only in a, %d only in b\n", d.AllowedA, d.AllowedB, len(d.OnlyA), len(d.OnlyB))
	// Syscall names come from the profiles: nothing in them may drive the terminal.
	_, err := io.WriteString(textsafe.TextWriter{W: w}, sb.String())
	return err
}
