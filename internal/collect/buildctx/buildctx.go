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
	"io"
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
	maxEntries = 200000
	maxIgnore  = 1 << 20
	// Files are scanned in windows of scanWindow bytes overlapping by scanOverlap (a
	// secret across a window's edge is still whole in one), up to maxScanFile; a
	// larger file is counted as not scanned (and named when its name says
	// credential), never taken as clean.
	scanWindow  = 8 << 20
	scanOverlap = 64 << 10
	maxScanFile = 1 << 30
)

// Context is a build context read once; Ships and Secrets may be called from several
// goroutines.
type Context struct {
	Root       string
	IgnoreFile string   // the .dockerignore applied, "" when none
	Files      []string // slash-separated, relative to Root, sorted; what the builder receives

	real string // Root with its links resolved

	mu      sync.Mutex
	scanned map[string]scan
}

type scan struct {
	found   []facts.Secret
	skipped bool // over maxScanFile: not read
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
	c := &Context{Root: root, IgnoreFile: ignoreFile, scanned: map[string]scan{}}
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
	// The builder sends what a linked context directory holds: walk the directory
	// itself (WalkDir does not descend into a link given as its root).
	if real, err := filepath.EvalSymlinks(root); err == nil {
		root = real
	}
	walkRoot := root
	entries := 0
	parents := map[string]patternmatcher.MatchInfo{}
	err = filepath.WalkDir(walkRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == walkRoot {
			return nil
		}
		if entries++; entries > maxEntries {
			return fmt.Errorf("%s holds more than %d entries", root, maxEntries)
		}
		rel, err := filepath.Rel(walkRoot, p)
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
	c.real = walkRoot
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

// Secrets are the credentials in a context file (values never kept), scanned once;
// scanned is false for a file over the scan limit, which is not read (one whose name
// says credential is then named with kind "unscanned-credential-file").
func (c *Context) Secrets(rel string) (found []facts.Secret, scanned bool) {
	c.mu.Lock()
	if s, ok := c.scanned[rel]; ok {
		c.mu.Unlock()
		return s.found, !s.skipped
	}
	c.mu.Unlock()
	var r scan
	full := filepath.Join(c.real, filepath.FromSlash(rel))
	fi, err := os.Lstat(full)
	switch {
	case err != nil || !fi.Mode().IsRegular():
		// A link or a special file: the builder copies the link, not what it names.
	case fi.Size() > maxScanFile:
		r.skipped = true
		if secrets.Candidate(rel) {
			r.found = append(r.found, facts.Secret{Kind: "unscanned-credential-file", Path: rel, Detail: "not scanned: " + safefile.Size(fi.Size())})
		}
	default:
		found, err := scanFile(full, rel)
		r.found = found
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			r.skipped = true
			if secrets.Candidate(rel) {
				r.found = append(r.found, facts.Secret{Kind: "unscanned-credential-file", Path: rel, Detail: "not read: " + err.Error()})
			}
		}
	}
	c.mu.Lock()
	c.scanned[rel] = r
	c.mu.Unlock()
	return r.found, !r.skipped
}

// scanFile scans a file window by window, so memory stays bounded whatever its size.
func scanFile(full, rel string) ([]facts.Secret, error) {
	f, err := safefile.Open(full)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []facts.Secret
	seen := map[string]bool{}
	var tail []byte // the end of the last window, scanned again at the start of the next
	lines := 0      // newlines before tail
	buf := make([]byte, scanWindow)
	for {
		n, err := io.ReadFull(f, buf)
		if n > 0 {
			data := append(tail, buf[:n]...)
			for _, m := range secrets.Scan(rel, data) {
				if key := m.Kind + m.Hash; !seen[key] {
					seen[key] = true
					line := m.Line
					if line > 0 {
						line += lines
					}
					out = append(out, facts.Secret{Kind: m.Kind, Path: rel, Line: line, Hash: m.Hash, Length: m.Length, Detail: m.Detail})
				}
			}
			keep := min(len(data), scanOverlap)
			lines += bytes.Count(data[:len(data)-keep], []byte("\n"))
			tail = append([]byte(nil), data[len(data)-keep:]...)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return out, nil
		} else if err != nil {
			return out, err
		}
	}
}

// Archive says a context file is an archive ADD unpacks into the image (tar, plain or
// gzip-, bzip2-, xz- or zstd-compressed, recognised by content as the builder does):
// what it holds is not what was scanned.
func (c *Context) Archive(rel string) bool {
	f, err := safefile.Open(filepath.Join(c.real, filepath.FromSlash(rel)))
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 262)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	for _, magic := range [][]byte{{0x1f, 0x8b}, []byte("BZh"), {0xfd, '7', 'z', 'X', 'Z', 0}, {0x28, 0xb5, 0x2f, 0xfd}} {
		if bytes.HasPrefix(head, magic) {
			return true
		}
	}
	return n >= 262 && string(head[257:262]) == "ustar"
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
