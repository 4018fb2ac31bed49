package dockerfile

import (
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/dockaudit/dockaudit/internal/facts"
)

// Image is what the image the Dockerfile's last stage builds says of itself, as far as
// the file decides it: its configuration (along the chain of stages it is built on)
// and its history, each step where the file writes it, so the image rules judge the
// file as they judge a built image. What the file does not decide is unknown, never
// unset: the files of an image not built yet (the rules that read them skip), and
// the user and health check of a base image that was not read.
func (f *File) Image() facts.Image { return f.ImageAt(len(f.Stages) - 1) }

// Stage is the index of the stage named name (docker build --target, Compose
// build.target), the last one of that name as BuildKit takes it; -1 when none is.
func (f *File) Stage(name string) int {
	for i := len(f.Stages) - 1; i >= 0; i-- {
		if strings.EqualFold(f.Stages[i].Name, name) {
			return i
		}
	}
	return -1
}

// ImageAt is Image for the stage target builds.
func (f *File) ImageAt(target int) facts.Image {
	chain := f.Chain(target) // each stage's FromStage is an earlier one: the walk ends
	root := f.Stages[chain[0]]
	im := facts.Image{
		Source: "dockerfile",
		Tags:   []string{f.Path},
		Config: &facts.ImageConfig{},
		Unknown: map[facts.Part]string{
			facts.PartContent: "a Dockerfile is not built: the image's files are known once docker build has run (dockaudit image reads them)",
			facts.PartRef:     "a Dockerfile names no image",
		},
	}
	step := func(createdBy string, p Pos, empty bool) {
		im.History = append(im.History, facts.History{CreatedBy: createdBy, EmptyLayer: empty, File: f.Path, Line: p.Line, Column: p.Column})
	}
	step("FROM "+root.Base, root.Pos, true)
	im.Base = &facts.Base{Name: root.Base, From: "Dockerfile FROM"}
	if name, digest, ok := strings.Cut(root.Base, "@"); ok {
		im.Base.Name, im.Base.Digest = name, digest
	}
	user, health := false, false
	// Global build arguments are the file's too: a default may be a token.
	for _, a := range f.Args {
		if a.HasDefault {
			step("ARG "+a.Name+"="+a.Default, a.Pos, true)
		}
	}
	// The chain's instructions make the image. Every other stage's are build steps of
	// the same file, judged as such (a secret or curl | sh in a build stage is in the
	// Dockerfile all the same), with a configuration of their own that is dropped.
	for si, st := range f.Stages {
		own := slices.Contains(chain, si)
		cfg := im.Config
		if !own {
			cfg = &facts.ImageConfig{}
		}
		// What a USER may name: the stage's build arguments (a global one keeps its
		// default when declared again) and the environment along its chain.
		vars := map[string]string{}
		for _, kv := range cfg.Env {
			k, v, _ := strings.Cut(kv, "=")
			vars[k] = v
		}
		for _, in := range st.Instructions {
			switch c := in.Command.(type) {
			case *instructions.RunCommand:
				text := "RUN " + strings.Join(c.CmdLine, " ")
				for _, h := range c.Files {
					text += "\n" + h.Data // heredoc bodies are run too
				}
				step(text, in.Pos, false)
			case *instructions.EnvCommand:
				for _, kv := range c.Env {
					setEnv(cfg, kv.Key, kv.Value)
					vars[kv.Key] = kv.Value
					step("ENV "+kv.Key+"="+kv.Value, in.Pos, true)
				}
			case *instructions.LabelCommand:
				for _, kv := range c.Labels {
					cfg.Labels = append(cfg.Labels, [2]string{kv.Key, kv.Value})
				}
				step(in.Original, in.Pos, true)
			case *instructions.ArgCommand:
				for _, kv := range c.Args {
					text := "ARG " + kv.Key
					if kv.Value != nil {
						text += "=" + *kv.Value
						vars[kv.Key] = *kv.Value
					} else if a := f.arg(kv.Key); a != nil && a.HasDefault {
						vars[kv.Key] = a.Default
					}
					step(text, in.Pos, true)
				}
			case *instructions.UserCommand:
				cfg.User, user = f.expand(c.User, vars), user || own
				step("USER "+c.User, in.Pos, true)
			case *instructions.HealthCheckCommand:
				cfg.Healthcheck, health = nil, health || own
				if c.Health != nil {
					cfg.Healthcheck = c.Health.Test
				}
				step(in.Original, in.Pos, true)
			case *instructions.EntrypointCommand:
				cfg.Entrypoint = command(c.CmdLine, c.PrependShell)
				step(in.Original, in.Pos, true)
			case *instructions.CmdCommand:
				cfg.Cmd = command(c.CmdLine, c.PrependShell)
				step(in.Original, in.Pos, true)
			case *instructions.VolumeCommand:
				cfg.Volumes = append(cfg.Volumes, c.Volumes...)
				step(in.Original, in.Pos, true)
			case *instructions.ExposeCommand:
				cfg.ExposedPorts = append(cfg.ExposedPorts, c.Ports...)
				step(in.Original, in.Pos, true)
			default: // COPY, ADD, WORKDIR, SHELL…: as written
				step(in.Original, in.Pos, in.Name != "copy" && in.Name != "add")
			}
		}
	}
	if cfg := im.Config; root.Base != "scratch" {
		if !user {
			cfg.Inherited = append(cfg.Inherited, "user")
		}
		if !health {
			cfg.Inherited = append(cfg.Inherited, "healthcheck")
		}
		cfg.Inherited = append(cfg.Inherited, "volumes") // the base's are kept, whatever the file adds
	}
	return im
}

// arg is the global build argument name, nil when the file declares none.
func (f *File) arg(name string) *Arg {
	for i := range f.Args {
		if f.Args[i].Name == name {
			return &f.Args[i]
		}
	}
	return nil
}

// expand is a word with the variables in scope replaced, as BuildKit expands USER; a
// variable with no value here is left as written ($U), for the rules to say so.
func (f *File) expand(word string, vars map[string]string) string {
	if !strings.Contains(word, "$") {
		return word
	}
	env := make([]string, 0, len(vars))
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	r, err := shell.NewLex(f.escape).ProcessWordWithMatches(word, shell.EnvsFromSlice(env))
	if err != nil || len(r.Unmatched) > 0 {
		return word
	}
	return r.Result
}

// setEnv sets a variable in the configuration's environment, replacing an earlier one.
func setEnv(cfg *facts.ImageConfig, k, v string) {
	for i, kv := range cfg.Env {
		if name, _, _ := strings.Cut(kv, "="); name == k {
			cfg.Env[i] = k + "=" + v
			return
		}
	}
	cfg.Env = append(cfg.Env, k+"="+v)
}

// command is a CMD or ENTRYPOINT as the image configuration keeps it: the shell form
// run by /bin/sh -c.
func command(line []string, shell bool) []string {
	if shell {
		return []string{"/bin/sh", "-c", strings.Join(line, " ")}
	}
	return line
}
