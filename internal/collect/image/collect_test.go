package image

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/imagetest"
)

const osRelease = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION_CODENAME=bookworm
ID=debian
`

const dpkgBase = `Package: base-files
Status: install ok installed
Architecture: amd64
Version: 12.4+deb12u15

Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl (3.0.15-1~deb12u1)
Version: 3.0.15-1~deb12u1+b1

Package: removed-one
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0
`

const dpkgUpper = dpkgBase + `
Package: curl
Status: install ok installed
Architecture: amd64
Version: 7.88.1-10+deb12u8
`

// Fake credentials, shaped like real ones.
const (
	fakeKey   = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq9fakefakefakefakefakefakefake\n-----END RSA PRIVATE KEY-----\n"
	fakeAWS   = "AKIAZ3MSJV4QWERTYUIO"
	fakeNpm   = "npm_abcdefghijklmnopqrstuvwxyz0123456789"
	setuidBin = "\x7fELF not really"
)

func entry(name string, mode int64, body string) tarEntry {
	return tarEntry{name: name, body: body, typ: tar.TypeReg, mode: mode}
}

// seeded are the layers of an image with a package database that changes, accounts
// with problems, setuid files, a package cache, secrets (one removed by a later layer),
// a git directory and an npm package.
func seeded(t testing.TB) [][]byte {
	return [][]byte{
		layerBytes(t,
			dir("etc/"), symlink("etc/os-release", "../usr/lib/os-release"),
			dir("usr/lib/"), file("usr/lib/os-release", osRelease),
			dir("var/lib/dpkg/"), file("var/lib/dpkg/status", dpkgBase),
			file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\nguest:x:1000:1000::/home/guest:/bin/sh\n"),
			file("etc/shadow", "root:*:19000::::::\ntoor:!:19000::::::\nguest::19000::::::\n"),
			file("etc/group", "root:x:0:\nusers:x:100:\nstaff:x:100:\n"),
			dir("usr/bin/"), entry("usr/bin/passwd", 0o4755, setuidBin),
			dir("var/cache/apt/archives/partial/"), file("var/cache/apt/archives/lock", ""),
			file("var/cache/apt/archives/curl_7.88.1-10_amd64.deb", "deb"),
		),
		layerBytes(t,
			file("var/lib/dpkg/status", dpkgUpper),
			dir("app/"), file("app/.env", "AWS_ACCESS_KEY_ID="+fakeAWS+"\nDEBUG=1\n"),
			dir("root/.ssh/"), entry("root/.ssh/id_rsa", 0o600, fakeKey),
			dir("app/.git/"), file("app/.git/config", "[core]\n"),
			entry("usr/bin/sudo", 0o4755, setuidBin),
			entry("app/entrypoint.sh", 0o755, "#!/bin/sh\n"+strings.Repeat("# an executable script past 4 KiB\n", 150)+"export GL=glpat-abcdefghij0123456789\n"),
			dir("app/node_modules/left-pad/"), file("app/node_modules/left-pad/package.json", `{"name":"left-pad","version":"1.3.0","license":"WTFPL"}`),
		),
		layerBytes(t,
			file("root/.ssh/.wh.id_rsa", ""),
			file("app/.npmrc", "//registry.npmjs.org/:_authToken="+fakeNpm+"\n"),
		),
	}
}

// buildImage and writeArchive are imagetest's, under the names these tests use.
func buildImage(t testing.TB, cfg v1.Config, layers [][]byte) v1.Image {
	return imagetest.Build(t, cfg, layers)
}

func writeArchive(t testing.TB, img v1.Image, tag string) string {
	return imagetest.WriteArchive(t, img, tag)
}

func writeLayout(t testing.TB, imgs map[string]v1.Image, platforms map[string]*v1.Platform) string {
	t.Helper()
	dir := t.TempDir()
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	for tag, img := range imgs {
		opts := []layout.Option{layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": tag})}
		if p := platforms[tag]; p != nil {
			opts = append(opts, layout.WithPlatform(*p))
		}
		if err := lp.AppendImage(img, opts...); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func open(t testing.TB, ref string, opts OpenOptions) *Source {
	t.Helper()
	src, err := Open(context.Background(), ref, opts)
	if err != nil {
		t.Fatalf("open %s: %v", ref, err)
	}
	t.Cleanup(src.Close)
	return src
}

func collect(t testing.TB, src *Source, opts CollectOptions) *facts.Image {
	t.Helper()
	im, err := Collect(context.Background(), src, opts)
	if err != nil {
		t.Fatalf("collect %s: %v", src.Ref, err)
	}
	return im
}

func TestCollectSeededImage(t *testing.T) {
	img := buildImage(t, v1.Config{User: "0:0", Env: []string{"PATH=/usr/bin"}, Volumes: map[string]struct{}{"/data": {}},
		Labels: map[string]string{"b": "2", "a": "1"}, ExposedPorts: map[string]struct{}{"8080/tcp": {}}}, seeded(t))
	p := writeArchive(t, img, "seeded:1")
	im := collect(t, open(t, "docker-archive:"+p, OpenOptions{}), CollectOptions{})

	id, _ := img.ConfigName()
	if im.ID != id.String() || im.Source != "docker-archive" || im.Platform != "linux/amd64" || im.Config.User != "0:0" ||
		im.Created != "2026-01-02T03:04:05Z" || len(im.Layers) != 3 || im.Layers[1].CreatedBy != "/bin/sh -c #(nop) COPY layer1 /" {
		t.Errorf("configuration facts: %+v", im)
	}
	if d := cmp.Diff(facts.Labels{{"a", "1"}, {"b", "2"}}, im.Config.Labels); d != "" || im.Config.Volumes[0] != "/data" || im.Config.ExposedPorts[0] != "8080/tcp" {
		t.Errorf("labels %v, volumes %v, ports %v", im.Config.Labels, im.Config.Volumes, im.Config.ExposedPorts)
	}
	c := im.Content
	if c.OS.ID != "debian" || c.OS.VersionID != "12" || c.OS.Codename != "bookworm" {
		t.Errorf("os = %+v", c.OS)
	}
	var pk []string
	for _, p := range c.Packages {
		pk = append(pk, strings.Join([]string{p.Type, p.Name, p.Version, p.SourceName, p.SourceVersion, p.Path, string(rune('0' + p.Layer)), p.PURL}, " "))
	}
	wantPkgs := []string{
		"deb base-files 12.4+deb12u15 base-files 12.4+deb12u15 /var/lib/dpkg/status 0 pkg:deb/debian/base-files@12.4%2Bdeb12u15?arch=amd64&distro=debian-12",
		"deb curl 7.88.1-10+deb12u8 curl 7.88.1-10+deb12u8 /var/lib/dpkg/status 1 pkg:deb/debian/curl@7.88.1-10%2Bdeb12u8?arch=amd64&distro=debian-12",
		"deb libssl3 3.0.15-1~deb12u1+b1 openssl 3.0.15-1~deb12u1 /var/lib/dpkg/status 0 pkg:deb/debian/libssl3@3.0.15-1~deb12u1%2Bb1?arch=amd64&distro=debian-12&upstream=openssl%403.0.15-1~deb12u1",
		"npm left-pad 1.3.0   /app/node_modules/left-pad/package.json 1 pkg:npm/left-pad@1.3.0",
	}
	if d := cmp.Diff(wantPkgs, pk); d != "" {
		t.Errorf("packages (-want +got):\n%s", d)
	}
	wantSetuid := []facts.FileMeta{{Path: "/usr/bin/passwd", Mode: 0o4755}, {Path: "/usr/bin/sudo", Mode: 0o4755, Layer: 1}}
	if d := cmp.Diff(wantSetuid, c.Setuid); d != "" {
		t.Errorf("setuid (-want +got):\n%s", d)
	}
	var secrets []string
	for _, s := range c.Secrets {
		if s.Hash == "" || s.Length == 0 {
			t.Errorf("secret without hash or length: %+v", s)
		}
		secrets = append(secrets, strings.Join([]string{s.Kind, s.Path, string(rune('0' + s.Layer)), s.Detail}, " ")+map[bool]string{true: " removed"}[s.Removed])
	}
	wantSecrets := []string{
		"aws-access-key-id /app/.env 1 ",
		"npm-credentials /app/.npmrc 2 _authToken",
		"gitlab-token /app/entrypoint.sh 1 ",
		"private-key /root/.ssh/id_rsa 1  removed",
	}
	if d := cmp.Diff(wantSecrets, secrets); d != "" {
		t.Errorf("secrets (-want +got):\n%s", d)
	}
	b, _ := json.Marshal(im)
	for _, v := range []string{fakeAWS, fakeNpm, "MIIEowIBAAKCAQEA"} {
		if bytes.Contains(b, []byte(v)) {
			t.Errorf("a secret value is in the facts: %s", v)
		}
	}
	want := facts.ImageContent{
		GitDirs: []string{"/app/.git"}, Sudo: []string{"/usr/bin/sudo"},
		Caches:   []facts.Cache{{Path: "/var/cache/apt/archives", Files: 1}},
		Accounts: facts.Accounts{Read: true, EmptyPassword: []string{"guest"}, DuplicateUIDs: []string{"0: root, toor"}, DuplicateGIDs: []string{"100: users, staff"}},
		Entries:  27,
	}
	got := facts.ImageContent{GitDirs: c.GitDirs, Sudo: c.Sudo, Caches: c.Caches, Accounts: c.Accounts, Entries: c.Entries, Anomalies: c.Anomalies}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("content (-want +got):\n%s", d)
	}

	// Inventory only: the same packages, nothing else looked at.
	inv := collect(t, open(t, "docker-archive:"+p, OpenOptions{}), CollectOptions{InventoryOnly: true})
	if d := cmp.Diff(c.Packages, inv.Content.Packages); d != "" || len(inv.Content.Secrets) != 0 || len(inv.Content.Setuid) != 0 {
		t.Errorf("inventory only: packages (-full +inv):\n%s\nsecrets %v setuid %v", d, inv.Content.Secrets, inv.Content.Setuid)
	}
}
