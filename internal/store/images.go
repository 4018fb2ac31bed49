package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// ImageRef is one place an image was seen.
type ImageRef struct {
	Registry    string `json:"registry"`
	Repository  string `json:"repository"`
	Tag         string `json:"tag,omitempty"`
	IndexDigest string `json:"index_digest,omitempty"`
}

// PackageKey is what an advisory update is indexed by: the database's ecosystem and
// the package name as the database files it.
type PackageKey struct {
	Ecosystem string
	Name      string
	// Pkgs is the JSON of the image's packages looked up under the key (what a
	// re-match of only the changed packages matches again).
	Pkgs json.RawMessage
}

// VulnRow is one vulnerability finding of an image.
type VulnRow struct {
	ID        string   `json:"id"`
	Aliases   []string `json:"aliases,omitempty"`
	Package   string   `json:"package"`
	Installed string   `json:"installed"`
	Fixed     string   `json:"fixed,omitempty"`
	Status    string   `json:"status,omitempty"` // the advisory's: fixed, unfixed, fix-pending, wont-fix…
	Severity  string   `json:"severity"`
	Path      string   `json:"path,omitempty"`
}

// Image is an image's stored state: its facts as read (before matching), and the
// report judged from them.
type Image struct {
	Digest     string
	Registry   string
	Repository string
	Platform   string
	Facts      []byte          // compressed JSON of facts.Image as read
	OS         json.RawMessage // facts.OS
	Checks     json.RawMessage // counts by status of the findings of every rule but VULN
	Covered    bool
	DBBuilt    *time.Time
	Keys       []PackageKey
	KeysFormat int // the format Keys are in (images.keys_format)
	Vulns      []VulnRow
}

// Event is an outbox entry: Key makes it idempotent (the same event written twice is
// one event), and every receiver gets one delivery of it.
type Event struct {
	Key       string
	Kind      string
	Payload   any
	Receivers []string // the webhook URLs it is delivered to
}

// SaveImage stores a scanned image with where it was seen and the events it causes,
// and, when job is set, ends the job, all in one transaction: a replica that dies
// before the commit leaves nothing half-written, and its job is leased again.
func (s *Store) SaveImage(ctx context.Context, im Image, refs []ImageRef, events []Event, job *Job, owner string) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if job != nil {
			if err := finishJob(ctx, tx, job.ID, owner); err != nil {
				return err
			}
		}
		osJSON := im.OS
		if osJSON == nil {
			osJSON = json.RawMessage(`{}`)
		}
		_, err := tx.Exec(ctx, `INSERT INTO images (digest, registry, repository, platform, facts, os, checks, covered, db_built, scanned_at, matched_at, keys_format)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now(), now(), $10)
			ON CONFLICT (digest) DO UPDATE SET facts = $5, os = $6, checks = $7, covered = $8, db_built = $9,
				scanned_at = now(), matched_at = now(), keys_format = $10`,
			im.Digest, im.Registry, im.Repository, im.Platform, im.Facts, osJSON, im.Checks, im.Covered, im.DBBuilt, im.KeysFormat)
		if err != nil {
			return err
		}
		for _, r := range refs {
			if _, err := tx.Exec(ctx, `INSERT INTO image_refs (registry, repository, tag, digest, index_digest) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (registry, repository, tag, digest) DO UPDATE SET seen_at = now(), index_digest = $5`,
				r.Registry, r.Repository, r.Tag, im.Digest, r.IndexDigest); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, "DELETE FROM image_packages WHERE digest = $1", im.Digest); err != nil {
			return err
		}
		if err := copyKeys(ctx, tx, keyRows(nil, im.Digest, im.Keys)); err != nil {
			return err
		}
		if err := saveVulns(ctx, tx, im.Digest, im.Vulns); err != nil {
			return err
		}
		return addEvents(ctx, tx, events)
	})
}

// keyRows adds an image's package keys, each once, as image_packages rows.
func keyRows(rows [][]any, digest string, keys []PackageKey) [][]any {
	seen := map[[2]string]bool{}
	for _, k := range keys {
		if id := [2]string{k.Ecosystem, k.Name}; !seen[id] {
			seen[id] = true
			pkgs := k.Pkgs
			if pkgs == nil {
				pkgs = json.RawMessage(`[]`)
			}
			rows = append(rows, []any{digest, k.Ecosystem, k.Name, string(pkgs)})
		}
	}
	return rows
}

func copyKeys(ctx context.Context, tx pgx.Tx, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"image_packages"}, []string{"digest", "ecosystem", "name", "pkgs"}, pgx.CopyFromRows(rows))
	return err
}

func saveVulns(ctx context.Context, tx pgx.Tx, digest string, vulns []VulnRow) error {
	if _, err := tx.Exec(ctx, "DELETE FROM image_vulns WHERE digest = $1", digest); err != nil {
		return err
	}
	return insertVulns(ctx, tx, digest, vulns)
}

func insertVulns(ctx context.Context, tx pgx.Tx, digest string, vulns []VulnRow) error {
	return copyVulns(ctx, tx, appendVulnRows(nil, digest, vulns))
}

// appendVulnRows adds an image's vulnerabilities as image_vulns rows, each key once.
func appendVulnRows(rows [][]any, digest string, vulns []VulnRow) [][]any {
	seen := map[[4]string]bool{}
	for _, v := range vulns {
		k := [4]string{v.ID, v.Package, v.Installed, v.Path}
		if seen[k] {
			continue
		}
		seen[k] = true
		aliases := v.Aliases
		if aliases == nil {
			aliases = []string{}
		}
		rows = append(rows, []any{digest, v.ID, aliases, v.Package, v.Installed, v.Fixed, v.Status, v.Severity, v.Path})
	}
	return rows
}

func copyVulns(ctx context.Context, tx pgx.Tx, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"image_vulns"},
		[]string{"digest", "vuln_id", "aliases", "package", "installed", "fixed", "status", "severity", "path"}, pgx.CopyFromRows(rows))
	return err
}

// Judged is an image's judgement after an advisory update (its facts and packages
// stay as they were stored).
type Judged struct {
	Digest  string
	Covered bool
	DBBuilt *time.Time
	Vulns   []VulnRow
	// Keys, when KeysFormat is set, replace the image's package keys (an image keyed
	// by an older format).
	Keys       []PackageKey
	KeysFormat int
}

// Rematch replaces the judgements of many images, with the events the changes cause,
// in one transaction (one commit for a batch, not one per image).
func (s *Store) Rematch(ctx context.Context, js []Judged, events []Event) error {
	if len(js) == 0 && len(events) == 0 {
		return nil
	}
	ds := make([]string, len(js))
	covered := make([]bool, len(js))
	built := make([]*time.Time, len(js))
	var rows [][]any
	for i, j := range js {
		ds[i], covered[i], built[i] = j.Digest, j.Covered, j.DBBuilt
		rows = appendVulnRows(rows, j.Digest, j.Vulns)
	}
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE images i SET covered = u.covered, db_built = u.built, matched_at = now()
			FROM unnest($1::text[], $2::bool[], $3::timestamptz[]) AS u(digest, covered, built) WHERE i.digest = u.digest`,
			ds, covered, built)
		if err != nil {
			return err
		}
		if int(tag.RowsAffected()) != len(js) {
			return fmt.Errorf("re-match: %d of %d images are no longer stored", len(js)-int(tag.RowsAffected()), len(js))
		}
		if _, err := tx.Exec(ctx, "DELETE FROM image_vulns WHERE digest = ANY($1)", ds); err != nil {
			return err
		}
		if err := copyVulns(ctx, tx, rows); err != nil {
			return err
		}
		var rekeyed []string
		var formats []int32
		var keys [][]any
		for _, j := range js {
			if j.KeysFormat != 0 {
				rekeyed, formats = append(rekeyed, j.Digest), append(formats, int32(j.KeysFormat))
				keys = keyRows(keys, j.Digest, j.Keys)
			}
		}
		if len(rekeyed) > 0 {
			if _, err := tx.Exec(ctx, "DELETE FROM image_packages WHERE digest = ANY($1)", rekeyed); err != nil {
				return err
			}
			if err := copyKeys(ctx, tx, keys); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE images i SET keys_format = u.f FROM unnest($1::text[], $2::int[]) AS u(digest, f) WHERE i.digest = u.digest`,
				rekeyed, formats); err != nil {
				return err
			}
		}
		return addEvents(ctx, tx, events)
	})
}

// StaleKeys counts the images keyed by a format older than current.
func (s *Store) StaleKeys(ctx context.Context, current int) (int, error) {
	var n int
	err := s.Pool.QueryRow(ctx, "SELECT count(*) FROM images WHERE keys_format < $1", current).Scan(&n)
	return n, err
}

// addEvents writes events and their deliveries in two statements whatever their
// number (a re-match can make thousands); an event written before is left as it was.
func addEvents(ctx context.Context, tx pgx.Tx, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	keys := make([]string, len(events))
	kinds := make([]string, len(events))
	payloads := make([]string, len(events))
	byKey := make(map[string][]string, len(events))
	for i, e := range events {
		b, err := json.Marshal(e.Payload)
		if err != nil {
			return err
		}
		keys[i], kinds[i], payloads[i] = e.Key, e.Kind, string(b)
		byKey[e.Key] = e.Receivers
	}
	rows, err := tx.Query(ctx, `INSERT INTO events (key, kind, payload)
		SELECT k, kind, p::jsonb FROM unnest($1::text[], $2::text[], $3::text[]) AS u(k, kind, p)
		ON CONFLICT (key) DO NOTHING RETURNING id, key`, keys, kinds, payloads)
	if err != nil {
		return err
	}
	var ids []int64
	var receivers []string
	for rows.Next() {
		var id int64
		var key string
		if err := rows.Scan(&id, &key); err != nil {
			rows.Close()
			return err
		}
		for _, r := range byKey[key] {
			ids = append(ids, id)
			receivers = append(receivers, r)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	_, err = tx.Exec(ctx, "INSERT INTO deliveries (event_id, receiver) SELECT * FROM unnest($1::bigint[], $2::text[])", ids, receivers)
	return err
}

// ErrNotFound is an object the store does not hold.
var ErrNotFound = errors.New("not found")

// Stored is what a re-match reads of an image: its facts as read, its vulnerabilities
// as last judged, and what its events name.
type Stored struct {
	// KeysFormat is the format the image's package keys are in.
	KeysFormat int
	Facts      []byte
	Checks     json.RawMessage // counts by status of every rule but VULN
	Vulns      []VulnRow
	Summary    ImageSummary
}

// ImageFacts returns an image's stored facts, vulnerabilities and listing entry, in
// one round trip.
func (s *Store) ImageFacts(ctx context.Context, digest string) (*Stored, error) {
	m, err := s.ImagesFacts(ctx, []string{digest})
	if err != nil {
		return nil, err
	}
	if m[digest] == nil {
		return nil, ErrNotFound
	}
	return m[digest], nil
}

// ImagesFacts is ImageFacts for many images in one query; an image no longer stored is
// absent from the map.
func (s *Store) ImagesFacts(ctx context.Context, digests []string) (map[string]*Stored, error) {
	rows, err := s.Pool.Query(ctx, `SELECT i.digest, i.facts, i.checks, i.registry, i.repository, i.platform, i.covered, i.db_built, i.keys_format,
			coalesce((SELECT array_agg(DISTINCT r.tag ORDER BY r.tag) FROM image_refs r WHERE r.digest = i.digest AND r.tag <> ''), '{}'),
			coalesce((SELECT json_agg(json_build_object('id', v.vuln_id, 'aliases', v.aliases, 'package', v.package, 'installed', v.installed,
				'fixed', v.fixed, 'status', v.status, 'severity', v.severity, 'path', v.path)) FROM image_vulns v WHERE v.digest = i.digest), '[]')
		FROM images i WHERE i.digest = ANY($1)`, digests)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string]*Stored, len(digests))
	for rows.Next() {
		st := &Stored{}
		var vulns []byte
		im := &st.Summary
		if err := rows.Scan(&im.Digest, &st.Facts, &st.Checks, &im.Registry, &im.Repository, &im.Platform, &im.Covered, &im.DBBuilt, &st.KeysFormat, &im.Tags, &vulns); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(vulns, &st.Vulns); err != nil {
			return nil, err
		}
		out[im.Digest] = st
	}
	return out, rows.Err()
}

// HasImage reports whether an image is stored.
func (s *Store) HasImage(ctx context.Context, digest string) (bool, error) {
	var ok bool
	err := s.Pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM images WHERE digest = $1)", digest).Scan(&ok)
	return ok, err
}

// AddRefs records where an image already stored was seen again.
func (s *Store) AddRefs(ctx context.Context, digest string, refs []ImageRef) error {
	for _, r := range refs {
		if _, err := s.Pool.Exec(ctx, `INSERT INTO image_refs (registry, repository, tag, digest, index_digest) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (registry, repository, tag, digest) DO UPDATE SET seen_at = now(), index_digest = $5`,
			r.Registry, r.Repository, r.Tag, digest, r.IndexDigest); err != nil {
			return err
		}
	}
	return nil
}

// DigestsFor returns the images holding any of the packages, or every image when keys
// is nil.
func (s *Store) DigestsFor(ctx context.Context, keys []PackageKey) ([]string, error) {
	var rows pgx.Rows
	var err error
	if keys == nil {
		rows, err = s.Pool.Query(ctx, "SELECT digest FROM images ORDER BY digest")
	} else {
		ecos := make([]string, len(keys))
		names := make([]string, len(keys))
		for i, k := range keys {
			ecos[i], names[i] = k.Ecosystem, k.Name
		}
		rows, err = s.Pool.Query(ctx, `SELECT DISTINCT p.digest FROM image_packages p
			JOIN unnest($1::text[], $2::text[]) AS k(ecosystem, name) ON p.ecosystem = k.ecosystem AND p.name = k.name
			ORDER BY p.digest`, ecos, names)
	}
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// Layers counts the layer records kept and the times they were read.
func (s *Store) Layers(ctx context.Context) (records, reads int, err error) {
	err = s.Pool.QueryRow(ctx, "SELECT count(*), coalesce(sum(reads), 0) FROM layers").Scan(&records, &reads)
	return records, reads, err
}

// LayerCache is the image collector's cache of layer records, in the layers table.
type LayerCache struct{ S *Store }

// Get returns a layer's record, or nil.
func (c LayerCache) Get(ctx context.Context, diffID string, format int) ([]byte, error) {
	var b []byte
	err := c.S.Pool.QueryRow(ctx, "SELECT record FROM layers WHERE diff_id = $1 AND format = $2", diffID, format).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return b, err
}

// Put keeps a layer's record; a second replica that read the same layer at the same
// time only counts its read.
func (c LayerCache) Put(ctx context.Context, diffID string, format int, record []byte) error {
	_, err := c.S.Pool.Exec(ctx, `INSERT INTO layers (diff_id, format, record) VALUES ($1, $2, $3)
		ON CONFLICT (diff_id, format) DO UPDATE SET record = $3, reads = layers.reads + 1`, diffID, format, record)
	return err
}

// AddEvents writes events outside any other change.
func (s *Store) AddEvents(ctx context.Context, events []Event) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error { return addEvents(ctx, tx, events) })
}

// Lock holds a layer's lock while it is read (image.LayerLocker).
func (c LayerCache) Lock(ctx context.Context, diffID string) (func(), error) {
	return c.S.Lock(ctx, "layer:"+diffID)
}

// KeyedImage is an image a re-match of changed packages reads: its packages under the
// changed keys, and what its events name.
type KeyedImage struct {
	Summary ImageSummary
	OS      json.RawMessage
	Pkgs    []json.RawMessage // one JSON array per changed key
}

// PackagesFor returns, image by image, the packages filed under the keys, in one
// query.
func (s *Store) PackagesFor(ctx context.Context, keys []PackageKey) (map[string]*KeyedImage, error) {
	ecos := make([]string, len(keys))
	names := make([]string, len(keys))
	for i, k := range keys {
		ecos[i], names[i] = k.Ecosystem, k.Name
	}
	// The packages, then each image's row once (not once per key).
	rows, err := s.Pool.Query(ctx, `SELECT p.digest, p.pkgs FROM image_packages p
		JOIN unnest($1::text[], $2::text[]) AS k(ecosystem, name) ON p.ecosystem = k.ecosystem AND p.name = k.name`, ecos, names)
	if err != nil {
		return nil, err
	}
	out := map[string]*KeyedImage{}
	for rows.Next() {
		var d string
		var pk []byte
		if err := rows.Scan(&d, &pk); err != nil {
			rows.Close()
			return nil, err
		}
		k := out[d]
		if k == nil {
			k = &KeyedImage{Summary: ImageSummary{Digest: d}}
			out[d] = k
		}
		k.Pkgs = append(k.Pkgs, pk)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	ds := make([]string, 0, len(out))
	for d := range out {
		ds = append(ds, d)
	}
	rows, err = s.Pool.Query(ctx, `SELECT digest, os, registry, repository, platform, covered, db_built FROM images WHERE digest = ANY($1)`, ds)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var d string
		var osJSON []byte
		var im ImageSummary
		if err := rows.Scan(&d, &osJSON, &im.Registry, &im.Repository, &im.Platform, &im.Covered, &im.DBBuilt); err != nil {
			return nil, err
		}
		im.Digest = d
		out[d].Summary, out[d].OS = im, osJSON
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for d, k := range out {
		if k.OS == nil { // its packages were read as the image went away
			delete(out, d)
		}
	}
	return out, nil
}

// PackageRef names a package instance of an image: its name and package URL.
type PackageRef struct{ Name, PURL string }

// ImagePackages is some packages of one image, for a batch of re-matches.
type ImagePackages struct {
	Digest string
	Pkgs   []PackageRef
}

// Replaced is the new judgement of some packages of one image.
type Replaced struct {
	ImagePackages
	Vulns []VulnRow
}

// ReplacePackages replaces, for many images at once, the vulnerability rows of the
// packages an update changed, in one transaction: the old rows are read (one range of
// the primary key per image and package) and handed to diff, which makes the events
// of each image's difference; then only what differs is written: rows gone are
// deleted, rows whose fix, status or severity changed are updated in place (no index
// holds those columns, so PostgreSQL rewrites no index entry), new rows are copied
// in; the images record the database they were matched with.
func (s *Store) ReplacePackages(ctx context.Context, ims []Replaced, dbBuilt *time.Time, diff func(i int, old []VulnRow) []Event) error {
	want := map[[3]string]int{}
	var ds, names, paths []string
	for i, im := range ims {
		for _, p := range im.Pkgs {
			k := [3]string{im.Digest, p.Name, p.PURL}
			if _, ok := want[k]; !ok {
				want[k] = i
				ds, names, paths = append(ds, im.Digest), append(names, p.Name), append(paths, p.PURL)
			}
		}
	}
	digests := make([]string, len(ims))
	for i, im := range ims {
		digests[i] = im.Digest
	}
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		// The images' rows first, in digest order, as SaveImage takes an image's row
		// before its vulnerability rows: a scan saving one of these images meanwhile
		// waits, or is waited for, whole (no deadlock, and the old rows read below are
		// the ones this transaction replaces).
		if _, err := tx.Exec(ctx, "SELECT 1 FROM images WHERE digest = ANY($1) ORDER BY digest FOR UPDATE", digests); err != nil {
			return err
		}
		// Each image and package is a few rows at most: an index probe each, which
		// PostgreSQL, misjudging how few, would otherwise replace by sorting or hashing
		// the whole table.
		if _, err := tx.Exec(ctx, "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off"); err != nil {
			return err
		}
		res, err := tx.Query(ctx, `SELECT v.digest, v.vuln_id, v.aliases, v.package, v.installed, v.fixed, v.status, v.severity, v.path
			FROM unnest($1::text[], $2::text[], $3::text[]) AS k(digest, package, path)
			JOIN image_vulns v ON v.digest = k.digest AND v.package = k.package AND v.path = k.path`, ds, names, paths)
		if err != nil {
			return err
		}
		old := make([][]VulnRow, len(ims))
		for res.Next() {
			var d string
			var v VulnRow
			if err := res.Scan(&d, &v.ID, &v.Aliases, &v.Package, &v.Installed, &v.Fixed, &v.Status, &v.Severity, &v.Path); err != nil {
				res.Close()
				return err
			}
			i := want[[3]string{d, v.Package, v.Path}]
			old[i] = append(old[i], v)
		}
		res.Close()
		if err := res.Err(); err != nil {
			return err
		}
		var events []Event
		var gone, changed keyColumns
		var added [][]any
		for i, im := range ims {
			events = append(events, diff(i, old[i])...)
			was := make(map[[4]string]VulnRow, len(old[i]))
			for _, v := range old[i] {
				was[[4]string{v.ID, v.Package, v.Installed, v.Path}] = v
			}
			var fresh []VulnRow
			for _, v := range im.Vulns {
				k := [4]string{v.ID, v.Package, v.Installed, v.Path}
				o, ok := was[k]
				switch {
				case !ok:
					fresh = append(fresh, v)
					continue
				case !slices.Equal(o.Aliases, v.Aliases):
					gone.add(im.Digest, o) // the aliases are indexed: a new row
					fresh = append(fresh, v)
				case o.Fixed != v.Fixed || o.Status != v.Status || o.Severity != v.Severity:
					changed.add(im.Digest, v)
				}
				delete(was, k)
			}
			for _, o := range was {
				gone.add(im.Digest, o)
			}
			added = appendVulnRows(added, im.Digest, fresh)
		}
		if len(gone.digest) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM image_vulns v
				USING unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS k(digest, package, id, installed, path)
				WHERE v.digest = k.digest AND v.package = k.package AND v.vuln_id = k.id AND v.installed = k.installed AND v.path = k.path`,
				gone.digest, gone.pkg, gone.id, gone.installed, gone.path); err != nil {
				return err
			}
		}
		if len(changed.digest) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE image_vulns v SET fixed = k.fixed, status = k.status, severity = k.severity
				FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
					AS k(digest, package, id, installed, path, fixed, status, severity)
				WHERE v.digest = k.digest AND v.package = k.package AND v.vuln_id = k.id AND v.installed = k.installed AND v.path = k.path`,
				changed.digest, changed.pkg, changed.id, changed.installed, changed.path, changed.fixed, changed.status, changed.severity); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, "UPDATE images SET db_built = $2, matched_at = now() WHERE digest = ANY($1)", digests, dbBuilt); err != nil {
			return err
		}
		if err := copyVulns(ctx, tx, added); err != nil {
			return err
		}
		return addEvents(ctx, tx, events)
	})
}

// keyColumns are vulnerability rows as columns, for unnest.
type keyColumns struct {
	digest, pkg, id, installed, path, fixed, status, severity []string
}

func (c *keyColumns) add(digest string, v VulnRow) {
	c.digest, c.pkg, c.id, c.installed, c.path = append(c.digest, digest), append(c.pkg, v.Package), append(c.id, v.ID), append(c.installed, v.Installed), append(c.path, v.Path)
	c.fixed, c.status, c.severity = append(c.fixed, v.Fixed), append(c.status, v.Status), append(c.severity, v.Severity)
}
