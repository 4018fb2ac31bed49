package advisory

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// deflated is n bytes of zeros, compressed: each member of the bombs below
// decompresses to it.
func deflated(n int) (data []byte, size uint64, crc uint32) {
	raw := make([]byte, n)
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	w.Write(raw)
	w.Close()
	return b.Bytes(), uint64(len(raw)), crc32.ChecksumIEEE(raw)
}

// overlappingZip is the "better zip bomb" shape: one local file with its deflate
// stream (member bytes of zeros), and a central directory of n members that all
// point at it.
func overlappingZip(n, member int) []byte {
	data, size, crc := deflated(member)
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	name := "A.json"
	le(uint32(0x04034b50))
	le(uint16(20))
	le(uint16(0))
	le(uint16(zip.Deflate))
	le(uint32(0)) // time, date
	le(crc)
	le(uint32(len(data)))
	le(uint32(size))
	le(uint16(len(name)))
	le(uint16(0))
	b.WriteString(name)
	b.Write(data)
	cdStart := b.Len()
	for i := 0; i < n; i++ {
		nm := "GHSA-" + strings.Repeat("x", 4) + "-" + itoa(i) + ".json"
		le(uint32(0x02014b50))
		le(uint16(20))
		le(uint16(20))
		le(uint16(0))
		le(uint16(zip.Deflate))
		le(uint32(0))
		le(crc)
		le(uint32(len(data)))
		le(uint32(size))
		le(uint16(len(nm)))
		le(uint16(0))
		le(uint16(0))
		le(uint16(0))
		le(uint16(0))
		le(uint32(0))
		le(uint32(0)) // every member's local header is at offset 0
		b.WriteString(nm)
	}
	cdSize := b.Len() - cdStart
	le(uint32(0x06054b50))
	le(uint16(0))
	le(uint16(0))
	le(uint16(n))
	le(uint16(n))
	le(uint32(cdSize))
	le(uint32(cdStart))
	le(uint16(0))
	return b.Bytes()
}

func itoa(i int) string { return strconv.Itoa(i) }

// separateZip has n members, each its own copy of the same deflate stream: nothing
// overlaps, but together they declare n × 16 MiB.
func separateZip(t testing.TB, n int) []byte {
	data, size, crc := deflated(maxRecordFile - 1)
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for i := 0; i < n; i++ {
		w, err := zw.CreateRaw(&zip.FileHeader{Name: "R-" + itoa(i) + ".json", Method: zip.Deflate, CRC32: crc, CompressedSize64: uint64(len(data)), UncompressedSize64: size})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	zw.Close()
	return b.Bytes()
}

// TestImportRefusesZipBombs: a small archive that would decompress to hundreds of
// gigabytes is refused before any member is inflated, and the database stays.
func TestImportRefusesZipBombs(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(t.TempDir(), "good.zip")
	os.WriteFile(good, zipOf(t, map[string]string{"A.json": osv("GHSA-aaaa", "npm", "left-pad", "SEMVER", `{"introduced":"0"}`, "")}), 0o644)
	if _, err := Import(context.Background(), []string{good}, dir, now, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, FileName))
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"20,000 members over one stream": {overlappingZip(20000, maxRecordFile-1), "members share their compressed data: a zip bomb, not an advisory archive"},
		"300 members of 16 MiB each":     {separateZip(t, 300), "the members decompress to 4.7 GiB, more than an advisory archive of 4.7 MiB can (at most 1 GiB): refused"},
	} {
		p := filepath.Join(t.TempDir(), "bomb.zip")
		os.WriteFile(p, tc.data, 0o644)
		start := time.Now()
		_, err := Import(context.Background(), []string{p}, dir, now, ImportOptions{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s (%d bytes): %v", name, len(tc.data), err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%s: refused after %s", name, took)
		}
	}
	if after, _ := os.ReadFile(filepath.Join(dir, FileName)); !bytes.Equal(before, after) {
		t.Error("a refused import changed the database")
	}
	// A cancelled import stops between members.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Import(ctx, []string{good}, dir, now, ImportOptions{}); err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("cancelled: %v", err)
	}
}

// TestImportOfNothingChangesNothing: an import that finds no advisory is an error and
// leaves the database as it was (it used to install an empty one: every VULN a pass).
func TestImportOfNothingChangesNothing(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(t.TempDir(), "good.zip")
	os.WriteFile(good, zipOf(t, map[string]string{"A.json": osv("GHSA-aaaa", "npm", "left-pad", "SEMVER", `{"introduced":"0"}`, "")}), 0o644)
	if _, err := Import(context.Background(), []string{good}, dir, now, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, FileName))
	junk := filepath.Join(t.TempDir(), "junk.zip")
	os.WriteFile(junk, zipOf(t, map[string]string{"README.txt": "hello", "index.json": `{"modules":[]}`}), 0o644)
	empty := filepath.Join(t.TempDir(), "empty.json")
	os.WriteFile(empty, []byte(`{"schema":"not an advisory"}`), 0o644)
	for p, want := range map[string]string{
		junk:  junk + ": no advisories in it; 1 record was not readable (OSV JSON or YAML, OSV zip, Debian tracker JSON or DSA/DLA list, Alpine secdb, rpm-md updateinfo.xml, Red Hat CSAF or repository-to-cpe.json)",
		empty: empty + ": not an advisory file (OSV JSON or YAML, OSV zip, Debian tracker JSON or DSA/DLA list, Alpine secdb, rpm-md updateinfo.xml, Red Hat CSAF or repository-to-cpe.json)",
	} {
		if _, err := Import(context.Background(), []string{p}, dir, now, ImportOptions{}); err == nil || err.Error() != want {
			t.Errorf("got %v\nwant %s", err, want)
		}
	}
	if after, _ := os.ReadFile(filepath.Join(dir, FileName)); !bytes.Equal(before, after) {
		t.Error("an import of nothing changed the database")
	}
}

// FuzzLoadZip: whatever a zip holds, loading it ends quickly with records or an error,
// never a panic or a run of minutes.
func FuzzLoadZip(f *testing.F) {
	f.Add(overlappingZip(50, 4096))
	f.Add(zipOf(f, map[string]string{"A.json": osv("GHSA-aaaa", "npm", "left-pad", "SEMVER", `{"introduced":"0"}`, ""), "b.txt": "x"}))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "f.zip")
		os.WriteFile(p, data, 0o600)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		LoadPath(ctx, NewBuilder(), p, now)
		if took := time.Since(start); took > 15*time.Second {
			t.Fatalf("took %s", took)
		}
	})
}

// TestImportBoundsTrackerAndBundles (found in review): --timeout reaches the Debian
// tracker's parser, and a bundle declaring a database far larger than itself is
// refused before anything is written.
func TestImportBoundsTrackerAndBundles(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Import(ctx, []string{"testdata/tracker.json"}, dir, now, ImportOptions{}); err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("tracker under a cancelled context: %v", err)
	}
	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	tw := tar.NewWriter(gz)
	m, _ := json.Marshal(bundleManifest{Format: bundleFormat, Schema: SchemaVersion, SHA256: strings.Repeat("0", 64), Size: 4 << 30})
	tw.WriteHeader(&tar.Header{Name: "manifest.json", Mode: 0o644, Size: int64(len(m)), Typeflag: tar.TypeReg})
	tw.Write(m)
	tw.WriteHeader(&tar.Header{Name: FileName, Mode: 0o644, Size: 4 << 30, Typeflag: tar.TypeReg})
	tw.Flush()
	gz.Close()
	p := filepath.Join(t.TempDir(), "bomb.tar.gz")
	os.WriteFile(p, b.Bytes(), 0o644)
	_, err := Import(context.Background(), []string{p}, dir, now, ImportOptions{})
	if err == nil || !strings.HasPrefix(err.Error(), "the bundle's database would be 4 GiB from a bundle of ") {
		t.Errorf("bundle bomb: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("written: %v", entries)
	}
}
