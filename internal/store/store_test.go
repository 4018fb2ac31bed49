package store

import (
	"context"
	"errors"
	"slices"
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
