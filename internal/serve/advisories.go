package serve

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dockaudit/dockaudit/internal/advisory"
	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/checks"
	"github.com/dockaudit/dockaudit/internal/checks/vuln"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/store"
)

// importEvery is how often the import directory is looked at.
const importEvery = 10 * time.Second

type rematchPayload struct {
	From string         `json:"from"`
	To   string         `json:"to"`
	All  bool           `json:"all"`
	Keys []advisory.Key `json:"keys,omitempty"`
}

func (s *Server) dbDir() string  { return filepath.Join(s.opts.DataDir, "db") }
func (s *Server) dbPath() string { return filepath.Join(s.dbDir(), advisory.FileName) }

func fileSHA(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// syncDB makes the local database the published one, fetching it when another replica
// published a newer one, and returns its digest. Unless force, it asks PostgreSQL at
// most every few seconds.
func (s *Server) syncDB(ctx context.Context, force bool) (string, error) {
	s.dbMu.Lock()
	defer s.dbMu.Unlock()
	err := s.syncLocked(ctx, force)
	return s.dbSHA, err
}

func (s *Server) syncLocked(ctx context.Context, force bool) error {
	if !force && s.dbSHA != "" && time.Since(s.dbSeen) < 3*time.Second {
		return nil
	}
	st, err := s.store.Advisories(ctx)
	if err != nil {
		return err
	}
	s.dbSeen = time.Now()
	if st == nil {
		return nil
	}
	if st.SHA256 == s.dbSHA {
		return nil
	}
	if sum, err := fileSHA(s.dbPath()); err == nil && sum == st.SHA256 {
		s.dbSHA = sum
		return nil
	}
	if err := s.store.FetchAdvisories(ctx, st.SHA256, s.dbPath()); err != nil {
		return err
	}
	s.dbSHA = st.SHA256
	s.log.Info("advisory database fetched", "sha256", st.SHA256[:12], "built", st.Built)
	return nil
}

// rekeyStale queues a whole re-match when images are keyed by an older format (stored
// by an earlier version): it keys them again, so later updates find them.
func (s *Server) rekeyStale(ctx context.Context) error {
	n, err := s.store.StaleKeys(ctx, advisory.KeysFormat)
	if err != nil || n == 0 {
		return err
	}
	st, err := s.store.Advisories(ctx)
	if err != nil || st == nil {
		return err // without a database they are keyed again by the first one's re-match
	}
	s.log.Info("images keyed by an older format: a whole re-match is queued to key them again", "images", n)
	_, err = s.store.Enqueue(ctx, jobRematch, fmt.Sprintf("rematch:keys-%d", advisory.KeysFormat), rematchPayload{All: true})
	return err
}

// bootstrapDB publishes a database found in the data directory when none is published
// yet (one put there with dockaudit db import --db DATA/db before the first start).
func (s *Server) bootstrapDB(ctx context.Context) error {
	unlock, err := s.store.Lock(ctx, "advisories")
	if err != nil {
		return err
	}
	defer unlock()
	st, err := s.store.Advisories(ctx)
	if err != nil || st != nil {
		return err
	}
	db, err := advisory.Open(s.dbPath())
	if errors.Is(err, advisory.ErrNoDatabase) {
		s.log.Warn("no advisory database yet: images are stored as not covered until one is imported or downloaded")
		return nil
	}
	if err != nil {
		return err
	}
	meta := db.Meta
	db.Close()
	sum, err := fileSHA(s.dbPath())
	if err != nil {
		return err
	}
	if err := s.store.PublishAdvisories(ctx, s.dbPath(), sum, meta.Built, meta.Sources, jobRematch, "rematch:bootstrap", rematchPayload{All: true}); err != nil {
		return err
	}
	s.dbMu.Lock()
	s.dbSHA = sum
	s.dbMu.Unlock()
	return nil
}

// advisories runs an update (or takes what the import directory holds) into a staging
// copy, and publishes the result with a re-match job when it differs. Anything that
// fails leaves the published database and the stored findings as they were.
func (s *Server) advisories(ctx context.Context, update bool) error {
	unlock, err := s.store.Lock(ctx, "advisories")
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := s.syncDB(ctx, true); err != nil {
		return err
	}
	stage, err := os.MkdirTemp(s.opts.DataDir, "stage-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	if err := copyFile(s.dbPath(), filepath.Join(stage, advisory.FileName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	changed := false
	if update {
		a := s.cfg.Advisories
		o := advisory.UpdateOptions{Dir: stage, Ecosystems: a.Ecosystems, OSVBase: a.OSVBase, DebianTrackerURL: a.DebianTracker, AlpineBase: a.AlpineBase,
			UpdateInfoRepos: a.UpdateInfoRepos, Now: s.opts.Now}
		if o.OSVBase == "" {
			o.OSVBase = advisory.DefaultOSVBase
		}
		if o.DebianTrackerURL == "" {
			o.DebianTrackerURL = advisory.DefaultDebianTracker
		}
		if o.AlpineBase == "" {
			o.AlpineBase = advisory.DefaultAlpineBase
		}
		if len(o.Ecosystems) == 0 {
			o.Ecosystems = advisory.DefaultEcosystems
		}
		if slices.Contains(o.Ecosystems, "Red Hat") {
			o.RedHatRepoMap = cmp.Or(a.RedHatRepoMap, advisory.RedHatRepoMapURL)
		}
		res, err := advisory.Update(ctx, o)
		if err != nil {
			s.metrics.add("update_errors", 1)
			return fmt.Errorf("advisory update: %w", err)
		}
		for _, f := range res.Failed {
			s.log.Warn("advisory source failed; its previous copy is kept", "source", f.Name, "error", f.Err)
		}
		changed = true
	} else {
		changed, err = s.importDir(ctx, stage)
		if err != nil {
			return err
		}
	}
	if !changed {
		return nil
	}
	return s.publish(ctx, filepath.Join(stage, advisory.FileName))
}

// publish makes a staged database the current one, with a job re-judging what it
// changed. The local copy is replaced before anything on this replica can see the
// re-match job (it holds dbMu throughout).
func (s *Server) publish(ctx context.Context, staged string) error {
	sum, err := fileSHA(staged)
	if err != nil {
		return err
	}
	s.dbMu.Lock()
	defer s.dbMu.Unlock()
	from := s.dbSHA
	if sum == from {
		return nil
	}
	cur, err := advisory.Open(staged)
	if err != nil {
		return err
	}
	meta := cur.Meta
	p := rematchPayload{From: from, To: sum, All: true}
	if old, err := advisory.Open(s.dbPath()); err == nil && from != "" {
		p.Keys, p.All, err = advisory.Changes(old, cur)
		old.Close()
		if err != nil {
			cur.Close()
			return err
		}
	}
	cur.Close()
	if err := s.store.PublishAdvisories(ctx, staged, sum, meta.Built, meta.Sources, jobRematch, "rematch:"+sum, p); err != nil {
		return err
	}
	if err := os.Rename(staged, s.dbPath()); err != nil {
		return err
	}
	s.dbSHA, s.dbSeen = sum, time.Now()
	s.log.Info("advisory database published", "sha256", sum[:12], "built", meta.Built, "changed_packages", len(p.Keys), "all", p.All)
	return nil
}

// importDir imports what the import directory holds: each file or directory that has
// not changed for two seconds, oldest first; imported ones move to done/, unreadable
// ones to failed/.
func (s *Server) importDir(ctx context.Context, stage string) (bool, error) {
	dir := s.cfg.Advisories.ImportDir
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	type pending struct {
		name string
		mod  time.Time
	}
	var todo []pending
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") || e.Name() == "done" || e.Name() == "failed" {
			continue
		}
		fi, err := e.Info()
		if err != nil || time.Since(fi.ModTime()) < 2*time.Second {
			continue // still being written
		}
		todo = append(todo, pending{e.Name(), fi.ModTime()})
	}
	slices.SortFunc(todo, func(a, b pending) int { return a.mod.Compare(b.mod) })
	changed := false
	for _, p := range todo {
		src := filepath.Join(dir, p.name)
		_, notes, err := advisory.ImportNotes(ctx, []string{src}, stage, s.opts.Now(), advisory.ImportOptions{})
		to := "done"
		if err != nil {
			to = "failed"
			s.metrics.add("import_errors", 1)
			s.log.Warn("advisory import failed; the database is as it was", "path", src, "error", err)
		} else {
			changed = true
			for _, n := range notes {
				s.log.Info("advisory import", "path", src, "note", n)
			}
		}
		if err := os.MkdirAll(filepath.Join(dir, to), 0o755); err != nil {
			return changed, err
		}
		dst := filepath.Join(dir, to, fmt.Sprintf("%s.%d", p.name, time.Now().UnixNano()))
		if err := os.Rename(src, dst); err != nil {
			return changed, err
		}
	}
	return changed, nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// rematch judges again, against the current database, every stored image the update
// can have changed, and turns the differences into events. It pulls nothing.
func (s *Server) rematch(ctx context.Context, p rematchPayload) error {
	if _, err := s.syncDB(ctx, true); err != nil {
		return err
	}
	var keys []store.PackageKey
	if !p.All {
		keys = make([]store.PackageKey, len(p.Keys))
		for i, k := range p.Keys {
			keys[i] = store.PackageKey{Ecosystem: k.Ecosystem, Name: k.Name}
		}
	}
	start := time.Now()
	db, err := advisory.Open(s.dbPath())
	if err != nil && !errors.Is(err, advisory.ErrNoDatabase) {
		return err
	}
	if db != nil {
		db.Memoize()
		defer db.Close()
	}
	if !p.All && db != nil {
		return s.rematchKeys(ctx, keys, db, start)
	}
	var digests []string
	if p.All || len(keys) > 0 {
		var err error
		if digests, err = s.store.DigestsFor(ctx, keys); err != nil {
			return err
		}
	}
	if err := s.rejudgeAll(ctx, digests, db); err != nil {
		return err
	}
	if db != nil {
		if err := s.store.MarkMatched(ctx, db.Meta.Built); err != nil {
			return err
		}
	}
	s.metrics.add("rematched", len(digests))
	s.log.Info("re-matched after an advisory update", "images", len(digests), "took", time.Since(start).Round(time.Millisecond))
	return ctx.Err()
}

// rejudgeBatch is how many images a whole re-match reads, and writes, at a time.
const rejudgeBatch = 250

// rejudgeAll judges the images again, whole, against db, in three overlapping stages:
// a batch's facts are read in one query while the batch before is judged on every
// core and the one before that is written in one transaction. An image that fails to
// judge is logged and left as it was, and the first such failure is returned after
// the others are done; a failure to read or write stops the re-match.
func (s *Server) rejudgeAll(ctx context.Context, digests []string, db *advisory.Store) error {
	type batch struct {
		digests []string
		stored  map[string]*store.Stored
	}
	type written struct {
		js     []store.Judged
		events []store.Event
	}
	g, gctx := errgroup.WithContext(ctx)
	reads := make(chan batch, 1)
	writes := make(chan written, 1)
	g.Go(func() error {
		defer close(reads)
		for lo := 0; lo < len(digests); lo += rejudgeBatch {
			part := digests[lo:min(lo+rejudgeBatch, len(digests))]
			stored, err := s.store.ImagesFacts(gctx, part)
			if err != nil {
				return err
			}
			select {
			case reads <- batch{part, stored}:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	g.Go(func() error {
		for w := range writes {
			if err := s.store.Rematch(gctx, w.js, w.events); err != nil {
				return err
			}
		}
		return nil
	})
	var first error
	g.Go(func() error {
		defer close(writes)
		for b := range reads {
			type result struct {
				j       store.Judged
				events  []store.Event
				changed bool
				err     error
			}
			results := make([]result, len(b.digests))
			var wg sync.WaitGroup
			next := make(chan int)
			for range runtime.GOMAXPROCS(0) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range next {
						if st := b.stored[b.digests[i]]; st != nil {
							r := &results[i]
							r.j, r.events, r.changed, r.err = s.rejudged(b.digests[i], st, db)
						}
					}
				}()
			}
			for i := range b.digests {
				next <- i
			}
			close(next)
			wg.Wait()
			var w written
			for i, r := range results {
				switch {
				case r.err != nil:
					s.log.Error("re-match", "image", b.digests[i], "err", r.err)
					if first == nil {
						first = fmt.Errorf("%s: %w", b.digests[i], r.err)
					}
				case r.changed:
					w.js = append(w.js, r.j)
					w.events = append(w.events, r.events...)
				}
			}
			select {
			case writes <- w:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return err
	}
	if first != nil {
		return first
	}
	return ctx.Err()
}

type vulnKey struct{ id, pkg, installed, path string }

func keyOf(v store.VulnRow) vulnKey { return vulnKey{v.ID, v.Package, v.Installed, v.Path} }

// rejudged is one image of a re-match, judged whole from its stored facts: its new
// judgement, the events the difference causes, and whether anything stored changes.
func (s *Server) rejudged(digest string, stored *store.Stored, db *advisory.Store) (store.Judged, []store.Event, bool, error) {
	before, summary := stored.Vulns, stored.Summary
	im, err := decodeFacts(stored.Facts)
	if err != nil {
		return store.Judged{}, nil, false, err
	}
	j, err := s.judgeWith(im, db, stored.Checks)
	if err != nil {
		return store.Judged{}, nil, false, err
	}
	judged := store.Judged{Digest: digest, Covered: j.covered, DBBuilt: j.built, Vulns: j.vulns}
	rekey := stored.KeysFormat < advisory.KeysFormat
	if rekey && im.Content != nil {
		// Keyed by an older format: a later update to what it is now looked up under
		// would not find it.
		if judged.Keys, err = packageKeys(im.Content.OS, im.Content.Packages); err != nil {
			return store.Judged{}, nil, false, err
		}
	}
	if rekey {
		judged.KeysFormat = advisory.KeysFormat
	}
	ei := &EventImage{Registry: summary.Registry, Repository: summary.Repository, Tags: summary.Tags, Digest: digest, Platform: summary.Platform}
	var events []store.Event
	if summary.DBBuilt == nil {
		// The first judgement with a database: like a first scan, one event with the
		// counts, not one "new" per vulnerability for every image of the fleet.
		events = append(events, s.event("image.scanned:"+digest+":"+j.dbKey(), KindScanned, EventPayload{Image: ei, Counts: j.counts, Database: j.db}))
		if !j.covered {
			events = append(events, s.event("image.uncovered:"+digest+":"+j.dbKey(), KindUncovered, EventPayload{Image: ei, Reason: j.uncovered, Database: j.db}))
		}
		return judged, events, true, nil
	}
	events = append(events, s.diffEvents(ei, digest, before, j.vulns, j, db)...)
	if !j.covered && summary.Covered {
		events = append(events, s.event("image.uncovered:"+digest+":"+j.dbKey(), KindUncovered, EventPayload{Image: ei, Reason: j.uncovered, Database: j.db}))
	}
	if len(events) == 0 && !changedRows(before, j.vulns) && j.covered == summary.Covered && !rekey {
		// Nothing the listing shows changed (MarkMatched records the new database).
		return judged, nil, false, nil
	}
	slices.SortFunc(events, func(a, b store.Event) int { return strings.Compare(a.Key, b.Key) })
	return judged, events, true, nil
}

func eventKey(kind, digest string, k vulnKey, j *judgement) string {
	return strings.Join([]string{kind, digest, k.id, k.pkg, k.installed, k.path, j.dbKey()}, ":")
}

// changedRows reports whether two judgements' vulnerabilities differ in anything the
// rows keep (a new fixed version, status or severity for the same vulnerability).
func changedRows(a, b []store.VulnRow) bool {
	if len(a) != len(b) {
		return true
	}
	m := make(map[vulnKey]store.VulnRow, len(a))
	for _, v := range a {
		m[keyOf(v)] = v
	}
	for _, v := range b {
		o, ok := m[keyOf(v)]
		if !ok || o.Fixed != v.Fixed || o.Status != v.Status || o.Severity != v.Severity || !slices.Equal(o.Aliases, v.Aliases) {
			return true
		}
	}
	return false
}

// rematchKeys judges again only the packages an update changed, in every image that
// holds one: the packages are read from their keys (not the image's facts), matched and
// put through the VULN rule as dockaudit image would, and their rows replaced, a batch
// of images per transaction. An image never judged with a database is judged whole.
func (s *Server) rematchKeys(ctx context.Context, keys []store.PackageKey, db *advisory.Store, start time.Time) error {
	if len(keys) == 0 {
		return s.store.MarkMatched(ctx, db.Meta.Built)
	}
	var tPkgs, tMatch, tWrite time.Duration
	t0 := time.Now()
	images, err := s.store.PackagesFor(ctx, keys)
	if err != nil {
		return err
	}
	var todo []*partial
	var whole []string
	decoded := map[string][]facts.Package{}
	// In digest order: which images a batch holds, and the order of a batch's events in
	// the outbox, do not depend on the map's. (Batches commit concurrently: receivers
	// get no order across images, and tell events apart by their keys.)
	for _, d := range slices.Sorted(maps.Keys(images)) {
		k := images[d]
		if k.Summary.DBBuilt == nil {
			whole = append(whole, d)
			continue
		}
		p, err := partialImage(k, decoded)
		if err != nil {
			return fmt.Errorf("%s: %w", k.Summary.Digest, err)
		}
		todo = append(todo, p)
	}
	tPkgs = time.Since(t0)
	if err := s.rejudgeAll(ctx, whole, db); err != nil {
		return err
	}
	s.dbMu.Lock()
	j := &judgement{db: &DatabaseRef{Built: db.Meta.Built, SHA256: s.dbSHA}}
	s.dbMu.Unlock()
	built := db.Meta.Built
	// Matching is CPU: spread it over the cores.
	t0 = time.Now()
	var wg sync.WaitGroup
	next := make(chan *partial)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range next {
				p.match(db)
			}
		}()
	}
	for _, p := range todo {
		next <- p
	}
	close(next)
	wg.Wait()
	tMatch = time.Since(t0)
	t0 = time.Now()
	// Batches of images, written by as many transactions at once as there are cores:
	// the deletes are PostgreSQL's CPU.
	const batch = 250
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for lo := 0; lo < len(todo); lo += batch {
		part := todo[lo:min(lo+batch, len(todo))]
		g.Go(func() error {
			ims := make([]store.Replaced, len(part))
			for i, p := range part {
				ims[i] = store.Replaced{ImagePackages: p.refs, Vulns: p.now}
			}
			return s.store.ReplacePackages(gctx, ims, &built, func(i int, old []store.VulnRow) []store.Event {
				p := part[i]
				ei := &EventImage{Registry: p.sum.Registry, Repository: p.sum.Repository, Digest: p.refs.Digest, Platform: p.sum.Platform}
				return s.diffEvents(ei, p.refs.Digest, old, p.now, j, db)
			})
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	tWrite = time.Since(t0)
	if err := s.store.MarkMatched(ctx, built); err != nil {
		return err
	}
	s.metrics.add("rematched", len(images))
	s.log.Info("re-matched the changed packages after an advisory update", "images", len(images), "keys", len(keys), "took", time.Since(start).Round(time.Millisecond),
		"packages", tPkgs.Round(time.Millisecond), "matching", tMatch.Round(time.Millisecond), "rows", tWrite.Round(time.Millisecond))
	return ctx.Err()
}

// imageChecks are the rules dockaudit image runs; vulnChecks is their VULN rule.
var (
	imageChecks = checks.Image()
	vulnChecks  = func() []check.Check {
		cs, err := check.Selection{Include: []string{vuln.Rule.ID}}.Apply(imageChecks)
		if err != nil || len(cs) != 1 {
			panic(fmt.Sprintf("serve: the image rules have no single %s rule: %v", vuln.Rule.ID, err))
		}
		return cs
	}()
)

// partial is an image reduced to the packages an update changed.
type partial struct {
	im   facts.Image
	sum  store.ImageSummary
	refs store.ImagePackages
	now  []store.VulnRow
}

// partialImage reads an image's changed packages; decoded keeps each distinct JSON
// decoded once (images on one base layer file the same packages under a key).
func partialImage(k *store.KeyedImage, decoded map[string][]facts.Package) (*partial, error) {
	p := &partial{sum: k.Summary, refs: store.ImagePackages{Digest: k.Summary.Digest},
		im: facts.Image{Digest: k.Summary.Digest, Platform: k.Summary.Platform, Content: &facts.ImageContent{}}}
	if err := json.Unmarshal(k.OS, &p.im.Content.OS); err != nil {
		return nil, err
	}
	seen := map[store.PackageRef]bool{}
	for _, raw := range k.Pkgs {
		ps, ok := decoded[string(raw)]
		if !ok {
			if err := json.Unmarshal(raw, &ps); err != nil {
				return nil, err
			}
			decoded[string(raw)] = ps
		}
		for _, pk := range ps {
			// A package filed under two keys (Ubuntu's LTS and plain ecosystems) is
			// matched once, as the image's inventory lists it once.
			ref := store.PackageRef{Name: pk.Name, PURL: pk.PURL}
			if !seen[ref] {
				seen[ref] = true
				p.refs.Pkgs = append(p.refs.Pkgs, ref)
				p.im.Content.Packages = append(p.im.Content.Packages, pk)
			}
		}
	}
	return p, nil
}

// match runs the packages through the matching and the VULN rule.
func (p *partial) match(db *advisory.Store) {
	db.MatchImage(&p.im)
	snap := &facts.Snapshot{Images: []facts.Image{p.im}}
	for _, f := range check.Run(vulnChecks, snap, check.Options{}) {
		if f.Vuln != nil && f.Status.Problem() {
			p.now = append(p.now, vulnRow(f))
		}
	}
}

// diffEvents turns the difference between two judgements of an image's packages into
// events: vulnerability.new, .fixed, or .withdrawn (the advisory is gone or withdrawn).
func (s *Server) diffEvents(ei *EventImage, digest string, before, now []store.VulnRow, j *judgement, db *advisory.Store) []store.Event {
	var events []store.Event
	old := map[vulnKey]store.VulnRow{}
	for _, v := range before {
		old[keyOf(v)] = v
	}
	for _, v := range now {
		k := keyOf(v)
		if _, ok := old[k]; ok {
			delete(old, k)
			continue
		}
		v := v
		events = append(events, s.event(eventKey(KindNew, digest, k, j), KindNew, EventPayload{Image: ei, Vulnerability: &v, Database: j.db}))
	}
	for k, v := range old {
		kind := KindFixed
		if db != nil {
			if r, ok, _ := db.Record(v.ID); !ok || r.Withdrawn != "" {
				kind = KindWithdrawn
			}
		}
		v := v
		events = append(events, s.event(eventKey(kind, digest, k, j), kind, EventPayload{Image: ei, Vulnerability: &v, Database: j.db}))
	}
	slices.SortFunc(events, func(a, b store.Event) int { return strings.Compare(a.Key, b.Key) })
	return events
}
