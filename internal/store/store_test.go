package store

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockaudit/dockaudit/internal/pgtest"
)

func open(t *testing.T) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestMigrateOnceUnderTheLock starts five replicas' migrations at once on an empty
// database: each migration is applied by exactly one of them, and a second round
// applies nothing.
func TestMigrateOnceUnderTheLock(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.New(t)
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var all []int
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(ctx, dsn)
			if err != nil {
				t.Error(err)
				return
			}
			defer s.Close()
			got, err := s.Migrate(ctx)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			all = append(all, got...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(all)
	var want []int
	for _, m := range ms {
		want = append(want, m.Version)
	}
	if !slices.Equal(all, want) {
		t.Fatalf("applied %v across replicas, want each of %v once", all, want)
	}
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.Migrate(ctx); err != nil || len(got) != 0 {
		t.Fatalf("second migrate applied %v, %v; want nothing", got, err)
	}
	if err := s.CheckVersion(ctx); err != nil {
		t.Fatal(err)
	}
	// A database a newer dockaudit migrated is refused, not written.
	if _, err := s.Pool.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES (999, 'future')"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(ctx); !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("migrate on a newer schema: %v", err)
	}
	if err := s.CheckVersion(ctx); !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("check on a newer schema: %v", err)
	}
}

func TestCheckVersionBeforeMigrate(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.CheckVersion(ctx)
	if err == nil || !strings.Contains(err.Error(), "at version 0") || !strings.Contains(err.Error(), "--migrate-only") {
		t.Fatalf("got %v", err)
	}
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	tok, meta, err := s.CreateToken(ctx, "submit", "ci")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, "dat_") || len(tok) != 4+43 {
		t.Fatalf("token %q", tok)
	}
	var stored []byte
	if err := s.Pool.QueryRow(ctx, "SELECT hash FROM tokens WHERE id = $1", meta.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(stored), tok[4:]) || len(stored) != 32 {
		t.Fatalf("stored %x: want only the 32-byte hash", stored)
	}
	got, err := s.Authenticate(ctx, tok)
	if err != nil || got.Scope != "submit" || got.Name != "ci" || got.ID != meta.ID {
		t.Fatalf("authenticate: %+v, %v", got, err)
	}
	for _, bad := range []string{"", "dat_", tok + "x", "Bearer " + tok, strings.Repeat("dat_", 100)} {
		if _, err := s.Authenticate(ctx, bad); !errors.Is(err, ErrBadToken) {
			t.Errorf("authenticate %q: %v", bad, err)
		}
	}
	if err := s.RevokeToken(ctx, meta.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx, meta.ID); err != nil {
		t.Fatalf("revoking twice: %v", err)
	}
	if _, err := s.Authenticate(ctx, tok); !errors.Is(err, ErrBadToken) {
		t.Fatalf("a revoked token authenticated: %v", err)
	}
	if err := s.RevokeToken(ctx, 12345); err == nil || err.Error() != "no token 12345" {
		t.Fatalf("revoking an unknown token: %v", err)
	}
	if _, _, err := s.CreateToken(ctx, "root", ""); err == nil || err.Error() != `unknown scope "root": use one of read, submit, scan, admin` {
		t.Fatalf("bad scope: %v", err)
	}
	list, err := s.Tokens(ctx)
	if err != nil || len(list) != 1 || list[0].RevokedAt == nil {
		t.Fatalf("tokens: %+v, %v", list, err)
	}
}

func TestAllows(t *testing.T) {
	for _, c := range []struct {
		have, need string
		ok         bool
	}{
		{"read", "read", true}, {"read", "submit", false}, {"submit", "read", true},
		{"scan", "submit", true}, {"admin", "scan", true}, {"scan", "admin", false}, {"", "read", false}, {"admin", "x", false},
	} {
		if got := Allows(c.have, c.need); got != c.ok {
			t.Errorf("Allows(%q, %q) = %v", c.have, c.need, got)
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:s3cret@db:5432/x":           "postgres://u:xxxxx@db:5432/x",
		"postgres://u@db/x":                       "postgres://u@db/x",
		"postgres://u:p@ss@db/x":                  "postgres://u:xxxxx@db/x",
		"host=db user=u password=s3cret dbname=x": "host=db user=u password=xxxxx dbname=x",
		"host=db password='a b\\' c' dbname=x":    "host=db password=xxxxx dbname=x",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOpenErrorsHidePasswords(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := Open(ctx, "postgres://dockaudit:hunter2@127.0.0.1:1/none?connect_timeout=2")
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "postgres://dockaudit:xxxxx@127.0.0.1:1/none") {
		t.Fatalf("got %v", err)
	}
	_, err = Open(ctx, "postgres://a:hunter2@[::1")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("got %v", err)
	}
}

// TestMigrateEarlyLayout: a database a development build migrated to the early version
// 1 (a report column, no checks) is brought to the current layout by migration 2.
func TestMigrateEarlyLayout(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ms, _ := Migrations()
	_, err = s.Pool.Exec(ctx, ms[0].SQL+`
		ALTER TABLE images DROP COLUMN checks; ALTER TABLE images DROP COLUMN os;
		ALTER TABLE images ADD COLUMN report bytea NOT NULL DEFAULT ''; ALTER TABLE images ADD COLUMN summary jsonb;
		ALTER TABLE image_packages DROP COLUMN pkgs; ALTER TABLE image_vulns DROP COLUMN status;
		DROP TABLE harbor_scans; DROP TABLE advisory_db;
		INSERT INTO images (digest, registry, repository, facts, covered, scanned_at, matched_at) VALUES ('sha256:old', 'r', 'a', '', false, now(), now());
		CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
		INSERT INTO schema_migrations (version, name) VALUES (1, '0001_init');`)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Migrate(ctx); err != nil || len(got) != len(ms)-1 {
		t.Fatalf("migrate: %v %v", got, err)
	}
	if n, err := s.Totals(ctx); err != nil || n.Images != 0 {
		t.Fatalf("after migrating the early layout: %+v %v", n, err)
	}
	im := Image{Digest: "sha256:new", Registry: "r", Repository: "a", Facts: []byte{1}, Checks: []byte(`{}`),
		Keys: []PackageKey{{Ecosystem: "Go", Name: "x", Pkgs: []byte(`[]`)}}, Vulns: []VulnRow{{ID: "GO-1", Package: "x", Installed: "1", Status: "fixed", Severity: "high"}}}
	if err := s.SaveImage(ctx, im, nil, nil, nil, ""); err != nil {
		t.Fatalf("saving in the migrated layout: %v", err)
	}
}

// TestReplacePackages: only the rows of the packages named (name and package URL) are
// replaced; a package of the same name in another ecosystem keeps its rows; diff sees
// exactly each image's old rows and its events are written with the new rows.
func TestReplacePackages(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	npm := VulnRow{ID: "GHSA-old", Package: "foo", Installed: "1.0.0", Fixed: "1.1.0", Severity: "high", Path: "pkg:npm/foo@1.0.0"}
	pypi := VulnRow{ID: "PYSEC-1", Package: "foo", Installed: "1.0.0", Severity: "low", Path: "pkg:pypi/foo@1.0.0"}
	other := VulnRow{ID: "GHSA-bar", Package: "bar", Installed: "2.0.0", Severity: "medium", Path: "pkg:npm/bar@2.0.0"}
	for _, d := range []string{"sha256:a", "sha256:b"} {
		im := Image{Digest: d, Registry: "r", Repository: "x", Facts: []byte{1}, Checks: []byte(`{}`), Vulns: []VulnRow{npm, pypi, other}}
		if err := s.SaveImage(ctx, im, nil, nil, nil, ""); err != nil {
			t.Fatal(err)
		}
	}
	newer := VulnRow{ID: "GHSA-new", Aliases: []string{"CVE-2026-1"}, Package: "foo", Installed: "1.0.0", Fixed: "1.2.0", Severity: "critical", Path: "pkg:npm/foo@1.0.0"}
	refixed := npm
	refixed.Fixed = "1.0.9" // the same row, another fix: updated in place
	built := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	seen := map[int][]VulnRow{}
	err := s.ReplacePackages(ctx, []Replaced{
		{ImagePackages: ImagePackages{Digest: "sha256:a", Pkgs: []PackageRef{{Name: "foo", PURL: "pkg:npm/foo@1.0.0"}}}, Vulns: []VulnRow{newer}},
		{ImagePackages: ImagePackages{Digest: "sha256:b", Pkgs: []PackageRef{{Name: "foo", PURL: "pkg:npm/foo@1.0.0"}}}, Vulns: []VulnRow{refixed}},
	}, &built, func(i int, old []VulnRow) []Event {
		seen[i] = old
		return []Event{{Key: "k" + strconv.Itoa(i), Kind: "test", Payload: map[string]int{"i": i}}}
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int][]VulnRow{0: {npm}, 1: {npm}}
	for i := range want {
		if len(seen[i]) != 1 || seen[i][0].ID != npm.ID || seen[i][0].Path != npm.Path || seen[i][0].Fixed != npm.Fixed {
			t.Errorf("image %d: old rows %+v, want %+v", i, seen[i], want[i])
		}
	}
	for d, ids := range map[string][]string{"sha256:a": {"GHSA-bar@", "GHSA-new@1.2.0", "PYSEC-1@"}, "sha256:b": {"GHSA-bar@", "GHSA-old@1.0.9", "PYSEC-1@"}} {
		st, err := s.ImageFacts(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, v := range st.Vulns {
			got = append(got, v.ID+"@"+v.Fixed)
		}
		slices.Sort(got)
		if !slices.Equal(got, ids) {
			t.Errorf("%s: rows %v, want %v", d, got, ids)
		}
		if st.Summary.DBBuilt == nil || !st.Summary.DBBuilt.Equal(built) {
			t.Errorf("%s: database %v, want %v", d, st.Summary.DBBuilt, built)
		}
	}
	evs, err := s.Events(ctx, 0, 10)
	if err != nil || len(evs) != 2 || evs[0].Key != "k0" || evs[1].Key != "k1" {
		t.Errorf("events %+v %v", evs, err)
	}
}

// TestRematchAnImageGone: a batch re-match naming an image no longer stored writes
// nothing of the batch and says how many are missing.
func TestRematchAnImageGone(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	if err := s.SaveImage(ctx, Image{Digest: "sha256:a", Registry: "r", Repository: "x", Facts: []byte{1}, Checks: []byte(`{}`)}, nil, nil, nil, ""); err != nil {
		t.Fatal(err)
	}
	v := VulnRow{ID: "CVE-1", Package: "p", Installed: "1", Severity: "low"}
	err := s.Rematch(ctx, []Judged{{Digest: "sha256:a", Covered: true, Vulns: []VulnRow{v}}, {Digest: "sha256:gone", Vulns: []VulnRow{v}}}, nil)
	if err == nil || err.Error() != "re-match: 1 of 2 images are no longer stored" {
		t.Fatalf("err = %v", err)
	}
	st, err := s.ImageFacts(ctx, "sha256:a")
	if err != nil || len(st.Vulns) != 0 || st.Summary.Covered {
		t.Errorf("the batch was partly written: %+v %v", st, err)
	}
}

// TestHostsRunning: "where is" names the containers of each host's latest report that
// run an affected image, by image ID, by manifest digest, or by the index the manifest
// was pulled through; an older report of a host does not count.
func TestHostsRunning(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	dig := func(c string) string { return "sha256:" + strings.Repeat(c, 64) }
	img, idx, other := dig("a"), dig("b"), dig("c")
	if err := s.SaveImage(ctx, Image{Digest: img, Registry: "r", Repository: "app", Facts: []byte{1}, Checks: []byte(`{}`)},
		[]ImageRef{{Registry: "r", Repository: "app", Tag: "1", IndexDigest: idx}}, nil, nil, ""); err != nil {
		t.Fatal(err)
	}
	rep := json.RawMessage(`{}`)
	save := func(host string, cs ...HostContainer) {
		if _, err := s.SaveHostReport(ctx, host, rep, rep, cs); err != nil {
			t.Fatal(err)
		}
	}
	save("old", HostContainer{Name: "web", ID: "o1", ImageID: img}) // replaced by the next report
	save("old", HostContainer{Name: "web", ID: "o2", ImageID: other})
	save("by-id", HostContainer{Name: "web", ID: "i1", State: "running", Image: "app:1", ImageID: img},
		HostContainer{Name: "db", ID: "i2", ImageID: other})
	save("by-digest", HostContainer{Name: "api", ID: "d1", State: "exited", ImageID: other, Digests: []string{dig("d"), img}})
	save("by-index", HostContainer{Name: "job", ID: "x1", ImageID: dig("e"), Digests: []string{idx}})
	got, err := s.HostsRunning(ctx, []string{img})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, h := range got {
		lines = append(lines, strings.Join([]string{h.Host, h.Container, h.ContainerID, h.State, h.Image}, " ")+" "+strconv.FormatBool(h.Digest == img))
	}
	want := []string{"by-digest api d1 exited  true", "by-id web i1 running app:1 true", "by-index job x1   true"}
	if !slices.Equal(lines, want) {
		t.Errorf("hosts running %s:\n got %q\nwant %q", img, lines, want)
	}
	if got, err := s.HostsRunning(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("no images: %v %v", got, err)
	}
}
