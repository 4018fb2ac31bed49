package compose

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/template"
	"gopkg.in/yaml.v3"

	"github.com/dockaudit/dockaudit/internal/safefile"
)

// prechecked is what the check before loading found: the files read, where every key
// is written, and the seccomp profiles services name (read here, bounded, as docker
// compose reads them to send their content).
type prechecked struct {
	read     []string
	index    *index
	notes    []string
	seccomp  map[string]profileFile // by the path as resolved for the service
	envFiles []string
}

type profileFile struct {
	content string
	err     string
}

// maxSeccompFile bounds a seccomp profile a service names.
const maxSeccompFile = 1 << 20

// precheck reads every Compose file of the project, and checks every file compose-go
// would open for them (includes, extends, env and label files, .env), following
// references as compose-go does, before compose-go opens any: compose-go stats and
// reads them with no check of type or size, so a FIFO would hang it and a device
// would fill memory.
func precheck(opts Options, dir string, env map[string]string) (*prechecked, error) {
	pc := &prechecked{index: newIndex(), seccomp: map[string]profileFile{}}
	c := &checker{dir: dir, pc: pc, seen: map[string]bool{}}
	// --env-file names files relative to the working directory, as docker compose
	// takes them; compose-go is given them absolute, so both read the same files.
	for _, f := range opts.EnvFiles {
		abs, err := filepath.Abs(f)
		if err != nil {
			return nil, err
		}
		pc.envFiles = append(pc.envFiles, abs)
	}
	// The env files first: interpolation of the paths below reads them.
	envFiles := pc.envFiles
	if len(envFiles) == 0 {
		// docker compose reads <project dir>/.env when it is there and not a directory.
		if fi, err := os.Stat(filepath.Join(dir, ".env")); err == nil && !fi.IsDir() {
			envFiles = []string{filepath.Join(dir, ".env")}
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			if err := c.file(filepath.Join(dir, ".env"), maxEnvFile, "env file"); err != nil {
				return nil, err
			}
		}
	}
	vars := map[string]string{}
	for _, f := range envFiles {
		if err := c.file(f, maxEnvFile, "env file"); err != nil {
			return nil, err
		}
		b, err := safefile.Read(f, maxEnvFile)
		if err != nil {
			return nil, &Error{File: f, Err: err}
		}
		m, err := dotenv.ParseWithLookup(bytes.NewReader(b), func(k string) (string, bool) {
			if v, ok := env[k]; ok {
				return v, true
			}
			v, ok := vars[k]
			return v, ok
		})
		if err != nil {
			return nil, &Error{File: f, Err: err}
		}
		for k, v := range m {
			vars[k] = v
		}
	}
	for k, v := range env {
		vars[k] = v
	}
	c.vars = vars
	for _, f := range opts.Files {
		f, err := filepath.Abs(f) // as given: relative to the working directory
		if err != nil {
			return nil, err
		}
		if err := c.compose(f, dir); err != nil {
			return nil, err
		}
	}
	pc.read = c.order
	return pc, nil
}

type checker struct {
	dir   string
	vars  map[string]string
	pc    *prechecked
	seen  map[string]bool
	order []string
}

// file checks one file compose-go would open: a regular file of at most max bytes,
// and, when it is a symbolic link, one that stays in the project directory. A file
// that does not exist is left to compose-go (it says which, or the reference is
// optional).
func (c *checker) file(path string, max int64, what string) error {
	if c.seen[path] {
		return nil
	}
	if len(c.seen) >= maxFiles {
		return &Error{File: path, Err: fmt.Errorf("the project reads more than %d files", maxFiles)}
	}
	c.seen[path] = true
	li, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return &Error{File: path, Err: err}
	}
	if li.Mode()&fs.ModeSymlink != 0 {
		real, err := filepath.EvalSymlinks(path)
		if err != nil {
			return &Error{File: path, Err: err}
		}
		dir, err := filepath.EvalSymlinks(c.dir)
		if err != nil {
			dir = c.dir
		}
		if rel, err := filepath.Rel(dir, real); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			return &Error{File: path, Err: fmt.Errorf("the %s is a symbolic link to %s, outside the project directory %s: name it directly to read it", what, real, c.dir)}
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		return &Error{File: path, Err: err}
	}
	if !fi.Mode().IsRegular() {
		var se *safefile.Error
		if errors.As(safefile.NotRegular(path, fi.Mode()), &se) && se.Is != "" && se.Is != "not a regular file" {
			return &Error{File: path, Err: fmt.Errorf("the %s is %s, not a regular file", what, se.Is)}
		}
		return &Error{File: path, Err: fmt.Errorf("the %s is not a regular file", what)}
	}
	if fi.Size() > max {
		return &Error{File: path, Err: fmt.Errorf("the %s is larger than %s", what, safefile.Size(max))}
	}
	c.order = append(c.order, path)
	return nil
}

// maxDocuments bounds the YAML documents of one Compose file.
const maxDocuments = 64

// compose checks and indexes one Compose file, then what it references. projDir is
// the directory its services' relative paths (env_file, label_file, seccomp
// profiles) resolve against: the project's for the files given, an included
// project's for its files, an extended file's own directory for it.
func (c *checker) compose(path, projDir string) error {
	if c.seen[path] {
		return nil
	}
	if err := c.file(path, MaxFileSize, "Compose file"); err != nil {
		return err
	}
	b, err := safefile.Read(path, MaxFileSize)
	if err != nil {
		return &Error{File: path, Err: err}
	}
	// compose-go reads every document of a file: so does the check.
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for n := 0; ; n++ {
		if n == maxDocuments {
			return &Error{File: path, Err: fmt.Errorf("more than %d YAML documents", maxDocuments)}
		}
		var doc yaml.Node
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return &Error{File: path, Err: err}
		}
		root := &doc
		if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
			root = root.Content[0]
		}
		if root.Kind == 0 {
			continue // empty: compose-go says so
		}
		if deref(root).Kind != yaml.MappingNode {
			return &Error{File: path, Err: errors.New("not a Compose file: the top level is not a mapping")}
		}
		if err := c.document(path, projDir, deref(root)); err != nil {
			return err
		}
	}
}

func (c *checker) document(path, projDir string, root *yaml.Node) error {
	c.pc.index.add(path, root)
	fileDir := filepath.Dir(path)
	// include: a path, a list of paths, or entries with path, env_file and
	// project_directory; the included project reads its own .env.
	for _, item := range seq(get(root, "include")) {
		paths, dir := strs(item), ""
		if item.Kind == yaml.MappingNode {
			paths = strs(get(item, "path"))
			if d := scalar(get(item, "project_directory")); d != "" {
				dir = c.resolve(d, fileDir)
			}
		}
		for i, p := range paths {
			p = c.resolve(p, fileDir)
			if dir == "" && i == 0 {
				dir = filepath.Dir(p)
			}
			if err := c.compose(p, dir); err != nil {
				return err
			}
		}
		envs := strs(get(item, "env_file"))
		if len(envs) == 0 && dir != "" {
			envs = []string{filepath.Join(dir, ".env")}
		}
		for _, p := range envs {
			if err := c.file(c.resolve(p, fileDir), maxEnvFile, "env file"); err != nil {
				return err
			}
		}
	}
	services := get(root, "services")
	if services == nil || services.Kind != yaml.MappingNode {
		return nil
	}
	for i := 1; i < len(services.Content); i += 2 {
		svc := deref(services.Content[i])
		if svc.Kind != yaml.MappingNode {
			continue
		}
		if ext := get(svc, "extends"); ext != nil && ext.Kind == yaml.MappingNode {
			if f := scalar(get(ext, "file")); f != "" {
				f = c.resolve(f, fileDir)
				if err := c.compose(f, filepath.Dir(f)); err != nil {
					return err
				}
			}
		}
		for _, e := range append([]*yaml.Node{}, seqOrOne(get(svc, "env_file"))...) {
			p := scalar(e)
			if e.Kind == yaml.MappingNode {
				p = scalar(get(e, "path"))
			}
			if p != "" {
				if err := c.file(c.resolve(p, projDir), maxEnvFile, "env file"); err != nil {
					return err
				}
			}
		}
		for _, p := range strs(get(svc, "label_file")) {
			if err := c.file(c.resolve(p, projDir), maxEnvFile, "label file"); err != nil {
				return err
			}
		}
		for _, o := range strs(get(svc, "security_opt")) {
			o = c.interpolate(o)
			k, v, ok := strings.Cut(o, "=")
			if !ok {
				k, v, ok = strings.Cut(o, ":")
			}
			if !ok || k != "seccomp" || v == "unconfined" || v == "builtin" {
				continue
			}
			// docker compose reads the profile to send its content, and refuses to
			// create the container when it cannot: so does the check.
			p := c.resolve(v, projDir)
			if err := c.file(p, maxSeccompFile, "seccomp profile"); err != nil {
				return err
			}
			b, err := safefile.Read(p, maxSeccompFile)
			if err != nil {
				return &Error{File: path, Err: fmt.Errorf("security_opt seccomp=%s: %w", v, err)}
			}
			if !json.Valid(b) {
				return &Error{File: path, Err: fmt.Errorf("security_opt seccomp=%s: the profile is not JSON", v)}
			}
			c.pc.seccomp[p] = profileFile{content: string(b)}
		}
	}
	return nil
}

// resolve interpolates a path as compose-go does and makes it absolute against base.
func (c *checker) resolve(p, base string) string {
	p = c.interpolate(p)
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, p[2:])
		}
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(base, p)
	}
	return filepath.Clean(p)
}

func (c *checker) interpolate(s string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	out, err := template.Substitute(s, func(k string) (string, bool) { v, ok := c.vars[k]; return v, ok })
	if err != nil {
		return s
	}
	return out
}

// maxMergeDepth bounds how far merge keys (<<: *anchor) are followed.
const maxMergeDepth = 8

// deref is the node an alias stands for.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < maxMergeDepth; i++ {
		n = n.Alias
	}
	return n
}

// get is the value of key in a mapping node, nil when absent: the mapping's own key,
// else one a merge key (<<: *anchor, or a list of them) brings in, as YAML merges.
func get(n *yaml.Node, key string) *yaml.Node {
	return getDepth(deref(n), key, 0)
}

func getDepth(n *yaml.Node, key string, depth int) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode || depth > maxMergeDepth {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return deref(n.Content[i+1])
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != "<<" {
			continue
		}
		for _, m := range seqOrOne(n.Content[i+1]) {
			if v := getDepth(deref(m), key, depth+1); v != nil {
				return v
			}
		}
	}
	return nil
}

// seq is the items of a sequence node, each dereferenced.
func seq(n *yaml.Node) []*yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]*yaml.Node, 0, len(n.Content))
	for _, item := range n.Content {
		out = append(out, deref(item))
	}
	return out
}

// seqOrOne is a sequence's items, or the node itself when it is not a sequence.
func seqOrOne(n *yaml.Node) []*yaml.Node {
	n = deref(n)
	if n == nil {
		return nil
	}
	if n.Kind == yaml.SequenceNode {
		return seq(n)
	}
	return []*yaml.Node{n}
}

func scalar(n *yaml.Node) string {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// strs is a string or a list of strings.
func strs(n *yaml.Node) []string {
	var out []string
	for _, item := range seqOrOne(n) {
		if item.Kind == yaml.ScalarNode {
			out = append(out, item.Value)
		}
	}
	return out
}
