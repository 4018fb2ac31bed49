package compose

import (
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/dockaudit/dockaudit/internal/finding"
)

// index is where every key of the Compose files is written: compose-go's model keeps
// no positions, so the files are read again as YAML nodes. Keys are dotted paths
// (services.web.cap_add); items of a list are kept with their text so a finding can
// point at the item it names.
type index struct {
	files []string                     // in the order indexed
	keys  map[string]map[string]*entry // file → path → entry
}

type entry struct {
	line, col int
	items     []item
}

type item struct {
	parts     []string // what the item says: the fields of a short form, the values of a long one
	line, col int
}

// maxIndexVisits bounds the nodes indexed per file, merge keys included.
const (
	maxIndexVisits = 200000
	maxIndexDepth  = 32
)

func newIndex() *index { return &index{keys: map[string]map[string]*entry{}} }

func (x *index) add(file string, root *yaml.Node) {
	m, ok := x.keys[file]
	if !ok { // a file's later YAML documents add to its first one's keys
		m = map[string]*entry{}
		x.files = append(x.files, file)
		x.keys[file] = m
	}
	budget := maxIndexVisits
	// merged: the keys come from a merge key's anchor, and do not replace the
	// mapping's own.
	var walk func(n *yaml.Node, path string, depth int, merged bool)
	walk = func(n *yaml.Node, path string, depth int, merged bool) {
		if budget--; budget < 0 || depth > maxIndexDepth || n == nil {
			return
		}
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if k.Value == "<<" {
					// A merge key: the anchored mapping's keys count here, at their
					// own lines, unless this mapping sets them itself.
					for _, t := range mergeTargets(v) {
						walk(t, path, depth+1, true)
					}
					continue
				}
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				if _, ok := m[p]; ok && merged {
					continue
				}
				m[p] = &entry{line: k.Line, col: k.Column}
				if v.Kind == yaml.SequenceNode {
					for _, it := range v.Content {
						m[p].items = append(m[p].items, item{parts: parts(it), line: it.Line, col: it.Column})
					}
				}
				walk(v, p, depth+1, merged)
			}
		}
		// Items of a list are matched by their text, not indexed by position: merged
		// lists do not keep positions.
	}
	walk(root, "", 0, false)
}

func mergeTargets(v *yaml.Node) []*yaml.Node {
	switch v.Kind {
	case yaml.AliasNode:
		return []*yaml.Node{v.Alias}
	case yaml.SequenceNode:
		var out []*yaml.Node
		for _, a := range v.Content {
			if a.Kind == yaml.AliasNode {
				out = append(out, a.Alias)
			}
		}
		return out
	}
	return nil
}

// parts is what a list item says, to recognise it in a finding: the fields of a short
// form ("./data:/data:ro" → ./data, /data; "seccomp=unconfined" → seccomp, unconfined;
// "8080:80" → 8080, 80), or the values of a long form. Access modes are left out: an
// inspect spells them differently.
func parts(n *yaml.Node) []string {
	var raw []string
	switch n.Kind {
	case yaml.ScalarNode:
		raw = strings.FieldsFunc(n.Value, func(r rune) bool { return r == ':' || r == '=' })
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			if v := n.Content[i]; v.Kind == yaml.ScalarNode && n.Content[i-1].Value != "read_only" {
				raw = append(raw, v.Value)
			}
		}
	}
	var out []string
	for _, p := range raw {
		if p != "" && p != "rw" && p != "ro" && p != "z" && p != "Z" && p != "bind" && p != "volume" {
			out = append(out, p)
		}
	}
	return out
}

// first is where a key is first written, in read order: a service is defined where
// it first appears.
func (x *index) first(path string) (finding.Location, bool) {
	for _, f := range x.files {
		if e, ok := x.keys[f][path]; ok {
			return finding.Location{Path: f, Line: e.line, Column: e.col}, true
		}
	}
	return finding.Location{}, false
}

// lookup is where a key of a service is written: the last file (in merge order) that
// writes it. When the key is a list, the first item whose every part the finding
// (its message and evidence, in said) mentions.
func (x *index) lookup(files []string, path string, said string) (finding.Location, bool) {
	for i := len(files) - 1; i >= 0; i-- {
		e, ok := x.keys[files[i]][path]
		if !ok {
			continue
		}
		for _, it := range e.items {
			if said != "" && len(it.parts) > 0 && !slices.ContainsFunc(it.parts, func(p string) bool { return !strings.Contains(said, p) }) {
				return finding.Location{Path: files[i], Line: it.line, Column: it.col}, true
			}
		}
		return finding.Location{Path: files[i], Line: e.line, Column: e.col}, true
	}
	return finding.Location{}, false
}
