package advisory

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/facts"
)

// TestChanges: only the keys an update touched come back: a new advisory, a changed
// range, a changed severity (through the record), a withdrawn advisory; a new
// ecosystem means every image.
func TestChanges(t *testing.T) {
	ev := func(fixed string) string { return `{"introduced":"0"},{"fixed":"` + fixed + `"}` }
	base := map[string]string{
		"a.json": osv("GO-1", "Go", "example.com/a", "SEMVER", ev("1.2.0"), ""),
		"b.json": osv("GO-2", "Go", "example.com/b", "SEMVER", ev("2.0.0"), ""),
		"c.json": osv("GO-3", "Go", "example.com/c", "SEMVER", ev("3.0.0"), `,"database_specific":{"severity":"LOW"}`),
		"d.json": osv("GO-4", "Go", "example.com/d", "SEMVER", ev("4.0.0"), ""),
		"e.json": osv("GO-5", "Go", "example.com/e", "SEMVER", ev("5.0.0"), ""),
	}
	next := map[string]string{}
	for k, v := range base {
		next[k] = v
	}
	next["b.json"] = osv("GO-2", "Go", "example.com/b", "SEMVER", ev("2.0.1"), "")                                         // range
	next["c.json"] = osv("GO-3", "Go", "example.com/c", "SEMVER", ev("3.0.0"), `,"database_specific":{"severity":"HIGH"}`) // record only
	next["d.json"] = osv("GO-4", "Go", "example.com/d", "SEMVER", ev("4.0.0"), `,"withdrawn":"2026-02-01T00:00:00Z"`)
	next["f.json"] = osv("GO-6", "Go", "example.com/f", "SEMVER", ev("6.0.0"), "") // new
	old, cur := build(t, base), build(t, next)
	keys, all, err := Changes(old, cur)
	if err != nil || all {
		t.Fatal(all, err)
	}
	var got []string
	for _, k := range keys {
		got = append(got, k.Ecosystem+" "+k.Name)
	}
	want := []string{"Go example.com/b", "Go example.com/c", "Go example.com/d", "Go example.com/f"}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("changed keys (-want +got):\n%s", d)
	}
	if keys, all, err := Changes(old, build(t, base)); err != nil || all || len(keys) != 0 {
		t.Fatalf("the same data rebuilt: %v %v %v", keys, all, err)
	}
	next["g.json"] = osv("PYSEC-1", "PyPI", "Django", "ECOSYSTEM", `{"introduced":"0"},{"fixed":"4.0"}`, "")
	if _, all, err := Changes(old, build(t, next)); err != nil || !all {
		t.Fatalf("a new ecosystem: all=%v %v", all, err)
	}
}

func TestKeys(t *testing.T) {
	os := facts.OS{ID: "debian", VersionID: "12"}
	got := Keys(os, []facts.Package{
		{Type: "deb", Name: "libssl3", SourceName: "openssl", Version: "3.0.11-1"},
		{Type: "deb", Name: "openssl", Version: "3.0.11-1"},
		{Type: "pypi", Name: "Django_Rest", Version: "1"},
		{Type: "golang", Name: "example.com/a", Version: "(devel)"},
	})
	if d := cmp.Diff([]Key{{"Debian:12", "openssl"}, {"PyPI", "django-rest"}}, got); d != "" {
		t.Fatal(fmt.Sprint(got), d)
	}
}
