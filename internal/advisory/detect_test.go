package advisory

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// copyAs copies src to dir/name, making the parent directories.
func copyAs(t *testing.T, src, dir, name string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// sourceRecords is the database's sources as "name=records", sorted.
func sourceRecords(m Meta) []string {
	var out []string
	for _, s := range m.Sources {
		out = append(out, s.Name+"="+strconv.Itoa(s.Records))
	}
	slices.Sort(out)
	return out
}

// TestFormatByContent: each loader recognises its data by what is in the file, not
// by its name: the tracker's JSON as served at tracker/data/json, a DSA list, an OSV
// record and an Alpine secdb file saved under names that say nothing.
func TestFormatByContent(t *testing.T) {
	dir := t.TempDir()
	copyAs(t, "testdata/tracker.json", dir, "json")
	copyAs(t, filepath.Join(shared(t, "debian-security-tracker", "data", "DSA"), "list"), dir, "dsa.txt")
	copyAs(t, filepath.Join(shared(t, "go-vulndb", "osv"), "GO-2022-1059.json"), dir, "GO-2022-1059")
	copyAs(t, filepath.Join(shared(t, "alpine-secdb", "v3.11"), "main.yaml"), dir, "alpine-main")
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not an advisory\n"), 0o644)

	db := t.TempDir()
	meta, notes, err := ImportNotes(context.Background(), []string{dir}, db, now, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 0 {
		t.Errorf("notes %q", notes)
	}
	var names []string
	for _, s := range meta.Sources {
		names = append(names, s.Name)
	}
	slices.Sort(names)
	want := []string{"alpine-secdb:v3.11/main", "debian-dsa", "debian-tracker", "osv:Go"}
	if !slices.Equal(names, want) {
		t.Errorf("sources %q, want %q", names, want)
	}
	// Each file is also read alone, as `db import FILE` does.
	for _, name := range []string{"json", "dsa.txt", "GO-2022-1059", "alpine-main"} {
		if _, _, err := ImportNotes(context.Background(), []string{filepath.Join(dir, name)}, t.TempDir(), now, ImportOptions{}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	_, _, err = ImportNotes(context.Background(), []string{filepath.Join(dir, "notes.txt")}, t.TempDir(), now, ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "notes.txt: not an advisory file") {
		t.Errorf("a text file: %v", err)
	}
}

// TestVulnDBCheckout: importing a golang.org/x/vulndb checkout reads its data/osv
// records and not the made-up advisories its tests keep, and says so; a testdata
// directory anywhere else is passed over with a note too.
func TestVulnDBCheckout(t *testing.T) {
	osvDir := shared(t, "go-vulndb", "osv")
	fake := `{"schema_version":"1.3.1","id":"GO-9999-0001","modified":"2023-01-01T00:00:00Z",` +
		`"affected":[{"package":{"ecosystem":"Go","name":"golang.org/x/text"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}`

	checkout := t.TempDir()
	copyAs(t, filepath.Join(osvDir, "GO-2022-1059.json"), checkout, "data/osv/GO-2022-1059.json")
	copyAs(t, filepath.Join(osvDir, "GO-2021-0113.json"), checkout, "data/osv/GO-2021-0113.json")
	os.MkdirAll(filepath.Join(checkout, "internal", "worker", "testdata"), 0o755)
	os.WriteFile(filepath.Join(checkout, "internal", "worker", "testdata", "GO-9999-0001.json"), []byte(fake), 0o644)
	os.WriteFile(filepath.Join(checkout, "data", "excluded.json"), []byte(fake), 0o644)

	// Only the two data/osv records.
	expectImport(t, checkout, []string{"osv:Go=2"}, checkout+" is a golang.org/x/vulndb checkout: only data/osv was read")

	tree := t.TempDir()
	copyAs(t, filepath.Join(osvDir, "GO-2022-1059.json"), tree, "records/GO-2022-1059.json")
	os.MkdirAll(filepath.Join(tree, "tool", "testdata"), 0o755)
	os.WriteFile(filepath.Join(tree, "tool", "testdata", "GO-9999-0001.json"), []byte(fake), 0o644)
	// The one record outside testdata.
	expectImport(t, tree, []string{"osv:Go=1"}, tree+": 1 testdata or .git directories were not read (test fixtures are not advisories)")
}

// expectImport imports dir into a new database and checks its sources and the one note.
func expectImport(t *testing.T, dir string, sources []string, note string) {
	t.Helper()
	meta, notes, err := ImportNotes(context.Background(), []string{dir}, t.TempDir(), now, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := sourceRecords(meta); !slices.Equal(got, sources) {
		t.Errorf("sources %q, want %q", got, sources)
	}
	if len(notes) != 1 || notes[0] != note {
		t.Errorf("notes %q, want [%q]", notes, note)
	}
}
