package advisory

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockaudit/dockaudit/internal/facts"
)

// feeds serves the public layouts dockaudit db update reads: the OSV bucket
// (<ecosystem>/all.zip, modified_id.csv, <id>.json), the Debian tracker JSON and
// Alpine's secdb, and counts requests per path.
type feeds struct {
	mu    sync.Mutex
	files map[string][]byte
	hits  map[string]int
	// cut, when set, is a path whose body stops halfway with the full length announced.
	cut string
}

func (f *feeds) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.hits[r.URL.Path]++
	body, ok := f.files[r.URL.Path]
	cut := f.cut == r.URL.Path
	f.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	if cut {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body[:len(body)/2])
		if h, ok := w.(http.Hijacker); ok {
			conn, _, _ := h.Hijack()
			conn.Close()
		}
		return
	}
	w.Write(body)
}

func zipOf(t testing.TB, records map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range records {
		w, _ := zw.Create(name)
		w.Write([]byte(body))
	}
	zw.Close()
	return buf.Bytes()
}

func newFeeds(t *testing.T) (*feeds, *httptest.Server) {
	tracker, err := os.ReadFile("testdata/tracker.json")
	if err != nil {
		t.Fatal(err)
	}
	f := &feeds{hits: map[string]int{}, files: map[string][]byte{
		"/osv/Go/all.zip": zipOf(t, map[string]string{
			"GO-2022-1059.json": osv("GO-2022-1059", "Go", "golang.org/x/text", "SEMVER", `{"introduced":"0"},{"fixed":"0.3.8"}`, `,"aliases":["CVE-2022-32149"]`),
			"GO-2021-0113.json": osv("GO-2021-0113", "Go", "golang.org/x/text", "SEMVER", `{"introduced":"0"},{"fixed":"0.3.7"}`, `,"aliases":["CVE-2021-38561"]`),
		}),
		"/osv/Go/modified_id.csv": []byte("2026-11-01T00:00:00Z,GO-2022-1059\n2025-01-01T00:00:00Z,GO-2021-0113\n"),
		"/osv/Rocky Linux/all.zip": zipOf(t, map[string]string{
			"RLSA-2024:1.json": osv("RLSA-2024:1", "Rocky Linux:9", "xz", "ECOSYSTEM", `{"introduced":"0"},{"fixed":"5.2.5-8.el9_0"}`, ""),
		}),
		"/debian/json":            tracker,
		"/alpine/v3.20/main.json": []byte(`{"distroversion":"v3.20","reponame":"main","packages":[{"pkg":{"name":"openssl","secfixes":{"3.3.2-r0":["CVE-2024-6119"]}}}]}`),
	}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func updateOpts(srv *httptest.Server, dir string, at time.Time) UpdateOptions {
	return UpdateOptions{Dir: dir, OSVBase: srv.URL + "/osv", Ecosystems: []string{"Go", "Rocky Linux"},
		DebianTrackerURL: srv.URL + "/debian/json", AlpineBase: srv.URL + "/alpine", AlpineBranches: []string{"v3.20"},
		Now: func() time.Time { return at }}
}

func TestUpdate(t *testing.T) {
	f, srv := newFeeds(t)
	dir := t.TempDir()
	res, err := Update(context.Background(), updateOpts(srv, dir, now))
	if err != nil {
		t.Fatal(err)
	}
	meta := res.Meta
	var names []string
	for _, s := range meta.Sources {
		names = append(names, s.Name+"="+strconv.Itoa(s.Records)+" "+s.Watermark)
	}
	want := "osv:Go=2 2026-11-01T00:00:00Z|osv:Rocky Linux=1 |debian-tracker=11 |alpine-secdb:v3.20/main=1 "
	if strings.Join(names, "|") != want {
		t.Errorf("sources:\n got %s\nwant %s", strings.Join(names, "|"), want)
	}
	s, err := Open(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	expect(t, match(t, s, facts.OS{}, facts.Package{Name: "golang.org/x/text", Version: "v0.3.6", Type: "golang"}),
		"CVE-2021-38561 fixed fixed=0.3.7 aliases=GO-2021-0113", "CVE-2022-32149 fixed fixed=0.3.8 aliases=GO-2022-1059")
	expect(t, match(t, s, facts.OS{ID: "rocky", VersionID: "9.3"}, facts.Package{Name: "xz", Version: "5.2.5-7.el9", Type: "rpm"}),
		"RLSA-2024:1 fixed fixed=5.2.5-8.el9_0")
	s.Close()

	// A second update reads only what changed since: one new Go record, fetched alone.
	f.mu.Lock()
	f.files["/osv/Go/modified_id.csv"] = []byte("2026-11-20T00:00:00Z,Go/GO-2026-9999\n2026-11-01T00:00:00Z,GO-2022-1059\n2025-01-01T00:00:00Z,GO-2021-0113\n")
	f.files["/osv/Go/GO-2026-9999.json"] = []byte(osv("GO-2026-9999", "Go", "golang.org/x/text", "SEMVER", `{"introduced":"0"},{"fixed":"0.40.0"}`, ""))
	f.mu.Unlock()
	res, err = Update(context.Background(), updateOpts(srv, dir, now.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	meta = res.Meta
	if f.hits["/osv/Go/all.zip"] != 1 || f.hits["/osv/Go/GO-2026-9999.json"] != 1 || meta.Sources[0].Records != 3 || meta.Sources[0].Watermark != "2026-11-20T00:00:00Z" {
		t.Errorf("incremental: hits %v, sources %+v", f.hits, meta.Sources)
	}
	s, _ = Open(filepath.Join(dir, FileName))
	got := match(t, s, facts.OS{}, facts.Package{Name: "golang.org/x/text", Version: "v0.3.6", Type: "golang"})
	if len(got) != 3 || got[2] != "GO-2026-9999 fixed fixed=0.40.0" {
		t.Errorf("after the incremental update: %q", got)
	}
	s.Close()
}

// TestUpdateInterrupted: each source is brought up to date on its own. One that is
// cut off halfway, or gone, keeps its previous copy while the others are installed
// (it stopped the whole update, installing nothing, before); an update where every
// source fails, or that is cancelled, leaves the previous database as it was.
func TestUpdateInterrupted(t *testing.T) {
	f, srv := newFeeds(t)
	dir := t.TempDir()
	if _, err := Update(context.Background(), updateOpts(srv, dir, now)); err != nil {
		t.Fatal(err)
	}
	debianGo := func() []string {
		s, err := Open(filepath.Join(dir, FileName))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		return append(match(t, s, facts.OS{ID: "debian", VersionID: "12"}, facts.Package{Name: "openssl", Version: "3.0.11-1~deb12u1", Type: "deb"}),
			match(t, s, facts.OS{}, facts.Package{Name: "golang.org/x/text", Version: "v0.3.6", Type: "golang"})...)
	}
	before := debianGo()

	f.cut = "/debian/json"
	f.files["/osv/Go/all.zip"] = zipOf(t, map[string]string{
		"GO-2026-0001.json": osv("GO-2026-0001", "Go", "golang.org/x/text", "SEMVER", `{"introduced":"0"},{"fixed":"0.50.0"}`, ""),
	})
	o := updateOpts(srv, dir, now.Add(time.Hour))
	o.Full = true
	res, err := Update(context.Background(), o)
	if err != nil || len(res.Failed) != 1 || res.Failed[0].Name != "debian-tracker" || !res.Failed[0].Kept || res.Failed[0].Records != 11 ||
		!strings.HasPrefix(res.Failed[0].Err.Error(), "download "+srv.URL+"/debian/json: ") {
		t.Errorf("cut download: %v %+v", err, res.Failed)
	}
	after := debianGo()
	if len(after) == 0 || after[len(after)-1] != "GO-2026-0001 fixed fixed=0.50.0" || !slices.Contains(after, before[0]) {
		t.Errorf("Go was updated and Debian kept: before %q, after %q", before, after)
	}
	f.cut = ""
	delete(f.files, "/osv/Rocky Linux/all.zip")
	res, err = Update(context.Background(), updateOpts(srv, dir, now.Add(2*time.Hour)))
	if err != nil || len(res.Failed) != 1 || res.Failed[0].Error() != "osv:Rocky Linux: "+srv.URL+"/osv/Rocky%20Linux/all.zip: 404 Not Found (is \"Rocky Linux\" an OSV ecosystem?)" || !res.Failed[0].Kept {
		t.Errorf("missing source: %v %+v", err, res.Failed)
	}

	// Every source failing, or a cancelled update, changes nothing.
	installed, _ := os.ReadFile(filepath.Join(dir, FileName))
	o = updateOpts(srv, dir, now.Add(3*time.Hour))
	o.Ecosystems, o.DebianTrackerURL, o.AlpineBranches = []string{"Rocky Linux"}, srv.URL+"/nothing", []string{"v9.9"}
	f.files["/alpine/v9.9/main.json"] = []byte("not json")
	f.files["/alpine/v9.9/community.json"] = []byte("not json")
	if res, err := Update(context.Background(), o); !errors.Is(err, ErrAllFailed) || len(res.Failed) != 4 {
		t.Errorf("all failed: %v %v", err, res.Failed)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Update(ctx, updateOpts(srv, dir, now.Add(4*time.Hour))); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, FileName)); !bytes.Equal(installed, after) {
		t.Error("a failed update changed the database")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
}

// TestExportImport: a bundle carries a database to another host intact; an altered
// one is refused and leaves the current database alone.
func TestExportImport(t *testing.T) {
	_, srv := newFeeds(t)
	src := t.TempDir()
	if _, err := Update(context.Background(), updateOpts(srv, src, now)); err != nil {
		t.Fatal(err)
	}
	s, _ := Open(filepath.Join(src, FileName))
	var bundle bytes.Buffer
	if err := Export(s, &bundle); err != nil {
		t.Fatal(err)
	}
	s.Close()
	p := filepath.Join(t.TempDir(), "vulndb.tar.gz")
	os.WriteFile(p, bundle.Bytes(), 0o644)
	dst := t.TempDir()
	meta, err := Import(context.Background(), []string{p}, dst, now, ImportOptions{})
	if err != nil || meta.Records != 15 || len(meta.Sources) != 4 {
		t.Fatalf("import: %v %+v", err, meta)
	}
	a, _ := os.ReadFile(filepath.Join(src, FileName))
	b, _ := os.ReadFile(filepath.Join(dst, FileName))
	if !bytes.Equal(a, b) {
		t.Error("the imported database differs from the exported one")
	}
	// Altered: refused, the current database stays.
	raw := bundle.Bytes()
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"truncated":      {raw[:len(raw)/2], "read the bundle: unexpected EOF"},
		"not a bundle":   {[]byte("not a bundle at all"), "bad.tar.gz: not an advisory file"},
		"one byte off":   {rebundle(t, raw, func(db []byte) []byte { db[len(db)/2] ^= 1; return db }), "the bundle's database does not match its checksum: altered or damaged"},
		"size disagrees": {rebundle(t, raw, func(db []byte) []byte { return db[:len(db)-4096] }), "the bundle's database is"},
	} {
		q := filepath.Join(t.TempDir(), "bad.tar.gz")
		os.WriteFile(q, tc.data, 0o644)
		if _, err := Import(context.Background(), []string{q}, dst, now, ImportOptions{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if c, _ := os.ReadFile(filepath.Join(dst, FileName)); !bytes.Equal(c, b) {
		t.Error("a failed import changed the database")
	}
	// A directory of advisories, and a zip.
	zp := filepath.Join(t.TempDir(), "all.zip")
	os.WriteFile(zp, zipOf(t, map[string]string{"A.json": osv("GHSA-aaaa", "npm", "left-pad", "SEMVER", `{"introduced":"0"}`, "")}), 0o644)
	meta, err = Import(context.Background(), []string{zp, "testdata"}, dst, now, ImportOptions{Replace: true})
	if err != nil || meta.Records != 12 {
		t.Errorf("zip and directory: %v %+v", err, meta)
	}
	// Added to the bundle's database instead, they replace its osv:npm and
	// debian-tracker and keep its other sources.
	Import(context.Background(), []string{p}, dst, now, ImportOptions{})
	meta, err = Import(context.Background(), []string{zp, "testdata"}, dst, now, ImportOptions{})
	var names []string
	for _, s := range meta.Sources {
		names = append(names, s.Name)
	}
	slices.Sort(names)
	if err != nil || !slices.Equal(names, []string{"alpine-secdb:v3.20/main", "debian-tracker", "osv:Go", "osv:Rocky Linux", "osv:npm"}) || meta.Records != 16 {
		t.Errorf("added: %v %q %d", err, names, meta.Records)
	}
}

// TestUpdateMultiEcosystemRecord: a record listing two ecosystems, loaded from the
// second one's all.zip, survives that ecosystem's next incremental update.
func TestUpdateMultiEcosystemRecord(t *testing.T) {
	f, srv := newFeeds(t)
	both := `{"id":"GHSA-both","modified":"2026-01-01T00:00:00Z","affected":[` +
		`{"package":{"ecosystem":"npm","name":"x"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"2.0.0"}]}]},` +
		`{"package":{"ecosystem":"PyPI","name":"y"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.0"}]}]}]}`
	f.files["/osv/PyPI/all.zip"] = zipOf(t, map[string]string{"GHSA-both.json": both})
	f.files["/osv/PyPI/modified_id.csv"] = []byte("2026-01-01T00:00:00Z,GHSA-both\n")
	dir := t.TempDir()
	o := UpdateOptions{Dir: dir, OSVBase: srv.URL + "/osv", Ecosystems: []string{"PyPI"}, Now: func() time.Time { return now }}
	y := facts.Package{Name: "y", Version: "1.0", Type: "pypi"}
	for i, at := range []time.Time{now, now.Add(time.Hour)} {
		o.Now = func() time.Time { return at }
		if _, err := Update(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		s, err := Open(filepath.Join(dir, FileName))
		if err != nil {
			t.Fatal(err)
		}
		expect(t, match(t, s, facts.OS{}, y), "GHSA-both fixed fixed=2.0")
		s.Close()
		if i == 1 && f.hits["/osv/PyPI/all.zip"] != 1 {
			t.Errorf("the second update was not incremental: %v", f.hits)
		}
	}
}

// TestUpdateRedactsCredentials: a mirror URL with a password never shows it, in
// errors or in the database's record of its sources.
func TestUpdateRedactsCredentials(t *testing.T) {
	_, srv := newFeeds(t)
	dir := t.TempDir()
	o := updateOpts(srv, dir, now)
	o.OSVBase = strings.Replace(srv.URL, "http://", "http://mirror:s3cret@", 1) + "/osv"
	o.DebianTrackerURL = strings.Replace(o.DebianTrackerURL, "http://", "http://mirror:s3cret@", 1)
	res, err := Update(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(res.Meta)
	if strings.Contains(string(b), "s3cret") || !strings.Contains(string(b), "mirror:xxxxx@") {
		t.Errorf("metadata: %s", b)
	}
	o.Ecosystems = []string{"Nope"}
	res, err = Update(context.Background(), o)
	if err != nil || len(res.Failed) != 1 || strings.Contains(res.Failed[0].Error(), "s3cret") || !strings.Contains(res.Failed[0].Error(), "http://mirror:xxxxx@") {
		t.Errorf("error: %v %v", err, res.Failed)
	}
}

// rebundle rewrites an exported bundle with its database changed by f, the manifest
// kept as it was.
func rebundle(t *testing.T, raw []byte, f func([]byte) []byte) []byte {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var out bytes.Buffer
	gw := gzip.NewWriter(&out)
	tw := tar.NewWriter(gw)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		if h.Name == FileName {
			body = f(body)
			h.Size = int64(len(body))
		}
		tw.WriteHeader(h)
		tw.Write(body)
	}
	tw.Close()
	gw.Close()
	return out.Bytes()
}

// TestUpdateAlpineBranchesAndDroppedRecords: Alpine branches come from secdb's index
// (a new release is there before dockaudit knows it), and records the change list
// names but the mirror answers 404 for are counted as dropped.
func TestUpdateAlpineBranchesAndDroppedRecords(t *testing.T) {
	f, srv := newFeeds(t)
	f.files["/alpine/"] = []byte(`<html><a href="../">../</a><a href="v3.9/">v3.9/</a> <a href="v3.23/">v3.23/</a> <a href="edge/">edge/</a> <a href="v3.20/">v3.20/</a></html>`)
	f.files["/alpine/v3.23/main.json"] = []byte(`{"distroversion":"v3.23","reponame":"main","packages":[{"pkg":{"name":"musl","secfixes":{"1.2.5-r1":["CVE-2025-26519"]}}}]}`)
	dir := t.TempDir()
	o := updateOpts(srv, dir, now)
	o.AlpineBranches = nil
	res, err := Update(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	var alpine []string
	for _, s := range res.Meta.Sources {
		if strings.HasPrefix(s.Name, "alpine-secdb:") {
			alpine = append(alpine, s.Name)
		}
	}
	if want := []string{"alpine-secdb:v3.20/main", "alpine-secdb:v3.23/main"}; !slices.Equal(alpine, want) {
		t.Errorf("alpine sources %q, want %q", alpine, want)
	}
	if f.hits["/alpine/v3.9/main.json"] != 1 || f.hits["/alpine/edge/community.json"] != 1 {
		t.Errorf("branches asked: %v", f.hits)
	}
	// A changed record that is gone.
	f.mu.Lock()
	f.files["/osv/Go/modified_id.csv"] = []byte("2026-11-20T00:00:00Z,Go/GO-2026-8888\n2026-11-01T00:00:00Z,GO-2022-1059\n")
	f.mu.Unlock()
	res, err = Update(context.Background(), updateOpts(srv, dir, now.Add(time.Hour)))
	if err != nil || res.Meta.Sources[0].Name != "osv:Go" || res.Meta.Sources[0].Dropped != 1 {
		t.Errorf("dropped: %v %+v", err, res.Meta.Sources)
	}
}
