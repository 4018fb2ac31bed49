package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"strconv"
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
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("dropping %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		// FORCE cannot end an autovacuum worker still busy in a large test database:
		// wait for it.
		for i := 0; ; i++ {
			_, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			if err == nil {
				return
			}
			if i == 60 {
				t.Errorf("dropping %s: %v", name, err)
				return
			}
			time.Sleep(time.Second)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("DOCKAUDIT_TEST_DATABASE must be a postgres:// URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// Cluster is a private PostgreSQL server a test may stop and restart without
// disturbing other tests: its own data directory, port and socket directory.
type Cluster struct {
	Dir  string
	Port int
	DSN  string
}

const pgBin = "/usr/lib/postgresql/15/bin"

func asPostgres(t testing.TB, args ...string) {
	t.Helper()
	cmd := exec.Command("runuser", append([]string{"-u", "postgres", "--"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
}

// NewCluster initialises and starts a cluster (as the postgres user, which Debian's
// postgresql package creates) with a database the DSN names; it is stopped at cleanup.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	if _, err := os.Stat(pgBin + "/initdb"); err != nil {
		testenv.Missing(t, "no PostgreSQL 15 binaries in %s (scripts/setup --server)", pgBin)
	}
	if os.Geteuid() != 0 {
		testenv.Missing(t, "a private PostgreSQL cluster is started as the postgres user: run as root")
	}
	dir, err := os.MkdirTemp("", "dockaudit-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	u, err := user.Lookup("postgres")
	if err != nil {
		testenv.Missing(t, "no postgres user: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	c := &Cluster{Dir: dir, Port: port}
	asPostgres(t, pgBin+"/initdb", "-D", dir+"/data", "-A", "trust", "-U", "postgres", "--no-sync")
	c.Start(t)
	t.Cleanup(func() { c.Stop(t) })
	asPostgres(t, "/usr/bin/psql", "-h", dir, "-p", strconv.Itoa(port), "-U", "postgres", "-qc", "CREATE DATABASE dockaudit")
	c.DSN = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/dockaudit?sslmode=disable", port)
	return c
}

// Start starts the cluster and waits for it.
func (c *Cluster) Start(t testing.TB) {
	t.Helper()
	asPostgres(t, pgBin+"/pg_ctl", "-D", c.Dir+"/data", "-l", c.Dir+"/log", "-w", "-o",
		fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", c.Port, c.Dir), "start")
}

// Stop stops it (fast: open sessions are cut, as in a crash of the server's clients'
// view).
func (c *Cluster) Stop(t testing.TB) {
	t.Helper()
	cmd := exec.Command("runuser", "-u", "postgres", "--", pgBin+"/pg_ctl", "-D", c.Dir+"/data", "-m", "fast", "-w", "stop")
	cmd.Run()
}
