package serve

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/advisory"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/store"
)

// TestRekeyOlderImages: an image stored by an earlier version, whose RHEL packages
// were not keyed, is keyed again by a whole re-match (queued at start), so a later
// update to a Red Hat stream finds it; images keyed by the current format are not
// rewritten.
func TestRekeyOlderImages(t *testing.T) {
	s, _, _ := testServer(t)
	ctx := context.Background()
	im := facts.Image{Content: &facts.ImageContent{OS: facts.OS{ID: "rhel", VersionID: "9.4"},
		Packages: []facts.Package{{Name: "openssl-libs", SourceName: "openssl", Version: "1:3.0.7-27.el9", Type: "rpm"}}}}
	raw, _ := json.Marshal(im)
	digest := "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	if err := s.store.SaveImage(ctx, store.Image{Digest: digest, Registry: "r", Repository: "ubi", Facts: zenc.EncodeAll(raw, nil), Checks: json.RawMessage(`{}`)}, nil, nil, nil, ""); err != nil {
		t.Fatal(err)
	}
	if n, err := s.store.StaleKeys(ctx, advisory.KeysFormat); n != 1 || err != nil {
		t.Fatalf("stale %d, %v", n, err)
	}
	b := advisory.NewBuilder()
	b.Add(advisory.Record{ID: "RHSA-2099:1", Source: "osv:Red Hat", Affected: []advisory.Affected{{Ecosystem: "Red Hat:enterprise_linux:9::baseos", Package: "openssl",
		Ranges: []advisory.Range{{Type: "ECOSYSTEM", Events: []advisory.Event{{Introduced: "0"}, {Fixed: "1:3.0.7-28.el9"}}}}}}})
	dir := t.TempDir()
	if err := b.Install(dir, time.Now()); err != nil {
		t.Fatal(err)
	}
	db, err := advisory.Open(filepath.Join(dir, advisory.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stored, err := s.store.ImagesFacts(ctx, []string{digest})
	if err != nil {
		t.Fatal(err)
	}
	j, _, changed, err := s.rejudged(digest, stored[digest], db)
	if err != nil || !changed || j.KeysFormat != advisory.KeysFormat || len(j.Vulns) != 1 {
		t.Fatalf("re-judged: %+v changed %v, %v", j, changed, err)
	}
	var keys []string
	for _, k := range j.Keys {
		keys = append(keys, k.Ecosystem+" "+k.Name)
	}
	if d := cmp.Diff([]string{"Red Hat openssl"}, keys); d != "" {
		t.Errorf("keys (-want +got):\n%s", d)
	}
	if err := s.store.Rematch(ctx, []store.Judged{j}, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := s.store.DigestsFor(ctx, []store.PackageKey{{Ecosystem: "Red Hat", Name: "openssl"}}); err != nil || len(got) != 1 || got[0] != digest {
		t.Errorf("an update to Red Hat's openssl finds %q, %v", got, err)
	}
	if n, err := s.store.StaleKeys(ctx, advisory.KeysFormat); n != 0 || err != nil {
		t.Errorf("stale after the re-match %d, %v", n, err)
	}
	stored, _ = s.store.ImagesFacts(ctx, []string{digest})
	if j, _, _, _ := s.rejudged(digest, stored[digest], db); j.KeysFormat != 0 || j.Keys != nil {
		t.Errorf("keyed again although current: %+v", j)
	}
}
