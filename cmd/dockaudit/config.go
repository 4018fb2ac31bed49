package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/dockaudit/dockaudit/internal/app"
	"github.com/dockaudit/dockaudit/internal/check"
)

const configUsage = `Usage: dockaudit config [flags] [PATH...]

Audits Dockerfiles and Compose files before anything is built or run, with the rules
dockaudit image and dockaudit host apply once it is:

  - each Dockerfile's last stage is judged as the image it makes (its configuration
    along the stages it is built on, and one history step per instruction);
  - each Compose service is judged as the container docker compose would create for
    it (privileged, capabilities, devices, host namespaces, the Docker socket and
    host paths mounted, seccomp/AppArmor/SELinux options, no-new-privileges,
    read-only root, limits, restart policy, published ports, health check), loaded
    as docker compose loads it: interpolation from the environment and .env,
    profiles, extends, include, several files merged.

Each finding points at the file, line and column that causes it (a setting that is
missing points at the service or the FROM), so a SARIF upload annotates the line in a
pull request.

PATH is a file, or a directory searched for Dockerfile, Containerfile,
NAME.Dockerfile, Dockerfile.NAME, compose.y(a)ml and docker-compose*.y(a)ml (symbolic
links are not followed; .git, node_modules and vendor are not searched); the default
is the current directory. In a directory, the Compose file docker compose would read
and its override file make one project; any other Compose file is a project of its
own. --compose-file names the files of one project explicitly, merged in order, as
docker compose -f does (-f is --format here). --env-file (relative to the working
directory, as docker compose takes it), --profile, --project-directory and
--project-name apply to every Compose project of the run.

The build context a COPY or ADD reads is the one a Compose service builds the
Dockerfile with (its target and build args too), else the Dockerfile's directory,
said to be assumed.

What files cannot decide is skip with the reason, never a pass: the files of an image
not built yet (setuid files, secrets in files: build it and run dockaudit image), the
user and health check of an image the files do not define, and what the daemon that
will run the containers decides (its AppArmor, SELinux and seccomp defaults,
userns-remap, no-new-privileges). Settings that condemn a service whatever the
daemon (privileged, seccomp=unconfined, apparmor=unconfined, label=disable) fail.

Every file the Compose loader would open (Compose files, include, extends, env and
label files, seccomp profiles) must be a regular file of bounded size; a link out of
the project directory is refused. Remote include and extends are not fetched.

Examples:
  dockaudit config
  dockaudit config --format sarif -o config.sarif services/
  dockaudit config --compose-file compose.yaml --compose-file compose.prod.yaml --env-file prod.env
  dockaudit config --profile debug deploy/compose.yaml
  dockaudit config --include CIS-4.7,CIS-4.9,CIS-4.10 build/app.Dockerfile
`

// pathFlag collects a repeatable flag whose values are paths (kept whole: a path may
// hold a comma).
type pathFlag []string

func (l *pathFlag) String() string { return strings.Join(*l, " ") }
func (l *pathFlag) Set(v string) error {
	if v == "" {
		return errors.New("empty path")
	}
	*l = append(*l, v)
	return nil
}

func runConfig(ctx context.Context, args []string, e env) int {
	fs := newFlagSet("config", configUsage)
	var of outputFlags
	of.register(fs)
	var composeFiles, envFiles pathFlag
	var profiles listFlag
	fs.Var(&composeFiles, "compose-file", "a Compose `FILE` of the project, merged in order (repeatable; docker compose -f)")
	fs.Var(&envFiles, "env-file", "an env `FILE` read for interpolation instead of the project's .env (repeatable)")
	fs.Var(&profiles, "profile", "enable the services of a Compose `PROFILE` (repeatable; default COMPOSE_PROFILES)")
	projectDir := fs.String("project-directory", "", "the Compose project's working `DIR` (default: the first Compose file's directory)")
	projectName := fs.String("project-name", "", "the Compose project `NAME` (default: from the files or the directory)")
	paths, err := fs.parse(args, e)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	} else if err != nil {
		return exitUsage
	}
	out, err := of.resolve(e)
	if err == nil {
		err = outputClash(of.output, append(paths, composeFiles...)...)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "dockaudit config: %v\n", err)
		return exitUsage
	}
	opts := app.ConfigOptions{ImageOptions: app.ImageOptions{Output: out, Selection: check.Selection{Include: of.include, Exclude: of.exclude}}, Paths: paths,
		ComposeFiles: composeFiles, EnvFiles: envFiles, ProjectDir: *projectDir, ProjectName: *projectName}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "profile" {
			opts.Profiles = append([]string{}, profiles...) // given, even empty: not COMPOSE_PROFILES
		}
	})
	r, err := app.Config(ctx, opts, e.stdout)
	var re *app.ReadError
	if errors.As(err, &re) {
		for _, f := range re.Failed {
			fmt.Fprintf(e.stderr, "dockaudit config: %s\n", f)
		}
		return exitFailed
	}
	return exitCode(e, "config", r, err)
}
