package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dockaudit/dockaudit/internal/testenv"
)

// DefaultDSN is the role and database scripts/setup --server creates;
// DOCKAUDIT_TEST_DATABASE overrides it.
const DefaultDSN = "postgres://dockaudit:dockaudit@127.0.0.1:5432/dockaudit?sslmode=disable"

func adminDSN() string {
	if d := os.Getenv("DOCKAUDIT_TEST_DATABASE"); d != "" {
		return d
	}
	return DefaultDSN
}

// New creates an empty database for the test and returns its address; the database is
// dropped at cleanup. Without a reachable PostgreSQL the test is skipped (a failure
// under CI).
func New(t testing.TB) string {
	t.Helper()
	base := adminDSN()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		testenv.Missing(t, "no PostgreSQL at %s (scripts/setup --server): %v", base, err)
	}
	var b [6]byte
	rand.Read(b[:])
	name := "dockaudit_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		conn.Close(ctx)
		t.Fatalf("creating a test database: %v", err)
	}
	conn.Close(ctx)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("dropping %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("DOCKAUDIT_TEST_DATABASE must be a postgres:// URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// Name is the database name of a DSN New returned.
func Name(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		panic(fmt.Sprintf("pgtest: %v", err))
	}
	return u.Path[1:]
}
