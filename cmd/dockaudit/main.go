package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dockaudit/dockaudit/internal/app"
	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
	"github.com/dockaudit/dockaudit/internal/report"
	"github.com/dockaudit/dockaudit/internal/store"
	"github.com/dockaudit/dockaudit/internal/suggest"
	"github.com/dockaudit/dockaudit/internal/textsafe"
)

// Exit codes, the same for every command and format.
const (
	exitOK       = 0 // nothing at or above --fail-on
	exitFailed   = 1 // the audit itself failed: daemon unreachable, unreadable input
	exitUsage    = 2 // bad flags or arguments
	exitFindings = 3 // findings at or above --fail-on
)

const usage = `dockaudit audits and hardens a Docker installation.

Usage:
  dockaudit <command> [flags]

Commands:
  host      audit the daemon behind DOCKER_HOST, its host and its containers against the
            CIS Docker Benchmark v1.6.0 (sections 1-7)
  image     read images (daemon, docker-archive:, oci:, registry:, dir:) and report
            their packages, configuration, setuid files and secrets
  config    judge Dockerfiles, Compose files and build contexts with the image and
            container rules before anything is built or run, each finding at its
            file:line
  sbom      write one image's packages as CycloneDX 1.6 or SPDX 2.3 JSON
  db        the local vulnerability database: update, import, export, status
  endpoint  probe daemon addresses: anonymous API, TLS, client certificates, versions,
            cipher suites, the server certificate, Engine advisories
  registry  probe registries: TLS, anonymous pull and push, catalog, delete, auth
  certs     make a CA, server and client certificate set for daemon TLS
  seccomp   lint and compare seccomp profiles, and record one from a real run
  rules     list every rule: ID, severity, title and tags (for --include and --exclude)
  serve     the service: watch registries, scan every pushed image, re-check stored
            images on every advisory update, collect hosts' reports (PostgreSQL)
  plugin    install dockaudit as a Docker CLI plugin: docker audit host, image, …
  completion  print a bash, zsh or fish completion script
  version   print dockaudit's version

Run "dockaudit <command> --help" for the flags of a command, "dockaudit help synopsis"
for every command with every flag.

Exit codes (the same for every format):
  0  nothing failed at or above --fail-on
  1  the audit itself failed (daemon unreachable, an image that cannot be read)
  2  usage error
  3  findings at or above --fail-on
`

type env struct {
	stdout, stderr io.Writer
	// usage is where usage text goes when a command is called wrong: stderr unescaped,
	// since the text is dockaudit's own and many lines.
	usage     io.Writer
	getenv    func(string) string
	stdoutTTY bool
	stderrTTY bool
	// stdoutWidth is the terminal's width when stdout is one (0 otherwise).
	stdoutWidth int
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second signal now kills at once
		// Network calls end with the context; a read the kernel will not interrupt (a
		// hung filesystem) must not keep the process alive past a second or two.
		time.Sleep(2 * time.Second)
		fmt.Fprintln(os.Stderr, "dockaudit: interrupted")
		os.Exit(exitFailed)
	}()
	e := env{
		stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv,
		stdoutTTY: isTerminal(os.Stdout), stderrTTY: isTerminal(os.Stderr), stdoutWidth: terminalWidth(os.Stdout),
	}
	args := os.Args[1:]
	if isPlugin(os.Args[0]) {
		// Run by the docker CLI as docker-audit.
		if len(args) == 1 && args[0] == pluginMetadata {
			os.Stdout.Write(pluginMeta())
			os.Exit(exitOK)
		}
		var err error
		if args, err = pluginArgs(args, os.Getenv, func(k, v string) {
			if v == "" {
				os.Unsetenv(k)
			} else {
				os.Setenv(k, v)
			}
		}); err != nil {
			fmt.Fprintf(os.Stderr, "docker audit: %v\n", err)
			os.Exit(exitUsage)
		}
	}
	os.Exit(run(ctx, args, e))
}

func run(ctx context.Context, args []string, e env) int {
	// Errors carry text from registries, daemons and files: nothing written to stderr
	// may drive the terminal or start a line of its own.
	e.usage = e.stderr
	e.stderr = textsafe.Writer{W: e.stderr}
	// A report that could not be written (a full disk, a closed pipe) is a failed
	// run, whatever the command.
	out := &stdoutErr{w: e.stdout}
	e.stdout = out
	code := dispatch(ctx, args, e)
	if out.err != nil && code != exitFailed && code != exitUsage {
		fmt.Fprintf(e.stderr, "dockaudit: write stdout: %v\n", out.err)
		return exitFailed
	}
	return code
}

// stdoutErr remembers the first error writing to stdout.
type stdoutErr struct {
	w   io.Writer
	err error
}

func (s *stdoutErr) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	if err != nil && s.err == nil {
		s.err = err
	}
	return n, err
}

// commands are the names dispatch takes, for suggestions.
var commands = []string{"host", "image", "config", "sbom", "db", "endpoint", "registry", "certs", "seccomp", "rules", "serve", "plugin", "completion", "version", "help"}

func dispatch(ctx context.Context, args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.usage, usage)
		return exitUsage
	}
	switch args[0] {
	case "host":
		return runHost(ctx, args[1:], e)
	case "image":
		return runImage(ctx, args[1:], e)
	case "config":
		return runConfig(ctx, args[1:], e)
	case "sbom":
		return runSBOM(ctx, args[1:], e)
	case "db":
		return runDB(ctx, args[1:], e)
	case "endpoint":
		return runEndpoint(ctx, args[1:], e)
	case "registry":
		return runRegistry(ctx, args[1:], e)
	case "certs":
		return runCerts(args[1:], e)
	case "seccomp":
		return runSeccomp(ctx, args[1:], e)
	case "rules":
		return runRules(args[1:], e)
	case "serve":
		return runServe(ctx, args[1:], e)
	case "plugin":
		return runPlugin(args[1:], e)
	case "completion":
		return runCompletion(args[1:], e)
	case "version", "--version":
		fmt.Fprintf(e.stdout, "dockaudit %s\n", app.ToolVersion())
		return exitOK
	case "help", "-h", "-help", "--help":
		if len(args) == 2 && args[1] == "synopsis" {
			// Every command with every flag: the README's usage block.
			cmds, err := describeAll()
			if err != nil {
				fmt.Fprintf(e.stderr, "dockaudit help synopsis: %v\n", err)
				return exitFailed
			}
			fmt.Fprint(e.stdout, synopsis(cmds))
			return exitOK
		}
		fmt.Fprint(e.stdout, usage)
		return exitOK
	}
	fmt.Fprintf(e.stderr, "dockaudit: unknown command %q%s (run dockaudit help)\n", args[0], suggest.Phrase(suggest.Closest(args[0], commands)))
	return exitUsage
}

// listFlag collects repeatable, comma-separated values.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// optionalList is a listFlag that remembers whether it was given at all, so that an
// empty value ("--trusted-users=") differs from no flag.
type optionalList struct {
	list listFlag
	set  bool
}

func (o *optionalList) String() string { return o.list.String() }
func (o *optionalList) Set(v string) error {
	o.set = true
	return o.list.Set(v)
}

// outputFlags are the flags every audit command shares.
type outputFlags struct {
	format, output, failOn, color string
	unknownAs                     string
	include, exclude              listFlag
	passes, remediation, quiet    bool
	width                         string
	ignoreFile                    string
}

func (o *outputFlags) register(fs *flags) {
	fs.StringVar(&o.format, "format", "table", "report `FORMAT`: table, json, sarif, or html (one self-contained page: charts, filters, findings, packages)")
	fs.StringVar(&o.format, "f", "table", "short for --format")
	fs.StringVar(&o.output, "output", "", "write the report to `FILE` instead of stdout: a file is replaced atomically and keeps its mode; a device or FIFO (/dev/null, /dev/stdout) is written, never replaced")
	fs.StringVar(&o.output, "o", "", "short for --output")
	fs.Var(&o.include, "include", "run only these `RULES`: IDs (CIS-5.4), sections (CIS-5, 5, 1.1) or tags (runtime, level2); repeatable, comma-separated")
	fs.Var(&o.exclude, "exclude", "skip these `RULES` (same selectors as --include)")
	fs.StringVar(&o.failOn, "fail-on", "high", "exit 3 when a fail or warn finding has this `SEVERITY` or higher: critical, high, medium, low, info, or none")
	fs.StringVar(&o.unknownAs, "unknown-as", "high", "count findings nobody rated (severity unknown: most Go advisories, new CVEs) as this `SEVERITY` for --fail-on")
	fs.StringVar(&o.color, "color", "auto", "`WHEN` to colour the table: auto (only on a terminal, unless NO_COLOR is set), always, never")
	fs.BoolVar(&o.passes, "show-passes", false, "list passing targets in the table too")
	fs.BoolVar(&o.quiet, "quiet", false, "table: list only the rules that fail, warn or could not be decided (the summary still counts all)")
	fs.BoolVar(&o.quiet, "q", false, "short for --quiet")
	fs.StringVar(&o.width, "width", "auto", "table: wrap at `COLUMNS`: auto (the terminal's width, $COLUMNS, or no wrapping when the output is not a terminal), a number, or 0 for none")
	fs.BoolVar(&o.remediation, "remediation", true, "print the fix under each rule that fails or warns in the table (--remediation=false to hide)")
	fs.StringVar(&o.ignoreFile, "ignore-file", "", "accept the findings listed in `FILE` (YAML or JSON: ignore: [{id, package, target, reason, expires}]); expired entries stop applying and are reported")
}

func (o *outputFlags) resolve(e env) (app.Output, error) {
	out := app.Output{Format: o.format, File: o.output, Passes: o.passes, Remediation: o.remediation, Quiet: o.quiet}
	switch o.format {
	case "table", "json", "sarif", "html":
	default:
		return out, fmt.Errorf("--format %q: want table, json, sarif or html", o.format)
	}
	if o.failOn != "none" {
		s, err := finding.ParseLevel(o.failOn)
		if err != nil {
			return out, fmt.Errorf("--fail-on: %v, or none", err)
		}
		out.FailOn = &s
	}
	if o.unknownAs != "" {
		u, err := finding.ParseLevel(o.unknownAs)
		if err != nil {
			return out, fmt.Errorf("--unknown-as: %v", err)
		}
		out.UnknownAs = &u
	}
	switch {
	case o.width == "auto" || o.width == "":
		if o.output == "" && e.stdoutWidth > 0 {
			out.Width = e.stdoutWidth
		} else if n, err := strconv.Atoi(e.getenv("COLUMNS")); err == nil && n > 0 && o.output == "" && e.stdoutTTY {
			out.Width = n
		}
	default:
		n, err := strconv.Atoi(o.width)
		if err != nil || n < 0 || (n > 0 && n < 40) {
			return out, fmt.Errorf("--width %q: want auto, 0 (no wrapping) or a number of columns from 40", o.width)
		}
		out.Width = n
	}
	if o.ignoreFile != "" {
		f, err := app.LoadIgnoreFile(o.ignoreFile)
		if err != nil {
			return out, fmt.Errorf("--ignore-file: %v", err)
		}
		out.Ignore = f
	}
	switch o.color {
	case "always":
		out.Color = true
	case "never":
	case "auto":
		out.Color = o.output == "" && e.stdoutTTY && e.getenv("NO_COLOR") == "" && e.getenv("TERM") != "dumb"
	default:
		return out, fmt.Errorf("--color %q: want auto, always or never", o.color)
	}
	return out, nil
}

// flags is a command's flag set with its help text.
type flags struct {
	*flag.FlagSet
	synopsis string
}

func newFlagSet(name, synopsis string) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse reports errors itself, in one line
	fs.Usage = func() {}
	return &flags{FlagSet: fs, synopsis: synopsis}
}

var longFlagRE = regexp.MustCompile(`((?:defined: |for flag ))-(\w[\w-]+)`)

// parse parses flags that may come before or after positional arguments. A bad flag
// gives one line on stderr; --help prints the command's help on stdout.
func (fs *flags) parse(args []string, e env) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(e.stdout, fs.synopsis)
				fmt.Fprintln(e.stdout, "\nFlags:")
				printFlags(e.stdout, fs.FlagSet)
			} else {
				// The flag package names flags with one dash; the help shows two for
				// long names.
				msg := longFlagRE.ReplaceAllString(err.Error(), "${1}--$2")
				fmt.Fprintf(e.stderr, "dockaudit %s: %s (see dockaudit %s --help)\n", fs.Name(), msg, fs.Name())
			}
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// parseFlagsOnly parses a command that takes no arguments. done means the command must
// stop with code: after --help (0) or a usage error (2).
func (fs *flags) parseFlagsOnly(args []string, e env) (code int, done bool) {
	pos, err := fs.parse(args, e)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK, true
	case err != nil:
		return exitUsage, true
	case len(pos) > 0:
		fmt.Fprintf(e.stderr, "dockaudit %s: unexpected argument %q (%s takes only flags)\n", fs.Name(), pos[0], fs.Name())
		return exitUsage, true
	}
	return 0, false
}

// printFlags lists flags GNU-style (--name VALUE), folding one-letter aliases into the
// long flag they stand for.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	short := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) {
		if len(f.Name) == 1 {
			short[strings.TrimPrefix(f.Usage, "short for --")] = f.Name
		}
	})
	fs.VisitAll(func(f *flag.Flag) {
		if len(f.Name) == 1 {
			return
		}
		name, usage := flag.UnquoteUsage(f)
		head := "  --" + f.Name
		if s, ok := short[f.Name]; ok {
			head = "  -" + s + ", --" + f.Name
		}
		if name != "" {
			head += " " + name
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "%s\n        %s\n", head, usage)
	})
}

const hostUsage = `Usage: dockaudit host [flags]

Audits the Docker daemon the docker CLI would talk to (--context, --host, DOCKER_HOST
with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, DOCKER_CONTEXT, the current context of
docker context use, else unix:///var/run/docker.sock; ssh:// as the CLI does it)
against every item of the CIS Docker Benchmark v1.6.0, sections 1-7. When the daemon runs on this
machine, its process, configuration (flags and the daemon.json it was started with) and
host files are read too; otherwise the host-only items are reported as skip.

Running containers are audited; --all adds created and stopped ones. Each container's
syscall confinement (seccomp, capabilities, no-new-privileges, user namespace, AppArmor
and SELinux) is reported as requested and, for running containers on this host, as the
kernel shows it in /proc; custom seccomp profiles in use are linted as dockaudit seccomp
lint does. Nothing on the host or the daemon is changed.

Examples:
  dockaudit host
  dockaudit host --all --format json --output report.json
  dockaudit host --include runtime --fail-on critical
  DOCKER_HOST=tcp://10.0.0.5:2376 DOCKER_TLS_VERIFY=1 dockaudit host --format sarif
  dockaudit host --context prod
  dockaudit host -H ssh://ops@build-1
  docker run --rm --pid host -v /:/host:ro -v /var/run/docker.sock:/var/run/docker.sock \
      IMAGE host --host-root /host
`

func runHost(ctx context.Context, args []string, e env) int {
	fs := newFlagSet("host", hostUsage)
	var of outputFlags
	of.register(fs)
	var (
		all         bool
		hostRoot    string
		trusted     optionalList
		timeout     time.Duration
		saveFacts   string
		fromFacts   string
		concurrency int
	)
	fs.BoolVar(&all, "all", false, "also audit created and stopped containers")
	fs.StringVar(&hostRoot, "host-root", "/", "read the daemon host's files under `DIR` (when running in a container with the host mounted)")
	fs.Var(&trusted, "trusted-users", "comma-separated `USERS` allowed in the docker group (CIS-1.1.2); without it membership is reported for review")
	fs.DurationVar(&timeout, "timeout", 20*time.Second, "give up on the daemon after this `DURATION`")
	fs.StringVar(&saveFacts, "save-facts", "", "also write everything collected to `FILE` (JSON, mode 0600: it holds image environments and daemon settings, which may carry credentials), to audit later with --from-facts")
	fs.StringVar(&fromFacts, "from-facts", "", "audit a facts `FILE` written by --save-facts instead of a live daemon")
	fs.IntVar(&concurrency, "concurrency", 16, "at most `N` Engine API requests in flight")
	var daemon daemonFlags
	daemon.register(fs)
	var sub submitFlags
	sub.register(fs)
	sub.registerName(fs)
	if code, done := fs.parseFlagsOnly(args, e); done {
		return code
	}
	if err := sub.check(); err != nil {
		fmt.Fprintf(e.stderr, "dockaudit host: %v\n", err)
		return exitUsage
	}
	out, err := of.resolve(e)
	if err != nil {
		fmt.Fprintf(e.stderr, "dockaudit host: %v\n", err)
		return exitUsage
	}
	if timeout <= 0 {
		fmt.Fprintf(e.stderr, "dockaudit host: --timeout %s: want a positive duration such as 30s\n", timeout)
		return exitUsage
	}
	if fromFacts != "" {
		var clash []string
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "all", "host-root", "timeout", "concurrency", "host", "H", "context":
				clash = append(clash, "--"+f.Name)
			}
		})
		if len(clash) > 0 {
			fmt.Fprintf(e.stderr, "dockaudit host: %s cannot be used with --from-facts, which reads nothing live\n", strings.Join(clash, ", "))
			return exitUsage
		}
	}
	if concurrency < 1 || concurrency > 256 {
		fmt.Fprintf(e.stderr, "dockaudit host: --concurrency %d: want 1 to 256\n", concurrency)
		return exitUsage
	}
	if fromFacts != "" && saveFacts != "" {
		fmt.Fprintln(e.stderr, "dockaudit host: --from-facts and --save-facts cannot be combined")
		return exitUsage
	}
	if saveFacts != "" && app.Clash(of.output, saveFacts) {
		if of.output == "" || of.output == "-" || saveFacts == "-" {
			fmt.Fprintf(e.stderr, "dockaudit host: --save-facts %s and the report would both go to stdout; give --output FILE\n", saveFacts)
		} else {
			fmt.Fprintf(e.stderr, "dockaudit host: --save-facts %s and --output %s name the same file\n", saveFacts, of.output)
		}
		return exitUsage
	}
	if err := outputClash(of.output, fromFacts, of.ignoreFile); err != nil {
		fmt.Fprintf(e.stderr, "dockaudit host: %v\n", err)
		return exitUsage
	}
	if err := outputClash(saveFacts, of.ignoreFile); err != nil {
		fmt.Fprintf(e.stderr, "dockaudit host: --save-facts: %v\n", err)
		return exitUsage
	}
	opts := app.HostOptions{
		Output:       out,
		Selection:    check.Selection{Include: of.include, Exclude: of.exclude},
		All:          all,
		HostRoot:     hostRoot,
		Timeout:      timeout,
		SaveFacts:    saveFacts,
		FromFacts:    fromFacts,
		Concurrency:  concurrency,
		ContentTrust: e.getenv("DOCKER_CONTENT_TRUST"),
		DockerConfig: app.DockerConfigDir(e.getenv),
	}
	if fromFacts == "" {
		denv, err := daemon.resolve(e, "host")
		if err != nil {
			fmt.Fprintf(e.stderr, "dockaudit host: %v\n", err)
			return exitFailed
		}
		opts.Env = denv
	}
	if trusted.set {
		opts.TrustedUsers = append([]string{}, trusted.list...)
	}
	progress := io.Discard
	if e.stderrTTY {
		progress = e.stderr
	}
	var containers []store.HostContainer
	if sub.url != "" {
		opts.OnFacts = func(snap *facts.Snapshot) { containers = hostContainers(snap) }
	}
	r, err := app.Host(ctx, opts, e.stdout, progress)
	if err == nil && sub.url != "" {
		name, serr := sub.submit(ctx, r, containers)
		if serr != nil {
			fmt.Fprintf(e.stderr, "dockaudit host: %v\n", serr)
			return exitFailed
		}
		fmt.Fprintf(progress, "dockaudit: report submitted as host %s\n", name)
	}
	return exitCode(e, "host", r, err)
}

func exitCode(e env, cmd string, r *report.Report, err error) int {
	var ue *app.UsageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "dockaudit %s: %v\n", cmd, err)
		return exitUsage
	case err != nil:
		fmt.Fprintf(e.stderr, "dockaudit %s: %v\n", cmd, err)
		return exitFailed
	case r.Summary.Failing > 0:
		return exitFindings
	}
	return exitOK
}

const rulesUsage = `Usage: dockaudit rules [flags]

Lists every rule with its ID, severity, title and tags. The IDs, section prefixes and
tags are what --include and --exclude take.

Examples:
  dockaudit rules
  dockaudit rules --include runtime
  dockaudit rules --include IMG-SIGNATURE,VULN --format json
`

func runRules(args []string, e env) int {
	fs := newFlagSet("rules", rulesUsage)
	format := fs.String("format", "table", "`FORMAT`: table or json")
	var include, exclude listFlag
	fs.Var(&include, "include", "list only these `RULES` (IDs, sections or tags)")
	fs.Var(&exclude, "exclude", "leave these `RULES` out")
	if code, done := fs.parseFlagsOnly(args, e); done {
		return code
	}
	if *format != "table" && *format != "json" {
		fmt.Fprintf(e.stderr, "dockaudit rules: --format %q: want table or json\n", *format)
		return exitUsage
	}
	rules, err := app.Rules(check.Selection{Include: include, Exclude: exclude})
	if err != nil {
		fmt.Fprintf(e.stderr, "dockaudit rules: %v\n", err)
		return exitUsage
	}
	if err := app.WriteRules(e.stdout, rules, *format); err != nil {
		fmt.Fprintf(e.stderr, "dockaudit rules: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// outputClash refuses an output that names something the command reads: the report
// would replace its own input. ("-" as an input is stdin, which no output replaces.)
func outputClash(output string, inputs ...string) error {
	if output == "" || output == "-" {
		return nil
	}
	for _, in := range inputs {
		if in != "-" && app.Clash(output, in) {
			return fmt.Errorf("--output %s is also an input of this run (%s): the report would replace it", output, in)
		}
	}
	return nil
}

// terminalWidth is the width of the terminal f is, 0 when it is none.
func terminalWidth(f *os.File) int {
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0
	}
	return int(ws.Col)
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
