package advisory

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/version"
)

// Target is how one package is looked up: the ecosystems to search, the name and
// version the advisories use (the source package for Debian and Ubuntu, the origin
// for Alpine), and the comparison scheme.
type Target struct {
	Ecosystems []string
	Name       string
	Version    string
	Scheme     version.Kind
	// GOOS and GOARCH are the platform a Go binary is built for ("" when unknown).
	GOOS, GOARCH string
	// Module is the module stream ("nodejs:18") an rpm was built in, "" for none.
	Module string
}

// TargetFor says how a package of an image with the given OS is matched; ok is false
// for packages no advisory source covers (and "(devel)" Go main modules, which have
// no version).
func TargetFor(os facts.OS, p facts.Package) (Target, bool) {
	src, srcVer := p.SourceName, p.SourceVersion
	if src == "" {
		src = p.Name
	}
	if srcVer == "" {
		srcVer = p.Version
	}
	// rpm vendors that file by source RPM give the source's version: the binary's
	// own can differ (npm built from nodejs, libreadline7 7.0 from bash 4.4). The
	// source RPM's file name has no epoch; the binary's is the package's.
	rpmSrcVer := p.Version
	if p.SourceVersion != "" {
		rpmSrcVer = p.SourceVersion
		if e, _, ok := strings.Cut(p.Version, ":"); ok && !strings.Contains(e, "-") {
			rpmSrcVer = e + ":" + p.SourceVersion
		}
	}
	switch p.Type {
	case "deb":
		switch os.ID {
		case "debian":
			rel := os.VersionID
			if rel == "" {
				rel = DebianReleases[os.Codename]
			}
			if rel == "" {
				return Target{}, false
			}
			if i := strings.IndexByte(rel, '.'); i > 0 {
				rel = rel[:i]
			}
			return Target{Ecosystems: []string{"Debian:" + rel}, Name: src, Version: srcVer, Scheme: version.Dpkg}, true
		case "ubuntu":
			return Target{Ecosystems: []string{"Ubuntu:" + os.VersionID + ":LTS", "Ubuntu:" + os.VersionID}, Name: src, Version: srcVer, Scheme: version.Dpkg}, true
		}
	case "apk":
		switch os.ID {
		case "alpine":
			parts := strings.Split(os.VersionID, ".")
			if len(parts) < 2 {
				return Target{}, false
			}
			return Target{Ecosystems: []string{"Alpine:v" + parts[0] + "." + parts[1]}, Name: src, Version: p.Version, Scheme: version.Apk}, true
		case "wolfi":
			return Target{Ecosystems: []string{"Wolfi"}, Name: p.Name, Version: p.Version, Scheme: version.Apk}, true
		}
	case "rpm":
		major, _, _ := strings.Cut(os.VersionID, ".")
		switch os.ID {
		case "almalinux":
			return Target{Ecosystems: []string{"AlmaLinux:" + major}, Name: p.Name, Version: p.Version, Scheme: version.RPM}, true
		case "rocky":
			return Target{Ecosystems: []string{"Rocky Linux:" + major}, Name: p.Name, Version: p.Version, Scheme: version.RPM}, true
		case "rhel":
			// Red Hat files advisories by source RPM per product stream; which streams
			// apply depends on the image's repositories, resolved against the
			// database (Store.target). "Red Hat" is the family they share.
			if major == "" {
				return Target{}, false
			}
			return Target{Ecosystems: []string{"Red Hat"}, Name: src, Version: rpmSrcVer, Scheme: version.RPM, Module: moduleStream(p.Module)}, true
		case "sles", "sled", "sle_hpc", "sles_sap", "sle-micro", "sl-micro":
			// SUSE files advisories by source RPM per product and support phase; which
			// of them apply depends on the database's products (Store.target). "SUSE" is
			// the family they share.
			if os.VersionID == "" {
				return Target{}, false
			}
			return Target{Ecosystems: []string{"SUSE"}, Name: src, Version: rpmSrcVer, Scheme: version.RPM}, true
		case "opensuse-leap", "opensuse-tumbleweed", "opensuse-leap-micro":
			// openSUSE files advisories by source RPM under the release's marketing
			// name: "openSUSE:Leap 15.6", "openSUSE:Leap Micro 5.5", "openSUSE:Tumbleweed".
			rel := map[string]string{"opensuse-leap": "Leap " + os.VersionID, "opensuse-leap-micro": "Leap Micro " + os.VersionID, "opensuse-tumbleweed": "Tumbleweed"}[os.ID]
			if os.VersionID == "" && os.ID != "opensuse-tumbleweed" {
				return Target{}, false
			}
			return Target{Ecosystems: []string{"openSUSE:" + rel}, Name: src, Version: rpmSrcVer, Scheme: version.RPM}, true
		case "amzn":
			// Amazon Linux files its advisories (ALAS, from the repositories'
			// updateinfo.xml) by binary RPM, per release: "Amazon Linux:2", ":2023".
			if os.VersionID == "" {
				return Target{}, false
			}
			return Target{Ecosystems: []string{"Amazon Linux:" + os.VersionID}, Name: p.Name, Version: p.Version, Scheme: version.RPM}, true
		case "ol":
			// Oracle Linux's ELSA advisories, by binary RPM, per major release.
			if major == "" {
				return Target{}, false
			}
			return Target{Ecosystems: []string{"Oracle Linux:" + major}, Name: p.Name, Version: p.Version, Scheme: version.RPM}, true
		case "photon":
			// Photon OS files advisories by binary RPM under "Photon OS:5.0".
			if os.VersionID == "" {
				return Target{}, false
			}
			return Target{Ecosystems: []string{"Photon OS:" + os.VersionID}, Name: p.Name, Version: p.Version, Scheme: version.RPM}, true
		case "azurelinux", "mariner":
			// Azure Linux (CBL-Mariner before 3.0) files advisories by source package
			// under "Azure Linux:3" (and "Azure Linux:2" for Mariner 2.0).
			if major == "" {
				return Target{}, false
			}
			return Target{Ecosystems: []string{"Azure Linux:" + major}, Name: src, Version: rpmSrcVer, Scheme: version.RPM}, true
		}
	case "golang":
		if !strings.HasPrefix(p.Version, "v") {
			return Target{}, false // "(devel)": built from a work tree, no version to compare
		}
		return Target{Ecosystems: []string{"Go"}, Name: p.Name, Version: p.Version, Scheme: version.Semver}, true
	case "pypi":
		return Target{Ecosystems: []string{"PyPI"}, Name: p.Name, Version: p.Version, Scheme: version.PEP440}, true
	case "npm":
		return Target{Ecosystems: []string{"npm"}, Name: p.Name, Version: p.Version, Scheme: version.Semver}, true
	case "maven":
		return Target{Ecosystems: []string{"Maven"}, Name: p.Name, Version: p.Version, Scheme: version.Maven}, true
	case "cargo":
		return Target{Ecosystems: []string{"crates.io"}, Name: p.Name, Version: p.Version, Scheme: version.Semver}, true
	case "gem":
		return Target{Ecosystems: []string{"RubyGems"}, Name: p.Name, Version: p.Version, Scheme: version.RubyGems}, true
	case "composer":
		return Target{Ecosystems: []string{"Packagist"}, Name: p.Name, Version: p.Version, Scheme: version.Packagist}, true
	case "nuget":
		return Target{Ecosystems: []string{"NuGet"}, Name: p.Name, Version: p.Version, Scheme: version.NuGet}, true
	}
	return Target{}, false
}

// target is TargetFor with a family target resolved against the database (Red Hat's
// streams from the image's repositories); note says how, when it had to assume.
func (s *Store) target(os facts.OS, p facts.Package) (Target, bool, string, error) {
	t, ok := TargetFor(os, p)
	switch {
	case ok && t.Ecosystems[0] == "Red Hat":
		t, note, err := s.redHatTarget(os, t)
		return t, err == nil, note, err
	case ok && t.Ecosystems[0] == "SUSE":
		t, err := s.suseTarget(os, t)
		return t, err == nil, "", err
	}
	return t, ok, "", nil
}

// families are the ecosystems whose packages are keyed by family: which of the
// family's ecosystems apply is decided when matching.
var families = []string{"Red Hat", "SUSE"}

// verdict is one entry's judgement of the installed version.
type verdict struct {
	entry    Entry
	affected bool
	fixed    string
	status   string
}

// judge applies one entry to a version: listed versions, then ECOSYSTEM and SEMVER
// ranges evaluated as the OSV schema says (GIT ranges are left to the versions list).
func judge(e Entry, t Target) (verdict, error) {
	a := e.Affected
	v := verdict{entry: e, status: a.Status, fixed: a.Fixed()}
	if a.Status == "not-affected" {
		return v, nil
	}
	// A module stream's advisories say nothing of another stream's builds, nor of the
	// same name outside modules (nodejs:18 is not judged by nodejs:20's fixes). Red
	// Hat's OSV records do not name the stream: one whose versions are module builds
	// is a module's, of a stream unknown.
	if BaseEcosystem(a.Ecosystem) == "Red Hat" {
		if a.Module != t.Module || (a.Module == "" && moduleBuild(a)) {
			return v, nil
		}
	} else if a.Module != "" && a.Module != t.Module {
		return v, nil
	}
	if (len(a.GOOS) > 0 && t.GOOS != "" && !slices.Contains(a.GOOS, t.GOOS)) || (len(a.GOARCH) > 0 && t.GOARCH != "" && !slices.Contains(a.GOARCH, t.GOARCH)) {
		return v, nil // the vulnerable code is not built for this platform
	}
	if slices.Contains(a.Versions, t.Version) || slices.Contains(a.Versions, strings.TrimPrefix(t.Version, "v")) {
		v.affected = true
	}
	listed := v.affected
	v.fixed = ""
	for _, r := range a.Ranges {
		if r.Type == "GIT" {
			continue
		}
		in, fix, err := inRange(r, t)
		if err != nil {
			return v, err
		}
		if in || (listed && fix != "" && v.fixed == "") {
			v.affected, v.fixed = true, fix
		}
		if in {
			break
		}
	}
	if !v.affected {
		return v, nil
	}
	switch {
	case v.status != "" && v.status != "fixed":
		// the distribution's own word (unfixed, wont-fix…)
	case v.fixed != "" && released(a, v.fixed, t):
		v.status = "fixed"
	case v.fixed != "":
		v.status = "fix-pending"
	default:
		v.status = "unfixed"
	}
	return v, nil
}

// released reports whether a fix is in the release's repositories, when the source
// lists them (Debian's tracker does); otherwise it is taken as released.
func released(a Affected, fixed string, t Target) bool {
	if len(a.Released) == 0 {
		return true
	}
	for _, r := range a.Released {
		if c, err := version.Compare(t.Scheme, r, fixed); err == nil && c >= 0 {
			return true
		}
	}
	return false
}

// inRange evaluates one range: events sorted by version, walked up to the installed
// version; introduced opens, fixed and limit close at their version, last_affected
// closes after it. fixed is the fix that closes the interval the version is in.
func inRange(r Range, t Target) (affected bool, fixed string, err error) {
	type ev struct {
		kind, ver string
	}
	var evs []ev
	for _, e := range r.Events {
		switch {
		case e.Introduced != "":
			evs = append(evs, ev{"introduced", e.Introduced})
		case e.Fixed != "":
			evs = append(evs, ev{"fixed", e.Fixed})
		case e.LastAffected != "":
			evs = append(evs, ev{"last_affected", e.LastAffected})
		case e.Limit != "":
			evs = append(evs, ev{"limit", e.Limit})
		}
	}
	var sortErr error
	cmp := func(a, b string) int {
		if a == "0" && b == "0" {
			return 0
		}
		if a == "0" {
			return -1
		}
		if b == "0" {
			return 1
		}
		c, err := version.Compare(t.Scheme, a, b)
		if err != nil && sortErr == nil {
			sortErr = err
		}
		return c
	}
	kindOrder := map[string]int{"introduced": 0, "last_affected": 1, "fixed": 2, "limit": 3}
	sort.SliceStable(evs, func(i, j int) bool {
		if c := cmp(evs[i].ver, evs[j].ver); c != 0 {
			return c < 0
		}
		return kindOrder[evs[i].kind] < kindOrder[evs[j].kind]
	})
	if sortErr != nil {
		return false, "", sortErr
	}
	for i, e := range evs {
		c := 1
		if e.ver != "0" {
			if c, err = version.Compare(t.Scheme, t.Version, e.ver); err != nil {
				return false, "", err
			}
		}
		stop := false
		switch e.kind {
		case "introduced":
			stop = c < 0
		case "fixed", "limit":
			stop = c < 0
		case "last_affected":
			stop = c <= 0
		}
		if stop {
			if affected {
				fixed = nextFix(evs[i:], func(x ev) (string, string) { return x.kind, x.ver })
			}
			return affected, fixed, nil
		}
		affected = e.kind == "introduced"
	}
	return affected, "", nil
}

// nextFix is the first fixed version among events from the one that stopped the walk.
func nextFix[E any](evs []E, kv func(E) (string, string)) string {
	for _, e := range evs {
		if k, v := kv(e); k == "fixed" {
			return v
		}
		if k, _ := kv(e); k == "introduced" {
			return ""
		}
	}
	return ""
}

// Finding is a vulnerability of one package, merged over every source that knows it.
type Finding struct {
	ID       string
	Aliases  []string
	Fixed    string
	Status   string
	Severity string
	Sources  []string
	Summary  string
	Note     string
	// Ecosystem is where the deciding entry is filed ("Red Hat:rhel_eus:9.4::appstream").
	Ecosystem string
}

// Match finds the advisories that affect a package. Entries naming the same
// vulnerability (by ID or alias) are merged into one finding; for Debian the
// security tracker's verdict wins over other sources, including its "not affected".
// An advisory whose versions cannot be compared with the package's is left out, and
// the error comes back with the findings of the others.
func (s *Store) Match(os facts.OS, p facts.Package, platform string) ([]Finding, error) {
	if s.memo == nil {
		return s.match(os, p, platform)
	}
	// Everything TargetFor and the matching read: images built on one base ask the
	// same question for each of its packages.
	key := strings.Join([]string{os.ID, os.VersionID, os.Codename, strings.Join(os.IDLike, " "), strings.Join(os.ContentSets, " "), strings.Join(os.Products, " "), p.Type, p.Name, p.Version,
		p.SourceName, p.SourceVersion, p.PURL, p.Module, platform}, "\x00")
	if v, ok := s.memo.matches.Load(key); ok {
		m := v.(matchMemo)
		return m.fs, m.err
	}
	fs, err := s.match(os, p, platform)
	s.memo.matches.Store(key, matchMemo{fs, err})
	return fs, err
}

type matchMemo struct {
	fs  []Finding
	err error
}

func (s *Store) match(os facts.OS, p facts.Package, platform string) ([]Finding, error) {
	t, ok, _, err := s.target(os, p)
	if !ok || err != nil {
		return nil, err
	}
	if parts := strings.Split(platform, "/"); len(parts) >= 2 {
		t.GOOS, t.GOARCH = parts[0], parts[1]
	}
	var entries []Entry
	for _, eco := range t.Ecosystems {
		es, err := s.Lookup(eco, t.Name)
		if err != nil {
			return nil, err
		}
		entries = append(entries, es...)
	}
	if len(entries) == 0 {
		return nil, nil
	}
	// Group entries by vulnerability: IDs linked through aliases.
	uf := unionFind{}
	meta := map[string]Record{}
	for _, e := range entries {
		rec, found, err := s.Record(e.ID)
		if err != nil {
			return nil, err
		}
		if found {
			meta[e.ID] = rec
			if rec.Withdrawn != "" {
				continue
			}
		}
		uf.add(e.ID)
		for _, a := range rec.Aliases {
			uf.union(e.ID, a)
		}
	}
	groups := map[string][]verdict{}
	// One advisory whose versions do not compare must not hide the others: it is left
	// out and said.
	var bad []error
	for _, e := range entries {
		if meta[e.ID].Withdrawn != "" {
			continue
		}
		v, err := judge(e, t)
		if err != nil {
			bad = append(bad, fmt.Errorf("%s %s against %s: %w", t.Name, t.Version, e.ID, err))
			continue
		}
		root := uf.find(e.ID)
		groups[root] = append(groups[root], v)
	}
	var out []Finding
	for _, root := range sortedKeys(groups) {
		vs := groups[root]
		// The tracker decides for Debian when it has an entry.
		var tracker []verdict
		for _, v := range vs {
			if v.entry.Source == "debian-tracker" {
				tracker = append(tracker, v)
			}
		}
		if len(tracker) > 0 {
			vs = tracker
		}
		f, ok := merge(vs, uf.members(root), meta, t.Scheme)
		if ok {
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, errors.Join(bad...)
}

// statusRank: the most actionable status wins when sources disagree.
var statusRank = map[string]int{"fixed": 7, "fix-pending": 6, "unfixed": 5, "no-dsa": 4, "fix-deferred": 3, "wont-fix": 2, "end-of-life": 1, "undetermined": 0}

func merge(vs []verdict, ids []string, meta map[string]Record, scheme version.Kind) (Finding, bool) {
	f := Finding{}
	affected := false
	distroSeverity := ""
	for _, v := range vs {
		if !v.affected {
			continue
		}
		affected = true
		if f.Status == "" || statusRank[v.status] > statusRank[f.Status] {
			f.Status = v.status
			f.Ecosystem = v.entry.Affected.Ecosystem
		}
		// Several advisories may fix one vulnerability in steps: all of them are in
		// the highest fixed version.
		if v.fixed != "" {
			if c, err := version.Compare(scheme, v.fixed, f.Fixed); f.Fixed == "" || (err == nil && c > 0) {
				f.Fixed = v.fixed
			}
		}
		if severityRank[v.entry.Affected.Severity] > severityRank[distroSeverity] {
			distroSeverity = v.entry.Affected.Severity
		}
		if v.entry.Affected.Note != "" && f.Note == "" {
			f.Note = v.entry.Affected.Note
		}
		f.Sources = append(f.Sources, v.entry.Source)
	}
	if !affected {
		return f, false
	}
	f.Sources = sortedUnique(f.Sources)
	// The representative ID: a CVE when there is one, else a GHSA, else the first.
	ids = sortedUnique(ids)
	f.ID = ids[0]
	for _, prefix := range []string{"GHSA-", "CVE-"} {
		for _, id := range ids {
			if strings.HasPrefix(id, prefix) {
				f.ID = id
				break
			}
		}
	}
	f.Aliases = without(append([]string{}, ids...), f.ID)
	recSeverity := ""
	for _, id := range ids {
		m := meta[id]
		if f.Summary == "" {
			f.Summary = m.Summary
		}
		if severityRank[m.Severity] > severityRank[recSeverity] {
			recSeverity = m.Severity
		}
	}
	f.Severity = distroSeverity
	if f.Severity == "" {
		f.Severity = recSeverity
	}
	return f, true
}

type unionFind map[string]string

func (u unionFind) add(x string) {
	if _, ok := u[x]; !ok {
		u[x] = x
	}
}

func (u unionFind) find(x string) string {
	u.add(x)
	for u[x] != x {
		u[x] = u[u[x]]
		x = u[x]
	}
	return x
}

func (u unionFind) union(a, b string) {
	ra, rb := u.find(a), u.find(b)
	if ra != rb {
		if ra < rb {
			u[rb] = ra
		} else {
			u[ra] = rb
		}
	}
}

func (u unionFind) members(root string) []string {
	var out []string
	for x := range u {
		if u.find(x) == root {
			out = append(out, x)
		}
	}
	return out
}
