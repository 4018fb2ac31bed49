package app

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dockaudit/dockaudit/internal/checks"
	"github.com/dockaudit/dockaudit/internal/collect/dockerfile"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/inventory/secrets"
	"github.com/dockaudit/dockaudit/internal/report"
	"github.com/dockaudit/dockaudit/internal/textsafe"
)

// ConfigOptions are the settings of dockaudit config.
type ConfigOptions struct {
	ImageOptions
	Paths []string // files and directories; "." when none
}

// Bounds on what a directory given to dockaudit config makes it walk.
const (
	maxConfigDepth   = 16
	maxConfigEntries = 100000
	maxConfigFiles   = 1000
)

// skipDirs are not walked: dependencies and version-control data, not the project's
// own build files.
var skipDirs = []string{".git", "node_modules", "vendor", ".venv", "__pycache__"}

// IsDockerfile says a file name is a Dockerfile's as docker build and docker compose
// name them: Dockerfile, Containerfile, NAME.Dockerfile, Dockerfile.NAME.
func IsDockerfile(name string) bool {
	l := strings.ToLower(name)
	if slices.Contains(notDockerfiles, filepath.Ext(l)) {
		return false // Dockerfile.md, Dockerfile.sarif (a report of this command), templates
	}
	return l == "dockerfile" || l == "containerfile" || strings.HasSuffix(l, ".dockerfile") || strings.HasPrefix(l, "dockerfile.")
}

// notDockerfiles are the extensions of what Dockerfile.NAME may be besides a
// Dockerfile: documentation, reports, templates, editor leftovers.
var notDockerfiles = []string{".dockerignore", ".md", ".txt", ".json", ".sarif", ".html", ".j2", ".tmpl", ".tpl", ".orig", ".bak", ".swp"}

// isCompose says a file name is a Compose file's.
func isCompose(name string) bool {
	l := strings.ToLower(name)
	ext := filepath.Ext(l)
	return (ext == ".yml" || ext == ".yaml") && (strings.HasPrefix(l, "compose.") || strings.HasPrefix(l, "docker-compose"))
}

// Config audits Dockerfiles before anything is built: each one's last stage is judged
// by dockaudit image's own rules, each finding at its file, line and column. Compose
// files are found and said not to be read yet, never passed in silence.
func Config(opts ConfigOptions, stdout io.Writer) (*report.Report, error) {
	if _, err := opts.Selection.Apply(checks.Image()); err != nil {
		return nil, &UsageError{Err: err}
	}
	paths := opts.Paths
	if len(paths) == 0 {
		paths = []string{"."}
	}
	var files, notes []string
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return nil, &UsageError{Err: err}
		}
		found, n, err := findConfigFiles(p)
		if err != nil {
			return nil, err // an unreadable directory is an input that could not be read: exit 1
		}
		files, notes = append(files, found...), append(notes, n...)
	}
	for _, f := range files {
		if Clash(opts.File, f) {
			// The report must never replace what it audits.
			return nil, &UsageError{Err: fmt.Errorf("--output %s is also an input of this run (%s): the report would replace it", opts.File, f)}
		}
	}
	if len(files) == 0 && len(notes) == 0 {
		return nil, &UsageError{Err: fmt.Errorf("no Dockerfile in %s (Dockerfile, Containerfile, NAME.Dockerfile, Dockerfile.NAME)", strings.Join(paths, ", "))}
	}
	// Named relative to the working directory when under it, as a repository's files
	// are: SARIF then points code scanning at the file in the pull request.
	if wd, err := os.Getwd(); err == nil {
		for i, f := range files {
			if abs, err := filepath.Abs(f); err == nil {
				if rel, err := filepath.Rel(wd, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
					files[i] = rel
				}
			}
		}
	}
	var images []facts.Image
	for _, f := range files {
		df, err := dockerfile.Read(f)
		if err != nil {
			msg := oneLine(err)
			var de *dockerfile.Error
			if errors.As(err, &de) {
				msg = oneLine(de.Err)
				if de.Pos.Line > 0 {
					msg = fmt.Sprintf("line %d: %s", de.Pos.Line, msg)
				}
			}
			images = append(images, facts.Image{Tags: []string{f}, Ref: f, Source: "dockerfile", Error: msg})
			continue
		}
		for _, w := range df.Warnings {
			// The parser quotes the instruction, which may hold a token.
			notes = append(notes, fmt.Sprintf("%s:%d: %s", f, w.Pos.Line, secrets.Redact(w.Message)))
		}
		images = append(images, df.Image())
	}
	opts.Command = "config"
	return writeImageReport(images, notes, opts.ImageOptions, stdout)
}

func oneLine(err error) string { return textsafe.FirstLine(err.Error(), 200) }

// findConfigFiles is the Dockerfiles a path names: the file itself, or those under a
// directory (bounded; symbolic links are not followed, dependency and VCS directories
// are not walked). Compose files found are noted as not read yet.
func findConfigFiles(root string) (files, notes []string, err error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, nil, err
	}
	if !fi.IsDir() {
		if isCompose(filepath.Base(root)) {
			return nil, []string{root + ": Compose files are not audited yet (dockaudit config reads Dockerfiles)"}, nil
		}
		return []string{root}, nil, nil
	}
	entries := 0
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if entries++; entries > maxConfigEntries {
			return fmt.Errorf("%s: more than %d entries: name the directories to audit", root, maxConfigEntries)
		}
		if d.IsDir() {
			if p != root && (slices.Contains(skipDirs, d.Name()) || strings.Count(p, string(filepath.Separator))-strings.Count(root, string(filepath.Separator)) > maxConfigDepth) {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			if IsDockerfile(d.Name()) || isCompose(d.Name()) {
				notes = append(notes, p+": a symbolic link, not followed (name its target to audit it)")
			}
		case IsDockerfile(d.Name()):
			if len(files) == maxConfigFiles {
				return fmt.Errorf("%s: more than %d Dockerfiles: name the directories to audit", root, maxConfigFiles)
			}
			files = append(files, p)
		case isCompose(d.Name()):
			notes = append(notes, p+": Compose files are not audited yet (dockaudit config reads Dockerfiles)")
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.SkipAll) {
		return nil, nil, err
	}
	return files, notes, nil
}
