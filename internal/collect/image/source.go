package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"

	"github.com/klauspost/compress/zstd"

	"github.com/dockaudit/dockaudit/internal/collect/engine"
	"github.com/dockaudit/dockaudit/internal/safefile"
	"github.com/dockaudit/dockaudit/internal/suggest"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Source is an opened image: its configuration and its layers, base first.
type Source struct {
	Kind   string // daemon, docker-archive, oci, registry, dir
	Ref    string // as the user wrote it
	Name   string // for reports: the tag, or the path
	ID     string // config digest (the image ID); "" for dir
	Digest string // manifest digest, when the source has one
	// Config is the image configuration; nil for a root filesystem directory.
	Config *v1.ConfigFile
	Layers []Layer
	// Annotations are the image manifest's, for sources that have one (registry,
	// OCI layout).
	Annotations map[string]string
	// Indexes are the digests of the indexes a registry image was reached through,
	// outermost first, each fetched by the pull and listing the next.
	Indexes []string
	// RepoDigests are a daemon image's repository digests (REPO@sha256:…, as docker
	// inspect gives them): where it was pulled from or pushed to, so where its
	// signatures are. DaemonID is the ID the daemon gave when asked.
	RepoDigests []string
	DaemonID    string

	layout *Layout // an OCI layout's signatures, for oci: sources

	cleanup []func()
}

// Close removes the temporary files the source made.
func (s *Source) Close() {
	for i := len(s.cleanup) - 1; i >= 0; i-- {
		s.cleanup[i]()
	}
	s.cleanup = nil
}

// Exporter streams an image from a Docker daemon in docker save format.
type Exporter interface {
	Stream(ctx context.Context, path string) (io.ReadCloser, error)
}

// Puller fetches an image from a registry.
type Puller interface {
	Pull(ctx context.Context, ref name.Reference, platform v1.Platform) (v1.Image, string, error)
}

// OpenOptions say where images come from and which platform to take.
type OpenOptions struct {
	Daemon   Exporter // nil when no daemon was given
	Registry Puller   // nil when registry pulls are not available
	Platform string   // "linux/amd64"; default linux/<this machine's architecture>
	TempDir  string   // where private temporary directories go; default os.TempDir
}

// Kinds are the source prefixes REF may carry.
var Kinds = []string{"daemon", "docker-archive", "oci", "registry", "dir"}

// Open opens an image reference. REF is "daemon:NAME", "docker-archive:PATH",
// "oci:PATH" (a layout directory or an archive of one, optionally ":TAG"),
// "registry:NAME" or "dir:PATH"; without a prefix, an existing path is recognised by
// its content and anything else is a daemon image.
func Open(ctx context.Context, ref string, opts OpenOptions) (*Source, error) {
	kind, rest := splitKind(ref)
	if kind == "" {
		var err error
		kind, err = detect(ref)
		if err != nil {
			return nil, err
		}
		rest = ref
	}
	src := &Source{Kind: kind, Ref: ref, Name: rest}
	var err error
	switch kind {
	case "daemon":
		err = src.openDaemon(ctx, rest, opts)
	case "docker-archive":
		err = src.openArchive(rest, "")
	case "oci":
		err = src.openOCI(ctx, rest, opts)
	case "registry":
		err = src.openRegistry(ctx, rest, opts)
	case "dir":
		err = src.openDir(rest)
	}
	if err == nil && opts.Platform != "" && src.Config != nil {
		// A single-platform image is what it is: a --platform it does not match is an
		// error, never a quiet audit of another platform.
		want, have := platform(opts.Platform), v1.Platform{OS: src.Config.OS, Architecture: src.Config.Architecture, Variant: src.Config.Variant}
		if !have.Satisfies(want) {
			err = fmt.Errorf("the image is %s only: --platform %s matches nothing in it", have.String(), want.String())
		}
	}
	if err != nil {
		src.Close()
		return nil, err
	}
	return src, nil
}

// LocalPath is the file or directory a reference reads on this machine, when it reads
// one: docker-archive:, oci: (and oci-archive:, oci-dir:), dir:, or an unprefixed
// existing path. It follows the parsing Open does, so a caller can tell which files a
// run reads (an output must not replace one).
func LocalPath(ref string) (string, bool) {
	kind, rest := splitKind(ref)
	switch kind {
	case "docker-archive", "dir":
		return rest, true
	case "oci":
		if _, err := os.Stat(rest); err != nil {
			if i := strings.LastIndexByte(rest, ':'); i > 0 {
				return rest[:i], true // oci:PATH:TAG
			}
		}
		return rest, true
	case "":
		if _, err := os.Lstat(ref); err == nil {
			return ref, true
		}
	}
	return "", false
}

func splitKind(ref string) (string, string) {
	k, rest, ok := strings.Cut(ref, ":")
	if !ok {
		return "", ref
	}
	switch k {
	case "daemon", "docker":
		return "daemon", rest
	case "docker-archive", "oci", "registry", "dir":
		return k, rest
	case "oci-archive", "oci-dir":
		return "oci", rest
	}
	return "", ref
}

// detect recognises an unprefixed reference: a directory holding an OCI layout, a
// root filesystem directory, a docker save or OCI archive, or else a daemon image. A
// bare name that is both an existing path here and a valid image name is ambiguous:
// the user says which.
func detect(ref string) (string, error) {
	pathLike := strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "./") || strings.HasPrefix(ref, "../") ||
		strings.HasSuffix(ref, ".tar") || ref == "." || ref == ".."
	fi, err := os.Stat(ref)
	switch {
	case err != nil && pathLike:
		return "", noPath(err)
	case err != nil:
		return "daemon", nil
	case !pathLike:
		if _, perr := name.ParseReference(ref, name.WeakValidation); perr == nil {
			return "", fmt.Errorf("ambiguous: a file or directory of that name is here, and it is also a valid image name; write dir:%s, docker-archive:%s or oci:%s for the path, or daemon:%s for the image", ref, ref, ref, ref)
		}
	}
	if fi.IsDir() {
		if _, err := os.Stat(filepath.Join(ref, "oci-layout")); err == nil {
			return "oci", nil
		}
		return "dir", nil
	}
	if !fi.Mode().IsRegular() {
		return "", errNotArchive
	}
	names, err := tarNames(ref, 64)
	if err != nil {
		return "", fmt.Errorf("neither a directory nor an image archive: %v", noPath(err))
	}
	switch {
	case names["oci-layout"]:
		return "oci", nil
	case names["manifest.json"]:
		return "docker-archive", nil
	}
	return "", errors.New("a tar archive that holds neither manifest.json (docker save) nor oci-layout")
}

// tarNames lists the top-level names among the first entries of a tar file.
func tarNames(p string, max int) (map[string]bool, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	out := map[string]bool{}
	for i := 0; i < max; i++ {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		out[strings.TrimPrefix(filepathClean(h.Name), "./")] = true
	}
	return out, nil
}

func filepathClean(p string) string { return strings.TrimPrefix(filepath.Clean("/"+p), "/") }

func (s *Source) tempDir(base string) (string, error) {
	dir, err := os.MkdirTemp(base, "dockaudit-image-*")
	if err != nil {
		return "", err
	}
	s.cleanup = append(s.cleanup, func() { os.RemoveAll(dir) })
	return dir, nil
}

// openDaemon exports the image from the daemon into a private temporary file, so a big
// image is never held in memory, and reads it as a docker save archive.
func (s *Source) openDaemon(ctx context.Context, ref string, opts OpenOptions) error {
	if opts.Daemon == nil {
		return errors.New("no Docker daemon to read it from (set DOCKER_HOST, or use docker-archive:, oci:, registry: or dir:)")
	}
	dir, err := s.tempDir(opts.TempDir)
	if err != nil {
		return err
	}
	// Which image the name means (the daemon resolves NAME:latest, then an ID
	// prefix), and the repository digests that say where its signatures are.
	id, digests, err := daemonImage(ctx, opts.Daemon, ref)
	if err != nil {
		return err
	}
	s.DaemonID, s.RepoDigests = id, digests
	export := ref
	if repoOf(ref) == ref && !strings.Contains(ref, "@") {
		// A name without a tag is NAME:latest to the docker CLI, but the export
		// endpoint takes it as every tag of the repository: export the image the
		// name means.
		export = id
	}
	body, err := opts.Daemon.Stream(ctx, "/images/"+strings.ReplaceAll(url.PathEscape(export), "%2F", "/")+"/get")
	if se := (*engine.StatusError)(nil); errors.As(err, &se) && se.Code == 404 {
		return notFound(ctx, ref, opts.Daemon)
	}
	if err != nil {
		return fmt.Errorf("export from the daemon: %w", err)
	}
	defer body.Close()
	p := filepath.Join(dir, "image.tar")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, body); err != nil {
		f.Close()
		return fmt.Errorf("export from the daemon: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	return s.openArchive(p, ref)
}

// ImageNamer is a daemon that can also say where it is and which images it holds, so
// a name it does not know gets a suggestion.
type ImageNamer interface {
	Endpoint() string
	ImageNames(ctx context.Context) ([]string, error)
}

// NotFoundError is an image the daemon does not hold: a mistyped name, as often as
// not, so it names the nearest ones the daemon does hold.
type NotFoundError struct {
	Ref, Endpoint string
	Suggestions   []string
}

func (e *NotFoundError) Error() string {
	where := "the daemon"
	if e.Endpoint != "" {
		where += " at " + e.Endpoint
	}
	return fmt.Sprintf("no image %s on %s%s", e.Ref, where, suggest.Phrase(e.Suggestions))
}

// notFound builds the NotFoundError for ref, asking the daemon for its image names
// when it can say them (a failure to list them only loses the suggestion).
func notFound(ctx context.Context, ref string, d Exporter) error {
	e := &NotFoundError{Ref: ref}
	n, ok := d.(ImageNamer)
	if !ok {
		return e
	}
	e.Endpoint = n.Endpoint()
	names, err := n.ImageNames(ctx)
	if err != nil {
		return e
	}
	e.Suggestions = suggest.Closest(ref, names)
	if len(e.Suggestions) == 0 && repoOf(ref) == ref && !strings.Contains(ref, "@") {
		// "busybox" is busybox:latest: name the tags the repository has.
		for _, nm := range names {
			if repoOf(nm) == ref && len(e.Suggestions) < 3 {
				e.Suggestions = append(e.Suggestions, nm)
			}
		}
	}
	return e
}

// daemonImage is the ID of the image the daemon resolves ref to, and its repository
// digests.
func daemonImage(ctx context.Context, d Exporter, ref string) (string, []string, error) {
	body, err := d.Stream(ctx, "/images/"+strings.ReplaceAll(url.PathEscape(ref), "%2F", "/")+"/json")
	if se := (*engine.StatusError)(nil); errors.As(err, &se) && se.Code == 404 {
		return "", nil, notFound(ctx, ref, d)
	}
	if err != nil {
		return "", nil, fmt.Errorf("inspect on the daemon: %w", err)
	}
	defer body.Close()
	var im struct {
		ID          string   `json:"Id"`
		RepoDigests []string `json:"RepoDigests"`
	}
	if err := json.NewDecoder(io.LimitReader(body, maxMeta)).Decode(&im); err != nil || !strings.HasPrefix(im.ID, "sha256:") {
		return "", nil, fmt.Errorf("inspect on the daemon: not an image inspect answer")
	}
	return im.ID, im.RepoDigests, nil
}

// repoOf is a name without its tag ("localhost:5000/app:1" is "localhost:5000/app").
func repoOf(s string) string {
	if i := strings.LastIndexByte(s, ':'); i > strings.LastIndexByte(s, '/') {
		return s[:i]
	}
	return s
}

// openArchive reads a docker save archive. When it holds several images, tag picks one.
// errNotArchive refuses a FIFO or a device where an archive is expected: opening a
// FIFO blocks until someone writes, and /dev/zero never ends.
var errNotArchive = errors.New("not a regular file or directory (a FIFO or a device is not read)")

// regularFile checks that p is a regular file before anything opens it.
func regularFile(p string) error {
	fi, err := os.Stat(p)
	switch {
	case err != nil:
		return noPath(err)
	case !fi.Mode().IsRegular():
		return errNotArchive
	}
	return nil
}

// The metadata of an image (an index, a manifest, docker save's manifest.json) is
// kilobytes and its configuration at most a few MiB: go-containerregistry reads each
// whole, so each is bounded before it is read.
const (
	maxMeta   = 4 << 20
	maxConfig = 16 << 20
)

// layoutFiles checks that an OCI layout directory's index and blobs are regular files,
// which the layout reader then opens, and that its index, manifests and
// configurations are of a size such files have.
func layoutFiles(dir string) error {
	for _, p := range []string{"oci-layout", "index.json"} {
		if err := regularFile(filepath.Join(dir, p)); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	algs, _ := os.ReadDir(filepath.Join(dir, "blobs"))
	for _, a := range algs {
		blobs, _ := os.ReadDir(filepath.Join(dir, "blobs", a.Name()))
		for _, b := range blobs {
			if !b.Type().IsRegular() {
				return fmt.Errorf("blobs/%s/%s: %w", a.Name(), b.Name(), errNotArchive)
			}
		}
	}
	return layoutMeta(dir, "index.json", maxMeta, 0)
}

// layoutMeta bounds a metadata file of a layout, then the manifests and configurations
// it names, following nested indexes a few levels deep.
func layoutMeta(dir, rel string, max int64, depth int) error {
	b, err := safefile.Read(filepath.Join(dir, filepath.FromSlash(rel)), max)
	switch {
	case errors.Is(err, safefile.ErrTooLarge):
		return fmt.Errorf("%s is larger than %s", rel, safefile.Size(max))
	case err != nil:
		return fmt.Errorf("%s: %w", rel, noPath(err))
	}
	if depth > 4 {
		return errors.New("image indexes nested too deeply")
	}
	var doc struct {
		MediaType string
		Manifests []v1.Descriptor
		Config    v1.Descriptor
	}
	if json.Unmarshal(b, &doc) != nil {
		return nil // not JSON: the layout reader says what is wrong
	}
	blob := func(d v1.Descriptor) string { return "blobs/" + d.Digest.Algorithm + "/" + d.Digest.Hex }
	for _, d := range doc.Manifests {
		if !validPart(d.Digest.Algorithm) || !validPart(d.Digest.Hex) {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, blob(d))); err != nil {
			continue // a manifest the layout does not hold: refused when it is picked
		}
		if err := layoutMeta(dir, blob(d), maxMeta, depth+1); err != nil {
			return err
		}
	}
	if d := doc.Config; d.Digest.Hex != "" && validPart(d.Digest.Algorithm) && validPart(d.Digest.Hex) {
		if fi, err := os.Stat(filepath.Join(dir, blob(d))); err == nil && fi.Size() > maxConfig {
			return fmt.Errorf("%s: the image configuration is larger than %s", blob(d), safefile.Size(maxConfig))
		}
	}
	return nil
}

// archiveMeta bounds docker save's manifest.json and the configurations it names
// before go-containerregistry reads them whole.
func archiveMeta(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	sizes := map[string]int64{}
	var manifest []byte
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil // not a tar: the archive reader says what is wrong
		}
		name := filepathClean(h.Name)
		sizes[name] = h.Size
		if name == "manifest.json" {
			if h.Size > maxMeta {
				return fmt.Errorf("manifest.json is larger than %s", safefile.Size(maxMeta))
			}
			if manifest, err = io.ReadAll(io.LimitReader(tr, maxMeta)); err != nil {
				return err
			}
		}
	}
	var m []struct{ Config string }
	json.Unmarshal(manifest, &m)
	for _, d := range m {
		if sizes[filepathClean(d.Config)] > maxConfig {
			return fmt.Errorf("%s: the image configuration is larger than %s", d.Config, safefile.Size(maxConfig))
		}
	}
	return nil
}

func (s *Source) openArchive(p, tag string) error {
	if err := regularFile(p); err != nil {
		return fmt.Errorf("read docker archive: %w", err)
	}
	if err := archiveMeta(p); err != nil {
		return fmt.Errorf("read docker archive: %w", err)
	}
	var t *name.Tag
	if tag != "" && !strings.HasPrefix(tag, "sha256:") && !LooksLikeID(tag) {
		if nt, err := name.NewTag(tag, name.WeakValidation); err == nil {
			t = &nt
		}
	}
	img, err := tarball.ImageFromPath(p, t)
	if err != nil && t != nil {
		img, err = tarball.ImageFromPath(p, nil) // a tag the archive does not list
	}
	if err != nil {
		return fmt.Errorf("read docker archive: %w", noPath(err))
	}
	if s.Kind == "docker-archive" {
		s.Name = p
	}
	if err := s.fromImage(img, "", true); err != nil {
		return err
	}
	return s.compressedSizes(p)
}

// compressedSizes finds the size of each compressed layer file in a docker save
// archive, for the decompression-bomb ratio. Layers stored uncompressed (as dockerd
// exports them) keep size 0: they cannot expand.
func (s *Source) compressedSizes(p string) error {
	m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(p) })
	if err != nil {
		return fmt.Errorf("read docker archive: %w", noPath(err))
	}
	hexID := strings.TrimPrefix(s.ID, "sha256:")
	index := map[string]int{}
	for _, d := range m {
		if len(m) == 1 || strings.Contains(d.Config, hexID) {
			if len(d.Layers) != len(s.Layers) {
				return fmt.Errorf("read docker archive: manifest.json lists %d layers, the image configuration %d", len(d.Layers), len(s.Layers))
			}
			for i, l := range d.Layers {
				index[filepathClean(l)] = i
			}
			break
		}
	}
	if len(index) == 0 {
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read docker archive: %w", noPath(err))
		}
		i, ok := index[filepathClean(h.Name)]
		if !ok {
			continue
		}
		var magic [4]byte
		if n, _ := io.ReadFull(tr, magic[:]); n == 4 && (magic[0] == 0x1f && magic[1] == 0x8b || magic == [4]byte{0x28, 0xb5, 0x2f, 0xfd}) {
			s.Layers[i].Size = h.Size
		}
	}
}

// LooksLikeID says a name is an image ID as the daemon takes one: 12 to 64 lowercase
// hex digits.
func LooksLikeID(s string) bool {
	if len(s) < 12 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// MaxLayers bounds the layers of an image dockaudit reads. Docker builds and runs at
// most 127; the bound leaves room for other builders while keeping a hostile manifest
// of thousands of (empty) layers from costing minutes.
const MaxLayers = 512

// fromImage fills the source from a ggcr image. A docker save archive may hold its
// layers uncompressed, and asking ggcr for such a layer's compressed digest or size
// compresses the whole layer; its layers are named by diff ID (the digest of the
// uncompressed tar, as docker inspect shows them) instead.
func (s *Source) fromImage(img v1.Image, digest string, byDiffID bool) error {
	cfg, err := img.ConfigFile()
	if err != nil {
		return fmt.Errorf("read image configuration: %w", err)
	}
	id, err := img.ConfigName()
	if err != nil {
		return fmt.Errorf("read image ID: %w", err)
	}
	if n := len(cfg.RootFS.DiffIDs); n > MaxLayers {
		return fmt.Errorf("the image has %d layers; dockaudit reads at most %d (Docker builds and runs at most 127)", n, MaxLayers)
	}
	ls, err := img.Layers()
	if err != nil {
		return fmt.Errorf("list layers: %w", err)
	}
	if len(ls) > MaxLayers {
		return fmt.Errorf("the image has %d layers; dockaudit reads at most %d (Docker builds and runs at most 127)", len(ls), MaxLayers)
	}
	s.Config, s.ID, s.Digest = cfg, id.String(), digest
	if digest != "" {
		if m, err := img.Manifest(); err == nil {
			s.Annotations = m.Annotations
		}
	}
	for i, l := range ls {
		layer := Layer{Open: l.Uncompressed}
		if i < len(cfg.RootFS.DiffIDs) {
			layer.Key = cfg.RootFS.DiffIDs[i].String()
		}
		if byDiffID {
			// From the configuration: ggcr would decompress a compressed layer to
			// compute it, and a corrupt layer is the walker's to report.
			if i >= len(cfg.RootFS.DiffIDs) {
				return fmt.Errorf("the image configuration lists %d layers, the manifest %d", len(cfg.RootFS.DiffIDs), len(ls))
			}
			layer.Digest = cfg.RootFS.DiffIDs[i].String()
			if s.Kind == "docker-archive" {
				// A file from elsewhere is checked against its configuration; an
				// export dockerd just made is not hashed a second time.
				layer.DiffID = layer.Digest
			}
		} else {
			d, err := l.Digest()
			if err != nil {
				return fmt.Errorf("layer digest: %w", err)
			}
			layer.Digest = d.String()
			layer.Size, _ = l.Size()
			if s.Kind == "oci" {
				layer.Open = verifiedLayer(l, d)
			}
		}
		s.Layers = append(s.Layers, layer)
	}
	return nil
}

// openOCI reads an OCI image layout: a directory, or a tar archive of one (unpacked
// into a private temporary directory: its blobs, never the image's files). "PATH:TAG"
// picks a manifest by its org.opencontainers.image.ref.name annotation.
func (s *Source) openOCI(ctx context.Context, ref string, opts OpenOptions) error {
	p, tag := ref, ""
	if _, err := os.Stat(p); err != nil {
		if i := strings.LastIndexByte(ref, ':'); i > 0 {
			p, tag = ref[:i], ref[i+1:]
		}
	}
	fi, err := os.Stat(p)
	if err != nil {
		return noPath(err)
	}
	s.Name = ref
	dir := p
	if fi.IsDir() {
		if err := layoutFiles(dir); err != nil {
			return fmt.Errorf("oci layout: %w", err)
		}
	} else {
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("oci archive: %w", errNotArchive)
		}
		dir, err = s.tempDir(opts.TempDir)
		if err != nil {
			return err
		}
		if err := unpackLayout(ctx, p, dir); err != nil {
			return fmt.Errorf("oci archive: %w", noPath(err))
		}
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return fmt.Errorf("oci layout: %w", noPath(err))
	}
	img, digest, err := pickImage(idx, tag, platform(opts.Platform), 0, &s.Indexes)
	if err != nil {
		return fmt.Errorf("oci layout: %w", noPath(err))
	}
	s.layout = &Layout{dir: dir, name: "oci:" + ref}
	return s.fromImage(img, digest, false)
}

// cosign save keeps an image's signatures and attestations beside it in the layout's
// index, marked by this annotation: they are not images to choose.
const cosignKind = "kind"

func cosignExtra(d v1.Descriptor) bool {
	k := d.Annotations[cosignKind]
	return k == "dev.cosignproject.cosign/sigs" || k == "dev.cosignproject.cosign/atts"
}

// pickImage chooses a manifest of an index: by tag annotation, else the one matching
// the platform, else the only one. Nested indexes are followed.
func pickImage(idx v1.ImageIndex, tag string, want v1.Platform, depth int, indexes *[]string) (v1.Image, string, error) {
	if depth > 4 {
		return nil, "", errors.New("image indexes nested too deeply")
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, "", err
	}
	var cands []v1.Descriptor
	for _, d := range im.Manifests {
		if tag != "" && d.Annotations["org.opencontainers.image.ref.name"] != tag || cosignExtra(d) || referrerLike(d) {
			continue
		}
		cands = append(cands, d)
	}
	if tag != "" && len(cands) == 0 {
		return nil, "", fmt.Errorf("no manifest is tagged %q", tag)
	}
	if len(cands) > 1 {
		var match []v1.Descriptor
		for _, d := range cands {
			if d.Platform == nil || d.Platform.Satisfies(want) {
				match = append(match, d)
			}
		}
		cands = match
	}
	if len(cands) != 1 {
		return nil, "", fmt.Errorf("%d manifests match platform %s; pick one with PATH:TAG or --platform", len(cands), want)
	}
	d := cands[0]
	if d.MediaType.IsIndex() {
		child, err := idx.ImageIndex(d.Digest)
		if err != nil {
			return nil, "", err
		}
		// A layout's blobs are files anyone can change: each manifest is checked
		// against the digest that names it before it is believed.
		if err := checkRaw(child.RawManifest, d.Digest, "index"); err != nil {
			return nil, "", err
		}
		*indexes = append(*indexes, d.Digest.String())
		return pickImage(child, "", want, depth+1, indexes)
	}
	img, err := idx.Image(d.Digest)
	if err != nil {
		return nil, "", err
	}
	if err := checkRaw(img.RawManifest, d.Digest, "manifest"); err != nil {
		return nil, "", err
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, "", err
	}
	if err := checkRaw(img.RawConfigFile, m.Config.Digest, "configuration"); err != nil {
		return nil, "", err
	}
	return img, d.Digest.String(), nil
}

// checkRaw checks that a blob read from a layout hashes to the digest that names it.
func checkRaw(raw func() ([]byte, error), want v1.Hash, what string) error {
	if want.Algorithm != "sha256" {
		return fmt.Errorf("%w: %s %s: only sha256 digests are verified", ErrDigest, what, want)
	}
	b, err := raw()
	if err != nil {
		return err
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != want.Hex {
		return fmt.Errorf("%w: the %s %s hashes to sha256:%x", ErrDigest, what, want, sum)
	}
	return nil
}

// referrerLike says an index entry is an artifact beside the images (a Notation
// signature, a Sigstore bundle…), by an artifact type that is no image config's.
func referrerLike(d v1.Descriptor) bool {
	return d.ArtifactType != "" && d.ArtifactType != string(types.OCIConfigJSON) && d.ArtifactType != string(types.DockerConfigJSON)
}

// platform parses "os/arch[/variant]"; the default is linux on this machine's arch.
func platform(s string) v1.Platform {
	if s == "" {
		return v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	}
	p, err := v1.ParsePlatform(s)
	if err != nil {
		return v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	}
	return *p
}

// unpackLayout extracts an OCI layout archive: only oci-layout, index.json and
// blobs/<alg>/<hex>, each as a plain file inside dir. Anything else is ignored. A
// sparse entry is refused: a few bytes of archive must not become gigabytes on disk.
// What is written is bounded by the archive's own size.
func unpackLayout(ctx context.Context, archive, dir string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	// A sparse archive is gigabytes of zeros on a few kilobytes of disk: unpacked, it
	// would fill the temporary directory.
	if fi, err := f.Stat(); err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && fi.Size() > 1<<20 && st.Blocks*512 < fi.Size()/2 {
			return fmt.Errorf("the archive is a sparse file (%s, %s of it on disk), which no image tool writes", safefile.Size(fi.Size()), safefile.Size(st.Blocks*512))
		}
	}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		n := filepathClean(h.Name)
		parts := strings.Split(n, "/")
		ok := n == "oci-layout" || n == "index.json" ||
			(len(parts) == 3 && parts[0] == "blobs" && validPart(parts[1]) && validPart(parts[2]))
		if !ok || (h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeRegA) {
			continue
		}
		if sparse(h) {
			return fmt.Errorf("%s is a sparse file, which no OCI layout writer makes", n)
		}
		dst := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return err
		}
		out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, safefile.Reader(ctx, tr))
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
}

// validPart accepts digest algorithm and hex names only: no dots, no separators.
func validPart(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c == '_' || c == '+' || c == '-') {
			return false
		}
	}
	return true
}

func (s *Source) openRegistry(ctx context.Context, ref string, opts OpenOptions) error {
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return fmt.Errorf("registry reference: %w", err)
	}
	if opts.Registry == nil {
		return errors.New("registry pulls are not available")
	}
	// A registry client that says which indexes it went through lets the image's
	// signatures be looked up for them too, without asking the registry again (a tag
	// may move between two questions).
	var img v1.Image
	var digest string
	if pc, ok := opts.Registry.(interface {
		PullChain(context.Context, name.Reference, v1.Platform) (v1.Image, string, []string, error)
	}); ok {
		img, digest, s.Indexes, err = pc.PullChain(ctx, r, platform(opts.Platform))
	} else {
		img, digest, err = opts.Registry.Pull(ctx, r, platform(opts.Platform))
	}
	if err != nil {
		return err
	}
	return s.fromImage(img, digest, false)
}

// openDir reads a root filesystem directory as a single layer, streamed as a tar built
// on the fly from lstat: links are recorded, never followed.
func (s *Source) openDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return noPath(err)
	}
	if !fi.IsDir() {
		return errors.New("not a directory")
	}
	s.Name = dir
	// A symlink to the root is followed once, here; links inside are never followed.
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return noPath(err)
	}
	s.Layers = []Layer{{Digest: "dir:" + dir, Open: func() (io.ReadCloser, error) {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(dirTar(real, pw)) }()
		return pr, nil
	}}}
	return nil
}

// dirTar writes a directory tree as a tar stream, in name order.
func dirTar(root string, w io.Writer) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			return nil // unreadable below the root: skipped, as a scanner without privileges would
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			link, _ = os.Readlink(p)
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return nil // sockets have no tar form
		}
		hdr.Name = filepath.ToSlash(rel)
		if info.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uname, hdr.Gname = "", ""
		if !info.Mode().IsRegular() {
			hdr.Size = 0
			return tw.WriteHeader(hdr)
		}
		f, err := os.OpenFile(p, os.O_RDONLY|nonblock, 0)
		if err != nil {
			return nil
		}
		defer f.Close()
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		n, err := io.Copy(tw, io.LimitReader(f, hdr.Size))
		if err == nil && n < hdr.Size {
			_, err = io.CopyN(tw, zeroReader{}, hdr.Size-n) // the file shrank while read
		}
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// verifiedLayer opens an OCI layout layer as stored, checks the stored bytes against
// the digest the manifest gives while they stream, and decompresses them (gzip, zstd
// or none, by their magic). A blob altered in place fails at its end.
func verifiedLayer(l v1.Layer, d v1.Hash) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) {
		if d.Algorithm != "sha256" {
			// Accepting it unchecked would let an altered layer through.
			return nil, fmt.Errorf("%w: layer digest %s: only sha256 digests are verified", ErrDigest, d)
		}
		rc, err := l.Compressed()
		if err != nil {
			return nil, err
		}
		var h hash.Hash = sha256.New()
		vr := &digestReader{r: rc, h: h, want: d}
		br := bufio.NewReaderSize(vr, 64<<10)
		magic, _ := br.Peek(4)
		var r io.Reader = br
		var closeDec func()
		switch {
		case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
			zr, err := gzip.NewReader(br)
			if err != nil {
				rc.Close()
				return nil, err
			}
			r = zr
		case len(magic) == 4 && bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
			zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
			if err != nil {
				rc.Close()
				return nil, err
			}
			r, closeDec = zr, zr.Close
		}
		return &drainReader{r: r, raw: br, c: rc, closeDec: closeDec}, nil
	}
}

// digestReader hashes what it reads and, at the end, fails if it does not match.
type digestReader struct {
	r    io.Reader
	h    hash.Hash
	want v1.Hash
}

func (d *digestReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if d.h != nil {
		d.h.Write(p[:n])
		if err == io.EOF {
			if got := hex.EncodeToString(d.h.Sum(nil)); got != d.want.Hex {
				return n, fmt.Errorf("%w: the blob hashes to sha256:%s, the manifest says %s", ErrDigest, got, d.want)
			}
		}
	}
	return n, err
}

// drainReader reads the decompressed stream and, at its end, the rest of the stored
// bytes (a compressed stream may end before the blob does), so the digest is checked
// over the whole blob.
type drainReader struct {
	r        io.Reader
	raw      io.Reader
	c        io.Closer
	closeDec func()
}

func (d *drainReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if err == io.EOF && d.r != d.raw {
		if _, derr := io.Copy(io.Discard, d.raw); derr != nil {
			return n, derr
		}
	}
	return n, err
}

func (d *drainReader) Close() error {
	if d.closeDec != nil {
		d.closeDec()
	}
	return d.c.Close()
}

// sparse reports a GNU or PAX sparse entry, whose holes archive/tar expands.
func sparse(h *tar.Header) bool {
	if h.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range h.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// ctxReader stops a copy when the context ends.
// noPath drops the path from a file system error: the reference the caller prints
// names it already.
func noPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
