package main

import (
	"fmt"

	"github.com/dockaudit/dockaudit/internal/app"
	"github.com/dockaudit/dockaudit/internal/collect/engine"
)

// daemonFlags choose the daemon as the docker CLI does.
type daemonFlags struct {
	host, context string
}

func (d *daemonFlags) register(fs *flags) {
	fs.StringVar(&d.host, "host", "", "the daemon's `ADDRESS` (unix:///var/run/docker.sock, tcp://HOST:2376, ssh://USER@HOST), as docker --host; overrides DOCKER_HOST and contexts")
	fs.StringVar(&d.host, "H", "", "short for --host")
	fs.StringVar(&d.context, "context", "", "the docker CLI context `NAME` to audit, as docker --context; overrides DOCKER_CONTEXT and the current context")
}

// lookup resolves the daemon without saying anything: image and sbom keep its note
// for when a daemon image is read.
func (d *daemonFlags) lookup(e env) (engine.Env, error) {
	return engine.Resolve(engine.Lookup{HostFlag: d.host, ContextFlag: d.context, Getenv: e.getenv, ConfigDir: app.DockerConfigDir(e.getenv)})
}

// resolve picks the daemon: --context, --host, DOCKER_HOST, DOCKER_CONTEXT, the
// current context in $DOCKER_CONFIG/config.json, the default socket.
// What it had to assume is said on stderr (and, for host, in the report).
func (d *daemonFlags) resolve(e env, cmd string) (engine.Env, error) {
	env, err := d.lookup(e)
	if err == nil && env.Note != "" {
		fmt.Fprintf(e.stderr, "dockaudit %s: note: %s\n", cmd, env.Note)
	}
	return env, err
}
