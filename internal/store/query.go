package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// ImageSummary is an image in a listing.
type ImageSummary struct {
	Digest     string   `json:"digest"`
	Registry   string   `json:"registry"`
	Repository string   `json:"repository"`
	Platform   string   `json:"platform,omitempty"`
	Tags       []string `json:"tags"`
	Covered    bool     `json:"covered"`
	// Findings counts by status the findings of every rule but VULN (what the
	// database cannot change); Vulnerabilities counts the current ones by severity.
	Findings        json.RawMessage `json:"findings"`
	Vulnerabilities map[string]int  `json:"vulnerabilities"`
	DBBuilt         *time.Time      `json:"db_built,omitempty"`
	ScannedAt       time.Time       `json:"scanned_at"`
	MatchedAt       time.Time       `json:"matched_at"`
}

// ImageFilter narrows a listing; After is the last digest of the previous page.
type ImageFilter struct {
	Repository, Tag, Digest string
	After                   string
	Limit                   int
}

// ListImages lists images by digest, a page at a time.
func (s *Store) ListImages(ctx context.Context, f ImageFilter) ([]ImageSummary, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT i.digest, i.registry, i.repository, i.platform,
			coalesce((SELECT array_agg(DISTINCT r.tag ORDER BY r.tag) FROM image_refs r WHERE r.digest = i.digest AND r.tag <> ''), '{}'),
			i.covered, i.checks,
			coalesce((SELECT jsonb_object_agg(severity, n) FROM (SELECT v.severity, count(*) AS n FROM image_vulns v
				WHERE v.digest = i.digest GROUP BY v.severity) c), '{}'),
			i.db_built, i.scanned_at, i.matched_at
		FROM images i
		WHERE ($1 = '' OR i.digest = $1)
		  AND ($2 = '' OR EXISTS (SELECT 1 FROM image_refs r WHERE r.digest = i.digest AND r.repository = $2))
		  AND ($3 = '' OR EXISTS (SELECT 1 FROM image_refs r WHERE r.digest = i.digest AND r.tag = $3))
		  AND i.digest > $4
		ORDER BY i.digest
		LIMIT $5`, f.Digest, f.Repository, f.Tag, f.After, f.Limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ImageSummary, error) {
		var im ImageSummary
		err := r.Scan(&im.Digest, &im.Registry, &im.Repository, &im.Platform, &im.Tags, &im.Covered, &im.Findings, &im.Vulnerabilities, &im.DBBuilt, &im.ScannedAt, &im.MatchedAt)
		return im, err
	})
}

// Affected is one image a vulnerability affects.
type Affected struct {
	Digest     string   `json:"digest"`
	Registry   string   `json:"registry"`
	Repository string   `json:"repository"`
	Tags       []string `json:"tags"`
	VulnRow
}

// WhereIs lists every image a vulnerability (by ID or alias) affects.
func (s *Store) WhereIs(ctx context.Context, id string) ([]Affected, error) {
	// Two index scans (the ID's b-tree, the aliases' GIN) rather than one OR, which
	// PostgreSQL answers by reading every row.
	rows, err := s.Pool.Query(ctx, WhereIsSQL, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Affected, error) {
		var a Affected
		err := r.Scan(&a.Digest, &a.Registry, &a.Repository, &a.Tags, &a.ID, &a.Aliases, &a.Package, &a.Installed, &a.Fixed, &a.Status, &a.Severity, &a.Path)
		return a, err
	})
}

// Counts are the service's totals.
type Counts struct {
	Images       int `json:"images"`
	Uncovered    int `json:"uncovered"`
	Vulnerable   int `json:"vulnerable"`
	Vulns        int `json:"vulnerabilities"`
	Hosts        int `json:"hosts"`
	Layers       int `json:"layers"`
	EventBacklog int `json:"event_backlog"`
}

// Totals counts what the service holds.
func (s *Store) Totals(ctx context.Context) (Counts, error) {
	var c Counts
	err := s.Pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM images), (SELECT count(*) FROM images WHERE NOT covered),
		(SELECT count(DISTINCT digest) FROM image_vulns), (SELECT count(DISTINCT vuln_id) FROM image_vulns),
		(SELECT count(DISTINCT host) FROM host_reports), (SELECT count(*) FROM layers),
		(SELECT count(*) FROM deliveries WHERE delivered_at IS NULL)`).Scan(
		&c.Images, &c.Uncovered, &c.Vulnerable, &c.Vulns, &c.Hosts, &c.Layers, &c.EventBacklog)
	return c, err
}

// HostReport is one report a host submitted.
type HostReport struct {
	ID          int64           `json:"id"`
	Host        string          `json:"host"`
	SubmittedAt time.Time       `json:"submitted_at"`
	Summary     json.RawMessage `json:"summary"`
	Report      json.RawMessage `json:"report,omitempty"`
	// Containers are those the latest report was made with (the history's first item).
	Containers []HostContainer `json:"containers,omitempty"`
}

// HostContainer is a container a host report was made with.
type HostContainer struct {
	Name    string   `json:"name"`
	ID      string   `json:"id"`
	State   string   `json:"state,omitempty"`
	Image   string   `json:"image,omitempty"`
	ImageID string   `json:"image_id"`
	Digests []string `json:"digests,omitempty"` // manifest digests (sha256:…)
}

// SaveHostReport keeps a submitted report and the containers it was made with.
func (s *Store) SaveHostReport(ctx context.Context, host string, report, summary json.RawMessage, containers []HostContainer) (HostReport, error) {
	h := HostReport{Host: host, Summary: summary}
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, "INSERT INTO host_reports (host, report, summary) VALUES ($1, $2, $3) RETURNING id, submitted_at",
			host, report, summary).Scan(&h.ID, &h.SubmittedAt); err != nil {
			return err
		}
		rows := make([][]any, len(containers))
		for i, c := range containers {
			ds := c.Digests
			if ds == nil {
				ds = []string{}
			}
			rows[i] = []any{h.ID, c.Name, c.ID, c.State, c.Image, c.ImageID, ds}
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"host_containers"}, []string{"report_id", "name", "id", "state", "image", "image_id", "digests"}, pgx.CopyFromRows(rows))
		return err
	})
	return h, err
}

// HostHit is a container of a host's latest report that runs an image.
type HostHit struct {
	Host        string    `json:"host"`
	ReportID    int64     `json:"report_id"`
	SubmittedAt time.Time `json:"submitted_at"`
	Container   string    `json:"container"`
	ContainerID string    `json:"container_id"`
	State       string    `json:"state,omitempty"`
	Image       string    `json:"image,omitempty"`
	Digest      string    `json:"digest"` // the stored image it runs
}

// HostsRunning lists the containers of each host's latest report that run one of the
// stored images (by image ID, manifest digest, or the index a manifest was pulled
// through), by host and container name.
func (s *Store) HostsRunning(ctx context.Context, digests []string) ([]HostHit, error) {
	if len(digests) == 0 {
		return nil, nil
	}
	rows, err := s.Pool.Query(ctx, `
		WITH wanted AS (
			SELECT d AS key, d AS digest FROM unnest($1::text[]) AS d
			UNION
			SELECT index_digest, digest FROM image_refs WHERE digest = ANY($1) AND index_digest <> ''),
		latest AS (
			SELECT DISTINCT ON (host) id, host, submitted_at FROM host_reports ORDER BY host, submitted_at DESC, id DESC)
		SELECT DISTINCT ON (l.host, c.name, c.id) l.host, l.id, l.submitted_at, c.name, c.id, c.state, c.image, w.digest
		FROM latest l JOIN host_containers c ON c.report_id = l.id
		JOIN wanted w ON w.key = c.image_id OR w.key = ANY(c.digests)
		ORDER BY l.host, c.name, c.id, w.digest`, digests)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (HostHit, error) {
		var h HostHit
		err := r.Scan(&h.Host, &h.ReportID, &h.SubmittedAt, &h.Container, &h.ContainerID, &h.State, &h.Image, &h.Digest)
		return h, err
	})
}

// ContainersOf returns the containers a report was made with, by name.
func (s *Store) ContainersOf(ctx context.Context, reportID int64) ([]HostContainer, error) {
	rows, err := s.Pool.Query(ctx, "SELECT name, id, state, image, image_id, digests FROM host_containers WHERE report_id = $1 ORDER BY name, id", reportID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (HostContainer, error) {
		var c HostContainer
		err := r.Scan(&c.Name, &c.ID, &c.State, &c.Image, &c.ImageID, &c.Digests)
		return c, err
	})
}

// Hosts lists each host's latest report summary.
func (s *Store) Hosts(ctx context.Context, after string, limit int) ([]HostReport, error) {
	rows, err := s.Pool.Query(ctx, `SELECT DISTINCT ON (host) id, host, submitted_at, summary FROM host_reports
		WHERE host > $1 ORDER BY host, submitted_at DESC, id DESC LIMIT $2`, after, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (HostReport, error) {
		var h HostReport
		err := r.Scan(&h.ID, &h.Host, &h.SubmittedAt, &h.Summary)
		return h, err
	})
}

// HostHistory lists a host's reports, newest first, with the latest in full.
func (s *Store) HostHistory(ctx context.Context, host string, limit int) ([]HostReport, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id, host, submitted_at, summary,
			CASE WHEN row_number() OVER (ORDER BY submitted_at DESC, id DESC) = 1 THEN report END
		FROM host_reports WHERE host = $1 ORDER BY submitted_at DESC, id DESC LIMIT $2`, host, limit)
	if err != nil {
		return nil, err
	}
	hs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (HostReport, error) {
		var h HostReport
		err := r.Scan(&h.ID, &h.Host, &h.SubmittedAt, &h.Summary, &h.Report)
		return h, err
	})
	if err == nil && len(hs) == 0 {
		return nil, ErrNotFound
	}
	return hs, err
}

// AdvisoryState is the database the stored findings were matched against.
type AdvisoryState struct {
	Built    time.Time       `json:"built"`
	SHA256   string          `json:"sha256"`
	Sources  json.RawMessage `json:"sources"`
	LoadedAt time.Time       `json:"loaded_at"`
}

// Advisories returns the state, or nil before the first database.
func (s *Store) Advisories(ctx context.Context) (*AdvisoryState, error) {
	var a AdvisoryState
	err := s.Pool.QueryRow(ctx, "SELECT built, sha256, sources, loaded_at FROM advisory_state WHERE id = 1").Scan(&a.Built, &a.SHA256, &a.Sources, &a.LoadedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return &a, err
}

// WhereIsSQL is the query of WhereIs ($1: the ID or alias).
const WhereIsSQL = `
		WITH hits AS (
			SELECT * FROM image_vulns WHERE vuln_id = $1
			UNION
			SELECT * FROM image_vulns WHERE aliases @> ARRAY[$1]::text[])
		SELECT h.digest, i.registry, i.repository, coalesce(t.tags, '{}'),
			h.vuln_id, h.aliases, h.package, h.installed, h.fixed, h.status, h.severity, h.path
		FROM hits h JOIN images i ON i.digest = h.digest
		LEFT JOIN LATERAL (SELECT array_agg(DISTINCT r.tag ORDER BY r.tag) AS tags FROM image_refs r
			WHERE r.digest = h.digest AND r.tag <> '') t ON true
		ORDER BY i.repository, h.digest, h.package, h.path`
