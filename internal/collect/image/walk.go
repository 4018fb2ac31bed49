package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/inventory"
	"github.com/dockaudit/dockaudit/internal/safefile"
	"github.com/dockaudit/dockaudit/internal/textsafe"
)

// Limits bound what an image may make the reader do. Images are untrusted input: a
// layer can be a decompression bomb, hold millions of entries, absurd paths or link
// chains. Zero fields take the defaults.
type Limits struct {
	MaxBytes     int64 // decompressed bytes over all layers (default 16 GiB)
	MaxEntries   int   // tar entries over all layers (default 4 million)
	MaxPathLen   int   // bytes in one entry's path (default 4096)
	MaxLinkDepth int   // symlinks followed resolving one path (default 40)
	MaxFileRead  int64 // bytes captured from one file (default 64 MiB)
	MaxCaptured  int64 // bytes captured from all files, every layer's copy counted (default 1 GiB)
	// MaxRatio stops a layer whose decompressed size passes BombFloor at more than this
	// many times its compressed size (default 200): a bomb, not an image.
	MaxRatio  int64
	BombFloor int64 // default 1 GiB
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = 16 << 30
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = 4_000_000
	}
	if l.MaxPathLen <= 0 {
		l.MaxPathLen = 4096
	}
	if l.MaxLinkDepth <= 0 {
		l.MaxLinkDepth = 40
	}
	if l.MaxFileRead <= 0 {
		l.MaxFileRead = 64 << 20
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = 200
	}
	if l.MaxCaptured <= 0 {
		l.MaxCaptured = 1 << 30
	}
	if l.BombFloor <= 0 {
		l.BombFloor = 1 << 30
	}
	return l
}

// Action says what the walker keeps of an entry.
type Action uint8

const (
	// Skip keeps nothing (the entry still counts and is streamed past).
	Skip Action = 0
	// Keep records the entry in the index (path, type, mode, owner, size, layer).
	Keep Action = 1 << iota
	// Read captures the content of a regular file (up to MaxFileRead).
	Read
	// History keeps every layer's version of a Read file, not only the last (package
	// databases, to tell which layer introduced each package).
	History
	// Scan passes the content of a regular file to OnContent (secret scanning).
	Scan
	// ScanGo looks for Go build information in an ELF executable as it streams.
	ScanGo
	// Derive reads a regular file and passes it to Options.Derive; the node keeps the
	// result, not the content (Java archives).
	Derive
)

// Entry is what Want sees of a tar entry.
type Entry struct {
	Path string // cleaned, absolute ("/etc/os-release")
	Type byte   // tar type flag
	Mode int64  // permission and special bits (tar header mode)
	Size int64
}

// Regular reports a regular file.
func (e Entry) Regular() bool { return e.Type == tar.TypeReg || e.Type == tar.TypeRegA }

// Layer is one layer of an image, as a stream of its uncompressed tar.
type Layer struct {
	Digest string // the (compressed) digest, for findings
	Size   int64  // compressed size, for the bomb ratio (0 when unknown)
	Open   func() (io.ReadCloser, error)
	// DiffID, when set ("sha256:…"), is what the uncompressed stream must hash to; a
	// layer that does not is refused (an altered or damaged archive).
	DiffID string
	// Key is the diff ID the image configuration names for the layer: with a Cache,
	// the layer's record is kept under it, once the stream has been checked against it.
	Key string
}

// Options configure a walk.
type Options struct {
	Limits Limits
	// Want decides what is kept of each entry; the Keep bit is implied for symlinks,
	// hardlinks and anything Read.
	Want func(Entry) Action
	// OnContent receives the content of entries Want marked Scan: up to MaxScan bytes,
	// and returns the secrets found in it, which the view keeps (View.Secrets). An
	// entry marked only Scan is indexed when it holds a secret (to tell later whether
	// a higher layer removed it); the index of an image of a million scanned files
	// stays as small as its findings.
	OnContent func(layer int, path string, data []byte) []facts.Secret
	// MaxScan bounds the bytes passed to OnContent (default 1 MiB; longer files are cut).
	MaxScan int64
	// Derive turns the content of an entry Want marked Derive into the packages the
	// node keeps.
	Derive func(layer int, path string, data []byte) []facts.Package
	// Cache, when set, keeps what each layer with a Key gave, so the next image with
	// that layer replays it instead of reading it (see cache.go).
	Cache LayerCache
}

// WalkError is an image the walker refused or could not read, with the layer.
type WalkError struct {
	Layer  int
	Digest string
	Err    error
}

func (e *WalkError) Error() string {
	return fmt.Sprintf("layer %d (%s): %v", e.Layer+1, shortDigest(e.Digest), e.Err)
}

func (e *WalkError) Unwrap() error { return e.Err }

// Errors the walker returns (wrapped in WalkError).
var (
	ErrTooLarge   = errors.New("the image decompresses to more than the limit")
	ErrBomb       = errors.New("the layer decompresses to far more than its compressed size (a decompression bomb?)")
	ErrTooMany    = errors.New("the image has more entries than the limit")
	ErrPathLength = errors.New("an entry's path is longer than the limit")
	ErrDigest     = errors.New("the layer was altered or damaged")
	ErrCaptured   = errors.New("the image holds more package-database and manifest content than the limit")
)

func shortDigest(d string) string {
	if i := strings.IndexByte(d, ':'); i >= 0 && len(d) > i+13 {
		return d[:i+13]
	}
	if d == "" {
		return "no digest"
	}
	return d
}

// Walk streams the layers in order, base first, and returns the merged view: whiteouts
// and opaque directories of a layer remove what lower layers put there. Each layer is
// read once; nothing is written to the host.
func Walk(ctx context.Context, layers []Layer, opts Options) (*View, error) {
	lim := opts.Limits.withDefaults()
	if opts.MaxScan <= 0 {
		opts.MaxScan = 1 << 20
	}
	v := newView(len(layers), lim)
	var total int64
	entries := 0
	for i, l := range layers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var n int
		var err error
		if opts.Cache != nil && l.Key != "" {
			n, err = cachedLayer(ctx, v, i, l, opts, lim, &total, &entries)
		} else {
			n, err = walkLayer(ctx, v, i, l, opts, lim, &total, &entries, nil)
		}
		v.Layers[i] = LayerStats{Digest: l.Digest, Entries: n}
		if err != nil {
			return nil, &WalkError{Layer: i, Digest: l.Digest, Err: err}
		}
	}
	v.Layers = v.Layers[:len(layers)]
	return v, nil
}

// countingReader counts decompressed bytes and enforces the limits on them.
type countingReader struct {
	r         io.Reader
	total     *int64
	layer     int64
	max       int64
	ratioBase int64 // compressed size × ratio, 0 when unknown
	floor     int64
	err       error
	tail      [1024]byte // the last bytes read, to see the end-of-archive marker
	tailLen   int
	hash      *pipeHash // of everything read, when the layer has a DiffID to match
}

// pipeHash computes SHA-256 on another goroutine over copies of what is written to
// it, so that a layer's digest (most of a read's CPU) is computed beside the tar
// parsing and the catalogers, not in turn with them. Close stops it; Sum closes it
// and returns the digest.
type pipeHash struct {
	ch     chan []byte
	free   chan []byte
	sum    chan []byte
	made   int
	closed bool
}

// pipeBuffers bounds the copies in flight, of pipeChunk bytes each (what the tar
// reader's buffer reads at a time).
const (
	pipeBuffers = 8
	pipeChunk   = 64 << 10
)

func newPipeHash() *pipeHash {
	p := &pipeHash{ch: make(chan []byte, pipeBuffers), free: make(chan []byte, pipeBuffers), sum: make(chan []byte, 1)}
	go func() {
		h := sha256.New()
		for b := range p.ch {
			h.Write(b)
			p.free <- b[:0]
		}
		p.sum <- h.Sum(nil)
	}()
	return p
}

func (p *pipeHash) Write(b []byte) {
	for len(b) > 0 {
		var buf []byte
		select {
		case buf = <-p.free:
		default:
			if p.made < pipeBuffers {
				p.made++
				buf = make([]byte, 0, pipeChunk)
			} else {
				buf = <-p.free // every copy is in flight: wait for one
			}
		}
		n := min(len(b), pipeChunk)
		p.ch <- append(buf, b[:n]...)
		b = b[n:]
	}
}

func (p *pipeHash) Close() {
	if !p.closed {
		p.closed = true
		close(p.ch)
	}
}

func (p *pipeHash) Sum() []byte {
	p.Close()
	return <-p.sum
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	if c.hash != nil {
		c.hash.Write(p[:n])
	}
	if n >= len(c.tail) {
		copy(c.tail[:], p[n-len(c.tail):n])
		c.tailLen = len(c.tail)
	} else if n > 0 {
		keep := min(c.tailLen, len(c.tail)-n)
		copy(c.tail[:], c.tail[c.tailLen-keep:c.tailLen])
		copy(c.tail[keep:], p[:n])
		c.tailLen = keep + n
	}
	*c.total += int64(n)
	c.layer += int64(n)
	switch {
	case *c.total > c.max:
		c.err = ErrTooLarge
	case c.ratioBase > 0 && c.layer > c.floor && c.layer > c.ratioBase:
		c.err = ErrBomb
	}
	if c.err != nil {
		return n, c.err
	}
	return n, err
}

// walkLayer reads one layer into the view; with rec set it also records every change
// it makes to the view, for the cache to replay.
func walkLayer(ctx context.Context, v *View, idx int, l Layer, opts Options, lim Limits, total *int64, entries *int, rec *record) (int, error) {
	rc, err := l.Open()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	// ctxReader: one huge entry must not outlast --timeout.
	cr := &countingReader{r: safefile.Reader(ctx, rc), total: total, max: lim.MaxBytes, floor: lim.BombFloor}
	diffID := l.DiffID
	if rec != nil {
		diffID = l.Key // a record is kept only for content checked against its key
	}
	wantHex, verify := strings.CutPrefix(diffID, "sha256:")
	if verify {
		cr.hash = newPipeHash()
		defer cr.hash.Close()
	}
	if l.Size > 0 {
		// The compressed size comes from the image's own manifest: a huge one must not
		// overflow into a bound that never trips.
		cr.ratioBase = lim.MaxBytes
		if l.Size <= lim.MaxBytes/lim.MaxRatio {
			cr.ratioBase = l.Size * lim.MaxRatio
		}
	}
	tr := tar.NewReader(bufio.NewReaderSize(cr, 64<<10))
	n := 0
	for {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return n, err
			}
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			// archive/tar accepts a stream that stops on a block boundary; a layer
			// always ends with two zero blocks, so their absence means it was cut.
			// Reading to the end also checks a compressed stream's trailer.
			if _, err := io.Copy(io.Discard, cr); err != nil {
				return n, readErr(cr, err)
			}
			if cr.tailLen < len(cr.tail) || !allZero(cr.tail[:]) {
				rec.anomaly(v, idx, "", "the layer ends without the end-of-archive marker: it may be truncated")
			}
			if verify {
				if got := hex.EncodeToString(cr.hash.Sum()); got != wantHex {
					return n, fmt.Errorf("%w: the content hashes to sha256:%s, the image says %s", ErrDigest, got, diffID)
				}
			}
			if rec != nil {
				rec.Entries, rec.Bytes = n, cr.layer
			}
			return n, nil
		}
		if err != nil {
			return n, readErr(cr, err)
		}
		n++
		*entries++
		if *entries > lim.MaxEntries {
			return n, ErrTooMany
		}
		if len(hdr.Name) > lim.MaxPathLen || len(hdr.Linkname) > lim.MaxPathLen {
			return n, ErrPathLength
		}
		p, ok := cleanEntry(hdr.Name)
		if !ok {
			rec.anomaly(v, idx, hdr.Name, "the entry's path leaves the image root")
			continue
		}
		if p == "/" {
			continue
		}
		dir, base := path.Split(p)
		if strings.HasPrefix(base, ".wh.") {
			switch target := strings.TrimPrefix(base, ".wh."); {
			case base == ".wh..wh..opq":
				rec.opaque(v, idx, path.Clean(dir))
			case target == "" || target == "." || target == "..":
				// No builder writes these; taken literally they would empty the
				// directory, its parent or the root.
				rec.anomaly(v, idx, hdr.Name, "a whiteout of "+strconv.Quote(target)+" names no entry")
			default:
				rec.whiteout(v, idx, path.Join(dir, target))
			}
			if v.exhausted {
				return n, ErrTooMany
			}
			continue
		}
		// A new entry replaces whatever lower layers had at this path, and a file
		// replacing a directory hides everything below it.
		rec.replace(v, idx, p, hdr.Typeflag == tar.TypeDir)
		if v.exhausted {
			return n, ErrTooMany
		}
		e := Entry{Path: p, Type: hdr.Typeflag, Mode: hdr.Mode, Size: hdr.Size}
		act := Skip
		if opts.Want != nil {
			act = opts.Want(e)
		}
		switch hdr.Typeflag {
		case tar.TypeSymlink:
			rec.put(v, &Node{Path: p, Type: hdr.Typeflag, Mode: hdr.Mode, UID: hdr.Uid, GID: hdr.Gid, Layer: idx, Link: hdr.Linkname})
			continue
		case tar.TypeLink:
			target, ok := cleanEntry(hdr.Linkname)
			if !ok {
				rec.anomaly(v, idx, hdr.Name, "the hard link's target leaves the image root: "+hdr.Linkname)
				continue
			}
			rec.put(v, &Node{Path: p, Type: tar.TypeLink, Mode: hdr.Mode, UID: hdr.Uid, GID: hdr.Gid, Layer: idx, Link: target})
			continue
		}
		if act == Skip {
			continue
		}
		node := &Node{Path: p, Type: hdr.Typeflag, Mode: hdr.Mode, UID: hdr.Uid, GID: hdr.Gid, Size: hdr.Size, Layer: idx}
		keep := act != Scan
		if e.Regular() && act&(Read|Scan|ScanGo|Derive) != 0 {
			found, err := readContent(tr, node, act, idx, opts, lim)
			if err != nil {
				return n, readErr(cr, err)
			}
			if len(found) > 0 {
				keep = true
				rec.secrets(v, found)
			}
		}
		if !keep {
			continue
		}
		if err := rec.keep(v, node, act&History != 0, lim); err != nil {
			return n, err
		}
	}
}

// keep puts a node read from a layer into the view. Each kept copy stays in memory
// until the walk ends (History keeps every layer's): they are bounded together.
func (v *View) keep(node *Node, history bool, lim Limits) error {
	if v.captured += int64(len(node.Data)); v.captured > lim.MaxCaptured {
		return ErrCaptured
	}
	if history && node.Data != nil {
		v.history[node.Path] = append(v.history[node.Path], Version{Layer: node.Layer, Data: node.Data})
	}
	v.put(node)
	return nil
}

// readErr turns a limit hit inside the tar reader back into the limit's error.
func readErr(cr *countingReader, err error) error {
	if cr.err != nil {
		return cr.err
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("the layer is truncated: %w", err)
	}
	return err
}

// readContent takes what Want asked for from one regular file, and returns the secrets
// OnContent found in a scanned one.
func readContent(r io.Reader, node *Node, act Action, layer int, opts Options, lim Limits) (found []facts.Secret, err error) {
	switch {
	case act&Derive != 0:
		data, err := io.ReadAll(io.LimitReader(r, lim.MaxFileRead+1))
		if err != nil {
			return nil, err
		}
		if int64(len(data)) > lim.MaxFileRead {
			node.Truncated = true
			return nil, nil
		}
		if opts.Derive != nil {
			node.Derived = opts.Derive(layer, node.Path, data)
		}
	case act&ScanGo != 0:
		var head [4]byte
		n, err := io.ReadFull(r, head[:])
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return nil, err
		}
		if n == 4 && bytes.Equal(head[:], elfMagic) {
			f, err := scanExecutable(io.MultiReader(bytes.NewReader(head[:]), r))
			if err != nil {
				return nil, err
			}
			node.GoBuildInfo, node.Note = f.Go, f.Note
			if f.DepV0 != nil {
				node.Derived, err = inventory.CargoAuditablePackages(f.DepV0, node.Path, layer)
				if err != nil {
					node.Note = "its .dep-v0 section (cargo-auditable's crate list) does not decode: " + textsafe.FirstLine(err.Error(), 200)
				}
				if node.Derived == nil {
					node.Derived = []facts.Package{} // read, and no crate from a registry
				}
			}
			if f.DotnetDeps != nil {
				if node.Derived = inventory.DotnetPackages(f.DotnetDeps, node.Path, layer); node.Derived == nil {
					node.Derived = []facts.Package{}
				}
			}
			return nil, nil
		}
		if act&Scan != 0 && opts.OnContent != nil { // a script
			rest, err := io.ReadAll(io.LimitReader(r, max(0, opts.MaxScan-int64(n))))
			if err != nil {
				return nil, err
			}
			found = opts.OnContent(layer, node.Path, append(head[:n:n], rest...))
		}
	case act&Read != 0:
		data, err := io.ReadAll(io.LimitReader(r, lim.MaxFileRead+1))
		if err != nil {
			return nil, err
		}
		if int64(len(data)) > lim.MaxFileRead {
			node.Truncated = true
			data = data[:lim.MaxFileRead]
		}
		node.Data = data
		if act&Scan != 0 && opts.OnContent != nil {
			end := min(int64(len(data)), opts.MaxScan)
			found = opts.OnContent(layer, node.Path, data[:end])
		}
	case act&Scan != 0:
		data, err := io.ReadAll(io.LimitReader(r, opts.MaxScan))
		if err != nil {
			return nil, err
		}
		if opts.OnContent != nil {
			found = opts.OnContent(layer, node.Path, data)
		}
	}
	return found, nil
}

// cleanEntry makes a tar entry name absolute and clean, and reports false when it
// leaves the root ("../../etc/passwd"), which a legitimate layer never does.
func cleanEntry(name string) (string, bool) {
	if name == "" {
		return "", false
	}
	// Reject any ".." component before cleaning: path.Clean("/../x") is "/x", which
	// would hide the traversal.
	for _, c := range strings.Split(name, "/") {
		if c == ".." {
			return "", false
		}
	}
	if strings.ContainsRune(name, 0) {
		return "", false
	}
	return path.Clean("/" + name), true
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
