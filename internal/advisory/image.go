package advisory

import (
	"sort"

	"github.com/dockaudit/dockaudit/internal/facts"
)

// MatchImage matches every inventoried package of an image and records the result
// on it: the vulnerabilities, and which database was used.
func (s *Store) MatchImage(im *facts.Image) {
	db := &facts.VulnDB{Path: s.Path, Built: s.Meta.Built}
	im.VulnDB = db
	im.Vulns = nil
	if im.Content == nil {
		return
	}
	for _, p := range im.Content.Packages {
		platform := p.Platform // a binary says what it was built for; else the image does
		if platform == "" {
			platform = im.Platform
		}
		fs, err := s.Match(im.Content.OS, p, platform)
		if err != nil {
			db.Unmatched++ // some advisories could not be compared; the rest still count
		}
		t, _ := TargetFor(im.Content.OS, p)
		for _, f := range fs {
			v := facts.Vuln{ID: f.ID, Aliases: f.Aliases, Package: p.Name, Version: p.Version, Type: p.Type, PURL: p.PURL,
				Ecosystem: t.Ecosystems[0], Fixed: f.Fixed, Status: f.Status, Severity: f.Severity, Sources: f.Sources,
				Summary: f.Summary, Note: f.Note, Path: p.Path, Layer: p.Layer}
			if t.Name != p.Name || t.Version != p.Version {
				v.SourceName, v.SourceVersion = t.Name, t.Version
			}
			im.Vulns = append(im.Vulns, v)
		}
	}
	sort.SliceStable(im.Vulns, func(i, j int) bool {
		a, b := im.Vulns[i], im.Vulns[j]
		if a.Package != b.Package {
			return a.Package < b.Package
		}
		return a.ID < b.ID
	})
}
