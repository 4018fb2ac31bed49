package inventory

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/dockaudit/dockaudit/internal/facts"
)

// benchStatus is the status file of the cached debootstrap root when there is one (88
// real packages), else a generated one of the same size.
func benchStatus(b *testing.B) []byte {
	if s, err := os.ReadFile("/var/cache/dockaudit-test/bookworm-minbase/var/lib/dpkg/status"); err == nil {
		return s
	}
	var sb strings.Builder
	for i := 0; i < 88; i++ {
		fmt.Fprintf(&sb, "Package: pkg%d\nStatus: install ok installed\nPriority: required\nArchitecture: amd64\nSource: src%d (1.%d-1)\nVersion: 1.%d-1+b1\n"+
			"Depends: libc6 (>= 2.34)\nDescription: package %d\n a long description\n .\n more of it\n\n", i, i, i, i, i)
	}
	return []byte(sb.String())
}

func BenchmarkDpkg(b *testing.B) {
	data := benchStatus(b)
	os := facts.OS{ID: "debian", VersionID: "12"}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		DpkgToPackages(ParseDpkgStatus(data), os, "/var/lib/dpkg/status", 0)
	}
}

func BenchmarkApk(b *testing.B) {
	var sb strings.Builder
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&sb, "C:Q1abc%d=\nP:pkg%d\nV:1.%d-r0\nA:x86_64\nS:1000\nI:2000\nT:package %d\nU:https://example.com\nL:MIT\no:origin%d\nm:Someone\nt:1700000000\nc:abcdef\nD:so:libc.musl-x86_64.so.1\n\n", i, i, i, i, i)
	}
	data := []byte(sb.String())
	os := facts.OS{ID: "alpine", VersionID: "3.20.3"}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		ApkToPackages(ParseApkInstalled(data), os, "/lib/apk/db/installed", 0)
	}
}

func BenchmarkNpmAndPython(b *testing.B) {
	pkg := []byte(`{"name":"left-pad","version":"1.3.0","license":"WTFPL","description":"String left pad","main":"index.js","scripts":{"test":"node test"},"dependencies":{}}`)
	meta := []byte("Metadata-Version: 2.1\nName: requests\nVersion: 2.32.3\nSummary: Python HTTP for Humans.\nLicense: Apache 2.0\nRequires-Dist: idna\n\nlong description\n")
	for b.Loop() {
		NpmPackage(pkg, "/app/node_modules/left-pad/package.json", 1)
		PythonPackage(meta, "/usr/lib/python3/dist-packages/requests-2.32.3.dist-info/METADATA", 1)
	}
}
