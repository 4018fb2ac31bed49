package image

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/dockaudit/dockaudit/internal/testenv"
)

// goBinary builds a tiny program with one dependency-free module and returns its bytes.
func goBinary(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/hello\n\ngo 1.21\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() { println(\"hi\") }\n"), 0o644)
	cmd := exec.Command("go", "build", "-o", "hello", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		testenv.Missing(t, "go build: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "hello"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestScanGoBuildInfo(t *testing.T) {
	bin := goBinary(t)
	info, err := scanGoBuildInfo(bytes.NewReader(bin))
	if err != nil || info == nil {
		t.Fatalf("scan: %+v %v", info, err)
	}
	if info.GoVersion != runtime.Version() || info.Path != "example.com/hello" || info.Main.Path != "example.com/hello" {
		t.Errorf("info = %+v", info)
	}
	// One byte at a time: the magic and the blob arrive split across reads.
	slow, err := scanGoBuildInfo(iotest.OneByteReader(bytes.NewReader(bin)))
	if err != nil || slow == nil || slow.GoVersion != info.GoVersion {
		t.Errorf("byte by byte: %+v %v", slow, err)
	}
	// A decoy magic in front (as in a program that links debug/buildinfo) is skipped.
	decoy := append([]byte("\x7fELF"), append([]byte("\xff Go buildinf:\x00\x00junk junk junk junk junk junk junk"), bin[4:]...)...)
	if got, err := scanGoBuildInfo(bytes.NewReader(decoy)); err != nil || got == nil || got.GoVersion != info.GoVersion {
		t.Errorf("after a decoy: %+v %v", got, err)
	}
	if got, err := scanGoBuildInfo(strings.NewReader("#!/bin/sh\necho hi\n")); got != nil || err != nil {
		t.Errorf("a script: %+v %v", got, err)
	}
	if got, err := scanGoBuildInfo(strings.NewReader("\x7fEL")); got != nil || err != nil {
		t.Errorf("a stub: %+v %v", got, err)
	}
	// The test binary itself is a Go binary with dependencies.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, err := scanGoBuildInfo(f); err != nil || got == nil || got.GoVersion != runtime.Version() {
		t.Errorf("the test binary: %+v %v", got, err)
	}
}

func FuzzScanGoBuildInfo(f *testing.F) {
	f.Add([]byte("\x7fELF\xff Go buildinf:\x08\x02" + strings.Repeat("\x00", 16) + "\x06go1.21\x00"))
	f.Add([]byte("\x7fELF\xff Go buildinf:\x08\x02" + strings.Repeat("\x00", 16) + "\xff\xff\xff\xff\x0f"))
	f.Add([]byte("\x7fELF"))
	f.Fuzz(func(t *testing.T, b []byte) {
		scanGoBuildInfo(bytes.NewReader(b)) // must not panic or hang
	})
}

// scanGoBuildInfo is the Go build information scanExecutable finds in an executable.
func scanGoBuildInfo(r io.Reader) (*GoBuildInfo, error) {
	f, err := scanExecutable(r)
	return f.Go, err
}
