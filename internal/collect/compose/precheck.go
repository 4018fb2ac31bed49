package compose

import (
	"bytes"
	"errors"
	"fmt"
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
	pc := &prechecked{index: newIndex(), seccomp: map[string]profileFile{}, envFiles: opts.EnvFiles}
	c := &checker{dir: dir, pc: pc, seen: map[string]bool{}}
	// The env files first: interpolation of the paths below reads them.
	envFiles := opts.EnvFiles
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
		if !filepath.IsAbs(f) {
			f = filepath.Join(dir, f)
		}
		if err := c.file(f, maxEnvFile, "env file"); err != nil {
			return nil, err
		}
		b, _ := os.ReadFile(f) // checked: regular and bounded
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
		return &Error{File: path, Err: fmt.Errorf("the %s: %w", what, safefile.NotRegular(path, fi.Mode()))}
	}
	if fi.Size() > max {
		return &Error{File: path, Err: fmt.Errorf("the %s is larger than %s", what, safefile.Size(max))}
	}
	c.order = append(c.order, path)
	return nil
}

// compose checks and indexes one Compose file, then what it references. base is the
// directory its relative references resolve against.
func (c *checker) compose(path, base string) error {
	if !filepath.IsAbs(path) && !filepath.IsAbs(base) {
		path = filepath.Join(base, path)
	}
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
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return &Error{File: path, Err: err}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		if root.Kind == 0 {
			return nil // empty: compose-go says so
		}
		return &Error{File: path, Err: errors.New("not a Compose file: the top level is not a mapping")}
	}
	c.pc.index.add(path, root)
	fileDir := filepath.Dir(path)
	// include: a path, a list of paths, or entries with path, env_file, project_directory.
	for _, item := range seq(get(root, "include")) {
		if item.Kind == yaml.ScalarNode {
			if err := c.compose(c.resolve(item.Value, fileDir), ""); err != nil {
				return err
			}
			continue
		}
		for _, p := range strs(get(item, "path")) {
			if err := c.compose(c.resolve(p, fileDir), ""); err != nil {
				return err
			}
		}
		for _, p := range strs(get(item, "env_file")) {
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
		svc := services.Content[i]
		if svc.Kind != yaml.MappingNode {
			continue
		}
		if ext := get(svc, "extends"); ext != nil && ext.Kind == yaml.MappingNode {
			if f := get(ext, "file"); f != nil && f.Kind == yaml.ScalarNode {
				if err := c.compose(c.resolve(f.Value, fileDir), ""); err != nil {
					return err
				}
			}
		}
		envs := seq(get(svc, "env_file"))
		if e := get(svc, "env_file"); e != nil && e.Kind == yaml.ScalarNode {
			envs = []*yaml.Node{e}
		}
		for _, e := range envs {
			p := e.Value
			if e.Kind == yaml.MappingNode {
				p = scalar(get(e, "path"))
			}
			if p != "" {
				if err := c.file(c.resolve(p, c.dir), maxEnvFile, "env file"); err != nil {
					return err
				}
			}
		}
		for _, p := range strs(get(svc, "label_file")) {
			if err := c.file(c.resolve(p, c.dir), maxEnvFile, "label file"); err != nil {
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
			p := c.resolve(v, c.dir)
			if err := c.file(p, maxSeccompFile, "seccomp profile"); err != nil {
				return err
			}
			b, err := safefile.Read(p, maxSeccompFile)
			pf := profileFile{content: string(b)}
			if err != nil {
				pf = profileFile{err: err.Error()}
			}
			c.pc.seccomp[p] = pf
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

// get is the value of key in a mapping node, nil when absent.
func get(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func seq(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// strs is a string or a list of strings.
func strs(n *yaml.Node) []string {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}
	}
	var out []string
	for _, item := range seq(n) {
		if item.Kind == yaml.ScalarNode {
			out = append(out, item.Value)
		}
	}
	return out
}
