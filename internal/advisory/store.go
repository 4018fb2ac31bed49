package advisory

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	bolt "go.etcd.io/bbolt"
)

// SchemaVersion is the version of the database layout; a database of another version
// is refused with the command that makes a new one.
const SchemaVersion = "1"

// FileName is the database file in the database directory.
const FileName = "vuln.db"

var (
	bMeta     = []byte("meta")
	bRecords  = []byte("records")
	bAffected = []byte("affected")
)

// SourceInfo describes one source a database was built from.
type SourceInfo struct {
	Name    string    `json:"name"`              // osv:Debian, debian-tracker, alpine-secdb:v3.20/main…
	Origin  string    `json:"origin"`            // the URL or path it came from
	Records int       `json:"records"`           // advisories read from it
	Skipped int       `json:"skipped,omitempty"` // entries that could not be read
	Fetched time.Time `json:"fetched"`
	// Watermark is the newest modification time the source's index listed when it
	// was fetched (OSV's modified_id.csv): the next update fetches what changed since.
	Watermark string `json:"watermark,omitempty"`
}

// Meta is what a database says about itself.
type Meta struct {
	Schema  string       `json:"schema"`
	Built   time.Time    `json:"built"`
	Sources []SourceInfo `json:"sources"`
	// Records and Packages count advisories and (ecosystem, package) keys.
	Records  int `json:"records"`
	Packages int `json:"packages"`
}

// Entry is one advisory's verdict on one package, as stored per package.
type Entry struct {
	ID       string   `json:"id"`
	Source   string   `json:"source"`
	Affected Affected `json:"affected"`
}

// Builder collects records in memory and writes a database.
type Builder struct {
	records  map[string]*Record
	affected map[string][]Entry
	sources  []SourceInfo
}

// NewBuilder starts an empty database.
func NewBuilder() *Builder {
	return &Builder{records: map[string]*Record{}, affected: map[string][]Entry{}}
}

// Add files a record: its metadata under its ID (merged with what other sources said
// of the same ID) and each affected entry under its ecosystem and package.
func (b *Builder) Add(r Record) {
	if r.ID == "" {
		return
	}
	cur, ok := b.records[r.ID]
	if !ok {
		meta := r
		meta.Affected = nil
		b.records[r.ID] = &meta
		cur = &meta
	} else {
		cur.Aliases = sortedUnique(append(cur.Aliases, r.Aliases...))
		if cur.Summary == "" {
			cur.Summary = r.Summary
		}
		if severityRank[r.Severity] > severityRank[cur.Severity] {
			cur.Severity = r.Severity
		}
		cur.CVSS = sortedUnique(append(cur.CVSS, r.CVSS...))
		if r.Withdrawn != "" {
			cur.Withdrawn = r.Withdrawn
		}
		if !strings.Contains(","+cur.Source+",", ","+r.Source+",") {
			cur.Source += "," + r.Source
		}
	}
	for _, a := range r.Affected {
		key := a.Ecosystem + "\x00" + normalizeName(a.Ecosystem, a.Package)
		b.affected[key] = append(b.affected[key], Entry{ID: r.ID, Source: r.Source, Affected: a})
	}
}

// AddSource records where a part of the data came from.
func (b *Builder) AddSource(s SourceInfo) { b.sources = append(b.sources, s) }

// Records is how many advisories the builder holds.
func (b *Builder) Records() int { return len(b.records) }

// Write writes the database to path (which must not exist), in key order with full
// pages: the file is only ever read afterwards.
func (b *Builder) Write(path string, now time.Time) error {
	db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: time.Second, NoSync: true, NoFreelistSync: true})
	if err != nil {
		return err
	}
	meta := Meta{Schema: SchemaVersion, Built: now.UTC(), Sources: b.sources, Records: len(b.records), Packages: len(b.affected)}
	err = db.Update(func(tx *bolt.Tx) error {
		mb, err := tx.CreateBucket(bMeta)
		if err != nil {
			return err
		}
		mj, _ := json.Marshal(meta)
		if err := mb.Put([]byte("meta"), mj); err != nil {
			return err
		}
		rb, err := tx.CreateBucket(bRecords)
		if err != nil {
			return err
		}
		rb.FillPercent = 1
		for _, id := range sortedKeys(b.records) {
			v, _ := json.Marshal(b.records[id])
			if err := rb.Put([]byte(id), compress(v)); err != nil {
				return err
			}
		}
		ab, err := tx.CreateBucket(bAffected)
		if err != nil {
			return err
		}
		ab.FillPercent = 1
		for _, key := range sortedKeys(b.affected) {
			entries := b.affected[key]
			sort.SliceStable(entries, func(i, j int) bool { return entries[i].ID < entries[j].ID })
			v, _ := json.Marshal(entries)
			if err := ab.Put([]byte(key), compress(v)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return err
	}
	if err := db.Sync(); err != nil {
		db.Close()
		return err
	}
	return db.Close()
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Install writes the database into dir atomically: to a temporary file beside the
// current one, then renamed over it. A failure leaves the current database as it was.
func (b *Builder) Install(dir string, now time.Time) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+FileName+".*.tmp")
	if err != nil {
		return err
	}
	tmpPath := tmp.Name()
	tmp.Close()
	os.Remove(tmpPath) // bolt creates the file itself
	defer os.Remove(tmpPath)
	if err := b.Write(tmpPath, now); err != nil {
		return fmt.Errorf("write the database: %w", err)
	}
	check, err := Open(tmpPath) // what was written must read back
	if err != nil {
		return fmt.Errorf("the new database does not open: %w", err)
	}
	check.Close()
	return os.Rename(tmpPath, filepath.Join(dir, FileName))
}

// Store is an open, read-only database.
type Store struct {
	db   *bolt.DB
	Meta Meta
	Path string
}

// ErrNoDatabase is returned when there is no database to open.
var ErrNoDatabase = errors.New("no vulnerability database")

// Open opens a database file read-only.
func Open(path string) (*Store, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoDatabase
	}
	db, err := bolt.Open(path, 0o644, &bolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &Store{db: db, Path: path}
	err = db.View(func(tx *bolt.Tx) error {
		mb := tx.Bucket(bMeta)
		if mb == nil || tx.Bucket(bRecords) == nil || tx.Bucket(bAffected) == nil {
			return errors.New("not a dockaudit vulnerability database")
		}
		return json.Unmarshal(mb.Get([]byte("meta")), &s.Meta)
	})
	if err == nil && s.Meta.Schema != SchemaVersion {
		err = fmt.Errorf("database schema %s; this dockaudit reads schema %s (run dockaudit db update)", s.Meta.Schema, SchemaVersion)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Lookup returns the entries filed under an ecosystem and package.
func (s *Store) Lookup(ecosystem, pkg string) ([]Entry, error) {
	var out []Entry
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bAffected).Get([]byte(ecosystem + "\x00" + normalizeName(ecosystem, pkg)))
		if v == nil {
			return nil
		}
		return decodeValue(v, &out)
	})
	return out, err
}

// Record returns an advisory's metadata.
func (s *Store) Record(id string) (Record, bool, error) {
	var r Record
	found := false
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bRecords).Get([]byte(id))
		if v == nil {
			return nil
		}
		found = true
		return decodeValue(v, &r)
	})
	return r, found, err
}

// Values are JSON compressed with zstd: about 8 times smaller than plain JSON for
// advisory text, and a lookup decodes a few kilobytes.
// The codecs hold no state between calls (EncodeAll and DecodeAll are safe for
// concurrent use); their options are constants, so they cannot fail to build. A value
// may not decode to more than 64 MiB: a crafted database (an imported bundle) must not
// make one lookup allocate gigabytes.
var (
	zenc = must(zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithEncoderConcurrency(1)))
	zdec = must(zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(64<<20)))
)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func compress(v []byte) []byte { return zenc.EncodeAll(v, nil) }

func decodeValue(v []byte, into any) error {
	raw, err := zdec.DecodeAll(v, nil)
	if err != nil {
		return fmt.Errorf("database value: %w", err)
	}
	return json.Unmarshal(raw, into)
}
