package image

import (
	"archive/tar"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/inventory"
	"github.com/dockaudit/dockaudit/internal/testenv"
)

// elfFile lays out a little-endian ELF64 executable as linkers do: the headers, a
// Go build ID note, read-only data, the data segment (one PT_LOAD maps it all from
// vaddr base), then unloaded sections and the section header table.
type elfFile struct {
	b        []byte
	loadEnd  int
	sections []elfSection
}

type elfSection struct {
	name string
	off  int
	data []byte
}

const elfBase = 0x400000

func newELF(goNote bool) *elfFile {
	f := &elfFile{b: make([]byte, 0x200)}
	copy(f.b, "\x7fELF\x02\x01\x01")
	le := binary.LittleEndian
	le.PutUint16(f.b[0x10:], 2)  // ET_EXEC
	le.PutUint16(f.b[0x12:], 62) // x86-64
	le.PutUint64(f.b[0x20:], 64) // phoff
	le.PutUint16(f.b[0x36:], 56)
	le.PutUint16(f.b[0x38:], 2)
	if goNote {
		copy(f.b[0x100:], "\x04\x00\x00\x00\x04\x00\x00\x00\x04\x00\x00\x00Go\x00\x00abcd")
	}
	return f
}

// at writes data at a file offset, growing the file.
func (f *elfFile) at(off int, data []byte) {
	if len(f.b) < off+len(data) {
		f.b = append(f.b, make([]byte, off+len(data)-len(f.b))...)
	}
	copy(f.b[off:], data)
}

// finish writes the program headers (PT_LOAD over [0, loadEnd), PT_NOTE) and, after
// loadEnd, the unloaded sections, .shstrtab and the section table.
func (f *elfFile) finish(loadEnd int) []byte {
	le := binary.LittleEndian
	if len(f.b) < loadEnd {
		f.at(loadEnd-1, []byte{0})
	}
	ph := f.b[64:]
	le.PutUint32(ph[0:], 1) // PT_LOAD
	le.PutUint64(ph[8:], 0)
	le.PutUint64(ph[16:], elfBase)
	le.PutUint64(ph[32:], uint64(loadEnd))
	le.PutUint32(ph[56:], 4) // PT_NOTE
	le.PutUint64(ph[56+8:], 0x100)
	le.PutUint64(ph[56+16:], elfBase+0x100)
	le.PutUint64(ph[56+32:], 20)
	if f.sections == nil {
		return f.b[:max(len(f.b), loadEnd)]
	}
	names := []byte{0}
	type sh struct{ name, off, size int }
	hdrs := []sh{{}}
	off := len(f.b)
	for _, s := range f.sections {
		at := s.off
		if at == 0 {
			at = off
		}
		f.at(at, s.data)
		hdrs = append(hdrs, sh{len(names), at, len(s.data)})
		names = append(append(names, s.name...), 0)
		off = max(off, at+len(s.data))
	}
	hdrs = append(hdrs, sh{len(names), off, 0})
	names = append(append(names, ".shstrtab"...), 0)
	hdrs[len(hdrs)-1].size = len(names)
	f.at(off, names)
	shoff := off + len(names)
	table := make([]byte, 64*len(hdrs))
	for i, h := range hdrs {
		le.PutUint32(table[64*i:], uint32(h.name))
		le.PutUint64(table[64*i+24:], uint64(h.off))
		le.PutUint64(table[64*i+32:], uint64(h.size))
	}
	f.at(shoff, table)
	le.PutUint64(f.b[0x28:], uint64(shoff))
	le.PutUint16(f.b[0x3a:], 64)
	le.PutUint16(f.b[0x3c:], uint16(len(hdrs)))
	le.PutUint16(f.b[0x3e:], uint16(len(hdrs)-1))
	return f.b
}

// oldGoBinary is a Go 1.13–1.17 binary: "go1.16.15" and the modinfo blob in read-only
// data at the given offsets, the build information header at infoAt pointing at the
// runtime's two string headers just after it.
func oldGoBinary(verAt, modAt, infoAt int) []byte {
	f := newELF(true)
	le := binary.LittleEndian
	mod := append(append(append([]byte{}, modinfoStart...), "path\texample.com/app\nmod\texample.com/app\t(devel)\t\ndep\tgolang.org/x/text\tv0.3.5\th1:abc=\n"...), modinfoEnd...)
	f.at(verAt, []byte("go1.16.15"))
	f.at(modAt, mod)
	hdr := make([]byte, 32+32)
	copy(hdr, buildInfoMagic)
	hdr[14], hdr[15] = 8, 0
	le.PutUint64(hdr[16:], uint64(elfBase+infoAt+32))
	le.PutUint64(hdr[24:], uint64(elfBase+infoAt+48))
	le.PutUint64(hdr[32:], uint64(elfBase+verAt)) // runtime.buildVersion
	le.PutUint64(hdr[40:], 9)
	le.PutUint64(hdr[48:], uint64(elfBase+modAt)) // runtime.modinfo
	le.PutUint64(hdr[56:], uint64(len(mod)))
	f.at(infoAt, hdr)
	return f.finish(infoAt + 0x1000)
}

// TestOldGoBuildInfo: a Go 1.13–1.17 binary's version and modules, through the
// pointers, wherever the chunks of the stream cut (the version string across two).
func TestOldGoBuildInfo(t *testing.T) {
	want := &GoBuildInfo{GoVersion: "go1.16.15", Path: "example.com/app", Main: GoModule{Path: "example.com/app", Version: "(devel)"},
		Deps: []GoModule{{Path: "golang.org/x/text", Version: "v0.3.5", Sum: "h1:abc="}}, GOOS: "linux", GOARCH: "amd64"}
	for name, b := range map[string][]byte{
		"one chunk":                  oldGoBinary(0x1000, 0x2000, 0x8000),
		"strings and header apart":   oldGoBinary(0x1000, 0x2000, 0x50000),
		"version across two chunks":  oldGoBinary(scanChunk-4, 0x2000, 0x50000),
		"modinfo across two chunks":  oldGoBinary(0x1000, scanChunk-40, 0x50000),
		"header across two chunks":   oldGoBinary(0x1000, 0x2000, 2*scanChunk-40),
		"decoy version before it":    decoy(oldGoBinary(0x1000, 0x2000, 0x50000)),
		"header three chunks beyond": oldGoBinary(0x1000, 0x2000, 3*scanChunk+100),
	} {
		got, err := scanGoBuildInfo(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d := cmp.Diff(want, got, cmp.AllowUnexported(GoBuildInfo{})); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
	// Pointers that lead nowhere leave it an old binary not read (a note), never a
	// guess: no Go build ID note, or a header pointing outside the segments.
	b := oldGoBinary(0x1000, 0x2000, 0x8000)
	copy(b[0x100:], make([]byte, 20))
	if got, _ := scanGoBuildInfo(bytes.NewReader(b)); got == nil || !got.OldFormat || got.GoVersion != "" {
		t.Errorf("without the Go note: %+v", got)
	}
	// A GOPATH build: runtime.modinfo is empty, in bss: the version counts, with a note.
	b = oldGoBinary(0x1000, 0x2000, 0x8000)
	binary.LittleEndian.PutUint64(b[0x8000+24:], 0x7fff0000)
	if f, _ := scanExecutable(bytes.NewReader(b)); f.Go == nil || f.Go.GoVersion != "go1.16.15" || f.Go.OldFormat || len(f.Go.Deps) != 0 ||
		f.Note != "built with go1.16.15, whose module list is empty (a GOPATH build) or could not be read: only the standard library is inventoried" {
		t.Errorf("GOPATH build: %+v %q", f.Go, f.Note)
	}
	b = oldGoBinary(0x1000, 0x2000, 0x8000)
	binary.LittleEndian.PutUint64(b[0x8000+16:], 0x10)
	if got, _ := scanGoBuildInfo(bytes.NewReader(b)); got == nil || !got.OldFormat || got.GoVersion != "" {
		t.Errorf("a pointer outside the segments: %+v", got)
	}
}

// decoy puts another "go1." string before the real one: only the one the pointer
// names is taken.
func decoy(b []byte) []byte {
	copy(b[0x800:], "go1.99.0 is a decoy")
	return b
}

// rustBinary is an executable built with cargo-auditable: its crate list, compressed,
// in the unloaded .dep-v0 section after the loaded segments.
func rustBinary(list string, corrupt bool) []byte {
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write([]byte(list))
	w.Close()
	data := z.Bytes()
	if corrupt {
		data = data[:len(data)/2]
	}
	f := newELF(false)
	f.at(0x1000, []byte("rust code"))
	f.loadEnd = 0x60000
	if len(f.b) < f.loadEnd {
		f.at(f.loadEnd-1, []byte{0})
	}
	f.sections = []elfSection{{name: ".comment", data: []byte("rustc version 1.80.0\x00")}, {name: ".dep-v0", data: data}}
	return f.finish(f.loadEnd)
}

const crateList = `{"packages":[{"name":"app","version":"0.1.0","source":"local","kind":"runtime","root":true,"dependencies":[1,2,3]},
{"name":"smallvec","version":"1.6.0","source":"crates.io","kind":"runtime"},
{"name":"cc","version":"1.0.83","source":"crates.io","kind":"build"},
{"name":"private","version":"2.0.0","source":"registry","kind":"runtime"},
{"name":"forked","version":"0.3.0","source":"git","kind":"runtime"}]}`

func TestCargoAuditable(t *testing.T) {
	f, err := scanExecutable(bytes.NewReader(rustBinary(crateList, false)))
	if err != nil || f.Go != nil || f.Note != "" || string(f.DepV0) != crateList {
		t.Fatalf("%q %+v %q %v", f.DepV0, f.Go, f.Note, err)
	}
	// Through the walker: the crates from a registry that are built in.
	pkgs, notes, _ := collectLayers(t, Limits{}, dir("usr/"), dir("usr/bin/"), executable("usr/bin/app", string(rustBinary(crateList, false))))
	want := []string{"private 2.0.0 /usr/bin/app pkg:cargo/private@2.0.0", "smallvec 1.6.0 /usr/bin/app pkg:cargo/smallvec@1.6.0"}
	if d := cmp.Diff(want, pkgs); d != "" || len(notes) != 0 {
		t.Errorf("packages (-want +got):\n%s\nnotes %q", d, notes)
	}
	_, notes, _ = collectLayers(t, Limits{}, dir("usr/"), dir("usr/bin/"), executable("usr/bin/app", string(rustBinary(crateList, true))))
	if len(notes) != 1 || !strings.HasPrefix(notes[0], "/usr/bin/app: its .dep-v0 section (cargo-auditable's crate list) does not decompress: ") {
		t.Errorf("corrupt: %q", notes)
	}
	_, notes, _ = collectLayers(t, Limits{}, dir("usr/"), dir("usr/bin/"), executable("usr/bin/app", string(rustBinary(`{"packages": 7}`, false))))
	if len(notes) != 1 || !strings.HasPrefix(notes[0], "/usr/bin/app: its .dep-v0 section (cargo-auditable's crate list) does not decode: cargo-auditable crate list: json: ") {
		t.Errorf("not a list: %q", notes)
	}
	// More unloaded sections than the bound (debug information): both ends are read,
	// where GNU ld (after .comment) and lld (after the debug sections) put .dep-v0; one
	// in the middle is said, not missed in silence.
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write([]byte(crateList))
	zw.Close()
	for _, tc := range []struct {
		name     string
		sections []elfSection
		note     string
	}{
		{"GNU ld", []elfSection{{name: ".comment", off: 0x2000, data: []byte("GCC\x00")}, {name: ".dep-v0", data: z.Bytes()}, {name: ".debug_info", data: make([]byte, maxELFTail)}}, ""},
		{"lld", []elfSection{{name: ".comment", off: 0x2000, data: []byte("rustc\x00")}, {name: ".debug_info", data: make([]byte, maxELFTail)}, {name: ".dep-v0", data: z.Bytes()}, {name: ".symtab", data: make([]byte, 1<<20)}}, ""},
		{"middle", []elfSection{{name: ".debug_a", off: 0x2000, data: make([]byte, maxELFTail/2+1)}, {name: ".dep-v0", data: z.Bytes()}, {name: ".debug_b", data: make([]byte, maxELFTail/2+1)}},
			"its .dep-v0 section (cargo-auditable's crate list) is in the middle of 16 MiB of unloaded sections, of which the first and last 8 MiB are read: its crates are not inventoried"},
	} {
		big := newELF(false)
		big.at(0x1000, []byte("code"))
		big.sections = tc.sections
		f, _ := scanExecutable(bytes.NewReader(big.finish(0x2000)))
		if f.Note != tc.note || (tc.note == "" && string(f.DepV0) != crateList) {
			t.Errorf("%s: %q, note %q", tc.name, f.DepV0, f.Note)
		}
	}
	// A plain executable: nothing, quietly.
	if f, _ := scanExecutable(bytes.NewReader(newELF(false).finish(0x3000))); f.Go != nil || f.DepV0 != nil || f.Note != "" {
		t.Errorf("plain: %+v", f)
	}
}

func FuzzScanExecutable(f *testing.F) {
	f.Add(oldGoBinary(0x400, 0x600, 0x800))
	small := newELF(false)
	small.sections = []elfSection{{name: ".dep-v0", data: []byte("x\x9c")}}
	f.Add(small.finish(0x300))
	f.Add(dotnetBundleBinary(`{"a":1}`, 0x10000, 6))
	f.Fuzz(func(t *testing.T, b []byte) {
		scanExecutable(bytes.NewReader(b))
	})
}

// executable is an executable file entry.
func executable(name, body string) tarEntry {
	return tarEntry{name: name, body: body, typ: tar.TypeReg, mode: 0o755}
}

// dotnetBundleBinary is an apphost with a .NET single-file bundle: the marker in its
// data at 0x2000, deps.json at depsAt (after the loaded part), the header right after
// it (version major).
func dotnetBundleBinary(deps string, depsAt, major int) []byte {
	f := newELF(false)
	f.at(0x1000, []byte("apphost"))
	const loadEnd = 0x10000
	f.at(loadEnd-1, []byte{0})
	h := depsAt + len(deps)
	marker := binary.LittleEndian.AppendUint64(nil, uint64(h))
	f.at(0x2000, append(marker, dotnetBundleSig...))
	f.at(depsAt, []byte(deps))
	le := binary.LittleEndian
	hdr := le.AppendUint32(nil, uint32(major))
	hdr = le.AppendUint32(hdr, 0)
	hdr = le.AppendUint32(hdr, 1)
	hdr = append(hdr, 3, 'a', 'b', 'c')
	hdr = le.AppendUint64(hdr, uint64(depsAt))
	hdr = le.AppendUint64(hdr, uint64(len(deps)))
	hdr = append(hdr, make([]byte, 24)...)
	f.at(h, hdr)
	return f.finish(loadEnd)
}

const bundledDeps = `{"runtimeTarget":{"name":".NETCoreApp,Version=v8.0/linux-x64"},"targets":{".NETCoreApp,Version=v8.0/linux-x64":{"App/1.0.0":{"dependencies":{"Newtonsoft.Json":"13.0.1"}},"Newtonsoft.Json/13.0.1":{"runtime":{"lib/net6.0/Newtonsoft.Json.dll":{}}}}},"libraries":{"App/1.0.0":{"type":"project","serviceable":false,"sha512":""},"Newtonsoft.Json/13.0.1":{"type":"package","serviceable":true,"sha512":"sha512-x","path":"newtonsoft.json/13.0.1"}}}`

// TestDotnetBundle: a .NET single-file bundle's deps.json is found through the marker
// in the apphost's data and the header at the bundle's end; a version 1 bundle (which
// locates none), and a deps.json farther before the header than is kept, each say so;
// an apphost whose marker holds 0 bundles nothing.
func TestDotnetBundle(t *testing.T) {
	f, err := scanExecutable(bytes.NewReader(dotnetBundleBinary(bundledDeps, 0x30000, 6)))
	if err != nil || string(f.DotnetDeps) != bundledDeps || f.Note != "" {
		t.Fatalf("%q %q %v", f.DotnetDeps, f.Note, err)
	}
	if f, _ := scanExecutable(bytes.NewReader(dotnetBundleBinary(bundledDeps, 0x30000, 1))); f.DotnetDeps != nil ||
		f.Note != ".NET single-file bundle version 1: it locates no deps.json (.NET 5 and later do)" {
		t.Errorf("version 1: %q", f.Note)
	}
	far := dotnetBundleBinary(bundledDeps, 0x30000, 6)
	// deps.json moved far before the header: the header says where, but it was not kept.
	h := 0x30000 + len(bundledDeps)
	gap := make([]byte, maxDotnetDeps)
	moved := append(append(append([]byte{}, far[:h]...), gap...), far[h:]...)
	binary.LittleEndian.PutUint64(moved[0x2000:], uint64(h+len(gap)))
	if f, _ := scanExecutable(bytes.NewReader(moved)); f.DotnetDeps != nil ||
		!strings.HasPrefix(f.Note, fmt.Sprintf(".NET single-file bundle: its deps.json (%d bytes at %d) is not in the", len(bundledDeps), 0x30000)) {
		t.Errorf("far: %q", f.Note)
	}
	// A header whose offset and size overflow when added: a note, not a panic.
	huge := dotnetBundleBinary(bundledDeps, 0x30000, 6)
	hp := 0x30000 + len(bundledDeps) + 16
	binary.LittleEndian.PutUint64(huge[hp:], 0x7000000000000000)
	binary.LittleEndian.PutUint64(huge[hp+8:], 0x7000000000000000)
	if f, err := scanExecutable(bytes.NewReader(huge)); err != nil || f.DotnetDeps != nil || !strings.HasPrefix(f.Note, ".NET single-file bundle: its deps.json (") {
		t.Errorf("overflowing header: %q %v", f.Note, err)
	}
	none := dotnetBundleBinary(bundledDeps, 0x30000, 6)
	binary.LittleEndian.PutUint64(none[0x2000:], 0)
	if f, _ := scanExecutable(bytes.NewReader(none)); f.DotnetDeps != nil || f.Note != "" {
		t.Errorf("no bundle: %q %q", f.DotnetDeps, f.Note)
	}
	// Through the walker: the bundle's packages at the executable's path, the
	// application's own project left out.
	pkgs, notes, _ := collectLayers(t, Limits{}, dir("app/"), executable("app/App", string(dotnetBundleBinary(bundledDeps, 0x30000, 6))))
	if d := cmp.Diff([]string{"Newtonsoft.Json 13.0.1 /app/App pkg:nuget/Newtonsoft.Json@13.0.1"}, pkgs); d != "" || len(notes) != 0 {
		t.Errorf("packages (-want +got):\n%s\nnotes %q", d, notes)
	}
	// A bundle whose packages cannot be read is unread, so matching cannot pass it.
	_, _, unread := collectLayers(t, Limits{}, dir("app/"), executable("app/App", string(dotnetBundleBinary(bundledDeps, 0x30000, 1))))
	if d := cmp.Diff([]string{"/app/App: .NET single-file bundle version 1: it locates no deps.json (.NET 5 and later do)"}, unread); d != "" {
		t.Errorf("unread (-want +got):\n%s", d)
	}
}

// TestDotnetBundleSarifMultitool: the real Sarif.Multitool 5.7.0 (a .NET 8 single-file
// bundle, npm @microsoft/sarif-multitool-linux, which scripts/setup fetches) gives the
// same NuGet packages Syft 1.57.2 found in it (testdata, recorded from syft scan).
func TestDotnetBundleSarifMultitool(t *testing.T) {
	cache := os.Getenv("DOCKAUDIT_CACHE")
	if cache == "" {
		cache = "/var/cache/dockaudit-test"
	}
	p := filepath.Join(cache, "sarif-multitool-5.7.0", "package", "Sarif.Multitool")
	fh, err := os.Open(p)
	if err != nil {
		testenv.Missing(t, "the Sarif.Multitool binary (scripts/setup fetches it): %v", err)
	}
	defer fh.Close()
	f, err := scanExecutable(fh)
	if err != nil || f.DotnetDeps == nil {
		t.Fatalf("%q %v", f.Note, err)
	}
	var got []string
	for _, pk := range inventory.DotnetPackages(f.DotnetDeps, "/app/Sarif.Multitool", 0) {
		got = append(got, pk.Name+" "+pk.Version)
	}
	slices.Sort(got)
	// What Syft lists and we do not must be the application's own assemblies (type
	// "project" or "reference": no release any advisory names) or the runtime pack,
	// which we list under the name NuGet advisories give the runtime (without Syft's
	// "runtimepack." prefix); what we list and Syft does not must be packages that
	// deploy no runtime or native files (reference and facade packages, which Syft's
	// bundle reading leaves out and NuGet advisories can name).
	var deps struct {
		Targets   map[string]map[string]map[string]json.RawMessage `json:"targets"`
		Libraries map[string]struct {
			Type string `json:"type"`
		} `json:"libraries"`
	}
	if err := json.Unmarshal(f.DotnetDeps, &deps); err != nil {
		t.Fatal(err)
	}
	assets := map[string]bool{}
	for _, target := range deps.Targets {
		for lib, parts := range target {
			assets[lib] = assets[lib] || parts["runtime"] != nil || parts["native"] != nil
		}
	}
	want, _ := os.ReadFile("testdata/sarif-multitool-5.7.0.syft-nuget.txt")
	theirs := strings.Split(strings.TrimSpace(string(want)), "\n")
	lib := func(s string) string { return strings.Replace(s, " ", "/", 1) }
	var missing, extra []string
	for _, s := range theirs {
		if typ := deps.Libraries[lib(s)].Type; slices.Contains(got, s) || typ == "project" || typ == "reference" ||
			typ == "runtimepack" && slices.Contains(got, strings.TrimPrefix(s, "runtimepack.")) {
			continue
		}
		missing = append(missing, s)
	}
	for _, s := range got {
		if !slices.Contains(theirs, s) && assets[lib(s)] {
			extra = append(extra, s)
		}
	}
	if len(missing) > 0 || len(extra) > 0 || len(got) < 60 {
		t.Errorf("%d packages; Syft's, not ours (and no project): %q; ours with runtime files, not Syft's: %q", len(got), missing, extra)
	}
}
