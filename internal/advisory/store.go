package advisory

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
	bolt "go.etcd.io/bbolt"
)

// SchemaVersion is the version of the database layout; a database of another version
// is refused with the command that makes a new one.
const SchemaVersion = "2"

// FileName is the database file in the database directory.
const FileName = "vuln.db"

var (
	bMeta     = []byte("meta")
	bRecords  = []byte("records")
	bAffected = []byte("affected")
)

// SourceInfo describes one source a database was built from.
type SourceInfo struct {
	Name    string `json:"name"`              // osv:Debian, debian-tracker, alpine-secdb:v3.20/main…
	Origin  string `json:"origin"`            // the URL or path it came from
	Records int    `json:"records"`           // advisories read from it
	Skipped int    `json:"skipped,omitempty"` // entries that could not be read
	// Dropped counts records the source's index listed as changed and then answered
	// 404 for: gone from the source, and from the database.
	Dropped int `json:"dropped,omitempty"`
	// Fetched is when the source was downloaded or imported; DataDate the newest
	// modification time among its records (zero when they carry none).
	Fetched  time.Time `json:"fetched"`
	DataDate time.Time `json:"dataDate,omitzero"`
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
	// Ecosystems are the ecosystems the database has advisories for ("Debian:12",
	// "Go"), each with its packages and the sources that cover it: what an image's
	// packages can be matched against.
	Ecosystems []EcosystemInfo `json:"ecosystems"`
}

// EcosystemInfo is one ecosystem of a database.
type EcosystemInfo struct {
	Name     string   `json:"name"`
	Packages int      `json:"packages"`
	Sources  []string `json:"sources"`
}

// Ecosystem returns what the database holds for an ecosystem.
func (m Meta) Ecosystem(name string) (EcosystemInfo, bool) {
	i, ok := slices.BinarySearchFunc(m.Ecosystems, name, func(e EcosystemInfo, n string) int { return cmp.Compare(e.Name, n) })
	if !ok {
		return EcosystemInfo{}, false
	}
	return m.Ecosystems[i], true
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
	// dataDates is the newest modification time seen per source.
	dataDates map[string]time.Time
	// notes say what loading passed over (test fixtures, a vulndb checkout's other
	// directories), for the user.
	notes []string
}

// Notes say what loading passed over.
func (b *Builder) Notes() []string { return b.notes }

// NewBuilder starts an empty database.
func NewBuilder() *Builder {
	return &Builder{records: map[string]*Record{}, affected: map[string][]Entry{}, dataDates: map[string]time.Time{}}
}

// Absorb moves everything o holds into b: a source loaded on its own (so that a
// failure leaves b untouched) joins the database.
func (b *Builder) Absorb(o *Builder) {
	for id, r := range o.records {
		if _, ok := b.records[id]; !ok {
			b.records[id] = r
			continue
		}
		m := *r
		m.Affected = nil
		b.Add(m)
	}
	for k, es := range o.affected {
		b.affected[k] = append(b.affected[k], es...)
	}
	b.sources = append(b.sources, o.sources...)
	for s, t := range o.dataDates {
		if t.After(b.dataDates[s]) {
			b.dataDates[s] = t
		}
	}
}

// SourceNames are the sources the builder has records of.
func (b *Builder) SourceNames() []string {
	seen := map[string]bool{}
	for _, es := range b.affected {
		for _, e := range es {
			seen[e.Source] = true
		}
	}
	return sortedKeys(seen)
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
	if t, err := time.Parse(time.RFC3339, r.Modified); err == nil && t.After(b.dataDates[r.Source]) {
		b.dataDates[r.Source] = t.UTC()
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
	meta := Meta{Schema: SchemaVersion, Built: now.UTC(), Sources: b.sources, Records: len(b.records), Packages: len(b.affected),
		Ecosystems: b.ecosystems()}
	for i := range meta.Sources {
		if s := &meta.Sources[i]; s.DataDate.IsZero() {
			s.DataDate = b.dataDates[s.Name]
		}
	}
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

// ecosystems lists the ecosystems the builder has entries for, sorted, with their
// package counts and sources.
func (b *Builder) ecosystems() []EcosystemInfo {
	byName := map[string]*EcosystemInfo{}
	sources := map[string]map[string]bool{}
	for key, es := range b.affected {
		eco, _, _ := strings.Cut(key, "\x00")
		e := byName[eco]
		if e == nil {
			e = &EcosystemInfo{Name: eco}
			byName[eco], sources[eco] = e, map[string]bool{}
		}
		e.Packages++
		for _, en := range es {
			sources[eco][en.Source] = true
		}
	}
	out := make([]EcosystemInfo, 0, len(byName))
	for _, name := range sortedKeys(byName) {
		e := byName[name]
		e.Sources = sortedKeys(sources[name])
		out = append(out, *e)
	}
	return out
}

// CopySources adds to b the entries of the sources keep accepts (with each record's
// metadata), and their SourceInfo, and returns how many records each gave.
func (s *Store) CopySources(b *Builder, keep func(source, id string) bool) (map[string]int, error) {
	ids := map[string]map[string]bool{}
	err := s.db.View(func(tx *bolt.Tx) error {
		recs := tx.Bucket(bRecords)
		return tx.Bucket(bAffected).ForEach(func(k, v []byte) error {
			var es []Entry
			if err := decodeValue(v, &es); err != nil {
				return err
			}
			eco, pkg, _ := strings.Cut(string(k), "\x00")
			for _, e := range es {
				if !keep(e.Source, e.ID) {
					continue
				}
				var r Record
				if raw := recs.Get([]byte(e.ID)); raw != nil {
					if err := decodeValue(raw, &r); err != nil {
						return err
					}
				}
				r.ID, r.Source = e.ID, e.Source
				a := e.Affected
				a.Ecosystem, a.Package = eco, pkg
				r.Affected = []Affected{a}
				b.Add(r)
				if ids[e.Source] == nil {
					ids[e.Source] = map[string]bool{}
				}
				ids[e.Source][e.ID] = true
			}
			return nil
		})
	})
	counts := map[string]int{}
	for src, set := range ids {
		counts[src] = len(set)
	}
	return counts, err
}

// KeepSources copies whole sources of the database into b, their SourceInfo included.
func (s *Store) KeepSources(b *Builder, names []string) error {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	if _, err := s.CopySources(b, func(src, _ string) bool { return want[src] }); err != nil {
		return err
	}
	for _, si := range s.Meta.Sources {
		if want[si.Name] {
			b.AddSource(si)
		}
	}
	return nil
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
	// memo, when set, keeps decoded lookups and records: judging thousands of images
	// built on a few bases asks for the same packages over and over.
	memo *memo
}

type memo struct {
	lookups, records, matches sync.Map
}

type recordMemo struct {
	r     Record
	found bool
}

// Memoize makes the store keep every lookup, record and match it makes, for as long as
// it is open (dockaudit serve's re-match). Callers must not change what they get.
func (s *Store) Memoize() { s.memo = &memo{} }

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
	key := ecosystem + "\x00" + normalizeName(ecosystem, pkg)
	if s.memo != nil {
		if v, ok := s.memo.lookups.Load(key); ok {
			return v.([]Entry), nil
		}
	}
	out, err := s.lookup(key)
	if err == nil && s.memo != nil {
		s.memo.lookups.Store(key, out)
	}
	return out, err
}

func (s *Store) lookup(key string) ([]Entry, error) {
	var out []Entry
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bAffected).Get([]byte(key))
		if v == nil {
			return nil
		}
		return decodeValue(v, &out)
	})
	return out, err
}

// Record returns an advisory's metadata.
func (s *Store) Record(id string) (Record, bool, error) {
	if s.memo != nil {
		if v, ok := s.memo.records.Load(id); ok {
			m := v.(recordMemo)
			return m.r, m.found, nil
		}
	}
	r, found, err := s.record(id)
	if err == nil && s.memo != nil {
		s.memo.records.Store(id, recordMemo{r, found})
	}
	return r, found, err
}

func (s *Store) record(id string) (Record, bool, error) {
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
