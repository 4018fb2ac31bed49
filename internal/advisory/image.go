package advisory

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/dockaudit/dockaudit/internal/facts"
)

// MatchImage matches every inventoried package of an image and records the result
// on it: the vulnerabilities, which database was used, and the coverage: for each
// ecosystem of the image's packages, whether the database has a source for it.
// Packages no source covers are listed as such, never taken for clean ones.
func (s *Store) MatchImage(im *facts.Image) {
	db := &facts.VulnDB{Path: s.Path, Built: s.Meta.Built}
	im.VulnDB = db
	im.Vulns = nil
	if im.Content == nil {
		return
	}
	groups := map[string]*facts.Coverage{}
	group := func(key string) *facts.Coverage {
		g := groups[key]
		if g == nil {
			g = &facts.Coverage{Ecosystem: key}
			groups[key] = g
		}
		return g
	}
	modular := map[string]int{}
	for _, p := range im.Content.Packages {
		t, ok, note, err := s.target(im.Content.OS, p)
		if err != nil {
			g := group(uncoveredKind(im.Content.OS, p))
			g.Packages++
			g.Uncovered = "the database could not be read: " + err.Error()
			continue
		}
		if !ok {
			g := group(uncoveredKind(im.Content.OS, p))
			g.Packages++
			g.Uncovered = uncoveredReason(im.Content.OS, p)
			continue
		}
		eco, sources, covered := s.covers(t.Ecosystems)
		if covered && t.Module != "" && BaseEcosystem(eco) == "Red Hat" && !slices.Contains(sources, redHatCSAFSource) {
			// Red Hat's OSV records say nothing of module builds: without its CSAF
			// files nothing judges these, which is no pass.
			g := group("rpm module streams on " + eco)
			g.Packages++
			g.Uncovered = "the database has no advisories that name module streams (Red Hat's OSV records do not): dockaudit db import Red Hat's CSAF files"
			continue
		}
		g := group(eco)
		g.Packages++
		if !covered {
			g.Uncovered = fmt.Sprintf("the database has no advisories for %s (dockaudit db update --ecosystems %s, or db import its data)", eco, BaseEcosystem(eco))
			if base := BaseEcosystem(eco); base == "Amazon Linux" || base == "Oracle Linux" {
				g.Uncovered = fmt.Sprintf("the database has no advisories for %s (dockaudit db import the repositories' repodata/…-updateinfo.xml.gz)", eco)
			}
			continue
		}
		g.Sources = sources
		g.Note = note
		if t.Module != "" && BaseEcosystem(eco) == "Red Hat" {
			modular[eco]++
		}
		platform := p.Platform // a binary says what it was built for; else the image does
		if platform == "" {
			platform = im.Platform
		}
		fs, err := s.Match(im.Content.OS, p, platform)
		if err != nil {
			db.Unmatched++ // some advisories could not be compared; the rest still count
		}
		for _, f := range fs {
			ecosystem := t.Ecosystems[0]
			if slices.Contains(families, BaseEcosystem(ecosystem)) && f.Ecosystem != "" {
				ecosystem = f.Ecosystem // the stream that decided, of the image's several
			}
			vnote := note
			if BaseEcosystem(f.Ecosystem) == "SUSE" && strings.Contains(f.Ecosystem, "LTSS") && !suseLTSS(im.Content.OS) {
				vnote = joinNotes(vnote, "fixed only in SUSE's LTSS channel ("+strings.TrimPrefix(f.Ecosystem, "SUSE:")+"), which this image does not have (no sles-ltss-release)")
			}
			v := facts.Vuln{ID: f.ID, Aliases: f.Aliases, Package: p.Name, Version: p.Version, Type: p.Type, PURL: p.PURL,
				Ecosystem: ecosystem, Fixed: f.Fixed, Status: f.Status, Severity: f.Severity, Sources: f.Sources,
				Summary: f.Summary, Note: joinNotes(f.Note, vnote), Path: p.Path, Layer: p.Layer}
			if t.Name != p.Name || t.Version != p.Version {
				v.SourceName, v.SourceVersion = t.Name, t.Version
			}
			im.Vulns = append(im.Vulns, v)
		}
	}
	// A binary the inventory does not know as a package has a version nobody matched.
	if im.Content.OS.ID == "busybox" {
		g := group("busybox")
		g.Uncovered = "busybox is one static binary, not a package: its version is not matched against advisories"
	}
	for _, reason := range im.Content.Unread {
		g := group("unread package database")
		g.Uncovered = joinNotes(g.Uncovered, reason)
	}
	for eco, n := range modular {
		groups[eco].Note = joinNotes(groups[eco].Note, fmt.Sprintf("%d packages from module streams are judged only by advisories that name their stream (Red Hat's CSAF files do, its OSV records do not)", n))
	}
	for _, key := range sortedKeys(groups) {
		db.Coverage = append(db.Coverage, *groups[key])
	}
	slices.SortStableFunc(im.Vulns, func(a, b facts.Vuln) int {
		return cmp.Or(cmp.Compare(a.Package, b.Package), cmp.Compare(a.ID, b.ID))
	})
}

func joinNotes(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// covers finds the first of the ecosystems a package is looked up in that the
// database has advisories for: its name and sources; else the first name and false.
func (s *Store) covers(ecosystems []string) (string, []string, bool) {
	for _, e := range ecosystems {
		if info, ok := s.Meta.Ecosystem(e); ok {
			return e, info.Sources, true
		}
	}
	return ecosystems[0], nil, false
}

// uncoveredKind names a group of packages no advisory source is defined for: the
// package type and, for OS packages, the distribution ("rpm on rhel 9").
func uncoveredKind(os facts.OS, p facts.Package) string {
	switch p.Type {
	case "deb", "apk", "rpm":
		return p.Type + " on " + strings.TrimSpace(os.ID+" "+os.VersionID)
	}
	return p.Type
}

func uncoveredReason(os facts.OS, p facts.Package) string {
	switch {
	case p.Type == "golang":
		return "Go modules built from a work tree have no version ((devel)) to match"
	case slices.Contains([]string{"deb", "apk", "rpm"}, p.Type):
		return "dockaudit has no advisory source for " + strings.TrimSpace(os.ID+" "+os.VersionID)
	}
	return "dockaudit has no advisory source for " + p.Type + " packages"
}
