package app

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/dockaudit/dockaudit/internal/finding"
	"github.com/dockaudit/dockaudit/internal/report"
)

// Version is set at build time (-ldflags "-X …/internal/app.Version=v1.2.3"); otherwise
// it comes from the module build information.
var Version = ""

// UsageError is a mistake in how dockaudit was called (exit code 2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Output is what every audit command shares about its report.
type Output struct {
	Format string // table, json, sarif
	File   string // "" for stdout
	// FailOn is the --fail-on threshold; nil means never fail on findings.
	FailOn      *finding.Severity
	Color       bool
	Passes      bool
	Remediation bool
	// Ignore is the --ignore-file; nil when none was given.
	Ignore *IgnoreFile
}

// suppress applies the ignore file and VEX statements to findings, adding the rule of
// expired entries when there are any.
func (o Output) suppress(fs []finding.Finding, rules []finding.Rule, vex []VEXStatement, now time.Time) ([]finding.Finding, []finding.Rule, int) {
	if o.Ignore == nil && len(vex) == 0 {
		return fs, rules, 0
	}
	kept, n, expired := Suppression{Ignore: o.Ignore, VEX: vex, Now: now}.Apply(fs)
	if len(expired) > 0 {
		kept = append(expired, kept...)
		rules = append([]finding.Rule{IgnoreRule}, rules...)
	}
	return kept, rules, n
}

func (o Output) write(stdout io.Writer, r *report.Report) error {
	render := func(w io.Writer) error {
		switch o.Format {
		case "", "table":
			return report.WriteTable(w, r, report.TableOptions{Color: o.Color, Passes: o.Passes, Remediation: o.Remediation})
		case "json":
			return report.WriteJSON(w, r)
		case "sarif":
			return report.WriteSARIF(w, r)
		}
		return &UsageError{Err: fmt.Errorf("unknown format %q (want table, json or sarif)", o.Format)}
	}
	if o.File == "" {
		// Render fully before writing, so a failure never leaves half a report on stdout.
		var buf bytes.Buffer
		if err := render(&buf); err != nil {
			return err
		}
		_, err := stdout.Write(buf.Bytes())
		return err
	}
	return WriteFileAtomic(o.File, render)
}

// WriteFileAtomic writes through a temporary file in the same directory and renames it
// into place (mode 0644), so the destination is either the old file or the complete
// new one.
func WriteFileAtomic(path string, fill func(io.Writer) error) error {
	return writeFileAtomicMode(path, 0o644, fill)
}

func writeFileAtomicMode(path string, mode os.FileMode, fill func(io.Writer) error) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := fill(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func toolInfo() report.Tool {
	return report.Tool{Name: "dockaudit", Version: ToolVersion(), URI: "https://github.com/dockaudit/dockaudit"}
}

// ToolVersion is dockaudit's version string.
func ToolVersion() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "0.0.0-devel"
}
