package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/checks"
	"github.com/dockaudit/dockaudit/internal/collect/buildctx"
	"github.com/dockaudit/dockaudit/internal/collect/compose"
	"github.com/dockaudit/dockaudit/internal/collect/dockerfile"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
	"github.com/dockaudit/dockaudit/internal/inventory/secrets"
	"github.com/dockaudit/dockaudit/internal/parallel"
	"github.com/dockaudit/dockaudit/internal/report"
	"github.com/dockaudit/dockaudit/internal/textsafe"
)

// ConfigOptions are the settings of dockaudit config.
type ConfigOptions struct {
	ImageOptions
	Paths []string // files and directories; "." when none
	// ComposeFiles are Compose files merged into one project, as docker compose -f
	// merges them; ProjectDir, ProjectName, EnvFiles and Profiles are docker compose's
	// --project-directory, -p, --env-file and --profile. Env is the environment
	// interpolation reads (os.Environ() when nil).
	ComposeFiles []string
	ProjectDir   string
	ProjectName  string
	EnvFiles     []string
	Profiles     []string
	Env          []string
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

// Config audits Dockerfiles and Compose files before anything is built or run: each
// Dockerfile's last stage is judged by dockaudit image's rules, each Compose service
// by dockaudit host's container rules as the container docker compose would create,
// each finding at its file, line and column.
func Config(ctx context.Context, opts ConfigOptions, stdout io.Writer) (*report.Report, error) {
	selected, err := opts.Selection.Apply(checks.Config())
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	opts.Checks = selected
	paths := opts.Paths
	if len(paths) == 0 && len(opts.ComposeFiles) == 0 {
		paths = []string{"."}
	}
	var files, notes []string
	var projects [][]string // Compose files, one list per project
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return nil, &UsageError{Err: err}
		}
		found, comp, n, err := findConfigFiles(p)
		if err != nil {
			return nil, err // an unreadable directory is an input that could not be read: exit 1
		}
		files, projects, notes = append(files, found...), append(projects, comp...), append(notes, n...)
	}
	if len(opts.ComposeFiles) > 0 {
		for _, f := range opts.ComposeFiles {
			if _, err := os.Stat(f); err != nil {
				return nil, &UsageError{Err: err}
			}
		}
		projects = append(projects, opts.ComposeFiles)
	}
	for _, f := range append(slices.Clone(files), slices.Concat(projects...)...) {
		if Clash(opts.File, f) {
			// The report must never replace what it audits.
			return nil, &UsageError{Err: fmt.Errorf("--output %s is also an input of this run (%s): the report would replace it", opts.File, f)}
		}
	}
	if len(files) == 0 && len(projects) == 0 && len(notes) == 0 {
		return nil, &UsageError{Err: fmt.Errorf("no Dockerfile or Compose file in %s (Dockerfile, Containerfile, NAME.Dockerfile, Dockerfile.NAME, compose.yaml, docker-compose*.yml)", strings.Join(paths, ", "))}
	}
	services := &configServices{}
	var images []facts.Image
	contexts := map[string]buildSpec{} // Dockerfile (absolute) → how a service builds it
	env := opts.Env
	if env == nil {
		env = os.Environ()
	}
	copts := make([]compose.Options, len(projects))
	for i, pf := range projects {
		copts[i] = compose.Options{Files: pf, ProjectDir: opts.ProjectDir, Name: opts.ProjectName, EnvFiles: opts.EnvFiles, Profiles: opts.Profiles, Env: env}
	}
	loaded, errs, loadNotes := compose.LoadAll(ctx, copts)
	notes = append(notes, loadNotes...)
	have := map[string]bool{} // the Dockerfiles found, absolute
	for _, f := range files {
		have[absPath(f)] = true
	}
	for i, p := range loaded {
		pf := projects[i]
		if errs[i] != nil {
			// One error finding for the project, at its first file.
			images = append(images, facts.Image{Tags: []string{relPath(pf[0])}, Ref: relPath(pf[0]), Source: "compose", Error: composeError(errs[i], pf[0])})
			continue
		}
		services.add(p)
		notes = append(notes, p.Notes...)
		if len(p.Disabled) > 0 {
			notes = append(notes, fmt.Sprintf("%s: services of profiles not enabled, not audited (--profile enables them): %s", relPath(pf[0]), strings.Join(p.Disabled, ", ")))
		}
		for _, s := range p.Services {
			b := s.Build
			if b == nil {
				continue
			}
			who := relPath(pf[0]) + ": service " + s.Name
			if len(b.NotRead) > 0 {
				notes = append(notes, who+": "+strings.Join(b.NotRead, ", ")+" is not read by dockaudit config (audit the built image with dockaudit image)")
			}
			if b.Dockerfile == "" {
				continue
			}
			df := absPath(b.Dockerfile)
			spec := buildSpec{who: who, context: b.Context, target: b.Target, args: b.Args}
			if first, ok := contexts[df]; !ok {
				contexts[df] = spec
			} else if !first.same(spec) {
				notes = append(notes, fmt.Sprintf("%s builds %s with another context, target or build arguments than %s: the Dockerfile is judged as %s builds it",
					who, relPath(df), first.who, first.who))
			}
			if !have[df] {
				if fi, err := os.Lstat(df); err == nil && fi.Mode().IsRegular() {
					have[df] = true
					files = append(files, df) // built by a service, outside the paths given
				}
			}
		}
	}
	for i, f := range files {
		files[i] = relPath(f)
	}
	// Each Dockerfile is read and its context judged on its own goroutine; contexts
	// shared by several are read once.
	read := &contextCache{m: map[string]*contextEntry{}}
	type result struct {
		im    facts.Image
		notes []string
		from  finding.Location
	}
	results := make([]result, len(files))
	parallel.Do(len(files), runtime.GOMAXPROCS(0), func(i int) {
		f := files[i]
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
			results[i].im = facts.Image{Tags: []string{f}, Ref: f, Source: "dockerfile", Error: msg}
			return
		}
		for _, w := range df.Warnings {
			// The parser quotes the instruction, which may hold a token.
			results[i].notes = append(results[i].notes, fmt.Sprintf("%s:%d: %s", f, w.Pos.Line, secrets.Redact(w.Message)))
		}
		spec, built := contexts[absPath(f)]
		target := len(df.Stages) - 1
		if built && spec.target != "" {
			if target = df.Stage(spec.target); target < 0 {
				results[i].im = facts.Image{Tags: []string{f}, Ref: f, Source: "dockerfile", Error: fmt.Sprintf("%s builds target %q, which is no stage of it", spec.who, spec.target)}
				return
			}
		}
		im := df.ImageAt(target)
		im.Context = buildContext(df, spec, built, target, read)
		last := df.Stages[len(df.Stages)-1].Pos
		results[i] = result{im: im, notes: results[i].notes, from: finding.Location{Path: f, Line: last.Line, Column: last.Column}}
	})
	for _, r := range results {
		images = append(images, r.im)
		notes = append(notes, r.notes...)
		if r.from.Path != "" {
			services.from(r.from.Path, r.from)
		}
	}
	// Rules of a kind of file that is not there would only say "nothing audited".
	// (A Compose project that could not be loaded is an error target, not a Dockerfile.)
	dockerfiles := slices.ContainsFunc(images, func(im facts.Image) bool { return im.Source == "dockerfile" })
	opts.Checks = slices.DeleteFunc(opts.Checks, func(c check.Check) bool {
		return (c.Scope == finding.KindImage && !dockerfiles) || (c.Scope == finding.KindContainer && len(services.containers) == 0)
	})
	opts.Command = "config"
	return writeImageReport(images, services, notes, opts.ImageOptions, stdout)
}

// contextCache reads each build context once, however many Dockerfiles share it.
type contextCache struct {
	mu sync.Mutex
	m  map[string]*contextEntry
}

type contextEntry struct {
	once sync.Once
	c    *buildctx.Context
	err  error
}

func (cc *contextCache) get(root, ignore string) (*buildctx.Context, error) {
	cc.mu.Lock()
	e, ok := cc.m[root+"\x00"+ignore]
	if !ok {
		e = &contextEntry{}
		cc.m[root+"\x00"+ignore] = e
	}
	cc.mu.Unlock()
	e.once.Do(func() { e.c, e.err = buildctx.Read(root, ignore) })
	return e.c, e.err
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// buildSpec is how a Compose service builds a Dockerfile.
type buildSpec struct {
	who, context, target string
	args                 map[string]string
}

func (b buildSpec) same(o buildSpec) bool {
	return b.context == o.context && b.target == o.target && maps.Equal(b.args, o.args)
}

// buildContext is what a Dockerfile's COPY and ADD take from its build context: the
// one a Compose service builds it with (its target and build arguments too), else
// its own directory (assumed).
func buildContext(df *dockerfile.File, spec buildSpec, built bool, target int, read *contextCache) *facts.BuildContext {
	abs := absPath(df.Path)
	root := spec.context
	bc := &facts.BuildContext{Root: relPath(root), Copies: []facts.ContextCopy{}}
	if !built {
		root, bc.Assumed = filepath.Dir(abs), true
		bc.Root = relPath(root)
	}
	ignore := buildctx.IgnoreFileFor(root, abs)
	if ignore != "" {
		bc.IgnoreFile = relPath(ignore)
	}
	c, err := read.get(root, ignore)
	if err != nil {
		bc.Error = oneLine(err)
		return bc
	}
	final := df.Chain(target)
	for _, cp := range df.ContextCopies(spec.args) {
		out := facts.ContextCopy{File: df.Path, Line: cp.Instruction.Pos.Line, Column: cp.Instruction.Pos.Column,
			Instruction: secrets.Redact(cp.Instruction.Original), Stage: df.Stages[cp.Stage].Name, Final: slices.Contains(final, cp.Stage), Unresolved: cp.Unresolved}
		gits := map[string]bool{}
		for _, src := range cp.Sources {
			shipped, err := c.Ships(src, cp.Excludes)
			if err != nil {
				out.Unresolved = oneLine(err)
				continue
			}
			out.Files += len(shipped)
			for _, f := range shipped {
				if g := buildctx.GitDir(f); g != "" {
					if !gits[g] {
						gits[g] = true
						out.GitDirs = append(out.GitDirs, g)
					}
					continue
				}
				if cp.Instruction.Name == "add" && c.Archive(f) {
					out.Unscanned = append(out.Unscanned, f+" (an archive ADD unpacks)")
					continue
				}
				found, scanned := c.Secrets(f)
				out.Secrets = append(out.Secrets, found...)
				if !scanned {
					out.Unscanned = append(out.Unscanned, f)
				}
			}
		}
		bc.Copies = append(bc.Copies, out)
	}
	return bc
}

// composeError is why a project could not be loaded, naming the file at fault when it
// is not the project's first file (which the report names already).
func composeError(err error, first string) string {
	var ce *compose.Error
	if !errors.As(err, &ce) {
		return oneLine(err)
	}
	msg := textsafe.FirstLine(secrets.Redact(strings.Join(strings.Fields(ce.Err.Error()), " ")), 300)
	if ce.File != "" && absPath(ce.File) != absPath(first) {
		msg = relPath(ce.File) + ": " + msg
	}
	return msg
}

// relPath names a file relative to the working directory when it is under it, as a
// repository's files are: SARIF then points code scanning at the file in the pull
// request.
func relPath(f string) string {
	wd, err := os.Getwd()
	if err != nil {
		return f
	}
	abs, err := filepath.Abs(f)
	if err != nil {
		return f
	}
	if rel, err := filepath.Rel(wd, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
		return rel
	}
	return f
}

// configServices are the Compose services of a config run, as containers not created
// yet, and where each of their settings is written.
type configServices struct {
	containers []facts.Container
	where      map[string]serviceRef // by container name
	// froms are where each Dockerfile's last stage starts: what its image is, and
	// where a finding on the whole image (no HEALTHCHECK, runs as root) points.
	froms map[string]finding.Location
}

func (cs *configServices) from(dockerfile string, loc finding.Location) {
	if cs.froms == nil {
		cs.froms = map[string]finding.Location{}
	}
	cs.froms[dockerfile] = loc
}

type serviceRef struct {
	project *compose.Project
	service string
}

func (cs *configServices) add(p *compose.Project) {
	if cs.where == nil {
		cs.where = map[string]serviceRef{}
	}
	for _, s := range p.Services {
		// Containers not created have no ID: the service's own, unique across the
		// projects of a run (two may share a name) and stable across machines.
		c := s.Container
		c.ID = "compose:" + relPath(p.Files[0]) + "#" + s.Name
		cs.containers = append(cs.containers, c)
		cs.where[c.ID] = serviceRef{p, s.Name}
	}
}

// noDaemon is why config judges no daemon setting.
const noDaemon = "dockaudit config reads files: the daemon that will run it is not known"

// prepare puts the services in the snapshot, with what every daemon has: the default
// bridge network (so CIS-5.30 judges network_mode: bridge).
func (cs *configServices) prepare(snap *facts.Snapshot) {
	snap.Containers = cs.containers
	snap.Networks = []facts.Network{{ID: "bridge", Name: "bridge", Driver: "bridge", Scope: "local"}}
	snap.NoDaemon = noDaemon
	snap.HostAccess.Reason = "dockaudit config reads files, not the host"
}

// composeKeys are the Compose keys each container rule judges, the most specific
// first: a finding points at the first one the service's files write, else at the
// service itself (a limit not set is the service's).
var composeKeys = map[string][]string{
	"CIS-4.1":         {"user"},
	"CIS-5.2":         {"security_opt", "privileged"},
	"CIS-5.3":         {"security_opt", "privileged"},
	"CIS-5.4":         {"cap_add", "privileged", "cap_drop"},
	"CIS-5.5":         {"privileged"},
	"CIS-5.6":         {"volumes", "secrets", "configs"},
	"CIS-5.8":         {"ports"},
	"CIS-5.9":         {"ports"},
	"CIS-5.10":        {"network_mode"},
	"CIS-5.11":        {"deploy.resources.limits.memory", "mem_limit"},
	"CIS-5.12":        {"deploy.resources.limits.cpus", "cpus", "cpu_shares", "cpu_quota"},
	"CIS-5.13":        {"read_only"},
	"CIS-5.14":        {"ports"},
	"CIS-5.15":        {"deploy.restart_policy", "restart"},
	"CIS-5.16":        {"pid"},
	"CIS-5.17":        {"ipc"},
	"CIS-5.18":        {"devices"},
	"CIS-5.19":        {"ulimits"},
	"CIS-5.20":        {"volumes", "secrets", "configs"},
	"CIS-5.21":        {"uts"},
	"CIS-5.22":        {"security_opt", "privileged"},
	"CIS-5.25":        {"cgroup_parent"},
	"CIS-5.26":        {"security_opt"},
	"CIS-5.27":        {"healthcheck"},
	"CIS-5.29":        {"deploy.resources.limits.pids", "pids_limit"},
	"CIS-5.30":        {"network_mode", "networks"},
	"CIS-5.31":        {"userns_mode"},
	"CIS-5.32":        {"volumes", "secrets", "configs", "use_api_socket"},
	"CONFINE-SECCOMP": {"security_opt", "privileged"},
	"CONFINE-CAPS":    {"cap_add", "privileged"},
	"CONFINE-NNP":     {"security_opt"},
	"CONFINE-USERNS":  {"userns_mode"},
	"CONFINE-MAC":     {"security_opt"},
}

// locate points each service finding at the line of the Compose file that causes it,
// and each Dockerfile finding that names no line at its last FROM.
func (cs *configServices) locate(fs []finding.Finding) {
	for i := range fs {
		f := &fs[i]
		if loc, ok := cs.froms[f.Target.Name]; ok && f.Target.Kind == finding.KindImage {
			if f.Status != finding.Pass && f.Status != finding.Skip && (f.Location == nil || f.Location.Line == 0) {
				f.Location = &loc
			}
			continue
		}
		ref, ok := cs.where[f.Target.ID]
		if !ok || f.Target.Kind != finding.KindContainer {
			continue
		}
		keys := composeKeys[f.Rule]
		if strings.HasPrefix(f.Message, "privileged") {
			keys = append([]string{"privileged"}, keys...)
		}
		// A list item is picked by what the finding names: a path, a port, a capability.
		said := f.Message
		for _, e := range f.Evidence {
			said += " " + e.Actual
		}
		loc := ref.project.Locate(ref.service, keys, said)
		loc.Path = relPath(loc.Path)
		f.Location = &loc
	}
}

// oneLine is an error of reading a file as one bounded line; a parser may quote the
// file's text, which may hold a token.
func oneLine(err error) string { return textsafe.FirstLine(secrets.Redact(err.Error()), 200) }

// findConfigFiles is the Dockerfiles and Compose projects a path names: the file
// itself, or those under a directory (bounded; symbolic links are not followed,
// dependency and VCS directories are not walked). In a directory, the file docker
// compose would read with its override file is one project; every other Compose file
// is a project of its own.
func findConfigFiles(root string) (files []string, projects [][]string, notes []string, err error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, nil, nil, err
	}
	if !fi.IsDir() {
		if isCompose(filepath.Base(root)) {
			return nil, [][]string{{root}}, nil, nil
		}
		return []string{root}, nil, nil, nil
	}
	entries := 0
	composeDirs := map[string][]string{}
	var dirs []string
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
			dir := filepath.Dir(p)
			if composeDirs[dir] == nil {
				dirs = append(dirs, dir)
			}
			if len(composeDirs[dir]) == maxConfigFiles {
				return fmt.Errorf("%s: more than %d Compose files: name the directories to audit", dir, maxConfigFiles)
			}
			composeDirs[dir] = append(composeDirs[dir], p)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.SkipAll) {
		return nil, nil, nil, err
	}
	for _, dir := range dirs {
		main := compose.Discover(dir)
		if len(main) > 0 && !slices.ContainsFunc(main, func(f string) bool { return !slices.Contains(composeDirs[dir], f) }) {
			projects = append(projects, main)
		} else {
			main = nil
		}
		for _, f := range composeDirs[dir] {
			if !slices.Contains(main, f) {
				projects = append(projects, []string{f})
			}
		}
	}
	return files, projects, notes, nil
}
