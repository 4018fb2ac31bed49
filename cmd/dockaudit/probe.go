package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/dockaudit/dockaudit/internal/app"
	"github.com/dockaudit/dockaudit/internal/certs"
	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/collect/registry"
	"github.com/dockaudit/dockaudit/internal/report"
)

const endpointUsage = `Usage: dockaudit endpoint [flags] ADDR...

Probes Docker daemon addresses as an attacker on the network would:
  - does the Engine API answer without credentials (GET /version, /info)?
  - is it TLS, and does it require a client certificate (which CAs does it name)?
  - which TLS versions (1.0-1.3) and TLS 1.2 cipher suites does it accept?
  - the server certificate: expiry, key type and size, signature, names against the
    address dialled, chain;
  - when the API answers (anonymously, or with --tlscert/--tlskey), the Engine version
    against Docker's published advisories.
ADDR is tcp://host:port (a bare host:port is TCP; no port means 2375) or
unix:///path/to/docker.sock. Every dial times out; an address that does not answer is an
error finding and exit 1. Nothing is changed on the daemon.

Examples:
  dockaudit endpoint tcp://10.0.0.5:2376
  dockaudit endpoint --tlscacert ca.pem --tlscert cert.pem --tlskey key.pem tcp://docker.internal:2376
`

const registryUsage = `Usage: dockaudit registry [flags] URL...

Probes registries: TLS (versions, suites, certificate), whether /v2/ answers anonymously,
the catalog, anonymous pull of a repository, whether manifest deletion is enabled (a
DELETE of an all-zero digest: 404 means enabled, 405 disabled; nothing is deleted), the
authentication scheme and whether its realm is HTTPS, and with --probe-push whether an
anonymous client can open an upload session (it is cancelled at once; no repository,
tag or blob is written, though distribution keeps the cancelled session's small hash
state until its upload purging runs).
With credentials (--username and --password-stdin, or the Docker configuration's entry
for the registry with --use-docker-config) it also reports what that identity can do.
URL is https://host[:port], http://host[:port], or host[:port] (HTTPS).

Examples:
  dockaudit registry registry.internal:5000
  dockaudit registry --repository team/app --probe-push http://10.0.0.9:5000
`

const certsUsage = `Usage: dockaudit certs [flags]

Makes the certificate set Docker's "Protect the Docker daemon socket" prescribes, with
ECDSA P-256 keys (or RSA 4096 with --key-type rsa), SHA-256 signatures, key usages set
(serverAuth for the daemon, clientAuth for the client) and bounded lifetimes:
  ca.pem, ca-key.pem              the CA (move ca-key.pem off the daemon host)
  server-cert.pem, server-key.pem the daemon's certificate, for every --dns and --ip
  cert.pem, key.pem               a client certificate (CN from --client-name)
Keys are written 0400 and certificates 0444; existing files are never overwritten. It
prints the daemon.json and client environment that use them.

Examples:
  dockaudit certs --out /etc/docker/tls --dns docker.internal --ip 10.0.0.5
`

func probeFlags(fs *flags, o *app.ProbeOptions) {
	fs.DurationVar(&o.Timeout, "timeout", 10*time.Second, "give up on a target after this `DURATION`: it bounds the whole probe of each address (every dial, handshake and request)")
	fs.StringVar(&o.CACert, "tlscacert", "", "verify the server's chain against the CA in `FILE` (default: the system roots)")
	fs.StringVar(&o.Cert, "tlscert", "", "client certificate `FILE` (with --tlskey) to read an mTLS daemon's version")
	fs.StringVar(&o.Key, "tlskey", "", "client key `FILE`")
}

func runEndpoint(ctx context.Context, args []string, e env) int {
	fs := newFlagSet("endpoint", endpointUsage)
	var of outputFlags
	of.register(fs)
	var o app.ProbeOptions
	probeFlags(fs, &o)
	targets, err := fs.parse(args, e)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	} else if err != nil {
		return exitUsage
	}
	if len(targets) == 0 {
		fmt.Fprintln(e.stderr, "dockaudit endpoint: name at least one address (see dockaudit endpoint --help)")
		return exitUsage
	}
	if code := finishProbe(&o, &of, targets, e, "endpoint"); code >= 0 {
		return code
	}
	r, err := app.Endpoint(ctx, o, e.stdout)
	return probeExit(e, "endpoint", r, err)
}

func runRegistry(ctx context.Context, args []string, e env) int {
	fs := newFlagSet("registry", registryUsage)
	var of outputFlags
	of.register(fs)
	var o app.ProbeOptions
	probeFlags(fs, &o)
	fs.StringVar(&o.Repository, "repository", "", "`NAME` for the pull, delete and push probes (default: the first the catalog lists)")
	fs.BoolVar(&o.ProbePush, "probe-push", false, "probe anonymous push: open an upload session and cancel it (no repository, tag or blob is written)")
	fs.BoolVar(&o.Insecure, "insecure", false, "send the credentials to a plain-HTTP registry that is not on loopback (they cross the network in clear)")
	user := fs.String("username", "", "probe with these credentials too: `USER`, the password read from stdin (--password-stdin)")
	passStdin := fs.Bool("password-stdin", false, "read the password for --username from stdin")
	useConfig := fs.Bool("use-docker-config", false, "probe with the credentials the Docker configuration holds for the registry too")
	targets, err := fs.parse(args, e)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	} else if err != nil {
		return exitUsage
	}
	if len(targets) == 0 {
		fmt.Fprintln(e.stderr, "dockaudit registry: name at least one registry (see dockaudit registry --help)")
		return exitUsage
	}
	switch {
	case *user != "" && !*passStdin:
		fmt.Fprintln(e.stderr, "dockaudit registry: --username needs --password-stdin (passwords are never taken as flags)")
		return exitUsage
	case *user != "":
		pw, err := io.ReadAll(io.LimitReader(os.Stdin, 4096))
		if err != nil {
			fmt.Fprintf(e.stderr, "dockaudit registry: read the password: %v\n", err)
			return exitUsage
		}
		o.Credential = &registry.Credential{Username: *user, Password: strings.TrimRight(string(pw), "\r\n")}
	case *useConfig:
		if len(targets) != 1 {
			fmt.Fprintln(e.stderr, "dockaudit registry: --use-docker-config takes one registry")
			return exitUsage
		}
		cfg, err := registry.LoadDockerConfig(app.DockerConfigDir(e.getenv))
		if err != nil {
			fmt.Fprintf(e.stderr, "dockaudit registry: %v\n", err)
			return exitUsage
		}
		u, err := registry.ProbeURL(targets[0])
		if err != nil {
			fmt.Fprintf(e.stderr, "dockaudit registry: %v\n", err)
			return exitUsage
		}
		c, err := cfg.Credentials(u.Host)
		switch {
		case err != nil:
			fmt.Fprintf(e.stderr, "dockaudit registry: credentials for %s: %v\n", u.Host, err)
			return exitFailed
		case c.Username == "" && c.IdentityToken == "":
			fmt.Fprintf(e.stderr, "dockaudit registry: the Docker configuration has no credentials for %s\n", u.Host)
			return exitUsage
		}
		o.Credential = &c
	}
	if code := finishProbe(&o, &of, targets, e, "registry"); code >= 0 {
		return code
	}
	r, err := app.Registry(ctx, o, e.stdout)
	return probeExit(e, "registry", r, err)
}

// finishProbe resolves the shared flags; it returns an exit code to stop with, or -1.
func finishProbe(o *app.ProbeOptions, of *outputFlags, targets []string, e env, cmd string) int {
	out, err := of.resolve(e)
	if err == nil && o.Timeout <= 0 {
		err = fmt.Errorf("--timeout %s: want a positive duration such as 3s", o.Timeout)
	}
	if err == nil {
		// Profiles (seccomp lint), the ignore file and TLS files are read by this run.
		err = outputClash(of.output, append([]string{of.ignoreFile, o.CACert, o.Cert, o.Key}, targets...)...)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "dockaudit %s: %v\n", cmd, err)
		return exitUsage
	}
	o.Output, o.Targets = out, targets
	o.Selection = check.Selection{Include: of.include, Exclude: of.exclude}
	return -1
}

func probeExit(e env, cmd string, r *report.Report, err error) int {
	var pe *app.ProbeError
	if errors.As(err, &pe) {
		for _, f := range pe.Failed {
			fmt.Fprintf(e.stderr, "dockaudit %s: %s\n", cmd, f)
		}
		return exitFailed
	}
	return exitCode(e, cmd, r, err)
}

func runCerts(args []string, e env) int {
	fs := newFlagSet("certs", certsUsage)
	out := fs.String("out", "", "write the files into `DIR` (created 0700 if missing)")
	var dns, ips listFlag
	fs.Var(&dns, "dns", "DNS `NAMES` clients dial the daemon by (repeatable, comma-separated)")
	fs.Var(&ips, "ip", "IP `ADDRESSES` clients dial the daemon at (repeatable, comma-separated)")
	client := fs.String("client-name", "client", "the client certificate's common `NAME` (authorization plugins see it as the user)")
	keyType := fs.String("key-type", "ecdsa", "`TYPE` of keys: ecdsa (P-256) or rsa (4096 bits)")
	days := fs.Int("days", 365, "server and client certificate lifetime in `DAYS`")
	caDays := fs.Int("ca-days", 1095, "CA lifetime in `DAYS`")
	if code, done := fs.parseFlagsOnly(args, e); done {
		return code
	}
	o := certs.Options{Dir: *out, DNSNames: dns, ClientName: *client, KeyType: *keyType, Days: *days, CADays: *caDays}
	for _, s := range ips {
		ip := net.ParseIP(s)
		if ip == nil {
			fmt.Fprintf(e.stderr, "dockaudit certs: --ip %q is not an IP address\n", s)
			return exitUsage
		}
		o.IPs = append(o.IPs, ip)
	}
	switch {
	case *out == "":
		fmt.Fprintln(e.stderr, "dockaudit certs: --out DIR is required")
		return exitUsage
	case len(dns) == 0 && len(ips) == 0:
		fmt.Fprintln(e.stderr, "dockaudit certs: name the daemon with --dns and/or --ip: every name and address clients dial")
		return exitUsage
	case *keyType != "ecdsa" && *keyType != "rsa":
		fmt.Fprintf(e.stderr, "dockaudit certs: --key-type %q: want ecdsa or rsa\n", *keyType)
		return exitUsage
	case *days < 1 || *days > 825 || *caDays < *days || *caDays > 3650:
		fmt.Fprintln(e.stderr, "dockaudit certs: --days must be 1 to 825 and --ca-days at least --days and at most 3650")
		return exitUsage
	}
	if err := certs.Generate(o); err != nil {
		fmt.Fprintf(e.stderr, "dockaudit certs: %v\n", err)
		return exitFailed
	}
	host := "HOST"
	if len(dns) > 0 {
		host = dns[0]
	} else if len(ips) > 0 {
		host = ips[0]
	}
	fmt.Fprintf(e.stdout, `Wrote %[1]s/{ca,ca-key,server-cert,server-key,cert,key}.pem (keys 0400, certificates 0444).

daemon.json on the daemon host (and no -H or tls flags on the dockerd command line):
{
  "hosts": ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2376"],
  "tlsverify": true,
  "tlscacert": "%[1]s/ca.pem",
  "tlscert": "%[1]s/server-cert.pem",
  "tlskey": "%[1]s/server-key.pem"
}

Clients: copy ca.pem, cert.pem and key.pem to ~/.docker (keep key.pem 0400), then
  export DOCKER_HOST=tcp://%[2]s:2376 DOCKER_TLS_VERIFY=1

Move ca-key.pem off the daemon host: whoever holds it can mint client certificates, and a
client certificate is root on the daemon's host. Check the result with
  dockaudit endpoint --tlscacert %[1]s/ca.pem --tlscert %[1]s/cert.pem --tlskey %[1]s/key.pem tcp://%[2]s:2376
`, *out, host)
	return exitOK
}
