package app

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dockaudit/dockaudit/internal/advisory"
	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/collect/image"
	"github.com/dockaudit/dockaudit/internal/imagetest"
	"github.com/dockaudit/dockaudit/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var goldenNow = func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }

// Fake credentials shaped like real ones; none may appear in any output.
const (
	fakeAWS = "AKIAZ3MSJV4QWERTYUIO"
	fakeGH  = "ghp_0123456789abcdefghijABCDEFGHIJ012345"
)

// goldenImage is a small Debian-like image with something for every image rule: root
// user, no HEALTHCHECK, a lone update, an ADD of a URL, secrets in ENV, history and
// files (one removed by a later layer), setuid files, sudo, an account without a
// password, a duplicate UID, an apt cache, a sensitive VOLUME and a .git directory.
func goldenImage(t *testing.T) string {
	t.Helper()
	f, d, suid := imagetest.File, imagetest.Dir, func(p string) imagetest.Entry {
		return imagetest.Entry{Name: p, Body: "\x7fELF", Type: tar.TypeReg, Mode: 0o4755}
	}
	base := imagetest.Layer(t,
		d("etc/"), f("etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n"),
		f("etc/passwd", "root:x:0:0:root:/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\nguest:x:1000:1000::/home/guest:/bin/sh\n"),
		f("etc/shadow", "root:*:19000::::::\ntoor:!:19000::::::\nguest::19000::::::\n"),
		f("etc/group", "root:x:0:\nguest:x:1000:\n"),
		d("var/lib/dpkg/"), f("var/lib/dpkg/status", "Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl (3.0.15-1~deb12u1)\nVersion: 3.0.15-1~deb12u1+b1\n\n"+
			"Package: tzdata\nStatus: install ok installed\nArchitecture: all\nVersion: 2026b-0+deb12u1\n"),
		d("usr/bin/"), suid("usr/bin/passwd"),
	)
	app := imagetest.Layer(t,
		d("var/cache/apt/archives/"), f("var/cache/apt/archives/tzdata_2026b-0+deb12u1_all.deb", "deb"),
		suid("usr/bin/sudo"),
		d("srv/app/"), f("srv/app/.env", "AWS_ACCESS_KEY_ID="+fakeAWS+"\n"),
		d("srv/app/.git/"), f("srv/app/.git/HEAD", "ref: refs/heads/main\n"),
		d("root/.ssh/"), f("root/.ssh/id_ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n"),
		d("srv/app/node_modules/left-pad/"), f("srv/app/node_modules/left-pad/package.json", `{"name":"left-pad","version":"1.3.0","license":"WTFPL"}`),
	)
	cleanup := imagetest.Layer(t, f("root/.ssh/.wh.id_ed25519", ""))
	img := imagetest.Build(t, v1.Config{
		Env:     []string{"PATH=/usr/bin:/bin", "DB_PASSWORD=hunter2-golden"},
		Labels:  map[string]string{"org.opencontainers.image.title": "golden", "com.example.token": fakeGH},
		Volumes: map[string]struct{}{"/etc": {}, "/data": {}},
	}, [][]byte{base, app, cleanup},
		"/bin/sh -c #(nop) ADD file:0123abcd in / ",
		"/bin/sh -c #(nop) ADD https://example.com/app.tgz /srv/app",
		"|1 TOKEN="+fakeGH+" /bin/sh -c apt-get update")
	return imagetest.WriteArchive(t, img, "golden:1")
}

// goldenRef writes the golden image and returns a reference to it relative to the
// working directory, which the test moves next to it: reports name what the user
// typed, and a temporary path would change every run.
func goldenRef(t *testing.T) string {
	archive := goldenImage(t)
	t.Chdir(filepath.Dir(archive))
	return "docker-archive:" + filepath.Base(archive)
}

// testDB builds a vulnerability database from testdata/advisories (a tracker excerpt
// and an OSV record written for these tests).
func testDB(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	abs, _ := filepath.Abs("testdata/advisories")
	if _, err := advisory.Import(context.Background(), []string{abs}, dir, goldenNow(), advisory.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func runImage(t *testing.T, format, db string, refs ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	_, err := Image(context.Background(), ImageOptions{
		Output: Output{Format: format, Remediation: true}, Refs: refs, Concurrency: 2, Now: goldenNow, DBDir: db,
	}, &out, nil)
	return out.String(), err
}

func checkGolden(t *testing.T, p, got string) {
	t.Helper()
	name := filepath.Base(p)
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -update, then review the diff):\n%s", name, got)
	}
	for _, secret := range []string{fakeAWS, fakeGH, "hunter2-golden", "b3BlbnNzaC1rZXkt"} {
		if strings.Contains(got, secret) {
			t.Errorf("%s shows a secret value: %s", name, secret)
		}
	}
}

// TestImageGolden: the image report in every format, over a reproducible image.
func TestImageGolden(t *testing.T) {
	wd, _ := os.Getwd()
	db := testDB(t)
	ref := goldenRef(t)
	for _, format := range []string{"table", "json", "sarif"} {
		out, err := runImage(t, format, db, ref)
		if err != nil {
			t.Fatal(err)
		}
		checkGolden(t, filepath.Join(wd, "testdata", "image."+format+".golden"), out)
	}
}

func TestSBOMGolden(t *testing.T) {
	wd, _ := os.Getwd()
	ref := goldenRef(t)
	cdx, spdx := testenv.SBOMSchemas(t)
	for format, validate := range map[string]func([]byte) error{"cyclonedx": cdx, "spdx": spdx} {
		var out bytes.Buffer
		if err := SBOM(context.Background(), SBOMOptions{Ref: ref, Format: format, Now: goldenNow}, &out, nil); err != nil {
			t.Fatal(err)
		}
		if err := validate(out.Bytes()); err != nil {
			t.Errorf("%s: %v", format, err)
		}
		checkGolden(t, filepath.Join(wd, "testdata", "image."+format+".golden"), out.String())
	}
}

// TestImageUnreadable: an image that cannot be read is an AUDIT-COLLECT error in a
// report that still covers the others, and a ReadError.
func TestImageUnreadable(t *testing.T) {
	archive := goldenImage(t)
	missing := filepath.Join(t.TempDir(), "missing.tar")
	r, err := Image(context.Background(), ImageOptions{Output: Output{Format: "json"}, Refs: []string{archive, missing}, Concurrency: 2, Now: goldenNow},
		&bytes.Buffer{}, nil)
	var re *ReadError
	if !errors.As(err, &re) || err.Error() != missing+": no such file or directory" {
		t.Fatalf("err = %v", err)
	}
	var collect []string
	for _, f := range r.Findings {
		if f.Rule == "AUDIT-COLLECT" {
			collect = append(collect, f.Status.String()+" "+f.Target.Name+": "+f.Message)
		}
	}
	want := "error " + missing + ": no such file or directory"
	if len(collect) != 1 || collect[0] != want {
		t.Errorf("collect findings = %q\nwant %q", collect, want)
	}
	if len(r.Images) != 1 || r.Rules[0].ID != "AUDIT-COLLECT" {
		t.Errorf("inventories %d, first rule %s", len(r.Images), r.Rules[0].ID)
	}
	var sb bytes.Buffer
	if err := SBOM(context.Background(), SBOMOptions{Ref: missing, Format: "spdx"}, &sb, nil); err == nil || sb.Len() != 0 {
		t.Errorf("sbom of a missing image: %v, wrote %d bytes", err, sb.Len())
	}
	if _, err := Image(context.Background(), ImageOptions{Refs: []string{archive}, Selection: check.Selection{Include: []string{"CIS-5.4"}}}, &bytes.Buffer{}, nil); err == nil ||
		err.Error() != `selector "CIS-5.4" matches no rule (dockaudit rules lists IDs and tags)` {
		t.Errorf("selection: %v", err)
	}
}

// TestDaemonTrustHelpers: an image asked for by ID has no repository of its own to be
// held to; an export is the inspected image when its ID is the config digest (the
// classic store) or the manifest or index digest its repository digests carry (the
// containerd store), and not otherwise.
func TestDaemonTrustHelpers(t *testing.T) {
	for ref, want := range map[string]string{
		"nginx:1.27":                           "index.docker.io/library/nginx",
		"ghcr.io/org/app@sha256:" + hex64("a"): "ghcr.io/org/app",
		"sha256:" + hex64("b"):                 "",
		"0123456789ab":                         "",
		hex64("c"):                             "",
		"localhost:5000/app":                   "localhost:5000/app",
	} {
		repo, ok := daemonRepository(ref)
		if got := repo.Name(); ok != (want != "") || ok && got != want {
			t.Errorf("%s: %q %v, want %q", ref, got, ok, want)
		}
	}
	cfg, idx := "sha256:"+hex64("1"), "sha256:"+hex64("2")
	for _, tc := range []struct {
		src  image.Source
		want bool
	}{
		{image.Source{DaemonID: cfg, ID: cfg}, true},
		{image.Source{DaemonID: idx, ID: cfg, RepoDigests: []string{"r.example/app@" + idx}}, true},
		{image.Source{DaemonID: idx, ID: cfg, Digest: idx}, true},
		{image.Source{DaemonID: idx, ID: cfg, RepoDigests: []string{"r.example/app@sha256:" + hex64("3")}}, false},
		{image.Source{DaemonID: "", ID: cfg}, false},
	} {
		if got := sameImage(&tc.src); got != tc.want {
			t.Errorf("%+v: %v", tc.src, got)
		}
	}
}

func hex64(c string) string { return strings.Repeat(c, 64) }
