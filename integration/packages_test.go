package integration

import (
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/testenv"
)

// rpmExpected is an rpmdb fixture's expected list (rpm's answer, or go-rpmdb's for
// NDB) as "name epoch:version-release arch", sorted.
func rpmExpected(t *testing.T, tsv string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "internal", "inventory", "rpmdb", "testdata", tsv))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(line, "\t")
		evr := f[2] + "-" + f[3]
		if f[1] != "0" {
			evr = f[1] + ":" + evr
		}
		out = append(out, f[0]+" "+evr+" "+f[4])
	}
	sort.Strings(out)
	return out
}

// TestImageRPMDatabases builds images on the real daemon whose rpm database is in
// each of the formats dockaudit did not read before: a CentOS 7 style BerkeleyDB file
// at /var/lib/rpm/Packages, and SUSE's NDB file under /usr/lib/sysimage/rpm with
// /var/lib/rpm a link made by a later layer's RUN. dockaudit image lists exactly the
// packages rpm (or, for NDB, go-rpmdb's test) lists, once.
func TestImageRPMDatabases(t *testing.T) {
	need(t)
	fixtures := filepath.Join("..", "internal", "inventory", "rpmdb", "testdata")
	for _, tt := range []struct {
		name, osRelease, db, at, link, want string
	}{
		{"bdb", "ID=centos\nVERSION_ID=7\n", "bdb/Packages", "/var/lib/rpm/Packages", "", "expected-bdb.tsv"},
		{"ndb", "ID=opensuse-leap\nVERSION_ID=15.5\n", "go-rpmdb/sle15-bci/Packages.db", "/usr/lib/sysimage/rpm/Packages.db", "/var/lib/rpm", "go-rpmdb/sle15-bci/expected.tsv"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			df := "COPY os-release /etc/os-release\nCOPY db " + tt.at + "\n"
			if tt.link != "" {
				df += "RUN [\"/bin/busybox\", \"sh\", \"-c\", \"/bin/busybox mkdir -p /var/lib && /bin/busybox ln -s ../../usr/lib/sysimage/rpm " + tt.link + "\"]\n"
			}
			dir := busyboxContext(t, df)
			copyFile(t, filepath.Join(fixtures, tt.db), filepath.Join(dir, "db"))
			os.WriteFile(filepath.Join(dir, "os-release"), []byte(tt.osRelease), 0o644)
			tag := "dockaudit-it-rpm:" + tt.name
			dockerBuild(t, dir, tag)
			rep := jsonReport(t, nil, "image", "--fail-on", "none", tag)
			im := rep.Images[0]
			var got []string
			for _, p := range im.Packages {
				if p.Type != "rpm" || p.Path != tt.at {
					t.Errorf("package %s %s from %s", p.Type, p.Name, p.Path)
					continue
				}
				got = append(got, p.Name+" "+p.Version+" "+p.Arch)
			}
			sort.Strings(got)
			if d := cmp.Diff(rpmExpected(t, tt.want), got); d != "" || len(im.Notes) != 0 {
				t.Errorf("packages (-want +got):\n%s\nnotes %q", d, im.Notes)
			}
		})
	}
}

// TestImagePythonEggs builds an egg with the real setuptools (bdist_egg), puts it in an
// image zipped and unzipped, and dockaudit image lists both as PyPI packages.
func TestImagePythonEggs(t *testing.T) {
	need(t)
	if exec.Command("python3", "-c", "import setuptools").Run() != nil {
		t.Fatal("python3-setuptools is missing: scripts/setup installs it")
	}
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "demo_egg"), 0o755)
	os.WriteFile(filepath.Join(src, "demo_egg", "__init__.py"), nil, 0o644)
	os.WriteFile(filepath.Join(src, "setup.py"), []byte("from setuptools import setup\nsetup(name='Demo_Egg', version='1.2.3', packages=['demo_egg'])  # PKG-INFO says Demo-Egg\n"), 0o644)
	cmd := exec.Command("python3", "setup.py", "-q", "bdist_egg", "--dist-dir", "dist")
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bdist_egg: %v\n%s", err, out)
	}
	eggs, _ := filepath.Glob(filepath.Join(src, "dist", "*.egg"))
	if len(eggs) != 1 {
		t.Fatalf("eggs built: %v", eggs)
	}
	egg := filepath.Base(eggs[0])
	sp := "/usr/lib/python3/site-packages/"
	dir := busyboxContext(t, "COPY "+egg+" "+sp+egg+"\nCOPY unzipped "+sp+"Unzipped-"+egg+"/\n")
	copyFile(t, eggs[0], filepath.Join(dir, egg))
	unzip := exec.Command("python3", "-m", "zipfile", "-e", eggs[0], filepath.Join(dir, "unzipped"))
	if out, err := unzip.CombinedOutput(); err != nil {
		t.Fatalf("unzip: %v\n%s", err, out)
	}
	tag := "dockaudit-it-eggs:1"
	dockerBuild(t, dir, tag)
	rep := jsonReport(t, nil, "image", "--fail-on", "none", tag)
	var got []string
	for _, p := range rep.Images[0].Packages {
		got = append(got, p.Type+" "+p.Name+" "+p.Version+" "+p.Path+" "+p.PURL)
	}
	want := []string{
		"pypi Demo-Egg 1.2.3 " + sp + "Unzipped-" + egg + "/EGG-INFO/PKG-INFO pkg:pypi/demo-egg@1.2.3",
		"pypi Demo-Egg 1.2.3 " + sp + egg + " pkg:pypi/demo-egg@1.2.3",
	}
	sort.Strings(got)
	sort.Strings(want)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("packages (-want +got):\n%s", d)
	}
}

// TestImageJavaArchives reads Debian's real jackson-core.jar (scripts/setup fetches
// libjackson2-core-java) in an image: as it is, renamed as a Jenkins plugin, with its
// pom.properties taken out (the embedded pom.xml names it), and with all its Maven
// metadata taken out (only the file name says what it is).
func TestImageJavaArchives(t *testing.T) {
	need(t)
	cache := cacheDir()
	real := filepath.Join(cache, "java", "usr", "share", "java", "jackson-core.jar")
	if _, err := os.Stat(real); err != nil {
		t.Fatalf("%v: scripts/setup fetches it", err)
	}
	dir := busyboxContext(t, "COPY *.jar *.hpi /opt/lib/\n")
	copyFile(t, real, filepath.Join(dir, "jackson-core.jar"))
	copyFile(t, real, filepath.Join(dir, "jackson.hpi"))
	strip := func(to, drop string) {
		py := "import sys, zipfile\nsrc, dst, drop = sys.argv[1:]\nwith zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, 'w') as o:\n" +
			"    for i in z.infolist():\n        if drop not in i.filename:\n            o.writestr(i, z.read(i))\n"
		if out, err := exec.Command("python3", "-c", py, real, filepath.Join(dir, to), drop).CombinedOutput(); err != nil {
			t.Fatalf("strip %s: %v\n%s", drop, err, out)
		}
	}
	strip("no-properties.jar", "pom.properties")
	strip("jackson-core-2.14.1.jar", "META-INF/maven/")
	tag := "dockaudit-it-java:1"
	dockerBuild(t, dir, tag)
	rep := jsonReport(t, nil, "image", "--fail-on", "none", tag)
	var got []string
	for _, p := range rep.Images[0].Packages {
		if p.Type == "maven" {
			got = append(got, p.Path+" "+p.Name+" "+p.Version+" "+p.PURL)
		}
	}
	want := []string{
		"/opt/lib/jackson-core-2.14.1.jar jackson-core 2.14.1 pkg:maven/jackson-core@2.14.1",
		"/opt/lib/jackson-core.jar com.fasterxml.jackson.core:jackson-core 2.14.1 pkg:maven/com.fasterxml.jackson.core/jackson-core@2.14.1",
		"/opt/lib/jackson.hpi com.fasterxml.jackson.core:jackson-core 2.14.1 pkg:maven/com.fasterxml.jackson.core/jackson-core@2.14.1",
		"/opt/lib/no-properties.jar com.fasterxml.jackson.core:jackson-core 2.14.1 pkg:maven/com.fasterxml.jackson.core/jackson-core@2.14.1",
	}
	sort.Strings(got)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("packages (-want +got):\n%s", d)
	}
}

// TestImageRubyPHPDotnet: an image on the real daemon with an installed gem, a
// Gemfile.lock, Composer's installed.json and a .NET deps.json; dockaudit image lists
// them and matches them against RubyGems, Packagist and NuGet advisories (OSV records
// imported with db import) in each ecosystem's version order.
func TestImageRubyPHPDotnet(t *testing.T) {
	need(t)
	dir := busyboxContext(t, "COPY ctx/ /\n")
	write := func(name, body string) {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("ctx/usr/local/bundle/specifications/rack-2.2.8.gemspec", "Gem::Specification.new do |s|\n  s.name = \"rack\".freeze\n  s.version = \"2.2.8\"\nend\n")
	write("ctx/app/Gemfile.lock", "GEM\n  remote: https://rubygems.org/\n  specs:\n    rails (7.1.0.rc1)\n      rack (>= 2.2.4)\n\nBUNDLED WITH\n   2.4.19\n")
	write("ctx/app/vendor/composer/installed.json", `{"packages":[{"name":"symfony/http-kernel","version":"v6.3.0-RC1"},{"name":"monolog/monolog","version":"3.4.0"}]}`)
	write("ctx/app/api.deps.json", `{"libraries":{"api/1.0.0":{"type":"project"},"Newtonsoft.Json/12.0.3":{"type":"package"}}}`)
	tag := "dockaudit-it-langs:1"
	dockerBuild(t, dir, tag)
	adv := filepath.Join(t.TempDir(), "osv")
	os.MkdirAll(adv, 0o755)
	rec := func(id, eco, name, fixed string) {
		body := `{"id":"` + id + `","modified":"2026-11-01T00:00:00Z","affected":[{"package":{"ecosystem":"` + eco + `","name":"` + name +
			`"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"` + fixed + `"}]}]}]}`
		os.WriteFile(filepath.Join(adv, id+".json"), []byte(body), 0o644)
	}
	rec("GHSA-rack", "RubyGems", "rack", "2.2.8.1")                     // 2.2.8 < 2.2.8.1: affected
	rec("GHSA-rails", "RubyGems", "rails", "7.1.0")                     // 7.1.0.rc1 < 7.1.0: affected
	rec("GHSA-kernel", "Packagist", "symfony/http-kernel", "6.3.0-RC1") // fixed in the RC installed
	rec("GHSA-monolog", "Packagist", "Monolog/Monolog", "3.5.0")        // names in any case
	rec("GHSA-json", "NuGet", "newtonsoft.json", "13.0.1")
	db := importDB(t, adv)
	rep := jsonReport(t, nil, "image", "--db-dir", db, "--fail-on", "none", tag)
	var pk []string
	for _, p := range rep.Images[0].Packages {
		pk = append(pk, p.Type+" "+p.Name+" "+p.Version)
	}
	sort.Strings(pk)
	wantPk := []string{"composer monolog/monolog 3.4.0", "composer symfony/http-kernel v6.3.0-RC1", "gem rack 2.2.8", "gem rails 7.1.0.rc1", "nuget Newtonsoft.Json 12.0.3"}
	if d := cmp.Diff(wantPk, pk); d != "" {
		t.Errorf("packages (-want +got):\n%s", d)
	}
	want := []string{
		"Newtonsoft.Json GHSA-json fixed 13.0.1",
		"monolog/monolog GHSA-monolog fixed 3.5.0",
		"rack GHSA-rack fixed 2.2.8.1",
		"rails GHSA-rails fixed 7.1.0",
	}
	if d := cmp.Diff(want, vulns(rep)); d != "" {
		t.Errorf("vulnerabilities (-want +got):\n%s", d)
	}
}

// TestImageCargoLock: a Cargo.lock in an image on the real daemon, matched against the
// real RustSec advisory for smallvec (../shared/data/vuln/rustsec-osv, CC0).
func TestImageCargoLock(t *testing.T) {
	need(t)
	rustsec := filepath.Join("..", "..", "shared", "data", "vuln", "rustsec-osv", "crates", "RUSTSEC-2021-0003.json")
	if _, err := os.Stat(rustsec); err != nil {
		testenv.Optional(t, "the RustSec samples beside the project: %v", err)
	}
	dir := busyboxContext(t, "COPY Cargo.lock /src/app/Cargo.lock\n")
	os.WriteFile(filepath.Join(dir, "Cargo.lock"), []byte("version = 3\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n\n"+
		"[[package]]\nname = \"smallvec\"\nversion = \"1.6.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n"), 0o644)
	tag := "dockaudit-it-cargo:1"
	dockerBuild(t, dir, tag)
	adv := t.TempDir()
	copyFile(t, rustsec, filepath.Join(adv, "RUSTSEC-2021-0003.json"))
	rep := jsonReport(t, nil, "image", "--db-dir", importDB(t, adv), "--fail-on", "none", tag)
	if d := cmp.Diff([]string{"smallvec CVE-2021-25900 fixed 1.6.1"}, vulns(rep)); d != "" {
		t.Errorf("vulnerabilities (-want +got):\n%s", d)
	}
}

// TestImageAmazonLinuxUpdateInfo: an Amazon Linux 2023 image on the real daemon (rpm's
// SQLite database from the rpmdb fixtures) matched against an updateinfo.xml.gz loaded
// with db import, as a repository publishes it.
func TestImageAmazonLinuxUpdateInfo(t *testing.T) {
	need(t)
	dir := busyboxContext(t, "COPY os-release /etc/os-release\nCOPY rpmdb.sqlite /var/lib/rpm/rpmdb.sqlite\n")
	copyFile(t, filepath.Join("..", "internal", "inventory", "rpmdb", "testdata", "rpmdb.sqlite"), filepath.Join(dir, "rpmdb.sqlite"))
	os.WriteFile(filepath.Join(dir, "os-release"), []byte("NAME=\"Amazon Linux\"\nVERSION=\"2023\"\nID=\"amzn\"\nVERSION_ID=\"2023\"\n"), 0o644)
	tag := "dockaudit-it-amzn:2023"
	dockerBuild(t, dir, tag)
	adv := t.TempDir()
	xmlDoc := `<?xml version="1.0" encoding="UTF-8"?><updates>
<update author="amazon" from="alas@amazon.com" status="final" type="security" version="2.0"><id>ALAS2023-2099-1</id>
<title>Amazon Linux 2023 - ALAS2023-2099-1: important priority package update for demo</title><severity>important</severity>
<references><reference id="CVE-2099-1111" type="cve"/></references>
<pkglist><collection short="amazon-linux-2023"><package arch="x86_64" epoch="0" name="libdemo1" release="2" version="1.4.2"/>
<package arch="x86_64" epoch="0" name="demo-tools" release="2" version="1.4.2"/></collection></pkglist></update>
<update author="amazon" from="alas@amazon.com" status="final" type="security" version="2.0"><id>ALAS2023-2099-2</id><severity>low</severity>
<references><reference id="CVE-2099-2222" type="cve"/></references>
<pkglist><collection><package arch="noarch" epoch="0" name="vendorpkg" release="7" version="2024.01"/></collection></pkglist></update>
</updates>`
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(xmlDoc))
	zw.Close()
	os.WriteFile(filepath.Join(adv, "5f3c-updateinfo.xml.gz"), gz.Bytes(), 0o644)
	rep := jsonReport(t, nil, "image", "--db-dir", importDB(t, adv), "--fail-on", "none", tag)
	// vendorpkg 2024.01-7 is the fixed version itself: not affected.
	want := []string{"demo-tools CVE-2099-1111 fixed 1.4.2-2", "libdemo1 CVE-2099-1111 fixed 1.4.2-2"}
	if d := cmp.Diff(want, vulns(rep)); d != "" {
		t.Errorf("vulnerabilities (-want +got):\n%s", d)
	}
	for _, f := range rep.Findings {
		if f.Rule == "VULN" && f.Status.String() == "skip" {
			t.Errorf("VULN skipped: %s", f.Message)
		}
	}
}

// TestImageRedHatCSAF: a RHEL 9 image on the real daemon (rpm's SQLite database with
// python3.9-libs at an EUS-style release and nodejs built in the nodejs:18 module
// stream; a content manifest naming its repositories) matched after db import of Red
// Hat's real RHSA-2024:6163 (CSAF, from ../shared), a repository-to-CPE map and an
// advisory fixing both module streams of nodejs: python3.9-libs is vulnerable through
// its source RPM; nodejs is judged by stream 18's fix, never by stream 20's.
func TestImageRedHatCSAF(t *testing.T) {
	need(t)
	rhsa := filepath.Join("..", "..", "shared", "data", "vuln", "osv-samples", "vunnel", "redhat-csaf", "rhsa-2024_6163.json")
	if _, err := os.Stat(rhsa); err != nil {
		testenv.Optional(t, "the Red Hat CSAF samples beside the project: %v", err)
	}
	dir := busyboxContext(t, "COPY os-release /etc/os-release\nCOPY rpmdb.sqlite /var/lib/rpm/rpmdb.sqlite\nCOPY manifest.json /root/buildinfo/content_manifests/app-1.0-1.json\n")
	copyFile(t, filepath.Join("..", "internal", "inventory", "rpmdb", "testdata", "rhel9.sqlite"), filepath.Join(dir, "rpmdb.sqlite"))
	os.WriteFile(filepath.Join(dir, "os-release"), []byte("NAME=\"Red Hat Enterprise Linux\"\nID=\"rhel\"\nVERSION_ID=\"9.4\"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(`{"metadata": {"icm_version": 1}, "content_sets": ["rhel-9-for-x86_64-baseos-rpms", "rhel-9-for-x86_64-appstream-rpms"]}`), 0o644)
	tag := "dockaudit-it-rhel:9"
	dockerBuild(t, dir, tag)
	adv := t.TempDir()
	copyFile(t, rhsa, filepath.Join(adv, "rhsa-2024_6163.json"))
	os.WriteFile(filepath.Join(adv, "repository-to-cpe.json"), []byte(`{"data": {"rhel-9-for-x86_64-baseos-rpms": {"cpes": ["cpe:/o:redhat:enterprise_linux:9::baseos"]},
		"rhel-9-for-x86_64-appstream-rpms": {"cpes": ["cpe:/a:redhat:enterprise_linux:9::appstream"]}}}`), 0o644)
	node := func(v, mod string) string {
		return `{"category": "product_version", "name": "` + v + `", "product": {"name": "n", "product_id": "` + v + `", "product_identification_helper": {"purl": "pkg:rpm/redhat/nodejs@` + v + `?arch=src&epoch=1&rpmmod=` + mod + `"}}}`
	}
	os.WriteFile(filepath.Join(adv, "rhsa-2099_0100.json"), []byte(`{"document": {"category": "csaf_security_advisory", "csaf_version": "2.0",
		"title": "Red Hat Security Advisory: nodejs:18 and nodejs:20 security update", "aggregate_severity": {"text": "Important"},
		"tracking": {"id": "RHSA-2099:0100", "initial_release_date": "2099-01-01T00:00:00+00:00", "current_release_date": "2099-01-01T00:00:00+00:00"}},
	"product_tree": {"branches": [{"category": "vendor", "name": "Red Hat", "branches": [
		{"category": "product_family", "name": "Red Hat Enterprise Linux", "branches": [{"category": "product_name", "name": "AppStream", "product": {"name": "AppStream", "product_id": "AppStream-9.4.0.Z.MAIN", "product_identification_helper": {"cpe": "cpe:/a:redhat:enterprise_linux:9::appstream"}}}]},
		{"category": "architecture", "name": "src", "branches": [`+node("18.20.4-1.module%2Bel9.4.0%2B200%2Babcd1234", "nodejs:18:9040020240801:abcd1234")+`, `+node("20.16.0-1.module%2Bel9.4.0%2B300%2Bef567890", "nodejs:20:9040020240801:ef567890")+`]}]}],
		"relationships": [
			{"category": "default_component_of", "full_product_name": {"product_id": "AppStream-9.4.0.Z.MAIN:18"}, "product_reference": "18.20.4-1.module%2Bel9.4.0%2B200%2Babcd1234", "relates_to_product_reference": "AppStream-9.4.0.Z.MAIN"},
			{"category": "default_component_of", "full_product_name": {"product_id": "AppStream-9.4.0.Z.MAIN:20"}, "product_reference": "20.16.0-1.module%2Bel9.4.0%2B300%2Bef567890", "relates_to_product_reference": "AppStream-9.4.0.Z.MAIN"}]},
	"vulnerabilities": [{"cve": "CVE-2099-0100", "product_status": {"fixed": ["AppStream-9.4.0.Z.MAIN:18", "AppStream-9.4.0.Z.MAIN:20"]}}]}`), 0o644)
	rep := jsonReport(t, nil, "image", "--db-dir", importDB(t, adv), "--fail-on", "none", tag)
	want := []string{"nodejs CVE-2099-0100 fixed 1:18.20.4-1.module+el9.4.0+200+abcd1234", "python3.9-libs CVE-2024-8088 fixed 3.9.18-3.el9_4.5"}
	if d := cmp.Diff(want, vulns(rep)); d != "" {
		t.Errorf("vulnerabilities (-want +got):\n%s", d)
	}
	for _, f := range rep.Findings {
		if f.Rule == "VULN" && f.Status.String() == "skip" {
			t.Errorf("VULN skipped: %s", f.Message)
		}
		if f.Vuln != nil && f.Vuln.Ecosystem != "Red Hat:enterprise_linux:9::appstream" {
			t.Errorf("%s decided by %s, want the AppStream stream", f.Vuln.ID, f.Vuln.Ecosystem)
		}
	}
}

// TestImageOldGoBinaries: Go binaries built before Go 1.18 (esbuild's own releases on
// npm, Go 1.16 and 1.17, amd64 and 386: scripts/setup fetches them) in an image on the
// real daemon. dockaudit image lists exactly the modules and Go version `go version -m`
// reads from each, and matches them against the real Go vulnerability database
// samples: golang.org/x/sys and the standard library of each are affected by
// GO-2022-0493.
func TestImageOldGoBinaries(t *testing.T) {
	need(t)
	vulndb := filepath.Join("..", "..", "shared", "data", "vuln", "go-vulndb", "osv")
	if _, err := os.Stat(vulndb); err != nil {
		testenv.Optional(t, "the Go vulnerability samples beside the project: %v", err)
	}
	bins := map[string]string{"esbuild-0.8.57": "esbuild-linux-64-0.8.57", "esbuild-0.13.15": "esbuild-linux-64-0.13.15", "esbuild-386": "esbuild-linux-32-0.13.15"}
	dir := t.TempDir()
	df := "FROM scratch\n"
	want := map[string][]string{}
	for name, pkg := range bins {
		src := filepath.Join(cacheDir(), "oldgo", pkg, "package", "bin", "esbuild")
		if _, err := os.Stat(src); err != nil {
			testenv.Missing(t, "%s (scripts/setup fetches it): %v", src, err)
		}
		copyFile(t, src, filepath.Join(dir, name))
		os.Chmod(filepath.Join(dir, name), 0o755)
		df += "COPY " + name + " /usr/bin/" + name + "\n"
		// The Go toolchain's own reading of the binary is the expected list.
		out, err := exec.Command("go", "version", "-m", src).Output()
		if err != nil {
			t.Fatalf("go version -m %s: %v", src, err)
		}
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			switch {
			case len(f) == 2 && strings.HasSuffix(f[0], ":"):
				v := strings.TrimPrefix(f[1], "go")
				if strings.Count(v, ".") == 1 {
					v += ".0"
				}
				want[name] = append(want[name], "stdlib v"+v)
			case len(f) >= 3 && (f[0] == "mod" || f[0] == "dep"):
				want[name] = append(want[name], f[1]+" "+f[2])
			}
		}
		sort.Strings(want[name])
	}
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644)
	tag := "dockaudit-it-oldgo:1"
	dockerBuild(t, dir, tag)
	rep := jsonReport(t, nil, "image", "--db-dir", importDB(t, vulndb), "--fail-on", "none", tag)
	got := map[string][]string{}
	for _, p := range rep.Images[0].Packages {
		if p.Type == "golang" {
			got[strings.TrimPrefix(p.Path, "/usr/bin/")] = append(got[strings.TrimPrefix(p.Path, "/usr/bin/")], p.Name+" "+p.Version)
		}
	}
	for k := range got {
		sort.Strings(got[k])
	}
	if d := cmp.Diff(want, got); d != "" || len(rep.Images[0].Notes) != 0 {
		t.Errorf("modules (-go version -m +dockaudit):\n%s\nnotes %q", d, rep.Images[0].Notes)
	}
	var vs []string
	for _, f := range rep.Findings {
		if f.Vuln != nil && (f.Vuln.ID == "GO-2022-0493" || slices.Contains(f.Vuln.Aliases, "GO-2022-0493")) {
			vs = append(vs, f.Location.Path+" "+f.Vuln.Package+" "+f.Vuln.Installed+" fixed "+f.Vuln.Fixed)
		}
	}
	sort.Strings(vs)
	wantV := []string{
		"/usr/bin/esbuild-0.13.15 golang.org/x/sys v0.0.0-20210908233432-aa78b53d3365 fixed 0.0.0-20220412211240-33da011f77ad",
		"/usr/bin/esbuild-0.13.15 stdlib v1.17.2 fixed 1.17.10",
		"/usr/bin/esbuild-0.8.57 golang.org/x/sys v0.0.0-20200501145240-bc7a7d42d5c3 fixed 0.0.0-20220412211240-33da011f77ad",
		"/usr/bin/esbuild-0.8.57 stdlib v1.16.0 fixed 1.17.10",
		"/usr/bin/esbuild-386 golang.org/x/sys v0.0.0-20210908233432-aa78b53d3365 fixed 0.0.0-20220412211240-33da011f77ad",
		"/usr/bin/esbuild-386 stdlib v1.17.2 fixed 1.17.10",
	}
	if d := cmp.Diff(wantV, vs); d != "" {
		t.Errorf("GO-2022-0493 (-want +got):\n%s", d)
	}
}

// TestImageSUSE: a SLES 15 SP3 image on the real daemon with a real SLE BCI rpm
// database (go-rpmdb's NDB fixture, with sles-release), matched after db import of
// SUSE advisories in OSV's form: by source RPM (libreadline7 is built from bash),
// against SP3's products only, and a fix only in LTSS said to need LTSS.
func TestImageSUSE(t *testing.T) {
	need(t)
	dir := busyboxContext(t, "COPY os-release /etc/os-release\nCOPY db /usr/lib/sysimage/rpm/Packages.db\n")
	copyFile(t, filepath.Join("..", "internal", "inventory", "rpmdb", "testdata", "go-rpmdb", "sle15-bci", "Packages.db"), filepath.Join(dir, "db"))
	os.WriteFile(filepath.Join(dir, "os-release"), []byte("NAME=\"SLES\"\nVERSION=\"15-SP3\"\nVERSION_ID=\"15.3\"\nID=\"sles\"\nCPE_NAME=\"cpe:/o:suse:sles:15:sp3\"\n"), 0o644)
	tag := "dockaudit-it-sles:15.3"
	dockerBuild(t, dir, tag)
	adv := t.TempDir()
	rec := func(id, cve string, entries ...[3]string) string {
		var aff []string
		for _, e := range entries {
			aff = append(aff, `{"package":{"ecosystem":"`+e[0]+`","name":"`+e[1]+`","purl":"pkg:rpm/suse/`+e[1]+`"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"`+e[2]+`"}]}]}`)
		}
		return `{"id":"` + id + `","modified":"2099-01-01T00:00:00Z","upstream":["` + cve + `"],"affected":[` + strings.Join(aff, ",") + `]}`
	}
	os.WriteFile(filepath.Join(adv, "1.json"), []byte(rec("SUSE-SU-2099:0001-1", "CVE-2099-0001",
		[3]string{"SUSE:Linux Enterprise Module for Basesystem 15 SP3", "bash", "4.4-19.6.2"},
		[3]string{"SUSE:Linux Enterprise Module for Basesystem 15 SP4", "bash", "4.4-150400.27.3.1"})), 0o644)
	os.WriteFile(filepath.Join(adv, "2.json"), []byte(rec("SUSE-SU-2099:0002-1", "CVE-2099-0002", [3]string{"SUSE:Linux Enterprise Server 15 SP3-LTSS", "coreutils", "8.32-3.2.2"})), 0o644)
	os.WriteFile(filepath.Join(adv, "3.json"), []byte(rec("SUSE-SU-2099:0003-1", "CVE-2099-0003", [3]string{"SUSE:Linux Enterprise Module for Basesystem 15 SP4", "glibc", "2.31-150300.9.9.1"})), 0o644)
	rep := jsonReport(t, nil, "image", "--db-dir", importDB(t, adv), "--fail-on", "none", tag)
	var got []string
	for _, f := range rep.Findings {
		if f.Vuln != nil {
			got = append(got, f.Vuln.Package+" "+f.Vuln.Installed+" "+f.Vuln.ID+" fixed "+f.Vuln.Fixed+" "+f.Vuln.Note)
		}
		if f.Rule == "VULN" && f.Status.String() == "skip" {
			t.Errorf("VULN skipped: %s", f.Message)
		}
	}
	sort.Strings(got)
	want := []string{
		"bash 4.4-19.6.1 CVE-2099-0001 fixed 4.4-19.6.2 ",
		"coreutils 8.32-3.2.1 CVE-2099-0002 fixed 8.32-3.2.2 fixed only in SUSE's LTSS channel (Linux Enterprise Server 15 SP3-LTSS), which this image does not have (no sles-ltss-release)",
		"libreadline7 7.0-19.6.1 CVE-2099-0001 fixed 4.4-19.6.2 ",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("vulnerabilities (-want +got):\n%s", d)
	}
	if p := rep.Images[0].OS.Products; !slices.Equal(p, []string{"sles-release"}) {
		t.Errorf("products %q", p)
	}
}

// TestImageCargoAuditable: a Rust program built with the real cargo-auditable
// (Debian trixie's, scripts/setup builds it once) in an image on the real daemon.
// dockaudit image lists the registry crates of the program's own Cargo.lock, read
// from its .dep-v0 section, and matches them against a crates.io advisory.
func TestImageCargoAuditable(t *testing.T) {
	need(t)
	built := filepath.Join(cacheDir(), "rust-auditable")
	if _, err := os.Stat(filepath.Join(built, "app")); err != nil {
		testenv.Missing(t, "the cargo-auditable program (scripts/setup builds it): %v", err)
	}
	dir := busyboxContext(t, "COPY app /usr/local/bin/app\n")
	copyFile(t, filepath.Join(built, "app"), filepath.Join(dir, "app"))
	os.Chmod(filepath.Join(dir, "app"), 0o755)
	tag := "dockaudit-it-rust:1"
	dockerBuild(t, dir, tag)
	// The expected crates are cargo's own: the registry packages of its Cargo.lock.
	lock, err := os.ReadFile(filepath.Join(built, "Cargo.lock"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, block := range strings.Split(string(lock), "[[package]]")[1:] {
		var name, ver string
		registry := false
		for _, line := range strings.Split(block, "\n") {
			k, v, _ := strings.Cut(line, " = ")
			v = strings.Trim(v, `"`)
			switch k {
			case "name":
				name = v
			case "version":
				ver = v
			case "source":
				registry = strings.HasPrefix(v, "registry+")
			}
		}
		if registry {
			want = append(want, name+" "+ver)
		}
	}
	if len(want) == 0 {
		t.Fatalf("no registry crate in %s", lock)
	}
	adv := t.TempDir()
	os.WriteFile(filepath.Join(adv, "RUSTSEC-2099-0001.json"), []byte(`{"id":"RUSTSEC-2099-0001","modified":"2099-01-01T00:00:00Z","aliases":["CVE-2099-1234"],
		"affected":[{"package":{"ecosystem":"crates.io","name":"smallvec"},"ranges":[{"type":"SEMVER","events":[{"introduced":"1.0.0"},{"fixed":"99.0.0"}]}]}]}`), 0o644)
	rep := jsonReport(t, nil, "image", "--db-dir", importDB(t, adv), "--fail-on", "none", tag)
	var got []string
	for _, p := range rep.Images[0].Packages {
		if p.Type == "cargo" {
			if p.Path != "/usr/local/bin/app" || p.PURL != "pkg:cargo/"+p.Name+"@"+p.Version {
				t.Errorf("crate %s from %s, %s", p.Name, p.Path, p.PURL)
			}
			got = append(got, p.Name+" "+p.Version)
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	if d := cmp.Diff(want, got); d != "" || len(rep.Images[0].Notes) != 0 {
		t.Errorf("crates (-Cargo.lock +dockaudit):\n%s\nnotes %q", d, rep.Images[0].Notes)
	}
	if v := vulns(rep); !slices.Contains(v, "smallvec CVE-2099-1234 fixed 99.0.0") {
		t.Errorf("vulnerabilities %q", v)
	}
}
