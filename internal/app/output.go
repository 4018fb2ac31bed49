package app

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
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
	FailOn *finding.Severity
	// UnknownAs is the level --fail-on counts unrated findings as; nil means high.
	UnknownAs   *finding.Severity
	Color       bool
	Passes      bool
	Remediation bool
	// Width is the terminal width the table wraps at (0: no wrapping); Quiet lists
	// only the rules that fail, warn or could not be decided.
	Width int
	Quiet bool
	// Ignore is the --ignore-file; nil when none was given.
	Ignore *IgnoreFile
}

// suppress applies the ignore file and VEX statements to findings, adding the rule of
// expired entries when there are any.
func (o Output) suppress(fs []finding.Finding, rules []finding.Rule, vex []VEXStatement, now time.Time) ([]finding.Finding, []finding.Rule, int, []report.LeftOut) {
	if o.Ignore == nil && len(vex) == 0 {
		return fs, rules, 0, nil
	}
	before := report.RuleCounts(fs)
	kept, n, expired := Suppression{Ignore: o.Ignore, VEX: vex, Now: now}.Apply(fs)
	by := "--ignore-file"
	switch {
	case o.Ignore != nil && len(vex) > 0:
		by = "--ignore-file or --vex"
	case o.Ignore == nil:
		by = "--vex"
	}
	left := report.LeftOutBy(before, kept, by)
	if len(expired) > 0 {
		kept = append(expired, kept...)
		rules = append([]finding.Rule{IgnoreRule}, rules...)
	}
	return kept, rules, n, left
}

func (o Output) write(stdout io.Writer, r *report.Report) error {
	render := func(w io.Writer) error {
		switch o.Format {
		case "", "table":
			return report.WriteTable(w, r, report.TableOptions{Color: o.Color, Passes: o.Passes, Remediation: o.Remediation, Width: o.Width, Quiet: o.Quiet})
		case "json":
			return report.WriteJSON(w, r)
		case "sarif":
			return report.WriteSARIF(w, r)
		case "html":
			return report.WriteHTML(w, r)
		}
		return &UsageError{Err: fmt.Errorf("unknown format %q (want table, json, sarif or html)", o.Format)}
	}
	return WriteOutput(o.File, 0o644, stdout, render)
}

// WriteOutput writes what fill produces to an output the user named, without ever
// destroying what the name points at:
//   - "" or "-" is stdout;
//   - a character device, FIFO or socket, or a link to one (/dev/null, /dev/stdout,
//     /dev/tty), is written in place: it is never replaced;
//   - a regular file, or a link to one, is replaced atomically (a temporary file in
//     the same directory, renamed over it) and keeps its mode and owner; a link stays
//     a link;
//   - a new file is created with mode newMode.
//
// A private newMode (no group or other bits) also keeps an
// existing file's group and other bits off.
func WriteOutput(path string, newMode os.FileMode, stdout io.Writer, fill func(io.Writer) error) error {
	if path == "" || path == "-" {
		return stream(stdout, fill)
	}
	if fd, ok := ownDescriptor(path); ok {
		// /dev/stdout, /dev/fd/3: the descriptor the shell opened, with its own mode
		// (a >> redirection appends); write to it, as to stdout.
		return writeInPlace(path, fill, func() (*os.File, error) {
			// A duplicate: closing it (or its finalizer) leaves the shell's descriptor open.
			d, err := syscall.Dup(int(fd))
			if err != nil {
				return nil, err
			}
			syscall.CloseOnExec(d)
			return os.NewFile(uintptr(d), path), nil
		})
	}
	fi, err := os.Stat(path) // follows links: what the name points at
	switch {
	case errors.Is(err, os.ErrNotExist):
		// A dangling link names where the file goes; rename must not replace the link.
		if real, lerr := resolveLink(path); lerr == nil {
			path = real
		}
		return replaceFile(path, newMode, nil, fill)
	case err != nil:
		return fmt.Errorf("write %s: %w", path, err)
	case fi.IsDir():
		return fmt.Errorf("write %s: it is a directory", path)
	case !fi.Mode().IsRegular():
		return writeInPlace(path, fill, func() (*os.File, error) { return os.OpenFile(path, os.O_WRONLY, 0) })
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	mode := fi.Mode().Perm() | fi.Mode()&(os.ModeSetgid) // setuid never survives a rewrite
	if newMode&0o077 == 0 {
		mode &= 0o700
	}
	if st, ok := statT(fi); ok && int(st.Uid) != os.Geteuid() && os.Geteuid() != 0 {
		// Someone else's file, writable to us: a replacement would be ours, so it is
		// rewritten in place and stays theirs (not atomically, as the shell would).
		return writeInPlace(real, fill, func() (*os.File, error) { return os.OpenFile(real, os.O_WRONLY|os.O_TRUNC, 0) })
	}
	return replaceFile(real, mode, fi, fill)
}

// Clash reports whether an output and an input of the same run name the same thing,
// so that the output would replace what the run reads (or both would go to stdout):
// "-" and "" are stdout, a link to one of this process's descriptors is that
// descriptor, and files are compared by their real path and, when both exist, by
// inode (a hard link, another spelling, a dangling link to where the file will be).
func Clash(output, input string) bool {
	if input == "" {
		return false
	}
	a, b := destination(output), destination(input)
	if a == b {
		return true
	}
	ai, aerr := os.Stat(output)
	bi, berr := os.Stat(input)
	return aerr == nil && berr == nil && ai.Mode().IsRegular() && os.SameFile(ai, bi)
}

// destination names where writing to path goes: "fd N" for stdout and this process's
// descriptors, else the absolute path with every link resolved (a dangling link to
// the file it would create).
func destination(path string) string {
	if path == "" || path == "-" {
		return "fd 1"
	}
	if fd, ok := ownDescriptor(path); ok {
		return "fd " + strconv.Itoa(int(fd))
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	} else if end, err := resolveLink(path); err == nil {
		path = end
		if dir, err := filepath.EvalSymlinks(filepath.Dir(path)); err == nil {
			path = filepath.Join(dir, filepath.Base(path))
		}
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return "file " + path
}

// resolveLink follows a chain of links to the name at its end, which need not exist.
func resolveLink(path string) (string, error) {
	for range 40 {
		target, err := os.Readlink(path)
		if err != nil {
			return path, nil
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(path), target)
		}
		path = target
	}
	return "", errors.New("too many links")
}

// ownDescriptor reports a name that leads, link by link, to one of this process's
// own file descriptors (/dev/stdout → /proc/self/fd/1).
func ownDescriptor(path string) (uintptr, bool) {
	self := "/proc/" + strconv.Itoa(os.Getpid()) + "/fd/"
	for range 40 {
		for _, prefix := range []string{"/proc/self/fd/", "/proc/thread-self/fd/", "/dev/fd/", self} {
			if rest, ok := strings.CutPrefix(filepath.Clean(path), prefix); ok {
				fd, err := strconv.Atoi(rest)
				return uintptr(fd), err == nil && fd >= 0
			}
		}
		target, err := os.Readlink(path)
		if err != nil {
			return 0, false
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(path), target)
		}
		path = target
	}
	return 0, false
}

// writeInPlace writes into a file that exists and is not replaced (a device, a FIFO,
// a descriptor of ours): nothing is created, truncated or renamed.
func writeInPlace(path string, fill func(io.Writer) error, open func() (*os.File, error)) error {
	f, err := open()
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	err = stream(f, fill)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// stream writes what fill produces through a buffer: reports of hundreds of megabytes
// are never held whole in memory. The writers fail only when writing fails.
func stream(w io.Writer, fill func(io.Writer) error) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	if err := fill(bw); err != nil {
		return err
	}
	return bw.Flush()
}

// replaceFile writes through a temporary file in path's directory and renames it into
// place, so the destination is either the old file or the complete new one. old, when
// set, is the file replaced: its owner is kept where the process may set it.
func replaceFile(path string, mode os.FileMode, old os.FileInfo, fill func(io.Writer) error) error {
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
	if st, ok := statT(old); ok && (int(st.Uid) != os.Geteuid() || int(st.Gid) != os.Getegid()) {
		tmp.Chown(int(st.Uid), int(st.Gid)) // best effort: only root may give a file away
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func statT(fi os.FileInfo) (*syscall.Stat_t, bool) {
	if fi == nil {
		return nil, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return st, ok
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
