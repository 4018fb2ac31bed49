package inventory

import (
	"archive/zip"
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/imagetest"
)

var bookworm = facts.OS{ID: "debian", VersionID: "12", Codename: "bookworm"}

func TestOSRelease(t *testing.T) {
	got := ParseOSRelease([]byte(`PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION_CODENAME=bookworm
ID=debian
# a comment
ID_LIKE='rhel fedora'
`))
	want := facts.OS{ID: "debian", IDLike: []string{"rhel", "fedora"}, VersionID: "12", Codename: "bookworm", PrettyName: "Debian GNU/Linux 12 (bookworm)"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

const dpkgStatus = `Package: libssl3
Status: install ok installed
Priority: optional
Architecture: amd64
Multi-Arch: same
Source: openssl
Version: 3.0.11-1~deb12u2
Description: Secure Sockets Layer toolkit
 multi-line description

Package: gcc-12-base
Status: install ok installed
Architecture: amd64
Source: gcc-12 (12.2.0-14)
Version: 12.2.0-14

Package: removed-pkg
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0

Package: bash
Status: hold ok installed
Architecture: amd64
Version: 5.2.15-2+b2
`

func TestDpkg(t *testing.T) {
	got := DpkgToPackages(ParseDpkgStatus([]byte(dpkgStatus)), bookworm, "/var/lib/dpkg/status", 0)
	want := []facts.Package{
		{Name: "libssl3", Version: "3.0.11-1~deb12u2", Arch: "amd64", SourceName: "openssl", SourceVersion: "3.0.11-1~deb12u2", Type: "deb",
			PURL: "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl", Path: "/var/lib/dpkg/status"},
		{Name: "gcc-12-base", Version: "12.2.0-14", Arch: "amd64", SourceName: "gcc-12", SourceVersion: "12.2.0-14", Type: "deb",
			PURL: "pkg:deb/debian/gcc-12-base@12.2.0-14?arch=amd64&distro=debian-12&upstream=gcc-12", Path: "/var/lib/dpkg/status"},
		{Name: "bash", Version: "5.2.15-2+b2", Arch: "amd64", SourceName: "bash", SourceVersion: "5.2.15-2+b2", Type: "deb",
			PURL: "pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12", Path: "/var/lib/dpkg/status"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	// A binNMU: the binary version differs from its source's.
	b := ParseDpkgStatus([]byte("Package: libx\nVersion: 1.0-1+b1\nSource: x (1.0-1)\nArchitecture: amd64\n"))
	if b[0].Source != "x" || b[0].SourceVersion != "1.0-1" {
		t.Errorf("binNMU: %+v", b)
	}
}

func TestApk(t *testing.T) {
	db := "C:Q1abc=\nP:libcrypto3\nV:3.1.4-r5\nA:x86_64\nL:Apache-2.0\no:openssl\n\nP:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\no:musl\n"
	got := ApkToPackages(ParseApkInstalled([]byte(db)), facts.OS{ID: "alpine", VersionID: "3.19.1"}, "/lib/apk/db/installed", 1)
	want := []facts.Package{
		{Name: "libcrypto3", Version: "3.1.4-r5", Arch: "x86_64", SourceName: "openssl", SourceVersion: "3.1.4-r5", Type: "apk",
			PURL: "pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&distro=alpine-3.19.1&upstream=openssl", Licenses: []string{"Apache-2.0"}, Path: "/lib/apk/db/installed", Layer: 1},
		{Name: "musl", Version: "1.2.4-r2", Arch: "x86_64", SourceName: "musl", SourceVersion: "1.2.4-r2", Type: "apk",
			PURL: "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.19.1", Licenses: []string{"MIT"}, Path: "/lib/apk/db/installed", Layer: 1},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestLanguagePackages(t *testing.T) {
	py, ok := PythonPackage([]byte("Metadata-Version: 2.1\nName: Requests_OAuthlib\nVersion: 1.3.1\nLicense: ISC\n\nName: not-this\n"), "/usr/lib/python3/dist-packages/requests_oauthlib-1.3.1.dist-info/METADATA", 2)
	if !ok || py.PURL != "pkg:pypi/requests-oauthlib@1.3.1" || py.Name != "Requests_OAuthlib" || py.Licenses[0] != "ISC" {
		t.Errorf("python: %+v", py)
	}
	// The interpreter's own egg-info (Syft's Python-2.7.egg-info fixture) is no PyPI package.
	if p, ok := PythonPackage([]byte("Metadata-Version: 1.0\nName: Python\nVersion: 2.7.13\n"), "/usr/lib/python2.7/lib-dynload/Python-2.7.egg-info", 0); ok {
		t.Errorf("the interpreter listed: %+v", p)
	}
	npm, ok := NpmPackage([]byte(`{"name":"@babel/core","version":"7.23.2","license":"MIT"}`), "/app/node_modules/@babel/core/package.json", 3)
	if !ok || npm.PURL != "pkg:npm/%40babel/core@7.23.2" {
		t.Errorf("npm: %+v", npm)
	}
	if _, ok := NpmPackage([]byte(`{"name":"x"}`), "p", 0); ok {
		t.Error("npm package without a version")
	}
	for p, want := range map[string]bool{
		"/app/node_modules/lodash/package.json": true, "/app/node_modules/@babel/core/package.json": true,
		"/app/node_modules/lodash/fp/package.json": false, "/app/package.json": false,
	} {
		if IsNpmManifest(p) != want {
			t.Errorf("IsNpmManifest(%s) != %v", p, want)
		}
	}
	gos := GoPackages(GoInfo{GoVersion: "go1.21.3", Main: GoMod{Path: "example.com/app", Version: "(devel)"},
		Deps: []GoMod{{Path: "golang.org/x/net", Version: "v0.17.0"}}}, "/usr/bin/app", 1)
	var purls []string
	for _, p := range gos {
		purls = append(purls, p.PURL)
	}
	if d := cmp.Diff([]string{"pkg:golang/stdlib@v1.21.3", "pkg:golang/example.com/app@%28devel%29", "pkg:golang/golang.org/x/net@v0.17.0"}, purls); d != "" {
		t.Errorf("go (-want +got):\n%s", d)
	}
}

func TestJava(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("META-INF/MANIFEST.MF")
	w.Write([]byte("Manifest-Version: 1.0\r\nImplementation-Title: app\r\nImplementation-Version: 9.9\r\n"))
	w, _ = zw.Create("META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties")
	w.Write([]byte("#Generated by Maven\ngroupId=org.apache.logging.log4j\nartifactId=log4j-core\nversion=2.14.1\n"))
	zw.Close()
	got := JavaPackages(buf.Bytes(), "/opt/app/lib/log4j-core-2.14.1.jar", 1)
	if len(got) != 1 || got[0].PURL != "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1" || got[0].Name != "org.apache.logging.log4j:log4j-core" {
		t.Errorf("pom.properties: %+v", got)
	}
	buf.Reset()
	zw = zip.NewWriter(&buf)
	w, _ = zw.Create("META-INF/MANIFEST.MF")
	w.Write([]byte("Bundle-SymbolicName: com.example.tool;singleton:=true\nBundle-Version: 1.2.0\n"))
	zw.Close()
	got = JavaPackages(buf.Bytes(), "/opt/tool.jar", 0)
	if len(got) != 1 || got[0].PURL != "pkg:maven/com.example/tool@1.2.0" || got[0].Name != "com.example:tool" {
		t.Errorf("manifest only: %+v", got)
	}
	if JavaPackages([]byte("PK not a zip"), "/x.jar", 0) != nil {
		t.Error("garbage jar")
	}
}

// TestJavaIdentity: what names an archive, in order: any pom.properties, the embedded
// pom.xml, the manifest with the file name, the file name alone.
func TestJavaIdentity(t *testing.T) {
	jar := func(files ...string) []byte { return imagetest.Zip(t, files...) }
	// jackson-core 2.15.2's own manifest (no pom.properties in this copy).
	jackson := "Manifest-Version: 1.0\r\nBundle-SymbolicName: com.fasterxml.jackson.core.jackson-core\r\nImplementation-Title: Jackson-core\r\n" +
		"Implementation-Vendor-Id: com.fasterxml.jackson.core\r\nImplementation-Version: 2.15.2\r\nBundle-Version: 2.15.2\r\n"
	pom := `<?xml version="1.0"?><project><modelVersion>4.0.0</modelVersion><parent><groupId>org.example</groupId><artifactId>parent</artifactId><version>3.1</version></parent><artifactId>child</artifactId><dependencies><dependency><groupId>x</groupId><artifactId>y</artifactId><version>9</version></dependency></dependencies></project>`
	for _, tt := range []struct {
		name, file string
		jar        []byte
		want       []string
	}{
		{"manifest and file name", "/usr/share/java/jackson-core-2.15.2.jar", jar("META-INF/MANIFEST.MF", jackson),
			[]string{"com.fasterxml.jackson.core:jackson-core 2.15.2 pkg:maven/com.fasterxml.jackson.core/jackson-core@2.15.2"}},
		{"manifest, file without version", "/opt/jackson.jar", jar("META-INF/MANIFEST.MF", jackson),
			[]string{"com.fasterxml.jackson.core:jackson-core 2.15.2 pkg:maven/com.fasterxml.jackson.core/jackson-core@2.15.2"}},
		{"pom.properties elsewhere", "/app/shaded.jar", jar("META-INF/MANIFEST.MF", jackson, "shaded/deps/pom.properties", "groupId=io.netty\nartifactId=netty-codec\nversion=4.1.94.Final\n"),
			[]string{"io.netty:netty-codec 4.1.94.Final pkg:maven/io.netty/netty-codec@4.1.94.Final"}},
		{"pom.xml with its parent", "/app/child.jar", jar("META-INF/maven/org.example/child/pom.xml", pom),
			[]string{"org.example:child 3.1 pkg:maven/org.example/child@3.1"}},
		{"pom.xml beside pom.properties", "/app/a.jar", jar("META-INF/maven/g/a/pom.xml", pom, "META-INF/maven/g/a/pom.properties", "groupId=g\nartifactId=a\nversion=1\n"),
			[]string{"g:a 1 pkg:maven/g/a@1"}},
		{"pom.xml with a property", "/app/log4j-1.2-api-2.17.1.jar", jar("META-INF/maven/x/y/pom.xml", "<project><groupId>x</groupId><artifactId>y</artifactId><version>${revision}</version></project>"),
			[]string{"log4j-1.2-api 2.17.1 pkg:maven/log4j-1.2-api@2.17.1"}},
		{"file name only", "/opt/lib/commons-lang3-3.12.0.jar", jar("org/apache/Foo.class", "x"),
			[]string{"commons-lang3 3.12.0 pkg:maven/commons-lang3@3.12.0"}},
		{"nothing to go by", "/opt/lib/app.jar", jar("org/apache/Foo.class", "x"), nil},
	} {
		var got []string
		for _, p := range JavaPackages(tt.jar, tt.file, 0) {
			got = append(got, p.Name+" "+p.Version+" "+p.PURL)
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, d)
		}
	}
	// Thousands of embedded poms are read up to 16 MiB in all, then left.
	var files []string
	for i := range 40 {
		files = append(files, fmt.Sprintf("META-INF/maven/g/a%d/pom.xml", i),
			fmt.Sprintf("<project><groupId>g</groupId><artifactId>a%d</artifactId><version>1</version>%s</project>", i, strings.Repeat(" ", 1000000)))
	}
	if got := JavaPackages(jar(files...), "/app/many.jar", 0); len(got) != 17 {
		t.Errorf("%d packages from 40 poms of 1 MB, want the 17 read within 16 MiB", len(got))
	}
	for name, want := range map[string]bool{"a.jar": true, "a.war": true, "a.ear": true, "git.hpi": true, "git.jpi": true, "a.zip": false, "jar": false} {
		if IsJavaArchive(name) != want {
			t.Errorf("IsJavaArchive(%q) = %v", name, !want)
		}
	}
}

func FuzzDpkg(f *testing.F) {
	f.Add([]byte(dpkgStatus))
	f.Fuzz(func(t *testing.T, b []byte) { DpkgToPackages(ParseDpkgStatus(b), bookworm, "p", 0) })
}

func FuzzApk(f *testing.F) {
	f.Add([]byte("P:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n"))
	f.Fuzz(func(t *testing.T, b []byte) { ApkToPackages(ParseApkInstalled(b), facts.OS{}, "p", 0) })
}

func FuzzOSRelease(f *testing.F) {
	f.Add([]byte("ID=debian\nVERSION_ID=\"12\"\n"))
	f.Fuzz(func(t *testing.T, b []byte) { ParseOSRelease(b) })
}

func FuzzLanguage(f *testing.F) {
	f.Add([]byte(`{"name":"a","version":"1"}`))
	f.Add([]byte("Name: a\nVersion: 1\n"))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, b []byte) {
		PythonPackage(b, "p", 0)
		NpmPackage(b, "p", 0)
		JavaPackages(b, "p", 0)
	})
}

// TestJavaNested: nested archives are read two levels down (an EAR's WAR's libraries).
func TestJavaNested(t *testing.T) {
	jar := func(files map[string][]byte) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for n, b := range files {
			w, _ := zw.Create(n)
			w.Write(b)
		}
		zw.Close()
		return buf.Bytes()
	}
	log4j := jar(map[string][]byte{"META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties": []byte("groupId=org.apache.logging.log4j\nartifactId=log4j-core\nversion=2.14.1\n")})
	commons := jar(map[string][]byte{"META-INF/maven/commons-text/commons-text/pom.properties": []byte("groupId=org.apache.commons\nartifactId=commons-text\nversion=1.9\n")})
	// An EAR's WAR's libraries (two levels down) are read; a third level is not.
	war := jar(map[string][]byte{"WEB-INF/lib/log4j-core-2.14.1.jar": log4j, "WEB-INF/lib/too-deep.jar": jar(map[string][]byte{"lib/commons-text-1.9.jar": commons})})
	ear := jar(map[string][]byte{
		"META-INF/maven/com.example/app/pom.properties": []byte("groupId=com.example\nartifactId=app\nversion=1.0.0\n"),
		"web.war": war,
	})
	var got []string
	for _, p := range JavaPackages(ear, "/app/app.ear", 2) {
		got = append(got, p.PURL+" "+p.Path)
	}
	want := []string{"pkg:maven/com.example/app@1.0.0 /app/app.ear", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1 /app/app.ear!/web.war!/WEB-INF/lib/log4j-core-2.14.1.jar"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	// A manifest's wrapped lines are one value; a Jenkins plugin's manifest names it.
	wrapped := jar(map[string][]byte{"META-INF/MANIFEST.MF": []byte("Manifest-Version: 1.0\r\nBundle-SymbolicName: org.springframework.spring-core-with-a-very-long-symb\r\n olic-name\r\nImplementation-Version: 5.3.1\r\n\r\nName: x\r\nImplementation-Version: 9\r\n")})
	plugin := jar(map[string][]byte{"META-INF/MANIFEST.MF": []byte("Manifest-Version: 1.0\nGroup-Id: org.jenkins-ci.plugins\nShort-Name: gradle\nPlugin-Version: 2.11\nImplementation-Title: gradle\n")})
	for _, tc := range []struct {
		b       []byte
		p, want string
	}{
		{wrapped, "/app/spring-core-with-a-very-long-symbolic-name-5.3.1.jar", "pkg:maven/org.springframework/spring-core-with-a-very-long-symbolic-name@5.3.1"},
		{plugin, "/var/jenkins_home/plugins/gradle.hpi", "pkg:maven/org.jenkins-ci.plugins/gradle@2.11"},
	} {
		if ps := JavaPackages(tc.b, tc.p, 0); len(ps) != 1 || ps[0].PURL != tc.want {
			t.Errorf("%s: %+v, want %s", tc.p, ps, tc.want)
		}
	}
}

func TestGoSemver(t *testing.T) {
	for in, want := range map[string]string{"1.21.3": "1.21.3", "1.16": "1.16.0", "1.21rc2": "1.21.0-rc.2", "1.17beta1": "1.17.0-beta.1", "1.22.0": "1.22.0"} {
		if got := goSemver(in); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}
