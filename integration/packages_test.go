package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
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
			dir := t.TempDir()
			copyFile(t, "/bin/busybox", filepath.Join(dir, "busybox"))
			copyFile(t, filepath.Join(fixtures, tt.db), filepath.Join(dir, "db"))
			os.WriteFile(filepath.Join(dir, "os-release"), []byte(tt.osRelease), 0o644)
			df := "FROM scratch\nCOPY busybox /bin/busybox\nCOPY os-release /etc/os-release\nCOPY db " + tt.at + "\n"
			if tt.link != "" {
				df += "RUN [\"/bin/busybox\", \"sh\", \"-c\", \"/bin/busybox mkdir -p /var/lib && /bin/busybox ln -s ../../usr/lib/sysimage/rpm " + tt.link + "\"]\n"
			}
			os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644)
			tag := "dockaudit-it-rpm:" + tt.name
			cmd := exec.Command("docker", "build", "-q", "-t", tag, dir)
			cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("docker build: %v\n%s", err, out)
			}
			t.Cleanup(func() { exec.Command("docker", "rmi", "-f", tag).Run() })
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
	dir := t.TempDir()
	copyFile(t, "/bin/busybox", filepath.Join(dir, "busybox"))
	copyFile(t, eggs[0], filepath.Join(dir, egg))
	unzip := exec.Command("python3", "-m", "zipfile", "-e", eggs[0], filepath.Join(dir, "unzipped"))
	if out, err := unzip.CombinedOutput(); err != nil {
		t.Fatalf("unzip: %v\n%s", err, out)
	}
	sp := "/usr/lib/python3/site-packages/"
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY busybox /bin/busybox\nCOPY "+egg+" "+sp+egg+"\nCOPY unzipped "+sp+"Unzipped-"+egg+"/\n"), 0o644)
	tag := "dockaudit-it-eggs:1"
	build := exec.Command("docker", "build", "-q", "-t", tag, dir)
	build.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", tag).Run() })
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
	cache := os.Getenv("DOCKAUDIT_CACHE")
	if cache == "" {
		cache = "/var/cache/dockaudit-test"
	}
	real := filepath.Join(cache, "java", "usr", "share", "java", "jackson-core.jar")
	if _, err := os.Stat(real); err != nil {
		t.Fatalf("%v: scripts/setup fetches it", err)
	}
	dir := t.TempDir()
	copyFile(t, "/bin/busybox", filepath.Join(dir, "busybox"))
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
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY busybox /bin/busybox\nCOPY *.jar *.hpi /opt/lib/\n"), 0o644)
	tag := "dockaudit-it-java:1"
	build := exec.Command("docker", "build", "-q", "-t", tag, dir)
	build.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", tag).Run() })
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
