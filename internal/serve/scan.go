package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/dockaudit/dockaudit/internal/advisory"
	"github.com/dockaudit/dockaudit/internal/app"
	"github.com/dockaudit/dockaudit/internal/checks/vuln"
	"github.com/dockaudit/dockaudit/internal/collect/registry"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
	"github.com/dockaudit/dockaudit/internal/report"
	"github.com/dockaudit/dockaudit/internal/store"
)

func refsOf(host, repo, tag, index string) []store.ImageRef {
	return []store.ImageRef{{Registry: host, Repository: repo, Tag: tag, IndexDigest: index}}
}

// Ref is how dockaudit image names a scanned manifest: the same string gives the same
// report, which the tests compare.
func (p ScanPayload) Ref() string { return "registry:" + p.Host + "/" + p.Repository + "@" + p.Digest }

var (
	zenc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault))
	zdec, _ = zstd.NewReader(nil, zstd.WithDecoderMaxMemory(1<<30))
)

// scan reads one image manifest (its layers through the layer cache), judges it and
// stores it with its events.
func (s *Server) scan(ctx context.Context, j *store.Job, p ScanPayload) error {
	r := s.cfg.registryFor(p.Host)
	if r == nil {
		// Only registries the configuration names are ever fetched from.
		return errPermanent{fmt.Errorf("registry %s is not in the configuration", p.Host)}
	}
	return s.scanWith(ctx, r, r.credentials, j, p)
}

// scanWith is scan with the credentials to pull with (Harbor sends its own).
func (s *Server) scanWith(ctx context.Context, r *RegistryConfig, creds func(string) (registry.Credential, error), j *store.Job, p ScanPayload) error {
	if _, err := s.syncDB(ctx, false); err != nil {
		return err
	}
	src := app.SourceOptions{Insecure: r.Insecure, Credentials: creds, Timeout: s.opts.ImageTimeout,
		LayerCache: store.LayerCache{S: s.store}, TempDir: filepath.Join(s.opts.DataDir, "tmp"), TrustFile: s.cfg.trust}
	images, _, err := app.ReadImages(ctx, []string{p.Ref()}, src, 1, nil)
	if err != nil {
		return err
	}
	im := images[0]
	if im.Error != "" {
		s.metrics.add("scan_errors", 1)
		return errors.New(im.Error)
	}
	return s.keep(ctx, im, p, j)
}

// keep judges an image as read and stores it with its events (ending job, when set,
// in the same transaction).
func (s *Server) keep(ctx context.Context, im facts.Image, p ScanPayload, j *store.Job) error {
	raw, err := json.Marshal(im)
	if err != nil {
		return err
	}
	j2, err := s.judge(im, nil)
	if err != nil {
		return err
	}
	// A database published while the image was read or judged: judge it again with
	// that one, or the re-match that database started (which did not know the image)
	// would leave it judged by the old one.
	if sha, err := s.syncDB(ctx, true); err != nil {
		return err
	} else if sha != j2.dbKey() && sha != "" {
		if j2, err = s.judge(im, nil); err != nil {
			return err
		}
	}
	rec := store.Image{Digest: p.Digest, Registry: p.Host, Repository: p.Repository, Platform: p.Platform,
		Facts: zenc.EncodeAll(raw, nil), OS: j2.os, Checks: j2.checks, Covered: j2.covered, DBBuilt: j2.built,
		Keys: j2.keys, KeysFormat: advisory.KeysFormat, Vulns: j2.vulns}
	ei := &EventImage{Registry: p.Host, Repository: p.Repository, Digest: p.Digest, Platform: p.Platform}
	if p.Tag != "" {
		ei.Tags = []string{p.Tag}
	}
	events := []store.Event{s.event("image.scanned:"+p.Digest, KindScanned, EventPayload{Image: ei, Counts: j2.counts, Database: j2.db})}
	if !j2.covered {
		events = append(events, s.event("image.uncovered:"+p.Digest+":"+j2.dbKey(), KindUncovered, EventPayload{Image: ei, Reason: j2.uncovered, Database: j2.db}))
	}
	if why := unsigned(j2.rep); why != "" {
		events = append(events, s.event("image.unsigned:"+p.Digest, KindUnsigned, EventPayload{Image: ei, Reason: why}))
	}
	if err := s.store.SaveImage(ctx, rec, refsOf(p.Host, p.Repository, p.Tag, p.IndexDigest), events, j, s.owner); err != nil {
		return err
	}
	s.metrics.add("scanned", 1)
	return nil
}

func (s *Server) failedScan(ctx context.Context, j *store.Job, cause error) {
	var p ScanPayload
	if json.Unmarshal(j.Payload, &p) != nil {
		return
	}
	ei := &EventImage{Registry: p.Host, Repository: p.Repository, Digest: p.Digest, Platform: p.Platform}
	e := s.event("image.failed:"+p.Digest+":"+fmt.Sprint(j.ID), KindFailed, EventPayload{Image: ei, Reason: cause.Error()})
	if err := s.store.AddEvents(ctx, []store.Event{e}); err != nil {
		s.log.Warn("event", "error", err)
	}
}

// judgement is an image judged against the current database.
type judgement struct {
	rep       *report.Report
	checks    json.RawMessage // counts by status of every rule but VULN
	os        json.RawMessage
	covered   bool
	uncovered string
	built     *time.Time
	db        *DatabaseRef
	keys      []store.PackageKey
	vulns     []store.VulnRow
	counts    map[string]int
}

func (j *judgement) dbKey() string {
	if j.db == nil {
		return "none"
	}
	return j.db.SHA256
}

// judge runs dockaudit image's matching and rules on facts as read: the one code
// path for a first scan and for every re-match.
func (s *Server) judge(im facts.Image, db *advisory.Store) (*judgement, error) {
	return s.judgeWith(im, db, nil)
}

// judgeWith is judge; given checks (the stored counts of every rule but VULN, which an
// advisory update cannot change), it runs only the matching and the VULN rule, as a
// re-match needs, and leaves the keys unset (the stored ones stay).
func (s *Server) judgeWith(im facts.Image, db *advisory.Store, checks json.RawMessage) (*judgement, error) {
	images := []facts.Image{im}
	s.dbMu.Lock()
	sha := s.dbSHA
	s.dbMu.Unlock()
	opts := app.ImageOptions{DBDir: s.dbDir(), VulnDB: db, Now: s.opts.Now, Checks: imageChecks}
	if checks != nil {
		opts.Checks = vulnChecks
	}
	r, _, err := app.ImageReport(images, nil, opts)
	if err != nil {
		return nil, err
	}
	j := &judgement{rep: r, counts: map[string]int{}, checks: checks}
	if checks == nil {
		counts := map[string]int{}
		for _, f := range r.Findings {
			if f.Rule != vuln.Rule.ID {
				counts[f.Status.String()]++
			}
		}
		if j.checks, err = json.Marshal(counts); err != nil {
			return nil, err
		}
	} else if err := json.Unmarshal(checks, &j.counts); err != nil {
		return nil, fmt.Errorf("stored rule counts: %w", err)
	}
	got := &images[0]
	var why []string
	switch {
	case got.VulnDB == nil:
		why = append(why, "no vulnerability database")
	case got.VulnDB.Error != "":
		why = append(why, got.VulnDB.Error)
	default:
		built := got.VulnDB.Built
		j.built = &built
		j.db = &DatabaseRef{Built: built, SHA256: sha}
		for _, c := range got.VulnDB.Coverage {
			if c.Uncovered != "" {
				why = append(why, fmt.Sprintf("%d %s packages: %s", c.Packages, c.Ecosystem, c.Uncovered))
			}
		}
	}
	j.covered, j.uncovered = len(why) == 0, strings.Join(why, "; ")
	if im.Content != nil {
		if j.os, err = json.Marshal(im.Content.OS); err != nil {
			return nil, err
		}
		if checks == nil {
			if j.keys, err = packageKeys(im.Content.OS, im.Content.Packages); err != nil {
				return nil, err
			}
		}
	}
	for _, f := range r.Findings {
		if checks != nil && f.Rule != vuln.Rule.ID {
			continue // counted in checks
		}
		j.counts[f.Status.String()]++
		if f.Vuln == nil || !f.Status.Problem() { // fail: a fix exists; warn: none yet
			continue
		}
		j.counts["vulnerabilities"]++
		j.vulns = append(j.vulns, vulnRow(f))
	}
	return j, nil
}

func vulnRow(f finding.Finding) store.VulnRow {
	v := f.Vuln
	return store.VulnRow{ID: v.ID, Aliases: v.Aliases, Package: v.Package, Installed: v.Installed, Fixed: v.Fixed,
		Status: v.Status, Severity: f.Severity.String(), Path: v.PURL}
}

// imageReport is the report dockaudit image writes for a stored image, judged now from
// its facts against the current database: never a stale copy.
func (s *Server) imageReport(ctx context.Context, digest string) ([]byte, error) {
	if _, err := s.syncDB(ctx, false); err != nil {
		return nil, err
	}
	stored, err := s.store.ImageFacts(ctx, digest)
	if err != nil {
		return nil, err
	}
	im, err := decodeFacts(stored.Facts)
	if err != nil {
		return nil, err
	}
	j, err := s.judge(im, nil)
	if err != nil {
		return nil, err
	}
	return json.Marshal(j.rep)
}

func decodeFacts(blob []byte) (facts.Image, error) {
	var im facts.Image
	raw, err := zdec.DecodeAll(blob, nil)
	if err != nil {
		return im, err
	}
	err = json.Unmarshal(raw, &im)
	return im, err
}

// packageKeys files each package under the keys it is looked up with, keeping what
// matching it again needs (not its licences).
func packageKeys(os facts.OS, pkgs []facts.Package) ([]store.PackageKey, error) {
	var order []advisory.Key
	by := map[advisory.Key][]facts.Package{}
	for _, p := range pkgs {
		p.Licenses = nil
		for _, k := range advisory.Keys(os, []facts.Package{p}) {
			if by[k] == nil {
				order = append(order, k)
			}
			by[k] = append(by[k], p)
		}
	}
	out := make([]store.PackageKey, 0, len(order))
	for _, k := range order {
		b, err := json.Marshal(by[k])
		if err != nil {
			return nil, err
		}
		out = append(out, store.PackageKey{Ecosystem: k.Ecosystem, Name: k.Name, Pkgs: b})
	}
	return out, nil
}

// unsigned is why no verified signature covers an image, as IMG-SIGNATURE says it
// (unsigned, signed and not verifying, not verified for want of a policy, or, under a
// policy, not looked up); "" when one does, or when the rule skipped.
func unsigned(rep *report.Report) string {
	if rep == nil {
		return ""
	}
	for _, f := range rep.Findings {
		if f.Rule == "IMG-SIGNATURE" && (f.Status == finding.Fail || f.Status == finding.Warn) {
			return f.Message
		}
	}
	return ""
}
