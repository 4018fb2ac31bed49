package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dockaudit/dockaudit/internal/advisory"
	"github.com/dockaudit/dockaudit/internal/app"
	"github.com/dockaudit/dockaudit/internal/safefile"
	"github.com/dockaudit/dockaudit/internal/suggest"
	"github.com/dockaudit/dockaudit/internal/textsafe"
)

const dbUsage = `Usage: dockaudit db <update|import|export|status> [flags]

The local vulnerability database dockaudit image matches packages against. It lives in
--db-dir (default $DOCKAUDIT_DB_DIR, else ~/.cache/dockaudit) as one file, vuln.db,
replaced atomically: an interrupted or failed update or import leaves the previous
database working.

  update            download the advisories: OSV (all.zip per ecosystem, then only what
                    modified_id.csv lists as changed), the Debian security tracker and
                    Alpine's secdb; HTTPS_PROXY and NO_PROXY are honoured
  import PATH...    build the database from files, directories and zips of advisories
                    (OSV JSON or YAML, OSV all.zip, Debian tracker JSON, DSA/DLA lists,
                    Alpine secdb, a golang.org/x/vulndb checkout), or install a bundle
                    made by export: for hosts without network access
  export FILE       write the database as a bundle (tar.gz with a checksummed manifest)
  status            the sources, record counts and age of the database

Examples:
  dockaudit db update
  dockaudit db update --ecosystems Debian,Go --alpine-branches ""
  dockaudit db export vulndb.tar.gz && scp vulndb.tar.gz airgapped: && ssh airgapped dockaudit db import vulndb.tar.gz
`

func runDB(ctx context.Context, args []string, e env) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		w := e.stdout
		if len(args) == 0 {
			w = e.usage
		}
		fmt.Fprint(w, dbUsage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	switch args[0] {
	case "update":
		return runDBUpdate(ctx, args[1:], e)
	case "import":
		return runDBImport(ctx, args[1:], e)
	case "export":
		return runDBExport(args[1:], e)
	case "status":
		return runDBStatus(args[1:], e)
	}
	fmt.Fprintf(e.stderr, "dockaudit db: unknown subcommand %q%s (update, import, export or status)\n", args[0], suggest.Phrase(suggest.Closest(args[0], []string{"update", "import", "export", "status"})))
	return exitUsage
}

func dbFlags(name, usage string) (*flags, *string) {
	fs := newFlagSet("db "+name, usage)
	dir := fs.String("db-dir", "", "the database `DIR` (default $DOCKAUDIT_DB_DIR, else ~/.cache/dockaudit)")
	return fs, dir
}

const dbUpdateUsage = `Usage: dockaudit db update [flags]

Downloads the advisories and installs a new database atomically. Each source is
brought up to date on its own: one that fails keeps its previous copy, the others
are installed, and the failures are listed on stderr (exit 1 only when every source
failed, or with --strict). With a database already in place, OSV ecosystems are
brought up to date from modified_id.csv when few records changed (--full downloads
every all.zip again). Alpine branches are every branch secdb's index lists, unless
--alpine-branches names them. Wolfi and Chainguard advisories are not downloaded:
their licence does not allow a scanner to use them.

Amazon Linux and Oracle Linux publish their advisories (ALAS, ELSA) in their RPM
repositories' updateinfo.xml, not in OSV: --updateinfo-repos names the repositories
to read them from (none by default: which ones matter depends on the images), each as
the directory holding repodata/ or as Amazon's mirror.list, for example
  https://cdn.amazonlinux.com/al2023/core/mirrors/latest/x86_64/mirror.list
  https://cdn.amazonlinux.com/2/core/latest/x86_64/mirror.list
  https://yum.oracle.com/repo/OracleLinux/OL9/baseos/latest/x86_64/
Each repository is a source of its own (updateinfo:HOST/PATH).

Red Hat files its advisories per product stream (RHEL 9 AppStream, 9.4 EUS…); a RHEL
image's streams come from its /root/buildinfo/content_manifests through Red Hat's
repository-to-CPE map, downloaded with the Red Hat ecosystem (--redhat-repo-map). Red
Hat's CSAF advisories and VEX files (security.access.redhat.com/data/csaf/v2/) can be
loaded with dockaudit db import DIR, the map with db import repository-to-cpe.json.

Examples:
  dockaudit db update
  dockaudit db update --ecosystems Debian,Alpine,Go,PyPI --alpine-branches v3.20,v3.21
  dockaudit db update --updateinfo-repos https://cdn.amazonlinux.com/al2023/core/mirrors/latest/x86_64/mirror.list
`

func runDBUpdate(ctx context.Context, args []string, e env) int {
	fs, dir := dbFlags("update", dbUpdateUsage)
	osvURL := fs.String("osv-url", advisory.DefaultOSVBase, "base `URL` of the OSV bucket")
	debianURL := fs.String("debian-url", advisory.DefaultDebianTracker, "`URL` of the Debian security tracker JSON (\"\" skips it)")
	alpineURL := fs.String("alpine-url", advisory.DefaultAlpineBase, "base `URL` of Alpine's secdb (\"\" skips it)")
	ecosystems := fs.String("ecosystems", strings.Join(advisory.DefaultEcosystems, ","), "OSV `ECOSYSTEMS` to download, comma-separated (\"\" for none)")
	var branches optionalList
	fs.Var(&branches, "alpine-branches", "Alpine `BRANCHES` to download, comma-separated (default: every branch secdb lists; \"\" for none)")
	rhMap := fs.String("redhat-repo-map", advisory.RedHatRepoMapURL, "`URL` of Red Hat's repository-to-CPE map, read when the ecosystems include Red Hat (\"\" skips it)")
	repos := fs.String("updateinfo-repos", "", "RPM repository `URLS`, comma-separated, whose updateinfo.xml holds Amazon Linux's or Oracle Linux's advisories (see above)")
	full := fs.Bool("full", false, "download every OSV all.zip even when an incremental update would do")
	strict := fs.Bool("strict", false, "exit 1 when any source failed (the others are still installed)")
	quiet := fs.Bool("quiet", false, "no progress lines on stderr")
	caFile := fs.String("ca-file", "", "also trust the CA certificates in `FILE` (a mirror behind a private CA)")
	timeout := fs.Duration("timeout", 30*time.Minute, "give up after this `DURATION`")
	if code, done := fs.parseFlagsOnly(args, e); done {
		return code
	}
	if *timeout <= 0 {
		fmt.Fprintf(e.stderr, "dockaudit db update: --timeout %s: want a positive duration\n", *timeout)
		return exitUsage
	}
	tr := &http.Transport{Proxy: http.ProxyFromEnvironment, ResponseHeaderTimeout: time.Minute}
	if *caFile != "" {
		pem, err := safefile.PEM(*caFile)
		pool, perr := x509.SystemCertPool()
		if err == nil && perr != nil {
			pool = x509.NewCertPool()
		}
		if err == nil && !pool.AppendCertsFromPEM(pem) {
			err = fmt.Errorf("%s holds no PEM certificate", *caFile)
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "dockaudit db update: --ca-file: %v\n", err)
			return exitUsage
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	o := advisory.UpdateOptions{
		Dir: dbDirectory(*dir, e), OSVBase: *osvURL, Ecosystems: splitList(*ecosystems), DebianTrackerURL: *debianURL,
		AlpineBase: *alpineURL, Full: *full, Client: &http.Client{Transport: tr}, UpdateInfoRepos: splitList(*repos),
	}
	if slices.Contains(o.Ecosystems, "Red Hat") {
		o.RedHatRepoMap = *rhMap
	}
	for _, r := range o.UpdateInfoRepos {
		if err := advisory.CheckRepoURL(r); err != nil {
			fmt.Fprintf(e.stderr, "dockaudit db update: --updateinfo-repos %v\n", err)
			return exitUsage
		}
	}
	if branches.set {
		o.AlpineBranches = branches.list
		if len(o.AlpineBranches) == 0 {
			o.AlpineBase = ""
		}
	}
	if !*quiet {
		// Whole lines, on a terminal or in a CI log.
		o.Progress = func(format string, a ...any) { fmt.Fprintf(e.stderr, "dockaudit db update: "+format, a...) }
	}
	start := time.Now()
	res, err := advisory.Update(ctx, o)
	if errors.Is(err, advisory.ErrAllFailed) && len(res.Failed) == 1 {
		fmt.Fprintf(e.stderr, "dockaudit db update: %s failed: %v; the database is as it was\n", res.Failed[0].Name, res.Failed[0].Err)
		return exitFailed
	}
	for _, f := range res.Failed {
		kept := "no previous copy"
		switch {
		case errors.Is(err, advisory.ErrAllFailed):
			kept = "nothing was installed"
		case f.Kept:
			kept = fmt.Sprintf("kept its previous copy (%d records)", f.Records)
		}
		fmt.Fprintf(e.stderr, "dockaudit db update: %s failed, %s: %v\n", f.Name, kept, f.Err)
	}
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("not done within %s (raise --timeout); the previous database is unchanged", *timeout)
		}
		fmt.Fprintf(e.stderr, "dockaudit db update: %v\n", err)
		return exitFailed
	}
	meta := res.Meta
	fmt.Fprintf(e.stdout, "updated %s: %d advisories for %d packages from %d sources in %s",
		filepath.Join(o.Dir, advisory.FileName), meta.Records, meta.Packages, len(meta.Sources), time.Since(start).Round(time.Millisecond))
	if n := len(res.Failed); n > 0 {
		fmt.Fprintf(e.stdout, "; %d failed (see stderr)", n)
	}
	fmt.Fprintln(e.stdout)
	if *strict && len(res.Failed) > 0 {
		return exitFailed
	}
	return exitOK
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

const dbImportUsage = `Usage: dockaudit db import [flags] PATH...

Adds the advisories in the given files, directories and zips to the database, source
by source: a source imported again (osv:Debian, debian-tracker,
alpine-secdb:v3.20/main…) replaces its earlier copy, and the others stay. --replace
starts a new database instead. One bundle made by dockaudit db export is installed as
it is. Formats are recognised by content, whatever the files are called: OSV JSON or
YAML, OSV zip (all.zip), the Debian tracker's JSON (tracker/data/json), its DSA and DLA
lists, Alpine secdb JSON or YAML, and the updateinfo.xml(.gz) of Amazon Linux and Oracle
Linux repositories (ALAS, ELSA: the only source for those distributions). Nothing
changes unless everything was read.

Examples:
  dockaudit db import Debian-all.zip
  dockaudit db import --replace vulndb/data/osv json
  dockaudit db import mirror/al2023/repodata/*-updateinfo.xml.gz
`

func runDBImport(ctx context.Context, args []string, e env) int {
	fs, dir := dbFlags("import", dbImportUsage)
	timeout := fs.Duration("timeout", 30*time.Minute, "give up after this `DURATION`; the database is left as it was")
	replace := fs.Bool("replace", false, "start a new database from what is imported (by default the import adds to the current one, replacing only the sources it holds again)")
	paths, err := fs.parse(args, e)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	} else if err != nil {
		return exitUsage
	}
	if len(paths) == 0 {
		fmt.Fprintln(e.stderr, "dockaudit db import: name at least one file, directory or bundle (see dockaudit db import --help)")
		return exitUsage
	}
	if *timeout <= 0 {
		fmt.Fprintf(e.stderr, "dockaudit db import: --timeout %s: want a positive duration such as 30m\n", *timeout)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	d := dbDirectory(*dir, e)
	meta, notes, err := advisory.ImportNotes(ctx, paths, d, time.Now(), advisory.ImportOptions{Replace: *replace})
	for _, n := range notes {
		fmt.Fprintf(e.stderr, "dockaudit db import: note: %s\n", n)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("not done within --timeout %s; the database is as it was", *timeout)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "dockaudit db import: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(e.stdout, "imported into %s: %d advisories for %d packages from %d sources\n", filepath.Join(d, advisory.FileName), meta.Records, meta.Packages, len(meta.Sources))
	return exitOK
}

func openDB(name, dir string, e env) (*advisory.Store, int) {
	s, err := advisory.Open(filepath.Join(dir, advisory.FileName))
	if errors.Is(err, advisory.ErrNoDatabase) {
		fmt.Fprintf(e.stderr, "dockaudit db %s: no database in %s: run dockaudit db update (or dockaudit db import PATH)\n", name, dir)
		return nil, exitFailed
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "dockaudit db %s: %v\n", name, err)
		return nil, exitFailed
	}
	return s, exitOK
}

func runDBExport(args []string, e env) int {
	fs, dir := dbFlags("export", "Usage: dockaudit db export [flags] FILE\n\nWrites the database as a bundle for dockaudit db import on another host (- for stdout).\n\nExamples:\n  dockaudit db export vulndb.tar.gz\n  dockaudit db export - > /media/usb/vulndb.tar.gz\n")
	pos, err := fs.parse(args, e)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	} else if err != nil {
		return exitUsage
	}
	if len(pos) != 1 {
		fmt.Fprintln(e.stderr, "dockaudit db export: name one output FILE (or - for stdout)")
		return exitUsage
	}
	if err := outputClash(pos[0], filepath.Join(dbDirectory(*dir, e), advisory.FileName)); err != nil {
		fmt.Fprintf(e.stderr, "dockaudit db export: %v\n", err)
		return exitUsage
	}
	s, code := openDB("export", dbDirectory(*dir, e), e)
	if s == nil {
		return code
	}
	defer s.Close()
	if pos[0] == "-" {
		err = advisory.Export(s, e.stdout)
	} else {
		err = app.WriteOutput(pos[0], 0o644, e.stdout, func(w io.Writer) error { return advisory.Export(s, w) })
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "dockaudit db export: %v\n", err)
		return exitFailed
	}
	return exitOK
}

func runDBStatus(args []string, e env) int {
	fs, dir := dbFlags("status", "Usage: dockaudit db status [flags]\n\nShows the database's sources, record counts and age.\n\nExamples:\n  dockaudit db status\n  dockaudit db status --format json\n")
	format := fs.String("format", "table", "`FORMAT`: table or json")
	if code, done := fs.parseFlagsOnly(args, e); done {
		return code
	}
	if *format != "table" && *format != "json" {
		fmt.Fprintf(e.stderr, "dockaudit db status: --format %q: want table or json\n", *format)
		return exitUsage
	}
	d := dbDirectory(*dir, e)
	start := time.Now()
	s, code := openDB("status", d, e)
	if s == nil {
		return code
	}
	opened := time.Since(start)
	defer s.Close()
	if *format == "json" {
		return writeJSON(e, s.Meta)
	}
	size := "size unknown"
	if fi, err := os.Stat(s.Path); err == nil {
		size = fmt.Sprintf("%.1f MB", float64(fi.Size())/1e6)
	}
	// Source names and origins come from whoever made the database or bundle.
	e.stdout = textsafe.TextWriter{W: e.stdout}
	fmt.Fprintf(e.stdout, "%s: schema %s, written %s, %s, opened in %s\n", s.Path, s.Meta.Schema,
		s.Meta.Built.Format("2006-01-02 15:04 UTC"), size, opened.Round(time.Microsecond))
	fmt.Fprintf(e.stdout, "%d advisories for %d packages in %d ecosystems\n\n", s.Meta.Records, s.Meta.Packages, len(s.Meta.Ecosystems))
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tRECORDS\tSKIPPED\tDATA AS OF\tIMPORTED\tFROM")
	srcs := append([]advisory.SourceInfo{}, s.Meta.Sources...)
	sort.SliceStable(srcs, func(i, j int) bool { return srcs[i].Name < srcs[j].Name })
	now := time.Now()
	var stale []string
	for _, src := range srcs {
		// The data's own date, not when it was fetched: an import of an old file
		// today is old data.
		asOf := "unknown"
		if !src.DataDate.IsZero() {
			asOf = src.DataDate.Format("2006-01-02 15:04")
			if days := int(now.Sub(src.DataDate).Hours() / 24); days > 7 {
				stale = append(stale, fmt.Sprintf("%s (%d days)", src.Name, days))
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\n", src.Name, src.Records, src.Skipped, asOf, src.Fetched.Format("2006-01-02 15:04"), src.Origin)
	}
	tw.Flush()
	if len(stale) > 0 {
		fmt.Fprintf(e.stdout, "\nThe newest advisory of %s is more than a week old: run dockaudit db update.\n", strings.Join(stale, ", "))
	}
	return exitOK
}

func writeJSON(e env, v any) int {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(e.stderr, "dockaudit: %v\n", err)
		return exitFailed
	}
	return exitOK
}
