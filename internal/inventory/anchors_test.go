package inventory

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/dockaudit/dockaudit/internal/facts"
)

// TestAnchorFixtures runs the parsers over Syft's and Trivy's own test fixtures
// (testdata/anchors, copied with their licences; SOURCES.md names each file's origin
// and the test asserting its list). For each, the list their test expects equals
// ours, except for the differences written down beside it with the reason.
func TestAnchorFixtures(t *testing.T) {
	b, err := os.ReadFile("testdata/anchors/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Fixture, Parser, Path  string
		Theirs, Missing, Extra []string
		Reason                 string
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		data, err := os.ReadFile(filepath.Join("testdata", "anchors", c.Fixture))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range anchorParse(c.Parser, data, c.Path) {
			got = append(got, p.Name+" "+p.Version)
		}
		want := slices.Clone(c.Theirs)
		for _, m := range c.Missing { // one of each, as a list may name a crate twice
			if i := slices.Index(want, m); i >= 0 {
				want = slices.Delete(want, i, i+1)
			} else {
				t.Errorf("%s: %q is not in their list", c.Fixture, m)
			}
		}
		want = append(want, c.Extra...)
		slices.Sort(want)
		slices.Sort(got)
		if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("%s (-theirs, with the written-down differences +ours):\n%s", c.Fixture, d)
		}
		if (len(c.Missing)+len(c.Extra) > 0) != (c.Reason != "") {
			t.Errorf("%s: a difference needs its reason, and only a difference has one", c.Fixture)
		}
	}
}

func anchorParse(parser string, b []byte, p string) []facts.Package {
	one := func(pk facts.Package, ok bool) []facts.Package {
		if !ok {
			return nil
		}
		return []facts.Package{pk}
	}
	switch parser {
	case "GemfileLockPackages":
		return GemfileLockPackages(b, p, 0)
	case "GemPackage":
		return one(GemPackage(b, p, 0))
	case "ComposerPackages":
		return ComposerPackages(b, p, 0)
	case "DotnetPackages":
		return DotnetPackages(b, p, 0)
	case "CargoLockPackages":
		return CargoLockPackages(b, p, 0)
	case "PythonPackage":
		return one(PythonPackage(b, p, 0))
	case "JavaPackages":
		return JavaPackages(b, p, 0)
	}
	panic("unknown parser " + parser)
}
