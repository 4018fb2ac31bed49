package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dockaudit/dockaudit/internal/advisory"
	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/checks"
	"github.com/dockaudit/dockaudit/internal/collect/engine"
	"github.com/dockaudit/dockaudit/internal/collect/image"
	"github.com/dockaudit/dockaudit/internal/collect/registry"
	"github.com/dockaudit/dockaudit/internal/collect/trust"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
	"github.com/dockaudit/dockaudit/internal/inventory/secrets"
	"github.com/dockaudit/dockaudit/internal/parallel"
	"github.com/dockaudit/dockaudit/internal/report"
	"github.com/dockaudit/dockaudit/internal/safefile"
	"github.com/dockaudit/dockaudit/internal/sbom"
	"github.com/dockaudit/dockaudit/internal/textsafe"
)

// ImageOptions are the settings of dockaudit image.
type ImageOptions struct {
	Output
	// Command names the report's command ("image" when empty; "config").
	Command   string
	Selection check.Selection
	// Checks, when set, are the rules to run, already selected (dockaudit serve
	// selects them once for thousands of images); Selection is then not applied.
	Checks []check.Check
	Refs   []string
	Source SourceOptions
	// DBDir is the vulnerability database directory; "" leaves vulnerabilities out.
	DBDir string
	// VulnDB, when set, is the database of DBDir already open (dockaudit serve judges
	// thousands of images with one).
	VulnDB *advisory.Store
	// IgnoreUnfixed drops vulnerabilities without a released fix; Severities, when
	// set, keeps only vulnerabilities of those severities.
	IgnoreUnfixed bool
	Severities    []finding.Severity
	VEX           []VEXStatement
	// Concurrency bounds how many images are read at once.
	Concurrency int
	Now         func() time.Time
	// OnRead, when set, sees the images as read, before they are matched (dockaudit
	// image --submit keeps them for the service); an error stops the run.
	OnRead func([]facts.Image) error
}

// SourceOptions say how dockaudit image and sbom reach and read images.
type SourceOptions struct {
	// Trust is what registry images' signatures are verified against (dockaudit
	// image --key, --trusted-root with --certificate-identity…); TrustFile, when
	// set, replaces it with a policy per repository (--trust-policy).
	Trust     trust.Policy
	TrustFile *trust.PolicyFile
	// Offline keeps daemon images' signatures from being looked up in the registry
	// their repository digests name; NoTrust keeps every image's from being looked
	// up (no selected rule judges them).
	Offline, NoTrust bool
	Platform         string        // os/arch[/variant] for multi-platform images
	Insecure         bool          // plain HTTP and unverified TLS to registries
	Timeout          time.Duration // per image: export or pull, and read
	Limits           image.Limits
	Env              engine.Env // the daemon, for daemon images
	EnvErr           error      // why the daemon could not be resolved (a missing context)
	DockerConfig     string     // the docker CLI configuration directory ($DOCKER_CONFIG)
	TempDir          string
	// Credentials, when set, answer for registries instead of the docker CLI
	// configuration (dockaudit serve's own, from its configuration file).
	Credentials func(host string) (registry.Credential, error)
	// LayerCache keeps each layer's record by diff ID (dockaudit serve).
	LayerCache image.LayerCache
}

// MissingError is a run that named images the daemon does not hold: a typo, most
// likely, so no report is written; each line names the image and the nearest names.
type MissingError struct {
	Missing []string // "no image X on the daemon at …; did you mean Y?"
}

func (e *MissingError) Error() string { return strings.Join(e.Missing, "\n") }

// ReadError is an audit in which some images could not be read: the report covers the
// others and carries an error finding for each of these.
type ReadError struct {
	Failed []string // "REF: reason"
}

func (e *ReadError) Error() string {
	if len(e.Failed) == 1 {
		return e.Failed[0]
	}
	return fmt.Sprintf("%d images could not be read: %s", len(e.Failed), strings.Join(e.Failed, "; "))
}

// Image audits images and writes the report. When some images cannot be read it still
// writes the report, and returns it with a *ReadError.
func Image(ctx context.Context, opts ImageOptions, stdout, progress io.Writer) (*report.Report, error) {
	if progress == nil {
		progress = io.Discard
	}
	if len(opts.Refs) == 0 {
		return nil, &UsageError{Err: errors.New("name at least one image")}
	}
	selected, err := opts.Selection.Apply(checks.Image())
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	// Signatures are looked up (registries asked, for daemon images too) only for a
	// rule that judges them.
	opts.Source.NoTrust = !slices.ContainsFunc(selected, func(c check.Check) bool { return slices.Contains(c.Tags, "trust") })
	images, notes, err := ReadImages(ctx, opts.Refs, opts.Source, opts.Concurrency, progress)
	if err != nil {
		return nil, err
	}
	if opts.OnRead != nil {
		if err := opts.OnRead(images); err != nil {
			return nil, err
		}
	}
	return writeImageReport(images, nil, notes, opts, stdout)
}

// writeImageReport judges images as read, writes the report, and says which images
// could not be read.
func writeImageReport(images []facts.Image, services *configServices, notes []string, opts ImageOptions, stdout io.Writer) (*report.Report, error) {
	r, failed, err := judge(images, services, notes, opts)
	if err != nil {
		return nil, err
	}
	if err := opts.write(stdout, r); err != nil {
		return nil, err
	}
	if len(failed) > 0 {
		return r, &ReadError{Failed: failed}
	}
	return r, nil
}

// ReadImages reads images, at most conc at once. An image that cannot be read comes
// back with its Error set; images the daemon does not hold make a *MissingError. notes
// are for the report (how the daemon was chosen).
func ReadImages(ctx context.Context, refs []string, src SourceOptions, conc int, progress io.Writer) (images []facts.Image, notes []string, err error) {
	if progress == nil {
		progress = io.Discard
	}
	rd := newReader(src)
	defer rd.close()
	images = make([]facts.Image, len(refs))
	parallel.Do(len(refs), min(conc, len(refs)), func(i int) { images[i] = rd.read(ctx, refs[i], false, progress) })
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if len(rd.missing) > 0 {
		slices.Sort(rd.missing)
		return nil, nil, &MissingError{Missing: rd.missing}
	}
	if rd.daemon.c != nil {
		notes = withNote(notes, rd.daemon.env.Note)
	}
	return images, notes, nil
}

// ImageReport judges images already read: it matches them against the database in
// opts.DBDir (which sets their VulnDB) and runs the image rules. failed lists the
// images that could not be read ("REF: reason"). dockaudit serve calls it on stored
// facts, so its findings are dockaudit image's.
func ImageReport(images []facts.Image, notes []string, opts ImageOptions) (r *report.Report, failed []string, err error) {
	return judge(images, nil, notes, opts)
}

// judge runs the selected rules on images and on containers not created yet (the
// services of Compose files, which dockaudit config judges with no daemon), then
// builds the report.
func judge(images []facts.Image, services *configServices, notes []string, opts ImageOptions) (r *report.Report, failed []string, err error) {
	selected := opts.Checks
	if selected == nil {
		var err error
		if selected, err = opts.Selection.Apply(checks.Image()); err != nil {
			return nil, nil, &UsageError{Err: err}
		}
	}
	if opts.DBDir != "" {
		notes = append(notes, matchVulns(images, opts.DBDir, opts.VulnDB, opts.now())...)
	}
	snap := &facts.Snapshot{
		SchemaVersion: facts.SchemaVersion, CollectedAt: opts.now().UTC(),
		Containers: []facts.Container{}, Images: images, Networks: []facts.Network{}, Volumes: []facts.Volume{},
		HostAccess: facts.HostAccess{Reason: "dockaudit " + opts.command() + " reads images, not the host"},
	}
	if services != nil {
		services.prepare(snap)
	}
	findings := check.Run(selected, snap, check.Options{})
	if services != nil {
		services.locate(findings)
	}
	findings, filtered := filterVulns(findings, opts.IgnoreUnfixed, opts.Severities)
	rules := make([]finding.Rule, 0, len(selected)+1)
	var inv []report.Inventory
	targets := make([]finding.Target, 0, len(images)+len(snap.Containers))
	for i := range snap.Containers {
		targets = append(targets, check.ContainerTarget(&snap.Containers[i]))
	}
	for i := range images {
		im := &images[i]
		t := check.ImageTarget(im)
		targets = append(targets, t)
		if im.Error != "" {
			failed = append(failed, im.Ref+": "+im.Error)
			continue
		}
		c := im.Content
		if c == nil {
			c = &facts.ImageContent{} // a Dockerfile: nothing built, nothing read
		}
		// History lines are the image's own text: a build argument may be a token.
		layers := make([]facts.ImageLayer, len(im.Layers))
		for i, l := range im.Layers {
			l.CreatedBy = secrets.Redact(l.CreatedBy)
			layers[i] = l
		}
		item := report.Inventory{Target: t, Source: im.Source, Digest: im.Digest, Platform: im.Platform,
			OS: c.OS, Layers: layers, Entries: c.Entries, Packages: c.Packages, Notes: c.Notes}
		if im.VulnDB != nil {
			item.Coverage = im.VulnDB.Coverage
		}
		item.Base = im.Base
		if im.Trust != nil {
			item.Signatures, item.Attestations, item.IndexVerified = im.Trust.Signatures, im.Trust.Attestations, im.Trust.IndexVerified
		}
		inv = append(inv, item)
	}
	if len(failed) > 0 {
		rules = append(rules, check.CollectRule())
	}
	for _, c := range selected {
		rules = append(rules, c.Rule)
	}
	findings, rules, suppressed, leftOut := opts.suppress(findings, rules, opts.VEX, opts.now())
	r = report.Build(toolInfo(), opts.command(), opts.now(), report.Context{Images: len(images), Containers: len(snap.Containers), Notes: notes}, rules, targets, findings, report.Gate{FailOn: opts.FailOn, UnknownAs: opts.UnknownAs})
	r.Images = inv
	r.Summary.Suppressed = suppressed
	r.Summary.LeftOut = append(filtered, leftOut...)
	return r, failed, nil
}

// command is the command the report is of: image, or config for Dockerfiles.
func (o ImageOptions) command() string {
	if o.Command != "" {
		return o.Command
	}
	return "image"
}

func (o ImageOptions) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// looksLikeSBOM says an existing file named without a prefix is JSON naming an SBOM
// format in its first 64 KiB (an image archive or layout is not).
func looksLikeSBOM(path string) bool {
	if strings.Contains(path, ":") {
		return false // a prefix, or a daemon image name with a tag
	}
	f, err := safefile.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 64<<10)
	n, _ := io.ReadFull(f, head)
	head = bytes.TrimLeft(head[:n], " \t\r\n")
	return len(head) > 0 && head[0] == '{' && (bytes.Contains(head, []byte(`"bomFormat"`)) || bytes.Contains(head, []byte(`"spdxVersion"`)))
}

// imageFromSBOM is the image an SBOM file describes: its operating system and
// packages, for matching against the advisories. What an SBOM does not hold (the
// image's configuration, history and files) is unknown, so the rules that read them
// skip; never an empty image that passes them.
func imageFromSBOM(ref, path string) (*facts.Image, error) {
	data, err := safefile.Read(path, sbom.MaxInput)
	if err != nil {
		return nil, err
	}
	p, err := sbom.Read(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	from := p.Format
	if p.Tool != "" {
		from += " by " + p.Tool
	}
	why := "an SBOM (" + from + ") lists packages, not the image's files"
	im := &facts.Image{Ref: ref, Tags: []string{ref}, Source: "sbom", Digest: p.Digest, Digests: []string{}, History: nil,
		Content: &facts.ImageContent{OS: p.OS, Packages: p.Packages, Notes: p.Notes, Unread: p.Unread, PackagesOnly: why},
		Unknown: map[facts.Part]string{
			facts.PartImageConfig: "an SBOM (" + from + ") holds no image configuration",
			facts.PartHistory:     "an SBOM (" + from + ") holds no build history",
			facts.PartContent:     why,
		}}
	if p.Digest != "" {
		im.Digests = []string{p.Digest}
	}
	if im.Content.Packages == nil {
		im.Content.Packages = []facts.Package{}
		if len(p.Unread) == 0 {
			// An SBOM listing nothing says nothing was looked at, not that nothing is there.
			im.Content.Unread = []string{"the SBOM lists no packages"}
		}
	}
	return im, nil
}

// reader opens and reads images from every kind of source, connecting to the daemon
// and loading registry credentials only when an image needs them.
type reader struct {
	opts   SourceOptions
	daemon *lazyDaemon
	reg    *registry.Client

	mu      sync.Mutex
	missing []string // images the daemon does not hold, with suggestions
}

func newReader(opts SourceOptions) *reader {
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Minute
	}
	credFn := opts.Credentials
	if credFn == nil {
		credFn = (&lazyCreds{dir: opts.DockerConfig}).get
	}
	return &reader{
		opts:   opts,
		daemon: &lazyDaemon{env: opts.Env, envErr: opts.EnvErr},
		reg:    &registry.Client{Insecure: opts.Insecure, Credentials: credFn},
	}
}

func (r *reader) close() { r.daemon.close() }

// read opens and collects one image. An image that cannot be read comes back with
// Error set ("REF: reason") and nothing else.
func (r *reader) read(ctx context.Context, ref string, inventoryOnly bool, progress io.Writer) facts.Image {
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	start := time.Now()
	im, err := r.collect(ctx, ref, inventoryOnly, progress)
	if err != nil {
		// The deadline may surface as any error (a daemon export cut short reads as
		// an unanswering daemon): the context says what happened.
		if errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded {
			err = fmt.Errorf("not read within %s (raise --timeout)", r.opts.Timeout)
		}
		if nf := (*image.NotFoundError)(nil); errors.As(err, &nf) {
			r.mu.Lock()
			r.missing = append(r.missing, nf.Error())
			r.mu.Unlock()
		}
		return facts.Image{Ref: ref, Tags: []string{ref}, Error: err.Error()}
	}
	n := 0
	if im.Content != nil {
		n = len(im.Content.Packages)
	}
	fmt.Fprintf(progress, "dockaudit: %s: %d layers, %d packages in %s\n", ref, len(im.Layers), n, time.Since(start).Round(time.Millisecond))
	return *im
}

func (r *reader) collect(ctx context.Context, ref string, inventoryOnly bool, progress io.Writer) (*facts.Image, error) {
	fmt.Fprintf(progress, "dockaudit: reading %s\n", ref)
	if path, ok := strings.CutPrefix(ref, "sbom:"); ok {
		return imageFromSBOM(ref, path)
	}
	if looksLikeSBOM(ref) {
		return imageFromSBOM(ref, ref)
	}
	src, err := image.Open(ctx, ref, image.OpenOptions{Daemon: r.daemon, Registry: r.reg, Platform: r.opts.Platform, TempDir: r.opts.TempDir})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	im, err := image.Collect(ctx, src, image.CollectOptions{Limits: r.opts.Limits, InventoryOnly: inventoryOnly, Cache: r.opts.LayerCache})
	if err == nil && !inventoryOnly && !r.opts.NoTrust {
		switch src.Kind {
		case "registry":
			if nr, err := name.ParseReference(src.Name, name.WeakValidation); err != nil {
				im.Trust = &facts.Trust{Why: "the image's name is no registry reference: " + err.Error()}
			} else {
				pol, req := r.policy(nr.Context())
				im.Trust = r.signatures(ctx, nr.Context(), im.Digest, src.Indexes, pol, req)
			}
		case "daemon":
			im.Trust = r.daemonSignatures(ctx, src)
		case "oci":
			im.Trust = r.layoutSignatures(ctx, src, im.Digest)
		}
		if im.Base == nil && im.Trust != nil && im.Trust.Looked {
			im.Base = trust.BaseFromProvenance(im.Trust)
		}
	}
	return im, err
}

// signatures finds and verifies a registry image's cosign signatures: those stored for
// its manifest digest and for the indexes the pull went through to reach it (each
// lists the next by digest, so a signature of one covers the image), and reads the
// attestations the innermost index lists for it.
func (r *reader) signatures(ctx context.Context, repo name.Repository, digest string, indexes []string, pol trust.Policy, requires *facts.ProvenanceRequirement) *facts.Trust {
	if digest == "" {
		return &facts.Trust{Why: "the image has no manifest digest to look signatures up by"}
	}
	t := trust.Signatures(ctx, r.reg, repo, append([]string{digest}, indexes...), pol)
	t.Requires = requires
	if !t.Looked || len(indexes) == 0 {
		return t
	}
	inner := indexes[len(indexes)-1]
	stmts, err := r.reg.BuildKitAttestations(ctx, repo, inner, digest, registry.IsProvenance)
	if err != nil {
		// The signatures were read and judged: only the provenance is not known, and
		// IMG-PROVENANCE says so (an unreadable attestation, never an absent one).
		t.Attestations = append(t.Attestations, facts.Attestation{PredicateType: "https://slsa.dev/provenance/", From: "the attestation manifests index " + inner + " lists",
			Problem: "the attestations could not be read: " + textsafe.FirstLine(err.Error(), 200)})
		return t
	}
	t.Attestations = append(trust.Attestations(stmts, digest), t.Attestations...)
	for _, s := range t.Signatures {
		// The attestation manifest is listed by digest in the innermost index: a
		// verified signature of that index, or of one that lists it, covers it.
		t.IndexVerified = t.IndexVerified || (s.Verified && slices.Contains(indexes, s.Signs))
	}
	return t
}

// policy is what a repository's images are verified against: the trust policy file's
// entry for it, else the flags.
func (r *reader) policy(repo name.Repository) (trust.Policy, *facts.ProvenanceRequirement) {
	if r.opts.TrustFile != nil {
		return r.opts.TrustFile.For(repo)
	}
	return r.opts.Trust, nil
}

// layoutRepository is the repository an OCI layout's images are verified as being in
// (a layout has none): what a Notation trust policy's registryScopes see.
var layoutRepository, _ = name.NewRepository("localhost/oci-layout")

// layoutSignatures verifies the signatures an OCI layout keeps beside its image (what
// cosign save writes, and referrers notation and oras write) against the flags'
// policy; a trust policy file, whose globs name registry repositories, covers no
// layout.
func (r *reader) layoutSignatures(ctx context.Context, src *image.Source, digest string) *facts.Trust {
	l := src.Layout()
	if l == nil || digest == "" {
		return &facts.Trust{Why: "the layout's image has no manifest digest to look signatures up by"}
	}
	pol := r.opts.Trust
	if f := r.opts.TrustFile; f != nil {
		pol = trust.Policy{Uncovered: "no policy of the trust policy " + f.Path + " covers an OCI layout (its image is in no repository)"}
	}
	return trust.Signatures(ctx, l, layoutRepository, append([]string{digest}, src.Indexes...), pol)
}

// daemonTrustTimeout bounds the registry lookups of one daemon image's signatures.
const daemonTrustTimeout = time.Minute

// daemonSignatures finds a daemon image's signatures in the registry its repository
// digests name (where it was pulled from or pushed to): the first whose image there
// has this image's ID (its config digest) is verified as a registry image would be.
// Without one, or with --offline, nothing is looked up, and the reason is kept.
func (r *reader) daemonSignatures(ctx context.Context, src *image.Source) *facts.Trust {
	// The policy is the one for the name the image was asked for by, wherever its
	// signatures are found (a mirror it was pulled from must not bring a laxer one);
	// an image asked for by ID takes its first repository digest's.
	named, byName := daemonRepository(src.Name)
	if !byName && len(src.RepoDigests) > 0 {
		if d, err := name.NewDigest(src.RepoDigests[0], name.WeakValidation); err == nil {
			named, byName = d.Context(), true
		}
	}
	var pol trust.Policy
	var req *facts.ProvenanceRequirement
	if byName {
		pol, req = r.policy(named)
	} else {
		pol = r.opts.Trust
	}
	notLooked := func(why string) *facts.Trust {
		return &facts.Trust{Why: why, Policy: pol.Describe(), Requires: req}
	}
	switch {
	case len(src.RepoDigests) == 0:
		return notLooked("the daemon image has no repository digest (built or loaded here, never pushed or pulled): no registry holds its signatures")
	case r.opts.Offline:
		return notLooked("--offline: the registry its repository digest names (" + src.RepoDigests[0] + ") was not asked for its signatures")
	case !sameImage(src):
		return notLooked("the image the name means changed on the daemon while it was read (" + src.DaemonID + ", then " + src.ID + ")")
	}
	// A registry that does not answer (Docker Hub from behind a firewall) costs at
	// most this, not the image's whole timeout.
	ctx, cancel := context.WithTimeout(ctx, daemonTrustTimeout)
	defer cancel()
	plat := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	if c := src.Config; c != nil && c.OS != "" && c.Architecture != "" {
		plat = v1.Platform{OS: c.OS, Architecture: c.Architecture, Variant: c.Variant}
	}
	// The named repository's digests first.
	digests := slices.Clone(src.RepoDigests)
	slices.SortStableFunc(digests, func(a, b string) int {
		ina, inb := byName && strings.HasPrefix(a, named.Name()+"@"), byName && strings.HasPrefix(b, named.Name()+"@")
		switch {
		case ina && !inb:
			return -1
		case inb && !ina:
			return 1
		}
		return 0
	})
	var tried []string
	for _, rd := range digests {
		ref, err := name.NewDigest(rd, name.WeakValidation)
		if err != nil {
			tried = append(tried, rd+": "+err.Error())
			continue
		}
		img, digest, indexes, err := r.reg.PullChain(ctx, ref, plat)
		if err != nil {
			tried = append(tried, rd+": "+textsafe.FirstLine(err.Error(), 200))
			continue
		}
		if cfg, err := img.ConfigName(); err != nil || cfg.String() != src.ID {
			tried = append(tried, fmt.Sprintf("%s: the registry's %s image there is not this one (%s)", rd, plat, cfg))
			continue
		}
		return r.signatures(ctx, ref.Context(), digest, indexes, pol, req)
	}
	return notLooked("no repository digest of the daemon image could be looked up: " + strings.Join(tried, "; "))
}

// daemonRepository is the repository a daemon image was asked for by; false for an
// image asked for by ID (a digest, or 12 to 64 hexadecimal digits).
func daemonRepository(ref string) (name.Repository, bool) {
	if image.LooksLikeID(strings.TrimPrefix(ref, "sha256:")) {
		return name.Repository{}, false
	}
	nr, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return name.Repository{}, false
	}
	return nr.Context(), true
}

// sameImage says the image exported is the one the inspect named: its ID is the
// config digest (the classic image store) or, with the containerd image store, the
// digest of its manifest or index, which its repository digests carry.
func sameImage(src *image.Source) bool {
	if src.DaemonID == src.ID || src.DaemonID != "" && src.DaemonID == src.Digest {
		return true
	}
	for _, rd := range src.RepoDigests {
		if strings.HasSuffix(rd, "@"+src.DaemonID) {
			return true
		}
	}
	return false
}

// lazyDaemon connects to the daemon on the first daemon image.
type lazyDaemon struct {
	env    engine.Env
	envErr error
	once   sync.Once
	c      *engine.Client
	err    error
}

func (d *lazyDaemon) Stream(ctx context.Context, path string) (io.ReadCloser, error) {
	d.once.Do(func() {
		if d.envErr != nil {
			d.err = d.envErr
			return
		}
		c, err := engine.New(d.env)
		if err != nil {
			d.err = err
			return
		}
		nctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := c.Negotiate(nctx); err != nil {
			c.Close()
			d.err = err
			return
		}
		d.c = c
	})
	if d.err != nil {
		return nil, d.err
	}
	return d.c.Stream(ctx, path)
}

// Endpoint is the daemon's address, as the user gave it or the default.
func (d *lazyDaemon) Endpoint() string {
	if d.env.Host != "" {
		return d.env.Host
	}
	return engine.DefaultHost
}

// ImageNames is every repo:tag the daemon holds.
func (d *lazyDaemon) ImageNames(ctx context.Context) ([]string, error) {
	if d.c == nil {
		return nil, errors.New("not connected")
	}
	var list []struct{ RepoTags []string }
	if err := d.c.Get(ctx, "/images/json", nil, &list); err != nil {
		return nil, err
	}
	var out []string
	for _, im := range list {
		for _, t := range im.RepoTags {
			if t != "<none>:<none>" {
				out = append(out, t)
			}
		}
	}
	return out, nil
}

func (d *lazyDaemon) close() {
	if d.c != nil {
		d.c.Close()
	}
}

// lazyCreds reads the docker CLI configuration on the first registry that asks.
type lazyCreds struct {
	dir  string
	once sync.Once
	cfg  *registry.DockerConfig
	err  error
}

func (l *lazyCreds) get(host string) (registry.Credential, error) {
	l.once.Do(func() { l.cfg, l.err = registry.LoadDockerConfig(l.dir) })
	if l.err != nil {
		return registry.Credential{}, fmt.Errorf("docker configuration: %w", l.err)
	}
	return l.cfg.Credentials(host)
}

// DockerConfigDir is where the docker CLI keeps config.json: $DOCKER_CONFIG, else
// ~/.docker ("" when neither is known).
func DockerConfigDir(getenv func(string) string) string {
	if d := getenv("DOCKER_CONFIG"); d != "" {
		return d
	}
	if h := getenv("HOME"); h != "" {
		return h + "/.docker"
	}
	// No HOME (a systemd unit): the account's home, as the docker CLI falls back to.
	if u, err := user.Current(); err == nil && u.HomeDir != "" {
		return u.HomeDir + "/.docker"
	}
	return ""
}

// matchVulns matches every readable image against the database in dir and returns
// what the report should note: no database (the VULN rule then skips with the same
// words), or a stale one.
func matchVulns(images []facts.Image, dir string, open *advisory.Store, now time.Time) []string {
	s, err := open, error(nil)
	if s == nil {
		if s, err = advisory.Open(filepath.Join(dir, advisory.FileName)); err == nil {
			defer s.Close()
		}
	}
	if err != nil {
		msg := err.Error()
		if errors.Is(err, advisory.ErrNoDatabase) {
			msg = "no vulnerability database in " + dir + ": run dockaudit db update (or dockaudit db import PATH on a host without network access); vulnerabilities were not checked"
		}
		for i := range images {
			if images[i].Error == "" {
				images[i].VulnDB = &facts.VulnDB{Error: msg}
			}
		}
		return []string{msg}
	}
	var notes []string
	unmatched := 0
	for i := range images {
		if images[i].Error == "" && images[i].Content != nil {
			s.MatchImage(&images[i])
			unmatched += images[i].VulnDB.Unmatched
		}
	}
	if age := now.Sub(s.Meta.Built); age > 7*24*time.Hour {
		notes = append(notes, fmt.Sprintf("the vulnerability database was built %d days ago (%s): run dockaudit db update", int(age.Hours()/24), s.Meta.Built.Format("2006-01-02")))
	}
	if unmatched > 0 {
		notes = append(notes, fmt.Sprintf("%d packages have versions the advisories' schemes cannot compare; they were not matched", unmatched))
	}
	return notes
}

// filterVulns applies --ignore-unfixed and --severity to vulnerability findings, and
// says how many each left out.
func filterVulns(fs []finding.Finding, ignoreUnfixed bool, sevs []finding.Severity) ([]finding.Finding, []report.LeftOut) {
	if !ignoreUnfixed && len(sevs) == 0 {
		return fs, nil
	}
	out := fs[:0]
	var unfixed, bySeverity map[string]int
	for _, f := range fs {
		switch {
		case f.Vuln != nil && ignoreUnfixed && f.Vuln.Status != "fixed":
			if unfixed == nil {
				unfixed = map[string]int{}
			}
			unfixed[f.Rule]++
		case f.Vuln != nil && len(sevs) > 0 && !slices.Contains(sevs, f.Severity):
			if bySeverity == nil {
				bySeverity = map[string]int{}
			}
			bySeverity[f.Rule]++
		default:
			out = append(out, f)
		}
	}
	left := report.LeftOutBy(unfixed, nil, "--ignore-unfixed")
	return out, append(left, report.LeftOutBy(bySeverity, nil, "--severity")...)
}
