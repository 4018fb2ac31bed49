package advisory

import (
	"archive/zip"
	"bufio"
	"cmp"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dockaudit/dockaudit/internal/safefile"
)

// Default sources: the public URLs dockaudit db update reads.
const (
	DefaultOSVBase       = "https://storage.googleapis.com/osv-vulnerabilities"
	DefaultDebianTracker = "https://security-tracker.debian.org/tracker/data/json"
	DefaultAlpineBase    = "https://secdb.alpinelinux.org"
)

// DefaultEcosystems are the OSV ecosystems the inventory finds packages of. Wolfi and
// Chainguard are not among them: their advisories' licence (CC BY-NC-ND, with a
// carve-out only for Chainguard's partners) does not let a scanner use them.
var DefaultEcosystems = []string{"Debian", "Ubuntu", "Alpine", "AlmaLinux", "Rocky Linux", "Red Hat", "SUSE", "openSUSE", "Photon OS", "Azure Linux",
	"Go", "PyPI", "npm", "Maven", "crates.io", "RubyGems", "Packagist", "NuGet"}

// UpdateOptions say where dockaudit db update downloads from.
type UpdateOptions struct {
	Dir              string
	OSVBase          string
	Ecosystems       []string
	DebianTrackerURL string // "" skips the tracker
	AlpineBase       string // "" skips secdb
	// AlpineBranches are the secdb branches to download; nil: every branch secdb's
	// index lists (v3.2 to the newest, and edge).
	AlpineBranches []string
	// UpdateInfoRepos are RPM repositories (the URL of the directory holding
	// repodata/, or of a mirror.list naming it, as Amazon Linux publishes) whose
	// updateinfo.xml is downloaded: Amazon Linux's and Oracle Linux's advisories.
	UpdateInfoRepos []string
	// RedHatRepoMap is the URL of Red Hat's repository-to-CPE map, which says which
	// product streams' advisories apply to a RHEL image's repositories ("" skips it).
	RedHatRepoMap string
	// Full downloads every OSV ecosystem's all.zip even when the database could be
	// brought up to date from modified_id.csv.
	Full     bool
	Client   *http.Client
	Progress func(format string, args ...any) // nil: quiet
	Now      func() time.Time
}

// maxIncremental is how many changed records are fetched one by one before a full
// all.zip is cheaper.
const maxIncremental = 500

// ErrAllFailed is an update in which every source failed: nothing was installed.
var ErrAllFailed = errors.New("every source failed; the database is as it was")

// SourceError is a source an update could not bring up to date.
type SourceError struct {
	Name string
	Err  error
	// Kept says the database keeps the source's previous copy (Records of them).
	Kept    bool
	Records int
}

func (e SourceError) Error() string { return e.Name + ": " + e.Err.Error() }

// UpdateResult is what an update installed and which sources failed.
type UpdateResult struct {
	Meta   Meta
	Failed []SourceError
}

// Update brings every source up to date on its own: a source that fails keeps its
// previous copy (when there is one) and the others are installed. The new database
// replaces the old atomically. It fails as a whole only when every source failed, or
// the context ended: then the previous database is as it was.
func Update(ctx context.Context, o UpdateOptions) (UpdateResult, error) {
	if o.Client == nil {
		o.Client = &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, ResponseHeaderTimeout: time.Minute}}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Progress == nil {
		o.Progress = func(string, ...any) {}
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return UpdateResult{}, err
	}
	work, err := os.MkdirTemp(o.Dir, ".update-*")
	if err != nil {
		return UpdateResult{}, err
	}
	defer os.RemoveAll(work)
	main := NewBuilder()
	u := &updater{o: o, work: work}
	if old, err := Open(filepath.Join(o.Dir, FileName)); err == nil {
		u.old = old
		defer old.Close()
	}
	var res UpdateResult
	attempted := 0
	// one runs a source into a builder of its own; what a failed source left half
	// done never reaches the database.
	one := func(names func() []string, fetch func(context.Context) error) error {
		attempted++
		u.b = NewBuilder()
		err := fetch(ctx)
		if err == nil {
			main.Absorb(u.b)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		for _, name := range names() {
			se := SourceError{Name: name, Err: err}
			if prev, ok := u.previous(name); ok {
				if kerr := u.old.KeepSources(main, []string{name}); kerr == nil {
					se.Kept, se.Records = true, prev.Records
				}
			}
			res.Failed = append(res.Failed, se)
		}
		return nil
	}
	for _, eco := range o.Ecosystems {
		if err := one(func() []string { return []string{"osv:" + eco} }, func(ctx context.Context) error { return u.osv(ctx, eco) }); err != nil {
			return UpdateResult{}, err
		}
	}
	if o.DebianTrackerURL != "" {
		if err := one(func() []string { return []string{"debian-tracker"} }, u.debian); err != nil {
			return UpdateResult{}, err
		}
	}
	if o.AlpineBase != "" {
		branches := o.AlpineBranches
		if branches == nil {
			// Every branch secdb lists: a new release is there before dockaudit knows it.
			var err error
			if branches, err = u.alpineBranches(ctx); err != nil {
				// Without the index no branch is known: every Alpine source keeps
				// its previous copy.
				names := u.oldSources("alpine-secdb:")
				if len(names) == 0 {
					names = []string{"alpine-secdb"}
				}
				if err := one(func() []string { return names }, func(context.Context) error { return err }); err != nil {
					return UpdateResult{}, err
				}
			}
		}
		for _, br := range branches {
			for _, repo := range []string{"main", "community"} {
				name := "alpine-secdb:" + br + "/" + repo
				if err := one(func() []string { return []string{name} }, func(ctx context.Context) error { return u.alpine(ctx, br, repo) }); err != nil {
					return UpdateResult{}, err
				}
			}
		}
	}
	if o.RedHatRepoMap != "" {
		if err := one(func() []string { return []string{redHatRepoSource} }, u.redHatRepoMap); err != nil {
			return UpdateResult{}, err
		}
	}
	for _, repo := range o.UpdateInfoRepos {
		name := "updateinfo:" + repoName(repo)
		if err := one(func() []string { return []string{name} }, func(ctx context.Context) error { return u.updateInfo(ctx, repo, name) }); err != nil {
			return UpdateResult{}, err
		}
	}
	if attempted > 0 && len(res.Failed) >= attempted {
		return res, ErrAllFailed
	}
	if main.Records() == 0 {
		return res, errors.New("no advisories were downloaded")
	}
	if err := main.Install(o.Dir, o.Now()); err != nil {
		return res, err
	}
	s, err := Open(filepath.Join(o.Dir, FileName))
	if err != nil {
		return res, err
	}
	defer s.Close()
	res.Meta = s.Meta
	return res, nil
}

// oldSources are the current database's sources whose names start with prefix.
func (u *updater) oldSources(prefix string) []string {
	if u.old == nil {
		return nil
	}
	var out []string
	for _, s := range u.old.Meta.Sources {
		if strings.HasPrefix(s.Name, prefix) {
			out = append(out, s.Name)
		}
	}
	return out
}

// secdbBranch is a branch directory in secdb's index: v3.20/ or edge/.
var secdbBranch = regexp.MustCompile(`href="(v\d+\.\d+|edge)/"`)

// alpineBranches lists the branches secdb's index names, oldest first, edge last.
func (u *updater) alpineBranches(ctx context.Context) ([]string, error) {
	base := strings.TrimRight(u.o.AlpineBase, "/") + "/"
	p, notFound, err := u.fetch(ctx, base, "alpine-index.html")
	if err != nil {
		return nil, err
	}
	if notFound {
		return nil, fmt.Errorf("%s: 404 Not Found (give --alpine-branches)", redactURL(base))
	}
	b, err := readBounded(p, 1<<20)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, m := range secdbBranch.FindAllStringSubmatch(string(b), -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s lists no branch (give --alpine-branches)", redactURL(base))
	}
	slices.SortFunc(out, func(a, b string) int {
		if a == "edge" || b == "edge" {
			return cmp.Compare(b2i(a == "edge"), b2i(b == "edge"))
		}
		return cmp.Compare(branchNum(a), branchNum(b))
	})
	return out, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// branchNum orders v3.9 before v3.10.
func branchNum(b string) int {
	maj, minor, _ := strings.Cut(strings.TrimPrefix(b, "v"), ".")
	x, _ := strconv.Atoi(maj)
	y, _ := strconv.Atoi(minor)
	return x*1000 + y
}

type updater struct {
	o    UpdateOptions
	work string
	b    *Builder
	old  *Store
}

// fetch downloads a URL into a file of the work directory, checking the length the
// server announced. notFound reports a 404 without an error.
func (u *updater) fetch(ctx context.Context, rawURL, name string) (path string, notFound bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return "", false, err
	}
	req.Header.Set("User-Agent", "dockaudit")
	resp, err := u.o.Client.Do(req)
	if err != nil {
		return "", false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return "", true, nil
	}
	if resp.StatusCode != http.StatusOK {
		return "", false, fmt.Errorf("GET %s: %s", redactURL(rawURL), resp.Status)
	}
	path = filepath.Join(u.work, name)
	f, err := os.Create(path)
	if err != nil {
		return "", false, err
	}
	pw := &progressWriter{w: f, total: resp.ContentLength, name: name, report: u.o.Progress}
	n, err := io.Copy(pw, io.LimitReader(resp.Body, maxDownload+1))
	if err == nil && n > maxDownload {
		err = fmt.Errorf("larger than %d bytes", maxDownload)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	pw.done()
	if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
		err = fmt.Errorf("got %d of %d bytes", n, resp.ContentLength)
	}
	if err != nil {
		return "", false, fmt.Errorf("download %s: %w", redactURL(rawURL), err)
	}
	return path, false, nil
}

// osv brings one ecosystem up to date: from modified_id.csv when the database holds
// it already and few records changed, else from all.zip.
func (u *updater) osv(ctx context.Context, eco string) error {
	base := strings.TrimRight(u.o.OSVBase, "/") + "/" + url.PathEscape(eco)
	name := "osv:" + eco
	prev, havePrev := u.previous(name)
	watermark, changed, err := u.modified(ctx, base+"/modified_id.csv", prev.Watermark)
	if err != nil {
		return err
	}
	if !u.o.Full && havePrev && prev.Watermark != "" && changed != nil && len(changed) <= maxIncremental {
		u.o.Progress("%s: %d records changed since %s\n", name, len(changed), prev.Watermark)
		keep := map[string]bool{}
		for _, id := range changed {
			keep[id] = true
		}
		n, err := u.copyOld(name, func(id string) bool { return !keep[id] })
		if err != nil {
			return err
		}
		var dropped []string
		for i, id := range changed {
			p, notFound, err := u.fetch(ctx, base+"/"+url.PathEscape(id)+".json", fmt.Sprintf("%s-%d.json", sanitize(eco), i))
			if err != nil {
				return err
			}
			if notFound {
				dropped = append(dropped, id) // listed as changed, then gone from the export
				continue
			}
			data, err := readBounded(p, maxRecordFile)
			if err != nil {
				return err
			}
			r, err := ParseOSV(data)
			if err != nil {
				return fmt.Errorf("%s: %w", id, err)
			}
			r.Source = name
			u.b.Add(r)
			n++
		}
		if len(dropped) > 0 {
			u.o.Progress("%s: %d records listed as changed answered 404 and were dropped: %s\n", name, len(dropped), strings.Join(dropped[:min(len(dropped), 10)], ", "))
		}
		u.b.AddSource(SourceInfo{Name: name, Origin: redactURL(base), Records: n, Dropped: len(dropped), Fetched: u.o.Now().UTC(), Watermark: watermark})
		return nil
	}
	p, notFound, err := u.fetch(ctx, base+"/all.zip", sanitize(eco)+"-all.zip")
	if err != nil {
		return err
	}
	if notFound {
		return fmt.Errorf("%s/all.zip: 404 Not Found (is %q an OSV ecosystem?)", redactURL(base), eco)
	}
	c := newCounter(redactURL(base + "/all.zip"))
	zr, err := zip.OpenReader(p)
	if err != nil {
		return fmt.Errorf("all.zip: %w", err)
	}
	defer zr.Close()
	var size int64
	if fi, err := os.Stat(p); err == nil {
		size = fi.Size()
	}
	if err := loadZipFiles(ctx, u.b, c, zr.File, size, name); err != nil {
		return fmt.Errorf("all.zip: %w", err)
	}
	total := 0
	for _, n := range c.counts {
		total += n
	}
	if total == 0 {
		return fmt.Errorf("all.zip holds no records")
	}
	u.b.AddSource(SourceInfo{Name: name, Origin: redactURL(base + "/all.zip"), Records: total, Skipped: c.skipped["osv"], Fetched: u.o.Now().UTC(), Watermark: watermark})
	return nil
}

// modified reads modified_id.csv ("<RFC3339 time>,<id>", newest first) up to the
// previous watermark: the newest time, and the IDs changed since (nil when the file
// is missing or the whole file is newer than the watermark).
func (u *updater) modified(ctx context.Context, rawURL, since string) (watermark string, changed []string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return "", nil, err
	}
	resp, err := u.o.Client.Do(req)
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", nil, nil // no incremental index: full downloads only
	}
	sc := bufio.NewScanner(resp.Body)
	reached := false
	for sc.Scan() {
		t, id, ok := strings.Cut(strings.TrimSpace(sc.Text()), ",")
		if !ok {
			continue
		}
		if watermark == "" {
			watermark = t
		}
		if since == "" || t <= since { // RFC 3339 UTC times order as strings
			reached = since != ""
			break
		}
		if i := strings.LastIndexByte(id, '/'); i >= 0 {
			id = id[i+1:]
		}
		changed = append(changed, id)
		if len(changed) > maxIncremental {
			break
		}
	}
	if err := sc.Err(); err != nil {
		return "", nil, fmt.Errorf("modified_id.csv: %w", err)
	}
	if !reached {
		return watermark, nil, nil
	}
	if changed == nil {
		changed = []string{}
	}
	return watermark, changed, nil
}

// previous is what the current database says of a source.
func (u *updater) previous(name string) (SourceInfo, bool) {
	if u.old == nil {
		return SourceInfo{}, false
	}
	for _, s := range u.old.Meta.Sources {
		if s.Name == name {
			return s, true
		}
	}
	return SourceInfo{}, false
}

// copyOld copies a source's records from the current database, except those keep
// refuses, and returns how many records it copied.
func (u *updater) copyOld(source string, keep func(id string) bool) (int, error) {
	n, err := u.old.CopySources(u.b, func(src, id string) bool { return src == source && keep(id) })
	return n[source], err
}

// CheckRepoURL says what is wrong with an --updateinfo-repos URL, or nil.
func CheckRepoURL(r string) error {
	if u, err := url.Parse(r); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q: want an http(s):// repository URL", r)
	}
	return nil
}

// repoName names a repository's source: its host and path ("cdn.amazonlinux.com/al2023/
// core/mirrors/latest/x86_64"), without a scheme, credentials or mirror.list.
func repoName(repo string) string {
	u, err := url.Parse(repo)
	if err != nil || u.Host == "" {
		return repo
	}
	return strings.TrimSuffix(strings.TrimSuffix(u.Host+u.Path, "/mirror.list"), "/")
}

// repomdLocation is where repomd.xml says the updateinfo is.
func repomdLocation(b []byte) (string, error) {
	var md struct {
		Data []struct {
			Type     string `xml:"type,attr"`
			Location struct {
				Href string `xml:"href,attr"`
			} `xml:"location"`
		} `xml:"data"`
	}
	if err := xml.Unmarshal(b, &md); err != nil {
		return "", fmt.Errorf("repomd.xml: %w", err)
	}
	for _, d := range md.Data {
		if d.Type == "updateinfo" && d.Location.Href != "" {
			return d.Location.Href, nil
		}
	}
	return "", errors.New("repomd.xml lists no updateinfo: the repository publishes no advisories")
}

// updateInfo downloads one repository's updateinfo.xml(.gz), found through its
// repodata/repomd.xml (and, for a mirror.list, the first mirror it names).
func (u *updater) updateInfo(ctx context.Context, repo, name string) error {
	base := repo
	if strings.HasSuffix(repo, "/mirror.list") {
		p, notFound, err := u.fetch(ctx, repo, "mirror.list")
		if err == nil && notFound {
			err = fmt.Errorf("%s: 404 Not Found", redactURL(repo))
		}
		if err != nil {
			return err
		}
		b, err := readBounded(p, 64<<10)
		if err != nil {
			return err
		}
		base, _, _ = strings.Cut(strings.TrimSpace(string(b)), "\n")
		base = strings.TrimSpace(base)
		if CheckRepoURL(base) != nil {
			return fmt.Errorf("%s: the first line is not a mirror URL", redactURL(repo))
		}
		// The advisories come no less protected than the list that named the mirror.
		if strings.HasPrefix(repo, "https://") && !strings.HasPrefix(base, "https://") {
			return fmt.Errorf("%s names a plain-HTTP mirror (%s): refused", redactURL(repo), redactURL(base))
		}
	}
	base = strings.TrimRight(base, "/") + "/"
	p, notFound, err := u.fetch(ctx, base+"repodata/repomd.xml", "repomd.xml")
	if err == nil && notFound {
		err = fmt.Errorf("%s: 404 Not Found", redactURL(base+"repodata/repomd.xml"))
	}
	if err != nil {
		return err
	}
	b, err := readBounded(p, 4<<20)
	if err != nil {
		return err
	}
	href, err := repomdLocation(b)
	if err != nil {
		return err
	}
	loc, err := url.Parse(base)
	if err != nil {
		return err
	}
	ref, err := url.Parse(href)
	if err != nil || ref.IsAbs() || strings.HasPrefix(href, "/") || strings.Contains(href, "..") {
		return fmt.Errorf("repomd.xml: updateinfo location %q is not inside the repository", href)
	}
	infoURL := loc.ResolveReference(ref).String()
	p, notFound, err = u.fetch(ctx, infoURL, "updateinfo")
	if err == nil && notFound {
		err = fmt.Errorf("%s: 404 Not Found", redactURL(infoURL))
	}
	if err != nil {
		return err
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	c := newCounter(redactURL(infoURL))
	add := c.add(u.b)
	named := func(r Record) error { r.Source = name; return add(r) }
	if err := loadUpdateInfo(safefile.Reader(ctx, f), c, p, named); err != nil {
		return err
	}
	if c.counts[name] == 0 {
		return errors.New("the updateinfo holds no security advisory of Amazon Linux or Oracle Linux")
	}
	u.b.AddSource(SourceInfo{Name: name, Origin: redactURL(infoURL), Records: c.counts[name], Skipped: c.skipped["updateinfo"], Fetched: u.o.Now().UTC()})
	return nil
}

func (u *updater) debian(ctx context.Context) error {
	p, notFound, err := u.fetch(ctx, u.o.DebianTrackerURL, "debian-tracker.json")
	if err != nil {
		return err
	}
	if notFound {
		return fmt.Errorf("%s: 404 Not Found", redactURL(u.o.DebianTrackerURL))
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	c := newCounter(redactURL(u.o.DebianTrackerURL))
	if err := ParseDebianTracker(f, c.add(u.b)); err != nil {
		return err
	}
	if c.counts["debian-tracker"] == 0 {
		return errors.New("the tracker data holds no issues")
	}
	u.b.AddSource(SourceInfo{Name: "debian-tracker", Origin: redactURL(u.o.DebianTrackerURL), Records: c.counts["debian-tracker"], Fetched: u.o.Now().UTC()})
	return nil
}

func (u *updater) redHatRepoMap(ctx context.Context) error {
	p, notFound, err := u.fetch(ctx, u.o.RedHatRepoMap, "repository-to-cpe.json")
	if err != nil {
		return err
	}
	if notFound {
		return fmt.Errorf("%s: 404 Not Found", redactURL(u.o.RedHatRepoMap))
	}
	data, err := readBounded(p, maxRedHatFile)
	if err != nil {
		return err
	}
	c := newCounter(redactURL(u.o.RedHatRepoMap))
	if err := ParseRepositoryToCPE(data, c.add(u.b)); err != nil {
		return err
	}
	u.b.AddSource(SourceInfo{Name: redHatRepoSource, Origin: redactURL(u.o.RedHatRepoMap), Records: c.counts[redHatRepoSource], Fetched: u.o.Now().UTC()})
	return nil
}

func (u *updater) alpine(ctx context.Context, branch, repo string) error {
	rawURL := strings.TrimRight(u.o.AlpineBase, "/") + "/" + branch + "/" + repo + ".json"
	p, notFound, err := u.fetch(ctx, rawURL, "alpine-"+branch+"-"+repo+".json")
	if err != nil {
		return err
	}
	if notFound {
		u.o.Progress("alpine-secdb: %s has no %s/%s.json; skipped\n", redactURL(u.o.AlpineBase), branch, repo)
		return nil
	}
	data, err := readBounded(p, maxSecDB)
	if err != nil {
		return err
	}
	c := newCounter(redactURL(rawURL))
	source, skipped, err := ParseAlpineSecDB(data, c.add(u.b))
	if err != nil {
		return err
	}
	u.b.AddSource(SourceInfo{Name: source, Origin: redactURL(rawURL), Records: c.counts[source], Skipped: skipped, Fetched: u.o.Now().UTC()})
	return nil
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

// progressWriter reports a long download's progress as whole lines, one every few
// seconds: they read the same on a terminal and in a CI log (no carriage returns).
type progressWriter struct {
	w      io.Writer
	n      int64
	total  int64
	name   string
	start  time.Time
	last   time.Time
	report func(string, ...any)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.n += int64(n)
	now := time.Now()
	if p.start.IsZero() {
		p.start, p.last = now, now
	}
	if now.Sub(p.last) >= 3*time.Second {
		p.last = now
		if p.total > 0 {
			p.report("%s: %.1f of %.1f MB\n", p.name, float64(p.n)/1e6, float64(p.total)/1e6)
		} else {
			p.report("%s: %.1f MB\n", p.name, float64(p.n)/1e6)
		}
	}
	return n, err
}

func (p *progressWriter) done() {
	if p.last.After(p.start) {
		p.report("%s: %.1f MB, done\n", p.name, float64(p.n)/1e6)
	}
}

// maxDownload bounds one download (OSV's largest all.zip is a few hundred MiB) and
// maxSecDB one Alpine secdb file (a few MiB).
const (
	maxDownload = 4 << 30
	maxSecDB    = 256 << 20
)

// redactURL is a source URL as messages and the database's metadata show it: a
// password in it (a proxy or mirror with basic auth) is never printed or stored.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}
