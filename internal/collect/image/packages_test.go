package image

import (
	"context"
	"fmt"
	"github.com/dockaudit/dockaudit/internal/facts"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/imagetest"
)

func rpmFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../inventory/rpmdb/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func collectLayers(t *testing.T, lim Limits, entries ...tarEntry) ([]string, []string, []string) {
	t.Helper()
	im, err := Collect(context.Background(), &Source{Kind: "dir", Layers: []Layer{layer(layerBytes(t, entries...))}}, CollectOptions{Limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	var pkgs []string
	for _, p := range im.Content.Packages {
		pkgs = append(pkgs, fmt.Sprintf("%s %s %s %s", p.Name, p.Version, p.Path, p.PURL))
	}
	return pkgs, im.Content.Notes, im.Content.Unread
}

// TestRPMBerkeleyDB: a RHEL 8 style image, /var/lib/rpm/Packages in BerkeleyDB, is
// inventoried (rpm -qa's packages of the fixture), with rpm PURLs.
func TestRPMBerkeleyDB(t *testing.T) {
	pkgs, notes, unread := collectLayers(t, Limits{},
		dir("etc/"), file("etc/os-release", "ID=rhel\nVERSION_ID=8.9\n"),
		dir("var/lib/rpm/"), file("var/lib/rpm/Packages", rpmFixture(t, "go-rpmdb/libuuid/Packages")))
	want := []string{"libuuid 2.32.1-42.el8_8 /var/lib/rpm/Packages pkg:rpm/redhat/libuuid@2.32.1-42.el8_8?arch=x86_64&distro=rhel-8.9&upstream=util-linux-2.32.1-42.el8_8.src.rpm"}
	if d := cmp.Diff(want, pkgs); d != "" || len(notes)+len(unread) != 0 {
		t.Errorf("packages (-want +got):\n%s\nnotes %q unread %q", d, notes, unread)
	}
}

// TestSUSENDBLinked: openSUSE keeps Packages.db under /usr/lib/sysimage/rpm and links
// /var/lib/rpm there: read once, under its real path.
func TestSUSENDBLinked(t *testing.T) {
	pkgs, notes, unread := collectLayers(t, Limits{},
		dir("etc/"), file("etc/os-release", "ID=sles\nVERSION_ID=15.3\n"),
		dir("usr/lib/sysimage/rpm/"), file("usr/lib/sysimage/rpm/Packages.db", rpmFixture(t, "go-rpmdb/sle15-bci/Packages.db")),
		dir("var/lib/"), symlink("var/lib/rpm", "../../usr/lib/sysimage/rpm"))
	if len(pkgs) != 35 || len(notes)+len(unread) != 0 {
		t.Fatalf("%d packages, want the fixture's 35; notes %q unread %q", len(pkgs), notes, unread)
	}
	if want := "bash 4.4-19.6.1 /usr/lib/sysimage/rpm/Packages.db pkg:rpm/sles/bash@4.4-19.6.1?arch=x86_64&distro=sles-15.3&upstream=bash-4.4-19.6.1.src.rpm"; !slices.Contains(pkgs, want) {
		t.Errorf("no %q in %q", want, pkgs)
	}
}

// TestRPMDatabaseUnreadable: a database that is there and cannot be read is a note and
// an unread database (the VULN rule skips), never zero packages in silence: a corrupt
// file, and one over the read limit.
func TestRPMDatabaseUnreadable(t *testing.T) {
	bdb := rpmFixture(t, "bdb/Packages")
	for _, tt := range []struct {
		name   string
		lim    Limits
		body   string
		unread string
	}{
		{"corrupt", Limits{}, bdb[:len(bdb)/2], "/var/lib/rpm/Packages: rpmdb: not a valid BerkeleyDB hash file: 15 pages said, 7 in the file (truncated?): its packages are not inventoried"},
		{"over the read limit", Limits{MaxFileRead: 1 << 20}, bdb + string(make([]byte, 1<<20)), "/var/lib/rpm/Packages is larger than the read limit (1 MiB): its packages are not inventoried"},
	} {
		pkgs, notes, unread := collectLayers(t, tt.lim, dir("etc/"), file("etc/os-release", "ID=centos\nVERSION_ID=7\n"),
			dir("var/lib/rpm/"), file("var/lib/rpm/Packages", tt.body))
		if len(pkgs) != 0 || len(unread) != 1 || unread[0] != tt.unread || len(notes) == 0 || notes[0] != tt.unread {
			t.Errorf("%s: packages %q\nnotes %q\nunread %q\nwant %q", tt.name, pkgs, notes, unread, tt.unread)
		}
	}
}

// TestRPMFallsBackToReadableDatabase: a corrupt SQLite database is noted as unread and
// the BerkeleyDB one beside it is read.
func TestRPMFallsBackToReadableDatabase(t *testing.T) {
	pkgs, notes, unread := collectLayers(t, Limits{},
		dir("etc/"), file("etc/os-release", "ID=rhel\nVERSION_ID=8.9\n"),
		dir("var/lib/rpm/"), file("var/lib/rpm/rpmdb.sqlite", "SQLite format 3\x00 but nothing more"),
		file("var/lib/rpm/Packages", rpmFixture(t, "go-rpmdb/libuuid/Packages")))
	want := []string{"/var/lib/rpm/rpmdb.sqlite: rpmdb: not an SQLite file: its packages are not inventoried"}
	if d := cmp.Diff(want, unread); d != "" || !slices.Equal(notes, want) || len(pkgs) != 1 || !strings.HasPrefix(pkgs[0], "libuuid 2.32.1-42.el8_8 /var/lib/rpm/Packages ") {
		t.Errorf("unread (-want +got):\n%s\nnotes %q\npackages %q", d, notes, pkgs)
	}
}

// TestTwoRPMDatabases: a SQLite database with an old BerkeleyDB file left beside it:
// the SQLite one is read (rpm 4.16 and later use it) and the other is named.
func TestTwoRPMDatabases(t *testing.T) {
	pkgs, notes, unread := collectLayers(t, Limits{},
		dir("etc/"), file("etc/os-release", "ID=rocky\nVERSION_ID=9.3\n"),
		dir("var/lib/rpm/"), file("var/lib/rpm/rpmdb.sqlite", rpmFixture(t, "rpmdb.sqlite")), file("var/lib/rpm/Packages", rpmFixture(t, "bdb/Packages")))
	want := []string{"/var/lib/rpm/Packages is another rpm database beside /var/lib/rpm/rpmdb.sqlite, which was read: rpm uses one, and its packages are not inventoried"}
	if d := cmp.Diff(want, notes); d != "" || len(pkgs) != 5 || len(unread) != 0 {
		t.Errorf("notes (-want +got):\n%s\n%d packages, unread %q", d, len(pkgs), unread)
	}
}

// TestPythonEggs: an unzipped egg's EGG-INFO/PKG-INFO and a zipped .egg are inventoried
// as PyPI packages, named as PEP 503 normalises them in the PURL.
func TestPythonEggs(t *testing.T) {
	egg := imagetest.Zip(t, "EGG-INFO/PKG-INFO", "Metadata-Version: 1.1\nName: Zipped_Egg\nVersion: 2.0.1\n\nlong text\n",
		"zipped_egg/__init__.py", "Name: not-this\n")
	sp := "usr/lib/python3/site-packages/"
	pkgs, notes, _ := collectLayers(t, Limits{},
		dir("usr/"), dir("usr/lib/"), dir("usr/lib/python3/"), dir(sp),
		dir(sp+"Plain.Egg-1.0-py3.11.egg/"), dir(sp+"Plain.Egg-1.0-py3.11.egg/EGG-INFO/"),
		file(sp+"Plain.Egg-1.0-py3.11.egg/EGG-INFO/PKG-INFO", "Metadata-Version: 1.1\nName: Plain.Egg\nVersion: 1.0\n"),
		file(sp+"Zipped_Egg-2.0.1-py3.11.egg", string(egg)))
	want := []string{
		"Plain.Egg 1.0 /" + sp + "Plain.Egg-1.0-py3.11.egg/EGG-INFO/PKG-INFO pkg:pypi/plain-egg@1.0",
		"Zipped_Egg 2.0.1 /" + sp + "Zipped_Egg-2.0.1-py3.11.egg pkg:pypi/zipped-egg@2.0.1",
	}
	if d := cmp.Diff(want, pkgs); d != "" || len(notes) != 0 {
		t.Errorf("packages (-want +got):\n%s\nnotes %q", d, notes)
	}
}

// TestRubyPHPDotnetPackages: an installed gem's specification, a Gemfile.lock,
// Composer's installed.json, a .NET deps.json and a Cargo.lock are inventoried where
// they are.
func TestRubyPHPDotnetPackages(t *testing.T) {
	pkgs, notes, _ := collectLayers(t, Limits{},
		dir("usr/"), dir("usr/local/"), dir("usr/local/bundle/"), dir("usr/local/bundle/specifications/"),
		file("usr/local/bundle/specifications/rack-2.2.8.gemspec", "Gem::Specification.new do |s|\n  s.name = \"rack\".freeze\n  s.version = \"2.2.8\"\nend\n"),
		dir("app/"), file("app/Gemfile.lock", "GEM\n  specs:\n    racc (1.7.1)\n"),
		dir("app/vendor/"), dir("app/vendor/composer/"), file("app/vendor/composer/installed.json", `{"packages":[{"name":"monolog/monolog","version":"3.4.0"}]}`),
		file("app/api.deps.json", `{"libraries":{"Newtonsoft.Json/13.0.1":{"type":"package"}}}`),
		file("app/Cargo.lock", "[[package]]\nname = \"smallvec\"\nversion = \"1.6.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n"),
		// Lockfiles shipped inside a crate's or a gem's own sources are not the image's.
		dir("root/"), dir("root/.cargo/"), dir("root/.cargo/registry/"), dir("root/.cargo/registry/src/"), dir("root/.cargo/registry/src/index/"),
		dir("root/.cargo/registry/src/index/time-0.1.43/"), file("root/.cargo/registry/src/index/time-0.1.43/Cargo.lock", "[[package]]\nname = \"x\"\nversion = \"1\"\nsource = \"registry+a\"\n"),
		dir("usr/local/bundle/gems/"), dir("usr/local/bundle/gems/rack-2.2.8/"), file("usr/local/bundle/gems/rack-2.2.8/Gemfile.lock", "GEM\n  specs:\n    minitest (5.0.0)\n"))
	want := []string{
		"smallvec 1.6.0 /app/Cargo.lock pkg:cargo/smallvec@1.6.0",
		"monolog/monolog 3.4.0 /app/vendor/composer/installed.json pkg:composer/monolog/monolog@3.4.0",
		"racc 1.7.1 /app/Gemfile.lock pkg:gem/racc@1.7.1",
		"rack 2.2.8 /usr/local/bundle/specifications/rack-2.2.8.gemspec pkg:gem/rack@2.2.8",
		"Newtonsoft.Json 13.0.1 /app/api.deps.json pkg:nuget/Newtonsoft.Json@13.0.1",
	}
	if d := cmp.Diff(want, pkgs); d != "" || len(notes) != 0 {
		t.Errorf("packages (-want +got):\n%s\nnotes %q", d, notes)
	}
}

// TestRedHatContentManifests: a UBI-style image's content manifests (and the newer
// /usr/share/buildinfo/content-sets.json) give its content sets (every manifest,
// sorted, once); one that does not decode is a note, and so is a name that is no
// repository ID; an rpm built in a module keeps its modularity label.
func TestRedHatContentManifests(t *testing.T) {
	im, err := Collect(context.Background(), &Source{Kind: "dir", Layers: []Layer{layer(layerBytes(t,
		dir("etc/"), file("etc/os-release", "ID=rhel\nVERSION_ID=9.4\n"),
		dir("var/lib/rpm/"), file("var/lib/rpm/rpmdb.sqlite", rpmFixture(t, "rhel9.sqlite")),
		dir("root/buildinfo/content_manifests/"),
		file("root/buildinfo/content_manifests/ubi9-container-9.4-1.json", `{"metadata": {"icm_version": 1}, "content_sets": ["ubi-9-for-x86_64-baseos-rpms", "ubi-9-for-x86_64-appstream-rpms"]}`),
		file("root/buildinfo/content_manifests/app-1.0-1.json", `{"content_sets": ["ubi-9-for-x86_64-appstream-rpms", "rhel-9-for-x86_64-appstream-eus-rpms__9_DOT_4"]}`),
		file("root/buildinfo/content_manifests/broken.json", `{"content_sets": "not a list"}`),
		file("root/buildinfo/content_manifests/README.txt", "not a manifest"),
		dir("usr/share/buildinfo/"),
		file("usr/share/buildinfo/content-sets.json", `{"content_sets": ["rhel-9-for-x86_64-baseos-rpms", "../../etc/passwd"]}`),
	))}}, CollectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"rhel-9-for-x86_64-appstream-eus-rpms__9_DOT_4", "rhel-9-for-x86_64-baseos-rpms", "ubi-9-for-x86_64-appstream-rpms", "ubi-9-for-x86_64-baseos-rpms"}
	if d := cmp.Diff(want, im.Content.OS.ContentSets); d != "" {
		t.Errorf("content sets (-want +got):\n%s", d)
	}
	notes := []string{"/root/buildinfo/content_manifests/broken.json: json: cannot unmarshal string into Go struct field .content_sets of type []string: its content sets are not used",
		`/usr/share/buildinfo/content-sets.json: "../../etc/passwd" is not a repository ID: not used`}
	if d := cmp.Diff(notes, im.Content.Notes); d != "" {
		t.Errorf("notes (-want +got):\n%s", d)
	}
	var mods []string
	for _, p := range im.Content.Packages {
		mods = append(mods, p.Name+" "+p.SourceName+" "+p.Version+" "+p.Module)
	}
	if d := cmp.Diff([]string{"nodejs nodejs 1:18.19.0-1.module+el9.4.0+100+abcd1234 nodejs:18:9040020240101000000:abcd1234", "python3.9-libs python3.9 3.9.18-3.el9_4.3 "}, mods); d != "" {
		t.Errorf("packages (-want +got):\n%s", d)
	}
}

// TestNoHistory: a source without a configuration records no build step; its history
// is unknown, never an empty list the build-step rules would pass as "no step".
func TestNoHistory(t *testing.T) {
	im, err := Collect(context.Background(), &Source{Kind: "dir", Layers: []Layer{layer(layerBytes(t, dir("etc/")))}}, CollectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if why, missing := im.Missing(facts.PartHistory); !missing || why != "a root filesystem directory has no build history" || im.History != nil {
		t.Errorf("history %v, missing %v %q", im.History, missing, why)
	}
}
