package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/rootpath"
)

// Node is one indexed entry of the merged image filesystem.
type Node struct {
	Path  string
	Type  byte  // tar type flag
	Mode  int64 // permission and special bits
	UID   int
	GID   int
	Size  int64
	Layer int    // index of the layer the entry came from (0 = base)
	Link  string // symlink target as written, or hard link target (absolute, clean)
	// Data is the captured content of a file Want marked Read.
	Data      []byte
	Truncated bool // Data stops at MaxFileRead
	// GoBuildInfo is set for an ELF executable carrying Go build information.
	GoBuildInfo *GoBuildInfo
	// Derived is what Options.Derive made of the content, or the crates of a Rust
	// binary built with cargo-auditable.
	Derived []facts.Package
	// Note says what of an executable could not be read.
	Note string
}

// IsDir, IsSymlink and IsRegular classify the node.
func (n *Node) IsDir() bool     { return n.Type == tar.TypeDir }
func (n *Node) IsSymlink() bool { return n.Type == tar.TypeSymlink }
func (n *Node) IsRegular() bool { return n.Type == tar.TypeReg || n.Type == tar.TypeRegA }

// Version is one layer's copy of a file kept with History.
type Version struct {
	Layer int
	Data  []byte
}

// LayerStats describe one layer as read.
type LayerStats struct {
	Digest  string
	Entries int
}

// Anomaly is something in a layer no legitimate image builder writes.
type Anomaly struct {
	Layer  int
	Path   string
	Reason string
}

// View is the merged filesystem of an image, restricted to the entries the walk was
// asked to keep plus every link (links are needed to resolve paths inside the image).
type View struct {
	Layers    []LayerStats
	Anomalies []Anomaly
	// Secrets are what OnContent found, in every layer, including files a later
	// layer removed.
	Secrets []facts.Secret

	nodes    map[string]*Node
	children map[string]map[string]struct{} // directory → indexed entries directly in it
	history  map[string][]Version
	lim      Limits

	// removed are the removals done, so a layer repeating a whiteout or an opaque
	// marker does not walk the same subtree again; visits bounds the nodes all
	// removals may visit (a crafted layer can still make them quadratic), and
	// exhausted says the bound was hit.
	captured  int64 // bytes of file content kept
	removed   map[removal]bool
	visits    int
	exhausted bool
}

type removal struct {
	path  string
	layer int
	self  bool
}

func newView(layers int, lim Limits) *View {
	return &View{
		Layers:   make([]LayerStats, layers),
		nodes:    map[string]*Node{},
		children: map[string]map[string]struct{}{},
		history:  map[string][]Version{},
		lim:      lim,
		removed:  map[removal]bool{},
		visits:   4 * lim.MaxEntries,
	}
}

func (v *View) anomaly(layer int, p, reason string) {
	if len(v.Anomalies) < 100 {
		v.Anomalies = append(v.Anomalies, Anomaly{Layer: layer, Path: p, Reason: reason})
	}
}

func (v *View) put(n *Node) {
	v.nodes[n.Path] = n
	v.link(n.Path)
}

// link records p under its parent directory and each ancestor under its own, so that
// a whiteout or opaque marker at any level reaches everything below it, although
// directories themselves are rarely indexed.
func (v *View) link(p string) {
	for p != "/" {
		dir := path.Dir(p)
		set := v.children[dir]
		if set == nil {
			set = map[string]struct{}{}
			v.children[dir] = set
		}
		if _, ok := set[p]; ok {
			return
		}
		set[p] = struct{}{}
		p = dir
	}
}

// remove deletes what layers lower than layer put below p, and at p itself when
// self. What layer (or a higher one) put there stays.
func (v *View) remove(p string, layer int, self bool) {
	if r := (removal{p, layer, self}); v.removed[r] {
		return // what lower layers had there is gone already
	} else if _, ok := v.children[p]; ok {
		v.removed[r] = true
	}
	v.removeBelow(p, layer, self)
}

func (v *View) removeBelow(p string, layer int, self bool) {
	if v.visits--; v.visits < 0 {
		v.exhausted = true
		return
	}
	if kids, ok := v.children[p]; ok {
		for c := range kids {
			v.removeBelow(c, layer, true)
			if _, kept := v.nodes[c]; !kept && len(v.children[c]) == 0 {
				delete(kids, c)
			}
		}
		if len(kids) == 0 {
			delete(v.children, p)
		}
	}
	if self {
		if n, ok := v.nodes[p]; ok && n.Layer < layer {
			delete(v.nodes, p)
		}
	}
}

// whiteout removes a path (and what is below it) that lower layers put there.
func (v *View) whiteout(layer int, p string) { v.remove(p, layer, true) }

// opaque empties a directory of what lower layers put in it.
func (v *View) opaque(layer int, dir string) { v.remove(dir, layer, false) }

// replace makes room for a new entry at p: the entry replaces whatever lower layers had
// there, and a non-directory also hides everything they had below it.
func (v *View) replace(layer int, p string, isDir bool) {
	if n, ok := v.nodes[p]; ok && n.Layer < layer && (!isDir || !n.IsDir()) {
		v.remove(p, layer, true)
	}
	if !isDir {
		v.remove(p, layer, false)
	}
}

// ErrNotCaptured is returned for a file that exists but whose content was not read.
var ErrNotCaptured = errors.New("the file's content was not read")

// Resolve returns the node at p with symlinks resolved inside the image root: an
// absolute link target starts at the image's root, ".." stops at it, so no path can
// reach outside the image. follow resolves a final symlink too.
func (v *View) Resolve(p string, follow bool) (*Node, error) {
	if !path.IsAbs(p) {
		return nil, fmt.Errorf("image path %q is not absolute", p)
	}
	// A path the image does not hold is no link: directories a layer implies need no
	// entry of their own.
	cur, err := rootpath.Resolve(p, follow, v.lim.MaxLinkDepth, func(ip string) (string, bool, error) {
		if n, ok := v.nodes[ip]; ok && n.IsSymlink() {
			return n.Link, true, nil
		}
		return "", false, nil
	})
	if err != nil {
		return nil, err
	}
	n, ok := v.nodes[cur]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	}
	if n.Type == tar.TypeLink {
		if t, ok := v.nodes[n.Link]; ok && t.Type != tar.TypeLink {
			linked := *t
			linked.Path, linked.Layer = n.Path, n.Layer
			return &linked, nil
		}
		return nil, &fs.PathError{Op: "open", Path: p, Err: ErrNotCaptured}
	}
	return n, nil
}

// ReadFile returns the captured content of a file, symlinks resolved in the image.
func (v *View) ReadFile(p string) ([]byte, error) {
	n, err := v.Resolve(p, true)
	if err != nil {
		return nil, err
	}
	if !n.IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: p, Err: errors.New("not a regular file")}
	}
	if n.Data == nil && n.Size > 0 {
		return nil, &fs.PathError{Op: "read", Path: p, Err: ErrNotCaptured}
	}
	return n.Data, nil
}

// Exists reports whether anything is indexed at p (symlinks resolved).
func (v *View) Exists(p string) bool {
	_, err := v.Resolve(p, true)
	return err == nil
}

// History returns every layer's version of a file kept with History, oldest first,
// including versions a later layer deleted or replaced.
func (v *View) History(p string) []Version { return v.history[p] }

// Nodes returns the indexed nodes that match, sorted by path.
func (v *View) Nodes(match func(*Node) bool) []*Node {
	var out []*Node
	for _, n := range v.nodes {
		if match == nil || match(n) {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, func(a, b *Node) int { return strings.Compare(a.Path, b.Path) })
	return out
}
