package advisory

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/dockaudit/dockaudit/internal/safefile"
)

// bundleManifest describes an exported database.
type bundleManifest struct {
	Format string `json:"format"` // "dockaudit-vulndb"
	Schema string `json:"schema"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Meta   Meta   `json:"meta"`
}

const bundleFormat = "dockaudit-vulndb"

// Export writes the database as a bundle (a tar.gz of manifest.json and vuln.db) for
// a host without network access to import.
func Export(s *Store, w io.Writer) error {
	f, err := os.Open(s.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	size, err := io.Copy(h, f)
	if err != nil {
		return err
	}
	m, _ := json.MarshalIndent(bundleManifest{Format: bundleFormat, Schema: SchemaVersion, SHA256: hex.EncodeToString(h.Sum(nil)), Size: size, Meta: s.Meta}, "", "  ")
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	if err := tw.WriteHeader(&tar.Header{Name: "manifest.json", Mode: 0o644, Size: int64(len(m)), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	if _, err := tw.Write(m); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: FileName, Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	if _, err := io.Copy(tw, f); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

// IsBundle reports whether a file is an exported bundle (gzip magic and a manifest).
func IsBundle(path string) bool {
	f, err := safefile.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return false
	}
	h, err := tar.NewReader(gz).Next()
	return err == nil && h.Name == "manifest.json"
}

// maxBundleDB bounds an imported database (every source together is a few GiB), and
// bundleRatio how much larger than its bundle it may be (bundleFloor for a small one).
const (
	maxBundleDB = 16 << 30
	bundleRatio = 50
	bundleFloor = 256 << 20
)

// ImportBundle installs an exported bundle into dir after checking its format,
// schema, size and checksum; the current database is replaced only when all agree.
func ImportBundle(ctx context.Context, path, dir string) (Meta, error) {
	f, err := safefile.Open(path)
	if err != nil {
		return Meta{}, err
	}
	defer f.Close()
	var bundleSize int64
	if fi, err := f.Stat(); err == nil {
		bundleSize = fi.Size()
	}
	gz, err := gzip.NewReader(f)
	if err != nil {
		return Meta{}, fmt.Errorf("not a dockaudit database bundle: %w", err)
	}
	tr := tar.NewReader(gz)
	var m bundleManifest
	h, err := tr.Next()
	if err != nil || h.Name != "manifest.json" {
		return Meta{}, errors.New("not a dockaudit database bundle: no manifest.json first")
	}
	if err := json.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(&m); err != nil || m.Format != bundleFormat {
		return Meta{}, errors.New("not a dockaudit database bundle: bad manifest.json")
	}
	if m.Schema != SchemaVersion {
		return Meta{}, fmt.Errorf("the bundle holds schema %s; this dockaudit reads schema %s (export it with a matching dockaudit)", m.Schema, SchemaVersion)
	}
	h, err = tr.Next()
	if err != nil || h.Name != FileName {
		return Meta{}, fmt.Errorf("the bundle has no %s after its manifest", FileName)
	}
	// The sizes are the bundle's own word: they must agree, and stay below what any
	// database is, before anything is written to disk.
	if h.Size != m.Size || m.Size <= 0 || m.Size > maxBundleDB {
		return Meta{}, fmt.Errorf("the bundle's database is %d bytes and its manifest says %d (at most %d): truncated or altered", h.Size, m.Size, int64(maxBundleDB))
	}
	// A database compresses a few times in gzip, not a thousand: a small bundle that
	// declares gigabytes is a bomb, refused before anything is written.
	if limit := max(bundleFloor, bundleRatio*bundleSize); m.Size > limit {
		return Meta{}, fmt.Errorf("the bundle's database would be %s from a bundle of %s (at most %d times): not a database export", safefile.Size(m.Size), safefile.Size(bundleSize), bundleRatio)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Meta{}, err
	}
	tmp, err := os.CreateTemp(dir, "."+FileName+".*.tmp")
	if err != nil {
		return Meta{}, err
	}
	defer os.Remove(tmp.Name())
	sum := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, sum), io.LimitReader(safefile.Reader(ctx, tr), m.Size+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		return Meta{}, fmt.Errorf("read the bundle: %w", err)
	case n != m.Size:
		return Meta{}, fmt.Errorf("the bundle's database is %d bytes, its manifest says %d: truncated or altered", n, m.Size)
	case hex.EncodeToString(sum.Sum(nil)) != m.SHA256:
		return Meta{}, errors.New("the bundle's database does not match its checksum: altered or damaged")
	}
	s, err := Open(tmp.Name())
	if err != nil {
		return Meta{}, fmt.Errorf("the bundle's database does not open: %w", err)
	}
	meta := s.Meta
	s.Close()
	if err := os.Rename(tmp.Name(), filepath.Join(dir, FileName)); err != nil {
		return Meta{}, err
	}
	return meta, nil
}

// ImportOptions say how an import joins the current database.
type ImportOptions struct {
	// Replace starts a new database from what is imported; otherwise the import adds
	// its sources to the current database, replacing only the sources it holds again.
	Replace bool
}

// Import reads advisories from files, directories and zip archives (see LoadPath) and
// installs them in dir: added to the current database source by source (a source
// imported again replaces its earlier copy), or alone with Replace. A single exported
// bundle is installed as it is. Nothing changes unless everything was read.
func Import(ctx context.Context, paths []string, dir string, now time.Time, o ImportOptions) (Meta, error) {
	meta, _, err := ImportNotes(ctx, paths, dir, now, o)
	return meta, err
}

// ImportNotes is Import, and also says what the import passed over (test fixtures, a
// vulndb checkout's other directories).
func ImportNotes(ctx context.Context, paths []string, dir string, now time.Time, o ImportOptions) (Meta, []string, error) {
	if len(paths) == 1 && IsBundle(paths[0]) {
		m, err := ImportBundle(ctx, paths[0], dir)
		return m, nil, err
	}
	b := NewBuilder()
	for _, p := range paths {
		if IsBundle(p) {
			return Meta{}, nil, fmt.Errorf("%s is an exported bundle; import it alone", p)
		}
		srcs, err := LoadPath(ctx, b, p, now)
		if err != nil {
			return Meta{}, nil, err
		}
		for _, s := range srcs {
			b.AddSource(s)
		}
	}
	if !o.Replace {
		old, err := Open(filepath.Join(dir, FileName))
		switch {
		case errors.Is(err, ErrNoDatabase):
		case err != nil:
			return Meta{}, nil, fmt.Errorf("the current database cannot be added to (%w); import with --replace to start a new one", err)
		default:
			defer old.Close()
			loaded := b.SourceNames()
			var keep []string
			for _, s := range old.Meta.Sources {
				if !slices.Contains(loaded, s.Name) {
					keep = append(keep, s.Name)
				}
			}
			if err := old.KeepSources(b, keep); err != nil {
				return Meta{}, nil, fmt.Errorf("read the current database: %w", err)
			}
		}
	}
	if err := b.Install(dir, now); err != nil {
		return Meta{}, nil, err
	}
	s, err := Open(filepath.Join(dir, FileName))
	if err != nil {
		return Meta{}, nil, err
	}
	defer s.Close()
	return s.Meta, b.Notes(), nil
}
