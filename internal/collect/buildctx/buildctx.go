// Package buildctx reads a build context as the builder receives it: the files under
// its root that the .dockerignore (with Docker's own pattern semantics, from
// moby/patternmatcher) does not exclude, what a COPY or ADD source takes of them, and
// the credentials and .git directories among those. Bounded: symbolic links are not
// followed, the walk and the bytes scanned have limits. It judges nothing.
package buildctx

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/inventory/secrets"
	"github.com/dockaudit/dockaudit/internal/safefile"
)

// Bounds on one context.
const (
	maxEntries   = 200000
	maxIgnore    = 1 << 20
	maxScanFile  = 1 << 20   // larger files are not scanned, only named when their name says credential
	maxScanTotal = 256 << 20 // bytes scanned per context
)

// Context is a build context read once; Ships and Secrets may be called from several
// goroutines.
type Context struct {
	Root       string
	IgnoreFile string   // the .dockerignore applied, "" when none
	Files      []string // slash-separated, relative to Root, sorted; what the builder receives

	mu      sync.Mutex
	scanned map[string][]facts.Secret
	budget  int64
	notes   []string
}

// IgnoreFileFor is the ignore file BuildKit applies to a Dockerfile's build: the
// Dockerfile's own NAME.dockerignore beside it, else the context's .dockerignore.
func IgnoreFileFor(root, dockerfile string) string {
	if dockerfile != "" {
		if fi, err := os.Lstat(dockerfile + ".dockerignore"); err == nil && !fi.IsDir() {
			return dockerfile + ".dockerignore"
		}
	}
	if fi, err := os.Lstat(filepath.Join(root, ".dockerignore")); err == nil && !fi.IsDir() {
		return filepath.Join(root, ".dockerignore")
	}
	return ""
}

// Read walks a context root, leaving out what the ignore file excludes.
func Read(root, ignoreFile string) (*Context, error) {
	c := &Context{Root: root, IgnoreFile: ignoreFile, scanned: map[string][]facts.Secret{}, budget: maxScanTotal}
	var pm *patternmatcher.PatternMatcher
	if ignoreFile != "" {
		b, err := safefile.Read(ignoreFile, maxIgnore)
		if err != nil {
			return nil, err
		}
		patterns, err := ignorefile.ReadAll(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ignoreFile, err)
		}
		if pm, err = patternmatcher.New(patterns); err != nil {
			return nil, fmt.Errorf("%s: %w", ignoreFile, err)
		}
	}
	fi, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", root)
	}
	entries := 0
	parents := map[string]patternmatcher.MatchInfo{}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		if entries++; entries > maxEntries {
			return fmt.Errorf("%s holds more than %d entries", root, maxEntries)
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if pm != nil {
			excluded, info, err := pm.MatchesUsingParentResults(rel, parents[path.Dir(rel)])
			if err != nil {
				return err
			}
			if d.IsDir() {
				parents[rel] = info
			}
			if excluded {
				if d.IsDir() && !pm.Exclusions() {
					return filepath.SkipDir // nothing below can be let back in
				}
				return nil
			}
		}
		if !d.IsDir() {
			c.Files = append(c.Files, rel)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(c.Files)
	return c, nil
}

// Ships is the context files a COPY or ADD source takes: the file it names, every file
// under a directory it names, or what its wildcard matches (and everything under a
// matched directory), less its --exclude patterns. src is relative to the root and
// cleaned ("." for all of it).
func (c *Context) Ships(src string, excludes []string) ([]string, error) {
	var ex *patternmatcher.PatternMatcher
	if len(excludes) > 0 {
		var err error
		if ex, err = patternmatcher.New(excludes); err != nil {
			return nil, err
		}
	}
	wild := strings.ContainsAny(src, "*?[")
	depth := strings.Count(src, "/") + 1
	var out []string
	for _, f := range c.Files {
		var rest string // the path below what the source names
		switch {
		case src == ".":
			rest = f
		case f == src:
			rest = path.Base(f)
		case strings.HasPrefix(f, src+"/"):
			rest = strings.TrimPrefix(f, src+"/")
		case wild:
			parts := strings.SplitN(f, "/", depth+1)
			if len(parts) < depth {
				continue
			}
			head := strings.Join(parts[:depth], "/")
			if ok, err := path.Match(src, head); err != nil {
				return nil, err
			} else if !ok {
				continue
			}
			rest = strings.TrimPrefix(f, head+"/")
		default:
			continue
		}
		if ex != nil {
			if skip, err := ex.MatchesOrParentMatches(rest); err != nil {
				return nil, err
			} else if skip {
				continue
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// Secrets are the credentials in a context file (values never kept), scanned once.
// Files over the scan limits are not read; one whose name says credential is then
// named with kind "unscanned-credential-file".
func (c *Context) Secrets(rel string) []facts.Secret {
	c.mu.Lock()
	if s, ok := c.scanned[rel]; ok {
		c.mu.Unlock()
		return s
	}
	c.mu.Unlock()
	var found []facts.Secret
	full := filepath.Join(c.Root, filepath.FromSlash(rel))
	fi, err := os.Lstat(full)
	switch {
	case err != nil || !fi.Mode().IsRegular():
		// A link or a special file: the builder copies the link, not what it names.
	case fi.Size() > maxScanFile || !c.spend(fi.Size()):
		if secrets.Candidate(rel) {
			found = append(found, facts.Secret{Kind: "unscanned-credential-file", Path: rel, Detail: "not scanned: " + safefile.Size(fi.Size())})
		}
	default:
		if data, err := safefile.Read(full, maxScanFile); err == nil {
			for _, m := range secrets.Scan(rel, data) {
				found = append(found, facts.Secret{Kind: m.Kind, Path: rel, Line: m.Line, Hash: m.Hash, Length: m.Length, Detail: m.Detail})
			}
		} else if !errors.Is(err, fs.ErrNotExist) && secrets.Candidate(rel) {
			found = append(found, facts.Secret{Kind: "unscanned-credential-file", Path: rel, Detail: "not read: " + err.Error()})
		}
	}
	c.mu.Lock()
	c.scanned[rel] = found
	c.mu.Unlock()
	return found
}

func (c *Context) spend(n int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n > c.budget {
		return false
	}
	c.budget -= n
	return true
}

// GitDir is the .git directory a context file is in ("" when none).
func GitDir(rel string) string {
	parts := strings.Split(rel, "/")
	for i, p := range parts[:len(parts)-1] {
		if p == ".git" {
			return strings.Join(parts[:i+1], "/")
		}
	}
	return ""
}
