package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/dockaudit/dockaudit/internal/app"
	"github.com/dockaudit/dockaudit/internal/check"
)

const configUsage = `Usage: dockaudit config [flags] [PATH...]

Audits Dockerfiles before anything is built, with the rules dockaudit image applies to
the images they build: each Dockerfile's last stage is judged as the image it makes
(its configuration along the stages it is built on, and one history step per
instruction), and each finding points at the file, line and column that causes it, so
a SARIF upload annotates the line in a pull request.

PATH is a file, or a directory searched for Dockerfile, Containerfile, NAME.Dockerfile
and Dockerfile.NAME (symbolic links are not followed; .git, node_modules and vendor are
not searched); the default is the current directory.

What a Dockerfile cannot decide is skip with the reason, never a pass: the files of an
image not built yet (setuid files, secrets in files: build it and run dockaudit
image), and the user and health check of a base image it does not set. Compose files
found are said not to be audited yet.

Examples:
  dockaudit config
  dockaudit config --format sarif -o config.sarif services/
  dockaudit config --include CIS-4.7,CIS-4.9,CIS-4.10 build/app.Dockerfile
`

func runConfig(_ context.Context, args []string, e env) int {
	fs := newFlagSet("config", configUsage)
	var of outputFlags
	of.register(fs)
	paths, err := fs.parse(args, e)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	} else if err != nil {
		return exitUsage
	}
	out, err := of.resolve(e)
	if err == nil {
		err = outputClash(of.output, paths...)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "dockaudit config: %v\n", err)
		return exitUsage
	}
	opts := app.ConfigOptions{ImageOptions: app.ImageOptions{Output: out, Selection: check.Selection{Include: of.include, Exclude: of.exclude}}, Paths: paths}
	r, err := app.Config(opts, e.stdout)
	var re *app.ReadError
	if errors.As(err, &re) {
		for _, f := range re.Failed {
			fmt.Fprintf(e.stderr, "dockaudit config: %s\n", f)
		}
		return exitFailed
	}
	return exitCode(e, "config", r, err)
}
