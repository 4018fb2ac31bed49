// Package compose loads a Compose project the way docker compose does (compose-go v2:
// interpolation from the environment and env files, profiles, extends, include,
// several files merged) and turns each service into the container facts dockaudit host
// builds from an inspect of the container docker compose would create. Every file the
// loader would open is checked first (a regular file, bounded, not a link out of the
// project), and each setting keeps the file, line and column it was written at. It
// judges nothing.
package compose

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/sirupsen/logrus"

	"github.com/dockaudit/dockaudit/internal/inventory/secrets"
	"github.com/dockaudit/dockaudit/internal/parallel"
	"github.com/dockaudit/dockaudit/internal/textsafe"
)

// Bounds on what one project makes the loader read.
const (
	// MaxFileSize bounds a Compose file (the largest in the wild are tens of kilobytes).
	MaxFileSize = 4 << 20
	// maxEnvFile bounds an env or label file.
	maxEnvFile = 1 << 20
	// maxFiles bounds the files one project reads (Compose files, includes, extends,
	// env and label files).
	maxFiles = 200
	// loadTimeout bounds the loader, whatever it meets.
	loadTimeout = 30 * time.Second
)

// Options say which project to load, as docker compose's flags do.
type Options struct {
	// Files are the Compose files, merged in order (docker compose -f). At least one.
	Files []string
	// ProjectDir is the working directory of the project (--project-directory); the
	// first file's directory when empty.
	ProjectDir string
	// Name is the project name (-p); from the files or the directory when empty.
	Name string
	// EnvFiles replace <project dir>/.env (--env-file).
	EnvFiles []string
	// Profiles enable the services of these profiles (--profile); COMPOSE_PROFILES
	// when nil.
	Profiles []string
	// Env is the environment interpolation reads; it wins over env files, as the
	// shell's environment does for docker compose.
	Env []string
}

// Project is a loaded Compose project.
type Project struct {
	Name string
	// Dir is the project's working directory.
	Dir string
	// Files are the Compose files given, in merge order; Read every file read.
	Files []string
	Read  []string
	// Services are the enabled services, by name.
	Services []Service
	// Disabled are services of profiles not enabled.
	Disabled []string
	// Notes are the loader's warnings and what was left out, in words.
	Notes []string

	index *index
}

// Error is a project that could not be loaded: one line, naming the file when known.
type Error struct {
	File string
	Err  error
}

func (e *Error) Error() string {
	// compose-go's YAML errors go on over several lines ("construct errors:" then
	// the reason): one line, every part kept.
	// The env file's parser quotes the line it stops at, which may hold a token.
	msg := textsafe.FirstLine(secrets.Redact(strings.Join(strings.Fields(e.Err.Error()), " ")), 300)
	if e.File == "" {
		return msg
	}
	return e.File + ": " + msg
}

func (e *Error) Unwrap() error { return e.Err }

// logMu serialises batches of loads: compose-go warns through logrus's global logger,
// which a batch points at its own notes.
var logMu sync.Mutex

// Load loads a project. Files it would read are checked first, so a FIFO, a device, an
// oversized file or a link out of the project is one clear error, never a hang.
func Load(ctx context.Context, opts Options) (*Project, error) {
	ps, errs, notes := LoadAll(ctx, []Options{opts})
	if errs[0] != nil {
		return nil, errs[0]
	}
	ps[0].Notes = append(notes, ps[0].Notes...)
	return ps[0], nil
}

// LoadAll loads projects, several at once; errs[i] is why projects[i] is nil. notes
// are the loader's warnings (each names its file).
func LoadAll(ctx context.Context, opts []Options) (projects []*Project, errs []error, notes []string) {
	logMu.Lock()
	defer logMu.Unlock()
	hook := &noteHook{}
	prevOut, prevHooks, prevLevel := logrus.StandardLogger().Out, logrus.StandardLogger().ReplaceHooks(logrus.LevelHooks{}), logrus.GetLevel()
	logrus.SetOutput(io.Discard)
	logrus.SetLevel(logrus.WarnLevel)
	logrus.AddHook(hook)
	defer func() {
		logrus.SetOutput(prevOut)
		logrus.StandardLogger().ReplaceHooks(prevHooks)
		logrus.SetLevel(prevLevel)
	}()
	projects, errs = make([]*Project, len(opts)), make([]error, len(opts))
	parallel.Do(len(opts), runtime.GOMAXPROCS(0), func(i int) { projects[i], errs[i] = load(ctx, opts[i]) })
	hook.mu.Lock()
	defer hook.mu.Unlock()
	slices.Sort(hook.notes)
	return projects, errs, slices.Compact(hook.notes)
}

func load(ctx context.Context, opts Options) (*Project, error) {
	if len(opts.Files) == 0 {
		return nil, errors.New("no Compose file")
	}
	dir := opts.ProjectDir
	if dir == "" {
		dir = filepath.Dir(opts.Files[0])
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	env := envMap(opts.Env)
	pre, err := precheck(opts, absDir, env)
	if err != nil {
		return nil, err
	}

	fns := []cli.ProjectOptionsFn{
		cli.WithWorkingDirectory(absDir),
		cli.WithEnv(opts.Env),
		cli.WithEnvFiles(pre.envFiles...),
		cli.WithDotEnv,
		cli.WithResolvedPaths(true),
		cli.WithName(opts.Name),
	}
	if opts.Profiles != nil {
		fns = append(fns, cli.WithProfiles(opts.Profiles))
	} else {
		fns = append(fns, cli.WithDefaultProfiles(splitList(env["COMPOSE_PROFILES"])...))
	}
	// No remote resource loader is registered: an include or extends of a git or OCI
	// reference fails instead of fetching. The options read the env files too: they
	// are made inside the time bound, like the load.
	type result struct {
		p   *types.Project
		err error
	}
	done := make(chan result, 1)
	ctx, cancel := context.WithTimeout(ctx, loadTimeout)
	defer cancel()
	go func() {
		po, err := cli.NewProjectOptions(opts.Files, fns...)
		if err != nil {
			done <- result{nil, err}
			return
		}
		p, err := po.LoadProject(ctx)
		done <- result{p, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		return nil, &Error{File: opts.Files[0], Err: fmt.Errorf("loading took longer than %s: %w", loadTimeout, ctx.Err())}
	}
	if res.err != nil {
		return nil, &Error{File: opts.Files[0], Err: res.err}
	}
	p := &Project{Name: res.p.Name, Dir: absDir, Files: opts.Files, Read: pre.read, index: pre.index}
	for _, s := range res.p.DisabledServices {
		p.Disabled = append(p.Disabled, s.Name)
	}
	slices.Sort(p.Disabled)
	names := res.p.ServiceNames()
	slices.Sort(names)
	for _, n := range names {
		p.Services = append(p.Services, convert(res.p, res.p.Services[n], pre.seccomp))
	}
	p.Notes = pre.notes
	return p, nil
}

// noteHook keeps the loader's warnings as notes.
type noteHook struct {
	mu    sync.Mutex
	notes []string
}

func (h *noteHook) Levels() []logrus.Level { return []logrus.Level{logrus.WarnLevel} }

func (h *noteHook) Fire(e *logrus.Entry) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.notes = append(h.notes, "compose: "+textsafe.FirstLine(e.Message, 300))
	return nil
}

func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Discover is the Compose files docker compose reads in dir when given no -f: the
// first of compose.yaml, compose.yml, docker-compose.yaml, docker-compose.yml, and
// its override file beside it. nil when there is none.
func Discover(dir string) []string {
	for _, base := range []string{"compose", "docker-compose"} {
		for _, ext := range []string{".yaml", ".yml"} {
			f := filepath.Join(dir, base+ext)
			if fi, err := os.Lstat(f); err == nil && !fi.IsDir() {
				files := []string{f}
				for _, ext := range []string{".yaml", ".yml"} {
					o := filepath.Join(dir, base+".override"+ext)
					if fi, err := os.Lstat(o); err == nil && !fi.IsDir() {
						files = append(files, o)
						break
					}
				}
				return files
			}
		}
	}
	return nil
}
