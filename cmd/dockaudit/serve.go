package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dockaudit/dockaudit/internal/collect/registry"
	"github.com/dockaudit/dockaudit/internal/serve"
	"github.com/dockaudit/dockaudit/internal/store"
	"github.com/dockaudit/dockaudit/internal/suggest"
)

const serveUsage = `Usage: dockaudit serve --database DSN [--config FILE] [--listen ADDR] [flags]
       dockaudit serve token create|list|revoke --database DSN [flags]

Runs the dockaudit service: it watches the registries the configuration names (polling
their catalogs, and within seconds from their push notifications at POST
/hooks/registry), scans every new image with the rules of dockaudit image, keeps the
facts and findings in PostgreSQL, judges the stored images again whenever the advisory
database changes (no pull), sends the differences to webhook receivers, keeps the
reports hosts submit (dockaudit host --submit URL), and answers a JSON API under
/api/v1/ (docs/api.md). Several replicas on one database share the work.

The database schema is migrated on start (under a lock, once for all replicas);
--migrate-only migrates and exits. Every API request needs a token (Authorization:
Bearer TOKEN) from "dockaudit serve token create"; /healthz needs none.

The smallest configuration:
  registries:
    - url: http://127.0.0.1:5000      # plain HTTP only for loopback or with insecure: true
      repositories: ["*"]
      poll: 30s
  advisories:
    update: 6h                         # or 0 to only watch import_dir
    import_dir: /var/lib/dockaudit/import
  webhooks:
    - url: https://hooks.example/dockaudit
      secret_file: /etc/dockaudit/hook.secret

Examples:
  dockaudit serve --database postgres://dockaudit@db/dockaudit --config serve.yaml
  dockaudit serve token create --database "$DSN" --scope submit --name ci
`

func runServe(ctx context.Context, args []string, e env) int {
	if len(args) > 0 && args[0] == "token" {
		return runServeToken(ctx, args[1:], e)
	}
	fs := newFlagSet("serve", serveUsage)
	dsn := fs.String("database", "", "PostgreSQL `DSN` (postgres://USER[:PASSWORD]@HOST[:PORT]/DB; default $DOCKAUDIT_DATABASE)")
	cfgPath := fs.String("config", "", "configuration `FILE` (YAML; see above)")
	listen := fs.String("listen", "127.0.0.1:8080", "`ADDR` to serve the API on")
	dataDir := fs.String("data-dir", "/var/lib/dockaudit", "`DIR` for this replica's copy of the advisory database")
	tlsCert := fs.String("tls-cert", "", "serve HTTPS with this certificate `FILE` (PEM)")
	tlsKey := fs.String("tls-key", "", "and this key `FILE`")
	migrateOnly := fs.Bool("migrate-only", false, "migrate the database schema and exit")
	noAuth := fs.Bool("insecure-no-auth", false, "serve the API without tokens (development only; refused unless --listen is loopback)")
	workers := fs.Int("workers", 0, "`N` jobs this replica runs at once (default: the configuration's workers, else 2)")
	lease := fs.Duration("lease", 2*time.Minute, "how long a job stays this replica's without a heartbeat: after a crash, the `DURATION` before another replica takes it over")
	if code, done := fs.parseFlagsOnly(args, e); done {
		return code
	}
	if *dsn == "" {
		*dsn = e.getenv("DOCKAUDIT_DATABASE")
	}
	if *dsn == "" {
		fmt.Fprintln(e.stderr, "dockaudit serve: --database is required (or $DOCKAUDIT_DATABASE)")
		return exitUsage
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		fmt.Fprintln(e.stderr, "dockaudit serve: give --tls-cert and --tls-key together")
		return exitUsage
	}
	if *noAuth && !registry.Loopback(*listen) {
		fmt.Fprintf(e.stderr, "dockaudit serve: --insecure-no-auth serves anyone who connects; it is allowed only on a loopback --listen, not %s\n", *listen)
		return exitUsage
	}
	cfg := &serve.Config{Workers: 2}
	if *cfgPath != "" {
		var err error
		if cfg, err = serve.LoadConfig(*cfgPath, e.getenv); err != nil {
			fmt.Fprintf(e.stderr, "dockaudit serve: %v\n", err)
			return exitUsage
		}
	}
	if *workers > 0 {
		cfg.Workers = *workers
	}
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	st, err := store.Open(octx, *dsn)
	cancel()
	if err != nil {
		fmt.Fprintf(e.stderr, "dockaudit serve: %v\n", err)
		return exitFailed
	}
	defer st.Close()
	applied, err := st.Migrate(ctx)
	if err != nil {
		fmt.Fprintf(e.stderr, "dockaudit serve: %v\n", err)
		return exitFailed
	}
	log := slog.New(slog.NewTextHandler(e.stderr, nil))
	if len(applied) > 0 {
		log.Info("database migrated", "versions", fmt.Sprint(applied))
	}
	if *migrateOnly {
		v, _ := st.Version(ctx)
		fmt.Fprintf(e.stdout, "database schema at version %d (%d applied now)\n", v, len(applied))
		return exitOK
	}
	if *lease < 3*time.Second {
		fmt.Fprintln(e.stderr, "dockaudit serve: --lease must be at least 3s")
		return exitUsage
	}
	srv, err := serve.New(serve.Options{Store: st, Config: cfg, DataDir: *dataDir, Log: log, Lease: *lease})
	if err != nil {
		fmt.Fprintf(e.stderr, "dockaudit serve: %v\n", err)
		return exitFailed
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(e.stderr, "dockaudit serve: %v\n", err)
		return exitFailed
	}
	hs := &http.Server{Handler: srv.Handler(*noAuth), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 5 * time.Minute,
		WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	if *tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			fmt.Fprintf(e.stderr, "dockaudit serve: --tls-cert/--tls-key: %v\n", err)
			return exitUsage
		}
		hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
		ln = tls.NewListener(ln, hs.TLSConfig)
	}
	scheme := "http"
	if *tlsCert != "" {
		scheme = "https"
	}
	log.Info("serving", "url", scheme+"://"+ln.Addr().String(), "replica", srv.Owner(), "database", store.Redact(*dsn), "registries", len(cfg.Registries), "auth", !*noAuth)
	errc := make(chan error, 2)
	go func() { errc <- hs.Serve(ln) }()
	go func() { errc <- srv.Run(ctx) }()
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	hs.Shutdown(sctx)
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(e.stderr, "dockaudit serve: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// tokenUsage is the help of serve token SUB: its own synopsis first.
func tokenUsage(sub string) string {
	synopsis := map[string]string{
		"create": "Usage: dockaudit serve token create --database DSN --scope read|submit|scan|admin [--name NAME]",
		"list":   "Usage: dockaudit serve token list --database DSN",
		"revoke": "Usage: dockaudit serve token revoke --database DSN ID",
	}[sub]
	if synopsis == "" {
		synopsis = "Usage: dockaudit serve token create|list|revoke --database DSN ..."
	}
	return synopsis + `

Tokens are stored as SHA-256 hashes: create prints the token once. Scopes, each
including the ones before it: read (the API's GET endpoints and /metrics), submit
(POST /api/v1/reports: dockaudit host --submit), scan (POST /api/v1/scan, Harbor),
admin.

Examples:
  dockaudit serve token create --database postgres://dockaudit@db/dockaudit --scope submit --name ci
  dockaudit serve token list --database postgres://dockaudit@db/dockaudit
  dockaudit serve token revoke --database postgres://dockaudit@db/dockaudit 7
`
}

func runServeToken(ctx context.Context, args []string, e env) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		w := e.usage
		if len(args) > 0 {
			w = e.stdout
		}
		fmt.Fprint(w, tokenUsage(""))
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	sub := args[0]
	if sub != "create" && sub != "list" && sub != "revoke" {
		fmt.Fprintf(e.stderr, "dockaudit serve token: unknown subcommand %q%s (create, list or revoke)\n", sub, suggest.Phrase(suggest.Closest(sub, []string{"create", "list", "revoke"})))
		return exitUsage
	}
	fs := newFlagSet("serve token "+sub, tokenUsage(sub))
	dsn := fs.String("database", "", "PostgreSQL `DSN` (default $DOCKAUDIT_DATABASE)")
	scope, name := new(string), new(string)
	if sub == "create" {
		fs.StringVar(scope, "scope", "", "`SCOPE` of the new token: read, submit, scan or admin")
		fs.StringVar(name, "name", "", "a `NAME` to recognise the token by")
	}
	pos, err := fs.parse(args[1:], e)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	if *dsn == "" {
		*dsn = e.getenv("DOCKAUDIT_DATABASE")
	}
	if *dsn == "" {
		fmt.Fprintf(e.stderr, "dockaudit serve token %s: --database is required (or $DOCKAUDIT_DATABASE)\n", sub)
		return exitUsage
	}
	var id int64
	switch {
	case sub == "create" && *scope == "":
		fmt.Fprintln(e.stderr, "dockaudit serve token create: --scope is required: read, submit, scan or admin")
		return exitUsage
	case sub == "revoke" && len(pos) != 1:
		fmt.Fprintln(e.stderr, "dockaudit serve token revoke: name one token ID (dockaudit serve token list)")
		return exitUsage
	case sub == "revoke":
		if id, err = strconv.ParseInt(pos[0], 10, 64); err != nil {
			fmt.Fprintf(e.stderr, "dockaudit serve token revoke: %q is not a token ID\n", pos[0])
			return exitUsage
		}
	case len(pos) > 0:
		fmt.Fprintf(e.stderr, "dockaudit serve token %s: unexpected argument %q\n", sub, pos[0])
		return exitUsage
	}
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, err := store.Open(octx, *dsn)
	if err != nil {
		fmt.Fprintf(e.stderr, "dockaudit serve token: %v\n", err)
		return exitFailed
	}
	defer st.Close()
	if err := st.CheckVersion(octx); err != nil {
		fmt.Fprintf(e.stderr, "dockaudit serve token: %v\n", err)
		return exitFailed
	}
	switch sub {
	case "create":
		tok, _, err := st.CreateToken(octx, *scope, *name)
		if err != nil {
			fmt.Fprintf(e.stderr, "dockaudit serve token create: %v\n", err)
			if strings.HasPrefix(err.Error(), "unknown scope") {
				return exitUsage
			}
			return exitFailed
		}
		fmt.Fprintln(e.stdout, tok)
	case "list":
		ts, err := st.Tokens(octx)
		if err != nil {
			fmt.Fprintf(e.stderr, "dockaudit serve token list: %v\n", err)
			return exitFailed
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSCOPE\tNAME\tCREATED\tREVOKED")
		for _, t := range ts {
			rev := "-"
			if t.RevokedAt != nil {
				rev = t.RevokedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", t.ID, t.Scope, t.Name, t.CreatedAt.UTC().Format(time.RFC3339), rev)
		}
		tw.Flush()
	case "revoke":
		if err := st.RevokeToken(octx, id); err != nil {
			fmt.Fprintf(e.stderr, "dockaudit serve token revoke: %v\n", err)
			return exitFailed
		}
		fmt.Fprintf(e.stdout, "token %d revoked\n", id)
	}
	return exitOK
}
