package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/dockaudit/dockaudit/internal/app"
)

// The Docker CLI plugin protocol: the docker CLI finds docker-NAME in its plugin
// directories, asks it for its metadata with the argument docker-cli-plugin-metadata,
// and runs `docker [global flags] NAME args…` as `docker-NAME [global flags] NAME
// args…`.
const (
	pluginName     = "audit"
	pluginBinary   = "docker-" + pluginName
	pluginMetadata = "docker-cli-plugin-metadata"
)

// isPlugin says the binary runs as the docker CLI's plugin: it is called
// docker-audit (the link dockaudit plugin install makes).
func isPlugin(argv0 string) bool {
	return strings.TrimSuffix(filepath.Base(argv0), ".exe") == pluginBinary
}

// pluginMeta is what the docker CLI lists for the plugin (docker info, docker --help).
func pluginMeta() []byte {
	b, _ := json.Marshal(map[string]string{
		"SchemaVersion":    "0.1.0",
		"Vendor":           "dockaudit",
		"Version":          app.ToolVersion(),
		"ShortDescription": "Audit the Docker host, images and build files",
		"URL":              "https://github.com/dockaudit/dockaudit",
	})
	return append(b, '\n')
}

// pluginArgs turns the plugin's command line into dockaudit's: the docker CLI's global
// flags before "audit" become the environment the docker CLI would give a client
// (--context, --host, --config, TLS), so dockaudit picks the daemon the docker command
// named; what follows "audit" is dockaudit's own command line.
func pluginArgs(args []string, getenv func(string) string, setenv func(k, v string)) ([]string, error) {
	fs := flag.NewFlagSet("docker", flag.ContinueOnError)
	fs.SetOutput(new(strings.Builder))
	var host, ctx, config, logLevel, ca, cert, key string
	var tls, tlsVerify, debug bool
	for _, n := range []string{"H", "host"} {
		fs.StringVar(&host, n, "", "")
	}
	for _, n := range []string{"c", "context"} {
		fs.StringVar(&ctx, n, "", "")
	}
	for _, n := range []string{"l", "log-level"} {
		fs.StringVar(&logLevel, n, "", "")
	}
	for _, n := range []string{"D", "debug"} {
		fs.BoolVar(&debug, n, false, "")
	}
	fs.StringVar(&config, "config", "", "")
	fs.BoolVar(&tls, "tls", false, "")
	fs.BoolVar(&tlsVerify, "tlsverify", false, "")
	fs.StringVar(&ca, "tlscacert", "", "")
	fs.StringVar(&cert, "tlscert", "", "")
	fs.StringVar(&key, "tlskey", "", "")
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("docker's global flags: %v", err)
	}
	rest := fs.Args()
	if len(rest) == 0 || rest[0] != pluginName {
		return nil, fmt.Errorf("run as a docker CLI plugin, expected `docker [flags] %s COMMAND`, got %q", pluginName, strings.Join(args, " "))
	}
	if host != "" && ctx != "" {
		return nil, errors.New("--host and --context cannot both be given (as in the docker CLI)")
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	// As the docker CLI decides: --tlsverify (given, whatever its value) or
	// DOCKER_TLS_VERIFY says whether the daemon's certificate is verified, and
	// --tls, --tlsverify, the client's files or DOCKER_TLS turn TLS on.
	verify := getenv("DOCKER_TLS_VERIFY") != "" || ca != "" || cert != "" || key != ""
	if given["tlsverify"] {
		verify = tlsVerify
	}
	tlsOn := tls || given["tlsverify"] || verify || getenv("DOCKER_TLS") != ""
	if tlsOn && !verify {
		// TLS that does not verify the daemon is not a transport dockaudit uses: it
		// would send the audit's requests to whoever answers.
		return nil, errors.New("TLS without verifying the daemon's certificate (--tls, --tlsverify=false or DOCKER_TLS without DOCKER_TLS_VERIFY): dockaudit verifies it; use --tlsverify (with --tlscacert) or a context")
	}
	switch {
	case ctx != "":
		setenv("DOCKER_CONTEXT", ctx)
		setenv("DOCKER_HOST", "") // the flag wins over the environment, as in the docker CLI
	case host != "":
		setenv("DOCKER_HOST", host)
		setenv("DOCKER_CONTEXT", "")
	}
	if config != "" {
		setenv("DOCKER_CONFIG", config)
	}
	if ca != "" || cert != "" || key != "" {
		// dockaudit reads the client's TLS files as the docker CLI reads
		// DOCKER_CERT_PATH: ca.pem, cert.pem and key.pem in one directory.
		dir := filepath.Dir(cmpOr(ca, cert, key))
		for _, fw := range [][2]string{{ca, "ca.pem"}, {cert, "cert.pem"}, {key, "key.pem"}} {
			if f, want := fw[0], fw[1]; f != "" && (filepath.Dir(f) != dir || filepath.Base(f) != want) {
				return nil, fmt.Errorf("--tlscacert, --tlscert and --tlskey must be ca.pem, cert.pem and key.pem in one directory (dockaudit reads them as DOCKER_CERT_PATH): got %s", f)
			}
		}
		setenv("DOCKER_CERT_PATH", dir)
	}
	if tlsOn {
		setenv("DOCKER_TLS_VERIFY", "1")
	}
	return rest[1:], nil
}

func cmpOr(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

const pluginUsage = `Usage: dockaudit plugin install [flags]

Installs dockaudit as a Docker CLI plugin, so that it runs as "docker audit host",
"docker audit image REF", "docker audit config" and the rest: a link named docker-audit
to this binary, in the directory the docker CLI looks for the user's plugins
($DOCKER_CONFIG/cli-plugins, else ~/.docker/cli-plugins), or with --system in
/usr/local/lib/docker/cli-plugins for every user.

Run as a plugin, dockaudit takes the daemon the docker command names: docker
--context NAME, --host ADDRESS, --config DIR and the TLS flags (--tlscacert, --tlscert
and --tlskey as ca.pem, cert.pem and key.pem in one directory) apply as they do to the
docker CLI.

An existing docker-audit that is not a link to this binary is never replaced: remove
it first.

Examples:
  dockaudit plugin install
  sudo dockaudit plugin install --system
  docker audit host --include CIS-5
`

func runPlugin(args []string, e env) int {
	if len(args) == 0 || args[0] != "install" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
			fmt.Fprint(e.stdout, pluginUsage)
			return exitOK
		}
		fmt.Fprint(e.usage, pluginUsage)
		return exitUsage
	}
	fs := newFlagSet("plugin install", pluginUsage)
	system := fs.Bool("system", false, "install for every user, in /usr/local/lib/docker/cli-plugins")
	dir := fs.String("dir", "", "install in `DIR` instead")
	rest, err := fs.parse(args[1:], e)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	} else if err != nil {
		return exitUsage
	}
	if len(rest) > 0 {
		fmt.Fprintf(e.stderr, "dockaudit plugin install: unexpected argument %q\n", rest[0])
		return exitUsage
	}
	target := *dir
	switch {
	case target != "" && *system:
		fmt.Fprintln(e.stderr, "dockaudit plugin install: --dir and --system cannot both be given")
		return exitUsage
	case *system:
		target = "/usr/local/lib/docker/cli-plugins"
	case target == "":
		target = filepath.Join(app.DockerConfigDir(e.getenv), "cli-plugins")
	}
	self, err := os.Executable()
	if err == nil {
		self, err = filepath.EvalSymlinks(self)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "dockaudit plugin install: this binary's path: %v\n", err)
		return exitFailed
	}
	if *system {
		// Every user's docker CLI runs the plugin (docker info asks it for its
		// metadata), root's too: it must be a file only root can change.
		if err := rootOnly(self); err != nil {
			fmt.Fprintf(e.stderr, "dockaudit plugin install --system: %v (install the binary in a root-owned directory first, e.g. scripts/build /usr/local/bin/dockaudit)\n", err)
			return exitFailed
		}
	}
	link, err := installPlugin(self, target)
	if err != nil {
		fmt.Fprintf(e.stderr, "dockaudit plugin install: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(e.stdout, "%s -> %s\nrun: docker audit host\n", link, self)
	return exitOK
}

// rootOnly checks that a file and every directory above it belong to root and that no
// one else may write them.
func rootOnly(path string) error {
	for p := path; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return fmt.Errorf("%s: its owner cannot be read", p)
		}
		if st.Uid != 0 || fi.Mode().Perm()&0o022 != 0 {
			return fmt.Errorf("%s is not root's alone (owner %d, mode %s): another user could change what root runs", p, st.Uid, fi.Mode().Perm())
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// installPlugin links dir/docker-audit to self. A link already there to self is kept;
// anything else there is left alone and refused.
func installPlugin(self, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	link := filepath.Join(dir, pluginBinary)
	if fi, err := os.Lstat(link); err == nil {
		if fi.Mode()&os.ModeSymlink != 0 {
			if to, err := filepath.EvalSymlinks(link); err == nil && to == self {
				return link, nil
			}
		}
		return "", fmt.Errorf("%s exists and is not a link to %s: remove it first", link, self)
	}
	if err := os.Symlink(self, link); err != nil {
		return "", err
	}
	return link, nil
}
