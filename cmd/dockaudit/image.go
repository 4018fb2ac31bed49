package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/dockaudit/dockaudit/internal/app"
	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/collect/image"
	"github.com/dockaudit/dockaudit/internal/collect/trust"
	imagefacts "github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
	"github.com/dockaudit/dockaudit/internal/sbom"
)

const imageUsage = `Usage: dockaudit image [flags] REF...

Reads each image's configuration, history and layers and reports:
  - its operating system and packages (dpkg, apk, rpm, Go binaries, Python, npm, Java),
    each with its version, source package, PURL and the layer that added it
    (--format json lists them; dockaudit sbom writes them as CycloneDX or SPDX);
  - the known vulnerabilities of those packages, from the local advisory database
    (dockaudit db update fills it; without one the other checks still run): advisory
    and aliases, installed and fixed versions, the distribution's own status;
  - the CIS section 4 items an image decides (HEALTHCHECK, lone update, ADD, secrets in
    ENV, labels and history) and the image rules: root user, setuid and setgid files,
    sudo, empty passwords, duplicate IDs, package caches, latest tag, sensitive VOLUMEs,
    crafted layer entries, and credentials in files of any layer (values are never
    shown: kind, path, layer and a short hash only);
  - for registry images, and daemon images through the registry their repository
    digest names (unless --offline), who vouches for them (IMG-SIGNATURE, IMG-PROVENANCE, IMG-BASE):
    cosign signatures (the .sig tag and Sigstore bundles, verified with --key, or
    keyless with --trusted-root and --certificate-identity/--certificate-oidc-issuer),
    Notation signatures (verified under the notation CLI's trust policy and trust
    store, or --notation-config DIR), BuildKit's SLSA provenance and the base image.

REF is one of:
  NAME or ID                an image of the daemon (--host, --context, DOCKER_HOST… as
                            for dockaudit host; also daemon:NAME)
  docker-archive:PATH       a docker save tarball
  oci:PATH[:TAG]            an OCI image layout, directory or tar archive
  registry:NAME             pulled straight from the registry, no daemon needed; credentials
                            come from $DOCKER_CONFIG/config.json (auths, credsStore,
                            credHelpers)
  dir:PATH                  an unpacked root filesystem
  sbom:PATH                 an SBOM: CycloneDX 1.4-1.7 or SPDX 2.2-2.3 JSON (Syft, Trivy,
                            BuildKit, dockaudit sbom); its packages are matched against
                            the advisories, and the rules on an image's configuration,
                            history and files skip (an SBOM does not hold them)
Without a prefix, an existing path is recognised by its content and anything else is a
daemon image.

Layers are streamed once and never extracted; reads are bounded (16 GiB decompressed,
4 million entries, 4096-byte paths, 40 link hops, 64 MiB per file read) so a hostile
image gives an error or a finding, never a hang. An image that cannot be read is an
AUDIT-COLLECT error in the report and makes dockaudit exit 1.

Examples:
  dockaudit image nginx:1.27
  dockaudit image docker-archive:app.tar --format sarif --output image.sarif
  dockaudit image registry:ghcr.io/org/app:2.1 --platform linux/arm64
  dockaudit image --key cosign.pub registry:ghcr.io/org/app@sha256:…   (verify its cosign signature)
  dockaudit image --notation-config ~/.config/notation registry:myacr.azurecr.io/app:1   (Notation)
  dockaudit image --trust-policy trust.yaml registry:ghcr.io/org/app:2.1   (keys, identities and provenance per repository)
  dockaudit image --insecure registry:localhost:5000/app:dev --include secrets
  dockaudit image --include VULN sbom:app.spdx.json   (an SBOM from Syft, Trivy or BuildKit)
  dockaudit image --include VULN --ignore-unfixed --severity critical,high app:1
`

// notationPolicy loads the Notation trust policy of --notation-config DIR, which must
// have one, else of the notation CLI's directory, if it has one.
func notationPolicy(p *trust.Policy, flagValue string, e env) error {
	p.NotationDir = flagValue
	if flagValue == "" {
		p.NotationDir = trust.NotationDir(e.getenv)
	}
	if p.NotationDir == "" {
		return nil
	}
	n, found, err := trust.LoadNotation(p.NotationDir)
	switch {
	case err != nil:
		return fmt.Errorf("--notation-config: %w", err)
	case !found && flagValue != "":
		return fmt.Errorf("--notation-config %s: no trust policy there (trustpolicy.oci.json or trustpolicy.json, as the notation CLI keeps them)", flagValue)
	}
	p.Notation = n
	return nil
}

// dbDirectory is --db-dir, else $DOCKAUDIT_DB_DIR, else the user cache directory.
func dbDirectory(flagValue string, e env) string {
	switch {
	case flagValue != "":
		return flagValue
	case e.getenv("DOCKAUDIT_DB_DIR") != "":
		return e.getenv("DOCKAUDIT_DB_DIR")
	case e.getenv("XDG_CACHE_HOME") != "":
		return e.getenv("XDG_CACHE_HOME") + "/dockaudit"
	case e.getenv("HOME") != "":
		return e.getenv("HOME") + "/.cache/dockaudit"
	}
	return "/var/cache/dockaudit"
}

const sbomUsage = `Usage: dockaudit sbom [flags] REF

Writes the packages of one image as a software bill of materials: CycloneDX 1.6 JSON
(default) or SPDX 2.3 JSON. The image is the document's subject; its operating system and
every package (with its PURL, source package, and the path and layer it was found in) are
components. REF takes the same forms as for dockaudit image.

With --attested, the SBOM BuildKit attached to a registry image (docker buildx build
--sbom=true --push) is written instead, exactly as attached: it is the image's own
claim, which dockaudit image --key or --trust-policy can tell whether a verified
signature covers. Without --format, whichever format is attached; with it, that format
or an error (an attached SBOM is never converted).

Examples:
  dockaudit sbom docker-archive:app.tar > app.cdx.json
  dockaudit sbom --format spdx --output app.spdx.json registry:ghcr.io/org/app:2.1
  dockaudit sbom --attested -o attached.spdx.json registry:ghcr.io/org/app:2.1
`

// sourceFlags are the flags of the commands that read images.
type sourceFlags struct {
	platform string
	insecure bool
	timeout  time.Duration
	tempDir  string
	daemon   daemonFlags
}

func (s *sourceFlags) register(fs *flags) {
	fs.StringVar(&s.platform, "platform", "", "`OS/ARCH[/VARIANT]` to take from a multi-platform image (default linux/"+runtime.GOARCH+")")
	fs.BoolVar(&s.insecure, "insecure", false, "allow plain HTTP and unverified TLS for registry: images")
	fs.DurationVar(&s.timeout, "timeout", 10*time.Minute, "give up on one image (export or pull, and read) after this `DURATION`")
	fs.StringVar(&s.tempDir, "temp-dir", "", "`DIR` for the private temporary files of daemon exports and OCI archives (default $TMPDIR or /tmp)")
	s.daemon.register(fs)
}

func (s *sourceFlags) resolve(e env) (app.SourceOptions, error) {
	if s.timeout <= 0 {
		return app.SourceOptions{}, fmt.Errorf("--timeout %s: want a positive duration such as 5m", s.timeout)
	}
	if s.platform != "" {
		parts := strings.Split(s.platform, "/")
		if len(parts) < 2 || len(parts) > 3 || slices.Contains(parts, "") {
			return app.SourceOptions{}, fmt.Errorf("--platform %q: want OS/ARCH or OS/ARCH/VARIANT, such as linux/arm64", s.platform)
		}
	}
	if s.tempDir != "" {
		if fi, err := os.Stat(s.tempDir); err != nil || !fi.IsDir() {
			return app.SourceOptions{}, fmt.Errorf("--temp-dir %s: not a directory", s.tempDir)
		}
	}
	// The daemon is resolved now and its error kept for the first daemon image: an
	// archive or registry image needs no daemon, and no context.
	denv, derr := s.daemon.lookup(e)
	return app.SourceOptions{
		Platform: s.platform, Insecure: s.insecure, Timeout: s.timeout, TempDir: s.tempDir,
		DockerConfig: app.DockerConfigDir(e.getenv), Env: denv, EnvErr: derr,
	}, nil
}

func runImage(ctx context.Context, args []string, e env) int {
	fs := newFlagSet("image", imageUsage)
	var of outputFlags
	of.register(fs)
	var sf sourceFlags
	sf.register(fs)
	concurrency := fs.Int("concurrency", 2, "read at most `N` images at once")
	dbDir := fs.String("db-dir", "", "the vulnerability database `DIR` (default $DOCKAUDIT_DB_DIR, else ~/.cache/dockaudit)")
	ignoreUnfixed := fs.Bool("ignore-unfixed", false, "leave out vulnerabilities without a released fix (unfixed, won't fix, deferred, fix pending)")
	var severities, vexFiles, keyFiles listFlag
	fs.Var(&severities, "severity", "report only vulnerabilities of these `SEVERITIES` (critical,high,medium,low,info, and unknown for the unrated)")
	fs.Var(&vexFiles, "vex", "apply the OpenVEX statements in `FILE` (not_affected and fixed suppress findings); repeatable")
	fs.Var(&keyFiles, "key", "verify registry images' cosign signatures with the public key in `FILE` (PEM: ECDSA, Ed25519 or RSA); repeatable, any one suffices")
	trustedRoot := fs.String("trusted-root", "", "verify keyless signatures under the Sigstore trusted root in `FILE` (trusted_root.json; none is built in)")
	certIdentity := fs.String("certificate-identity", "", "keyless: the signer `IDENTITY` the certificate must name (a workflow URL, an email)")
	certIdentityRe := fs.String("certificate-identity-regexp", "", "keyless: a `REGEXP` the certificate's identity must match")
	certIssuer := fs.String("certificate-oidc-issuer", "", "keyless: the OIDC `ISSUER` that vouched for the identity (https://token.actions.githubusercontent.com)")
	certIssuerRe := fs.String("certificate-oidc-issuer-regexp", "", "keyless: a `REGEXP` the issuer must match")
	offline := fs.Bool("offline", false, "do not ask the registry a daemon image's repository digest names for its signatures (they are then not verified)")
	trustPolicy := fs.String("trust-policy", "", "verify signatures and provenance per repository as the YAML policy in `FILE` says (docs/trust-policy.md); replaces --key, --trusted-root, --certificate-* and --notation-config")
	notationDir := fs.String("notation-config", "", "verify Notation signatures under the trust policy (trustpolicy.oci.json) and trust store in `DIR` (default: the notation CLI's, $XDG_CONFIG_HOME/notation, when it has a policy)")
	var sub submitFlags
	sub.register(fs)
	refs, err := fs.parse(args, e)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	} else if err != nil {
		return exitUsage
	}
	if len(refs) == 0 {
		fmt.Fprintln(e.stderr, "dockaudit image: name at least one image (see dockaudit image --help)")
		return exitUsage
	}
	out, err := of.resolve(e)
	if err == nil && (*concurrency < 1 || *concurrency > 16) {
		err = fmt.Errorf("--concurrency %d: want 1 to 16", *concurrency)
	}
	src, serr := sf.resolve(e)
	if err == nil {
		err = serr
	}
	if err == nil {
		inputs := append([]string{of.ignoreFile, *trustPolicy, *trustedRoot}, vexFiles...)
		err = outputClash(of.output, append(append(inputs, keyFiles...), refPaths(refs)...)...)
	}
	if err == nil {
		err = sub.check()
	}
	keyless := *certIdentity + *certIdentityRe + *certIssuer + *certIssuerRe
	switch {
	case err != nil:
	case *trustPolicy != "" && (len(keyFiles) > 0 || *trustedRoot != "" || keyless != "" || *notationDir != ""):
		err = errors.New("--trust-policy FILE says what to verify against per repository: give it, or --key, --trusted-root, --certificate-* and --notation-config, not both")
	case *trustPolicy != "":
		if src.TrustFile, err = trust.LoadPolicyFile(*trustPolicy, e.getenv); err != nil {
			err = fmt.Errorf("--trust-policy %w", err)
		}
	case keyless != "" && *trustedRoot == "":
		err = errors.New("--certificate-identity and --certificate-oidc-issuer need --trusted-root FILE (the Sigstore trusted_root.json to verify under; none is built in)")
	case *trustedRoot != "" && ((*certIdentity == "") == (*certIdentityRe == "") || (*certIssuer == "") == (*certIssuerRe == "")):
		err = errors.New("--trusted-root needs the signer: one of --certificate-identity or --certificate-identity-regexp, and one of --certificate-oidc-issuer or --certificate-oidc-issuer-regexp")
	case *trustedRoot != "":
		if src.Trust.Keyless, err = trust.NewKeyless(*trustedRoot, *certIdentity, *certIdentityRe, *certIssuer, *certIssuerRe); err != nil {
			err = fmt.Errorf("--trusted-root %w", err)
		}
	}
	if err == nil && *trustPolicy == "" {
		err = notationPolicy(&src.Trust, *notationDir, e)
	}
	for _, f := range keyFiles {
		if err != nil {
			break
		}
		var k trust.Key
		if k, err = trust.LoadKey(f); err == nil {
			src.Trust.Keys = append(src.Trust.Keys, k)
		} else {
			err = fmt.Errorf("--key %w", err)
		}
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "dockaudit image: %v\n", err)
		return exitUsage
	}
	src.Offline = *offline
	opts := app.ImageOptions{
		Output: out, Selection: check.Selection{Include: of.include, Exclude: of.exclude},
		Refs: refs, Source: src, Concurrency: *concurrency, DBDir: dbDirectory(*dbDir, e), IgnoreUnfixed: *ignoreUnfixed,
	}
	for _, s := range severities {
		sev, err := finding.ParseSeverity(s)
		if err != nil {
			fmt.Fprintf(e.stderr, "dockaudit image: --severity: %v\n", err)
			return exitUsage
		}
		opts.Severities = append(opts.Severities, sev)
	}
	for _, f := range vexFiles {
		st, err := app.LoadOpenVEX(f)
		if err != nil {
			fmt.Fprintf(e.stderr, "dockaudit image: --vex: %v\n", err)
			return exitUsage
		}
		opts.VEX = append(opts.VEX, st...)
	}
	progress := io.Discard
	if e.stderrTTY {
		progress = e.stderr
	}
	var submission []byte
	submitted := 0
	if sub.url != "" {
		// Kept as read, before matching: the service judges them with its database.
		opts.OnRead = func(images []imagefacts.Image) error {
			var ok []imagefacts.Image
			for _, im := range images {
				if im.Error == "" {
					ok = append(ok, im)
				}
			}
			submitted = len(ok)
			if len(ok) == 0 {
				return nil
			}
			var err error
			submission, err = json.Marshal(map[string]any{"images": ok})
			return err
		}
	}
	r, err := app.Image(ctx, opts, e.stdout, progress)
	if submission != nil && r != nil {
		if serr := sub.submitImages(ctx, submission); serr != nil {
			fmt.Fprintf(e.stderr, "dockaudit image: %v\n", serr)
			return exitFailed
		}
		fmt.Fprintf(progress, "dockaudit: %d images submitted\n", submitted)
	}
	var me *app.MissingError
	if errors.As(err, &me) {
		for _, m := range me.Missing {
			fmt.Fprintf(e.stderr, "dockaudit image: %s\n", m)
		}
		return exitFailed
	}
	var re *app.ReadError
	if errors.As(err, &re) {
		for _, f := range re.Failed {
			fmt.Fprintf(e.stderr, "dockaudit image: %s\n", f)
		}
		return exitFailed
	}
	return exitCode(e, "image", r, err)
}

// refPaths are the local files and directories image references read.
func refPaths(refs []string) []string {
	var out []string
	for _, r := range refs {
		if p, ok := image.LocalPath(r); ok {
			out = append(out, p)
		}
	}
	return out
}

func runSBOM(ctx context.Context, args []string, e env) int {
	fs := newFlagSet("sbom", sbomUsage)
	var sf sourceFlags
	sf.register(fs)
	var format, output string
	fs.StringVar(&format, "format", "cyclonedx", "`FORMAT`: cyclonedx (CycloneDX 1.6 JSON) or spdx (SPDX 2.3 JSON)")
	fs.StringVar(&format, "f", "cyclonedx", "short for --format")
	fs.StringVar(&output, "output", "", "write the SBOM to `FILE` instead of stdout: a file is replaced atomically and keeps its mode; a device or FIFO is written, never replaced")
	fs.StringVar(&output, "o", "", "short for --output")
	attested := fs.Bool("attested", false, "write the SBOM BuildKit attached to the registry image instead of our own, as attached (its format unless --format is given)")
	refs, err := fs.parse(args, e)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	} else if err != nil {
		return exitUsage
	}
	switch {
	case len(refs) == 0:
		fmt.Fprintln(e.stderr, "dockaudit sbom: name one image (see dockaudit sbom --help)")
		return exitUsage
	case len(refs) > 1:
		fmt.Fprintf(e.stderr, "dockaudit sbom: one image per SBOM; got %d (%s)\n", len(refs), strings.Join(refs, ", "))
		return exitUsage
	case !slices.Contains(sbom.Formats, format):
		fmt.Fprintf(e.stderr, "dockaudit sbom: --format %q: want cyclonedx or spdx\n", format)
		return exitUsage
	}
	src, err := sf.resolve(e)
	if err == nil {
		err = outputClash(output, refPaths(refs)...)
	}
	if err == nil && *attested && !strings.HasPrefix(refs[0], "registry:") {
		err = fmt.Errorf("--attested reads what is attached to an image in its registry: name it registry:NAME, not %s", refs[0])
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "dockaudit sbom: %v\n", err)
		return exitUsage
	}
	if *attested {
		given := false
		fs.Visit(func(f *flag.Flag) { given = given || f.Name == "format" || f.Name == "f" })
		if !given {
			format = "" // whichever is attached
		}
		from, err := app.AttestedSBOM(ctx, app.SBOMOptions{Ref: refs[0], Format: format, File: output, Source: src}, e.stdout)
		if err != nil {
			fmt.Fprintf(e.stderr, "dockaudit sbom: %v\n", err)
			return exitFailed
		}
		// Said on every run: what was written is the image's own claim, not our reading.
		fmt.Fprintf(e.stderr, "dockaudit sbom: wrote %s, unchanged; an attestation carries no signature of its own (dockaudit image --key or --trust-policy says whether a verified signature covers the index that lists it)\n", from)
		return exitOK
	}
	progress := io.Discard
	if e.stderrTTY {
		progress = e.stderr
	}
	err = app.SBOM(ctx, app.SBOMOptions{Ref: refs[0], Format: format, File: output, Source: src}, e.stdout, progress)
	if err != nil {
		fmt.Fprintf(e.stderr, "dockaudit sbom: %v\n", err)
		return exitFailed
	}
	return exitOK
}
