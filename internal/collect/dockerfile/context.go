package dockerfile

import (
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// Copy is a COPY or ADD that takes files from the build context.
type Copy struct {
	Stage       int // index in File.Stages
	Instruction Instruction
	// Sources are the context paths it names, build arguments and variables expanded
	// as BuildKit expands them, relative to the context root and cleaned ("." for all
	// of it); Excludes its --exclude patterns.
	Sources, Excludes []string
	// Unresolved says why what it takes is not known: a source naming a variable
	// with no value here (a build argument given only on the command line).
	Unresolved string
}

// ContextCopies are the file's COPY and ADD instructions that take files from the
// build context, in file order: not COPY --from, not ADD of a URL or a git
// repository, not heredoc files. buildArgs are the --build-arg values (Compose
// build.args): they set the arguments the file declares.
func (f *File) ContextCopies(buildArgs map[string]string) []Copy {
	global := map[string]string{}
	for _, a := range f.Args {
		if v, ok := buildArgs[a.Name]; ok {
			global[a.Name] = v
		} else if a.HasDefault {
			global[a.Name] = a.Default
		}
	}
	lex := shell.NewLex(f.escape)
	var out []Copy
	envOf := make([]map[string]string, len(f.Stages)) // each stage's ENV at its end
	for si, st := range f.Stages {
		env := map[string]string{}
		if st.FromStage >= 0 {
			// A stage built on an earlier one inherits its environment (not its
			// build arguments).
			for k, v := range envOf[st.FromStage] {
				env[k] = v
			}
		}
		envOnly := maps.Clone(env)
		declared := map[string]bool{} // build arguments the stage declares: a --build-arg sets them
		for _, in := range st.Instructions {
			var sources, excludes []string
			switch c := in.Command.(type) {
			case *instructions.ArgCommand:
				for _, kv := range c.Args {
					declared[kv.Key] = true
					if v, ok := buildArgs[kv.Key]; ok {
						env[kv.Key] = v
					} else if kv.Value != nil {
						env[kv.Key] = *kv.Value
					} else if v, ok := global[kv.Key]; ok {
						env[kv.Key] = v // a global argument redeclared keeps its default
					}
				}
				continue
			case *instructions.EnvCommand:
				for _, kv := range c.Env {
					env[kv.Key] = kv.Value
					envOnly[kv.Key] = kv.Value
				}
				continue
			case *instructions.CopyCommand:
				if c.From != "" {
					continue
				}
				sources, excludes = c.SourcePaths, c.ExcludePatterns
			case *instructions.AddCommand:
				for _, src := range c.SourcePaths {
					if !remote(src) {
						sources = append(sources, src)
					}
				}
				excludes = c.ExcludePatterns
			default:
				continue
			}
			if len(sources) == 0 {
				continue
			}
			cp := Copy{Stage: si, Instruction: in, Excludes: excludes}
			for _, src := range sources {
				// A variable the stage does not declare is empty, as BuildKit expands it;
				// a declared build argument with no default is whatever --build-arg says.
				r, err := lex.ProcessWordWithMatches(src, shell.EnvsFromSlice(envList(env)))
				var names []string
				for n := range r.Unmatched {
					if declared[n] {
						names = append(names, n)
					}
				}
				if err != nil || len(names) > 0 {
					slices.Sort(names)
					cp.Unresolved = "the source " + src + " names " + strings.Join(names, ", ") + ", which has no value in the Dockerfile (a --build-arg decides it)"
					if err != nil {
						cp.Unresolved = "the source " + src + " cannot be expanded: " + firstLine(err.Error())
					}
					continue
				}
				cp.Sources = append(cp.Sources, contextPath(r.Result))
			}
			out = append(out, cp)
		}
		envOf[si] = envOnly
	}
	return out
}

// remote says an ADD source is fetched, not taken from the context.
func remote(src string) bool {
	return strings.Contains(src, "://") || strings.HasPrefix(src, "git@")
}

// contextPath is a source as a path under the context root: a leading / and ..
// cannot leave it.
func contextPath(src string) string {
	p := path.Clean("/" + src)
	if p == "/" {
		return "."
	}
	return strings.TrimPrefix(p, "/")
}

// Chain is the stages the stage target is built on, itself included, root first.
func (f *File) Chain(target int) []int {
	var chain []int
	for i := target; i >= 0; i = f.Stages[i].FromStage {
		chain = append(chain, i)
	}
	slices.Reverse(chain)
	return chain
}
