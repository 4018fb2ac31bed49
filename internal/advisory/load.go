package advisory

import (
	"archive/zip"
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dockaudit/dockaudit/internal/safefile"
)

// maxRecordFile bounds one advisory file; the Debian tracker JSON (tens of MB) is
// streamed and not bound by it.
const maxRecordFile = 16 << 20

// maxRedHatFile bounds one Red Hat CSAF file (a kernel CVE's VEX lists thousands of
// products) and the repository-to-CPE map.
const maxRedHatFile = 64 << 20

// counter tallies records per source name while loading.
type counter struct {
	origin  string
	counts  map[string]int
	skipped map[string]int
	notes   []string // what was passed over, for the user
}

func newCounter(origin string) *counter {
	return &counter{origin: origin, counts: map[string]int{}, skipped: map[string]int{}}
}

func (c *counter) sources(now time.Time) []SourceInfo {
	var out []SourceInfo
	for _, name := range sortedKeys(c.counts) {
		out = append(out, SourceInfo{Name: name, Origin: c.origin, Records: c.counts[name], Skipped: c.skipped[name], Fetched: now.UTC()})
	}
	for _, name := range sortedKeys(c.skipped) {
		if _, ok := c.counts[name]; !ok {
			out = append(out, SourceInfo{Name: name, Origin: c.origin, Skipped: c.skipped[name], Fetched: now.UTC()})
		}
	}
	return out
}

func (c *counter) add(b *Builder) func(Record) error {
	return func(r Record) error {
		b.Add(r)
		c.counts[r.Source]++
		return nil
	}
}

// LoadPath reads advisories from a file or a directory tree into b, recognising each
// file by name and content: OSV records (JSON, or YAML as the PyPA database writes
// them), OSV zip archives (the bucket's all.zip), the Debian tracker's JSON, the
// tracker's DSA and DLA lists, Alpine secdb files (JSON or YAML), rpm-md
// updateinfo.xml(.gz) files of Amazon Linux and Oracle Linux repositories, and Red
// Hat's CSAF advisories and VEX files and its repository-to-CPE map.
func LoadPath(ctx context.Context, b *Builder, path string, now time.Time) ([]SourceInfo, error) {
	c := newCounter(path)
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() && !fi.Mode().IsRegular() {
		return nil, safefile.NotRegular(path, fi.Mode())
	}
	if !fi.IsDir() {
		err := loadFile(ctx, b, c, path)
		switch {
		case errors.Is(err, errNotAdvisory):
			return nil, fmt.Errorf("%s: not an advisory file (%s)", path, knownFormats)
		case err != nil:
			return nil, fmt.Errorf("%s: %w", path, err)
		case len(c.counts) == 0:
			return nil, fmt.Errorf("%s: no advisories in it%s (%s)", path, skippedNote(c), knownFormats)
		}
		return c.sources(now), nil
	}
	// A golang.org/x/vulndb checkout holds its records in data/osv, and test fixtures
	// (made-up advisories) elsewhere: only data/osv is read. In any tree, testdata
	// directories are fixtures, not advisories.
	root := path
	if fi, err := os.Stat(filepath.Join(path, "data", "osv")); err == nil && fi.IsDir() {
		root = filepath.Join(path, "data", "osv")
		c.notes = append(c.notes, path+" is a golang.org/x/vulndb checkout: only data/osv was read")
	}
	var files []string
	skippedDirs := 0
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && (d.Name() == "testdata" || d.Name() == ".git") {
			skippedDirs++
			return fs.SkipDir
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if skippedDirs > 0 {
		c.notes = append(c.notes, fmt.Sprintf("%s: %d testdata or .git directories were not read (test fixtures are not advisories)", path, skippedDirs))
	}
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := loadFile(ctx, b, c, f); err != nil && !errors.Is(err, errNotAdvisory) {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
	}
	if len(c.counts) == 0 {
		return nil, fmt.Errorf("%s: no advisories found%s (%s)", path, skippedNote(c), knownFormats)
	}
	b.notes = append(b.notes, c.notes...)
	return c.sources(now), nil
}

var errNotAdvisory = errors.New("not an advisory file")

// knownFormats names what LoadPath reads, for errors.
const knownFormats = "OSV JSON or YAML, OSV zip, Debian tracker JSON or DSA/DLA list, Alpine secdb, rpm-md updateinfo.xml, Red Hat CSAF or repository-to-cpe.json"

// skippedNote says how many records were passed over, when some were.
func skippedNote(c *counter) string {
	n := 0
	for _, k := range c.skipped {
		n += k
	}
	if n == 0 {
		return ""
	}
	if n == 1 {
		return "; 1 record was not readable"
	}
	return fmt.Sprintf("; %d records were not readable", n)
}

// dsaLine is the first line of the Debian tracker's DSA and DLA lists:
// "[01 Apr 2023] DSA-5380-1 firefox-esr - security update".
var dsaLine = regexp.MustCompile(`^\[\d{1,2} [A-Za-z]{3} \d{4}\] D[SL]A-\d+`)

// loadFile reads one file, recognising its format by its content whatever it is
// called (the tracker serves its JSON as tracker/data/json).
func loadFile(ctx context.Context, b *Builder, c *counter, p string) error {
	f, err := safefile.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	trimmed := bytes.TrimLeft(head, " \t\r\n\ufeff")
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		f.Close()
		return loadOSVZip(ctx, b, c, p)
	case bytes.HasPrefix(head, []byte("\x1f\x8b")), bytes.HasPrefix(trimmed, []byte("<")):
		// An rpm-md updateinfo.xml, as repositories publish it (gzip-compressed) or
		// uncompressed.
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		return loadUpdateInfo(safefile.Reader(ctx, f), c, p, c.add(b))
	case dsaLine.Match(head):
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		return ParseDSAList(safefile.Reader(ctx, f), c.add(b))
	case bytes.HasPrefix(trimmed, []byte("{")):
		if isCSAF(head) || isRepositoryToCPE(head) {
			data, err := readBounded(p, maxRedHatFile)
			if err != nil {
				return err
			}
			if isRepositoryToCPE(head) {
				return ParseRepositoryToCPE(data, c.add(b))
			}
			skipped, err := ParseCSAF(data, c.add(b))
			c.skipped[redHatCSAFSource] += skipped
			return err
		}
		if looksLikeDebianTracker(head) {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return err
			}
			return ParseDebianTracker(safefile.Reader(ctx, f), c.add(b))
		}
		rest, err := io.ReadAll(io.LimitReader(f, maxRecordFile+1))
		if err != nil {
			return err
		}
		if len(head)+len(rest) > maxRecordFile {
			return fmt.Errorf("%s: larger than %d bytes: not one advisory", p, maxRecordFile)
		}
		return loadDocument(b, c, append(head, rest...), false)
	case yamlAdvisory(trimmed):
		data, err := readBounded(p, maxRecordFile)
		if err != nil {
			return err
		}
		return loadDocument(b, c, data, true)
	}
	return errNotAdvisory
}

// yamlAdvisory recognises the YAML advisories read here: an OSV record (PyPA's
// database) or an Alpine secdb file, by the top-level keys they start with.
func yamlAdvisory(head []byte) bool {
	for _, line := range bytes.Split(head, []byte("\n")) {
		l := bytes.TrimSpace(line)
		if len(l) == 0 || l[0] == '#' || bytes.Equal(l, []byte("---")) {
			continue
		}
		for _, key := range []string{"id:", "schema_version:", "modified:", "distroversion:", "apkurl:", "archs:"} {
			if bytes.HasPrefix(line, []byte(key)) {
				return true
			}
		}
		return false
	}
	return false
}

// loadUpdateInfo reads an updateinfo.xml, gzip-compressed or not, passing its records
// to add; other XML is not an advisory file.
func loadUpdateInfo(r io.Reader, c *counter, p string, add func(Record) error) error {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte("\x1f\x8b")) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
	}
	head, _ := br.Peek(4096)
	if !bytes.Contains(head, []byte("<updates")) {
		return errNotAdvisory
	}
	skipped, err := ParseUpdateInfo(br, add)
	c.skipped["updateinfo"] += skipped
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	return nil
}

// loadDocument reads one small document: an Alpine secdb file or an OSV record.
// Other JSON (the Go database's index files, a schema) is not an advisory file.
func loadDocument(b *Builder, c *counter, data []byte, isYAML bool) error {
	if t := bytes.TrimSpace(data); !isYAML && (len(t) == 0 || t[0] != '{') {
		return errNotAdvisory
	}
	if bytes.Contains(data[:min(len(data), 4096)], []byte("distroversion")) {
		source, skipped, err := ParseAlpineSecDB(data, c.add(b))
		c.skipped[source] += skipped
		return err
	}
	var r Record
	var err error
	if isYAML {
		r, err = ParseOSVYAML(data)
	} else {
		r, err = ParseOSV(data)
	}
	if errors.Is(err, errNoID) {
		return errNotAdvisory // another JSON file (an index, a schema)
	}
	if err != nil {
		return err
	}
	return c.add(b)(r)
}

// loadOSVZip reads every JSON record of an OSV zip archive (the bucket's all.zip).
func loadOSVZip(ctx context.Context, b *Builder, c *counter, p string) error {
	f, err := safefile.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	zr, err := zip.NewReader(f, fi.Size())
	if err != nil {
		return fmt.Errorf("not a zip archive: %w", err)
	}
	return loadZipFiles(ctx, b, c, zr.File, fi.Size(), "")
}

// loadZipFiles adds the OSV records of zip members. source, when set, is the source the
// records belong to (the ecosystem whose all.zip this is): a record that also lists
// other ecosystems must be found under it by the next incremental update.
func loadZipFiles(ctx context.Context, b *Builder, c *counter, files []*zip.File, archiveSize int64, source string) error {
	if err := checkZip(files, archiveSize); err != nil {
		return err
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !strings.HasSuffix(f.Name, ".json") {
			continue
		}
		if f.UncompressedSize64 > maxRecordFile {
			c.skipped["osv"]++ // no advisory is that large
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		data, err := io.ReadAll(io.LimitReader(rc, maxRecordFile))
		rc.Close() // the zip reader checks the CRC at the end of each member
		if err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
		r, err := ParseOSV(data)
		if err != nil {
			c.skipped["osv"]++
			continue
		}
		if source != "" {
			r.Source = source
		}
		if err := c.add(b)(r); err != nil {
			return err
		}
	}
	return nil
}

// A zip archive's members decompress to at most zipRatio times the archive's size
// (JSON records compress 10 to 20 times), or zipFloor for a small archive, and never
// past zipCeiling.
const (
	zipRatio   = 200
	zipFloor   = 1 << 30
	zipCeiling = 64 << 30
)

// checkZip vets an archive before any member is decompressed. Members whose data
// overlap (thousands of entries sharing one deflate stream: a zip bomb no archiver
// writes) are refused, and so is an archive whose members declare more than the
// budget. Declared sizes are honest: archive/zip fails a member that decompresses to
// more than it declared.
func checkZip(files []*zip.File, archiveSize int64) error {
	type span struct{ start, end int64 }
	var spans []span
	var total uint64
	for _, f := range files {
		off, err := f.DataOffset()
		if err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
		spans = append(spans, span{off, off + int64(f.CompressedSize64)})
		if strings.HasSuffix(f.Name, ".json") && f.UncompressedSize64 <= maxRecordFile {
			total += f.UncompressedSize64
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.start, b.start) })
	for i := 1; i < len(spans); i++ {
		if spans[i].start < spans[i-1].end {
			return errors.New("members share their compressed data: a zip bomb, not an advisory archive")
		}
	}
	budget := min(max(zipFloor, zipRatio*archiveSize), zipCeiling)
	if total > uint64(budget) {
		return fmt.Errorf("the members decompress to %s, more than an advisory archive of %s can (at most %s): refused", safefile.Size(int64(min(total, 1<<62))), safefile.Size(archiveSize), safefile.Size(budget))
	}
	return nil
}

// readBounded reads a regular file of at most max bytes.
func readBounded(path string, max int64) ([]byte, error) { return safefile.Read(path, max) }
