package store

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the key of the advisory lock migrations run under, so replicas
// starting together apply each migration once.
const migrationLock = 0x646f636b61756474 // "dockaudt"

// Store is a pool of connections to the service's database.
type Store struct {
	Pool *pgxpool.Pool
}

// Open connects to the database named by dsn (a postgres:// URL or key=value string)
// and checks that it answers within the context's deadline.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx quotes the whole string, password included, in some errors.
		return nil, errors.New("the database address cannot be parsed: use postgres://USER@HOST[:PORT]/DB or key=value pairs")
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	cfg.MaxConns = max(cfg.MaxConns, 8)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", Redact(dsn), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database %s: %w", Redact(dsn), err)
	}
	return &Store{Pool: pool}, nil
}

// Close releases the connections.
func (s *Store) Close() { s.Pool.Close() }

var passwordRE = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// Redact is a database address fit for a log: no password, in either syntax.
func Redact(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		rest := dsn[i+3:]
		if at := strings.LastIndex(strings.SplitN(rest, "/", 2)[0], "@"); at >= 0 {
			userinfo := rest[:at]
			if u, _, ok := strings.Cut(userinfo, ":"); ok {
				dsn = dsn[:i+3] + u + ":xxxxx" + rest[at:]
			}
		}
	}
	dsn = passwordRE.ReplaceAllString(dsn, "${1}xxxxx")
	if len(dsn) > 200 {
		dsn = dsn[:200] + "…"
	}
	return dsn
}

// Migration is one embedded schema step.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the embedded migrations, in order.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("migration %s is not named NNNN_name.sql", e.Name())
		}
		b, err := migrations.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: strings.TrimSuffix(e.Name(), ".sql"), SQL: string(b)})
	}
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %s: versions must run 1, 2, 3… without gaps", m.Name)
		}
	}
	return out, nil
}

// ErrNewerSchema is a database a newer dockaudit migrated: this one must not write it.
var ErrNewerSchema = errors.New("the database schema is newer than this dockaudit")

// Migrate applies the migrations the database lacks, each in its own transaction,
// holding an advisory lock so that replicas starting at once apply each one once. It
// returns the versions it applied.
func (s *Store) Migrate(ctx context.Context) ([]int, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	conn, err := s.Pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(migrationLock)); err != nil {
		return nil, fmt.Errorf("taking the migration lock: %w", err)
	}
	defer func() {
		// A cancelled context must still give the lock back on this connection.
		uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, "SELECT pg_advisory_unlock($1)", int64(migrationLock)); err != nil {
			conn.Conn().Close(uctx) // a closed session drops its locks
		}
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, err
	}
	var current int
	if err := conn.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return nil, err
	}
	if current > len(ms) {
		return nil, fmt.Errorf("%w: it is at version %d, this dockaudit knows %d", ErrNewerSchema, current, len(ms))
	}
	var applied []int
	for _, m := range ms[current:] {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name)
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("migration %s: %w", m.Name, err)
		}
		applied = append(applied, m.Version)
	}
	return applied, nil
}

// Version is the schema version the database is at (0 before any migration).
func (s *Store) Version(ctx context.Context) (int, error) {
	var v int
	err := s.Pool.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&v)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table
		return 0, nil
	}
	return v, err
}

// CheckVersion fails unless the database is at exactly the schema this dockaudit
// writes: a replica must not run against a schema it does not know.
func (s *Store) CheckVersion(ctx context.Context) error {
	ms, err := Migrations()
	if err != nil {
		return err
	}
	v, err := s.Version(ctx)
	if err != nil {
		return err
	}
	switch {
	case v > len(ms):
		return fmt.Errorf("%w: it is at version %d, this dockaudit knows %d", ErrNewerSchema, v, len(ms))
	case v < len(ms):
		return fmt.Errorf("the database schema is at version %d, this dockaudit needs %d: run dockaudit serve --migrate-only", v, len(ms))
	}
	return nil
}

func jsonBytes(v any) ([]byte, error) {
	if b, ok := v.([]byte); ok {
		return b, nil
	}
	return json.Marshal(v)
}

// Lock takes a named advisory lock, waiting for it, on a connection of its own; unlock
// gives it back. A replica that dies loses its session, and with it the lock.
func (s *Store) Lock(ctx context.Context, name string) (unlock func(), err error) {
	conn, err := s.Pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(hashtext($1))", name); err != nil {
		conn.Release()
		return nil, err
	}
	return func() {
		uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, "SELECT pg_advisory_unlock(hashtext($1))", name); err != nil {
			conn.Conn().Close(uctx)
		}
		conn.Release()
	}, nil
}

// MarkMatched records that images not re-judged after an update are as the new
// database would judge them (the update touched none of their packages).
func (s *Store) MarkMatched(ctx context.Context, built time.Time) error {
	_, err := s.Pool.Exec(ctx, "UPDATE images SET db_built = $1 WHERE db_built IS NOT NULL AND db_built < $1", built)
	return err
}
