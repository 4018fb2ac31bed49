package advisory

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dockaudit/dockaudit/internal/facts"
)

// Red Hat files its advisories per product stream, named by CPE: the RHSA fixing
// python3.9 for RHEL 9 lists it under "cpe:/a:redhat:enterprise_linux:9::appstream",
// the EUS stream of 9.4 under "cpe:/a:redhat:rhel_eus:9.4::appstream". An image says
// which repositories its packages came from in /root/buildinfo/content_manifests, and
// Red Hat's repository-to-CPE map turns those into the streams whose advisories apply;
// matching anything else gives false positives (an EUS image judged by the mainline's
// later fixes) or misses. Ecosystems follow OSV: "Red Hat:" and the CPE without
// "cpe:/a:redhat:", so Red Hat's OSV records and its CSAF files file alike.

const (
	// RedHatRepoEcosystem holds the repository-to-CPE map: one entry per repository
	// (content set), its CPEs in Versions.
	RedHatRepoEcosystem = "Red Hat repository"
	redHatRepoSource    = "redhat-repository-to-cpe"
	redHatCSAFSource    = "redhat-csaf"
	// RedHatRepoMapURL is where Red Hat publishes the map.
	RedHatRepoMapURL = "https://security.access.redhat.com/data/metrics/repository-to-cpe.json"
)

// redHatEcosystem turns a Red Hat CPE into the ecosystem its advisories are filed
// under; ok is false for CPEs of other vendors or another form.
func redHatEcosystem(cpe string) (string, bool) {
	rest, ok := strings.CutPrefix(cpe, "cpe:/")
	if !ok || len(rest) < 2 || rest[1] != ':' {
		return "", false
	}
	rest, ok = strings.CutPrefix(rest[2:], "redhat:")
	if !ok || rest == "" {
		return "", false
	}
	return "Red Hat:" + strings.TrimRight(rest, ":"), true
}

// redHatLookups are the ecosystems whose advisories apply to a repository with the
// given CPE: its own and each shorter form (a record filed under
// "enterprise_linux:9" applies to every RHEL 9 repository).
func redHatLookups(cpe string) []string {
	eco, ok := redHatEcosystem(cpe)
	if !ok {
		return nil
	}
	parts := strings.Split(strings.TrimPrefix(eco, "Red Hat:"), ":")
	var out []string
	for k := len(parts); k >= 2; k-- {
		if parts[k-1] == "" {
			continue
		}
		out = append(out, "Red Hat:"+strings.Join(parts[:k], ":"))
	}
	return out
}

// redHatFallbackCPEs are the repositories a RHEL image without usable content
// manifests is assumed to use: the release's BaseOS and AppStream (Server before 8).
func redHatFallbackCPEs(versionID string) ([]string, string) {
	major, _, _ := strings.Cut(versionID, ".")
	n, err := strconv.Atoi(major)
	switch {
	case err != nil || n < 5:
		return nil, ""
	case n < 8:
		return []string{"cpe:/o:redhat:enterprise_linux:" + major + "::server"}, "RHEL " + major + " Server"
	case n < 10:
		return []string{"cpe:/o:redhat:enterprise_linux:" + major + "::baseos", "cpe:/a:redhat:enterprise_linux:" + major + "::appstream"}, "RHEL " + major + " BaseOS and AppStream"
	}
	// From RHEL 10 the CPE names the minor release.
	return []string{"cpe:/o:redhat:enterprise_linux:" + versionID + "::baseos", "cpe:/a:redhat:enterprise_linux:" + versionID + "::appstream"}, "RHEL " + versionID + " BaseOS and AppStream"
}

// redHatTarget resolves a RHEL package's family target ("Red Hat") into the
// ecosystems of the image's repositories, and says how when it had to assume them.
func (s *Store) redHatTarget(os facts.OS, t Target) (Target, string, error) {
	var cpes, unmapped []string
	for _, cs := range os.ContentSets {
		es, err := s.Lookup(RedHatRepoEcosystem, cs)
		if err != nil {
			return t, "", err
		}
		if len(es) == 0 {
			unmapped = append(unmapped, cs)
		}
		for _, e := range es {
			cpes = append(cpes, e.Affected.Versions...)
		}
	}
	note := ""
	if len(cpes) > 0 && len(unmapped) > 0 {
		// Never silently: packages from those repositories are judged by the others'.
		note = fmt.Sprintf("%d of the image's content sets are not in Red Hat's repository-to-CPE map (%s): their packages are matched against the other repositories' streams", len(unmapped), strings.Join(unmapped, ", "))
	}
	if len(cpes) == 0 {
		fb, what := redHatFallbackCPEs(os.VersionID)
		if fb == nil {
			return t, "", fmt.Errorf("rhel %q: no release to match against", os.VersionID)
		}
		cpes = fb
		if len(os.ContentSets) == 0 {
			note = "the image has no content manifest (/root/buildinfo/content_manifests): matched against " + what
		} else {
			note = fmt.Sprintf("none of the image's %d content sets is in Red Hat's repository-to-CPE map (dockaudit db update, or db import repository-to-cpe.json): matched against %s", len(os.ContentSets), what)
		}
	}
	var ecos []string
	add := func(e string) {
		if !slices.Contains(ecos, e) {
			ecos = append(ecos, e)
		}
	}
	for _, c := range sortedUnique(cpes) {
		for _, e := range redHatLookups(c) {
			add(e)
			// From RHEL 10 the streams name the minor release: a fix filed under a
			// later minor of the same channel is one this image lacks.
			for _, later := range s.laterMinors(e) {
				add(later)
			}
		}
	}
	// Red Hat files what is still unfixed (affected, will not fix, under
	// investigation) under the major release alone, for every stream of it.
	major, _, _ := strings.Cut(os.VersionID, ".")
	add("Red Hat:enterprise_linux:" + major)
	t.Ecosystems = ecos
	return t, note, nil
}

// laterMinors are the database's ecosystems for the same channel of a later minor
// release than eco's, when eco names one of RHEL 10 or later
// ("Red Hat:enterprise_linux:10.0::appstream" → "…:10.1::appstream", …).
func (s *Store) laterMinors(eco string) []string {
	rest, ok := strings.CutPrefix(eco, "Red Hat:enterprise_linux:")
	if !ok {
		return nil
	}
	rel, channel, _ := strings.Cut(rest, ":")
	majorS, minorS, ok := strings.Cut(rel, ".")
	major, err1 := strconv.Atoi(majorS)
	minor, err2 := strconv.Atoi(minorS)
	if !ok || err1 != nil || err2 != nil || major < 10 {
		return nil
	}
	var out []string
	for _, e := range s.Meta.Ecosystems {
		r, ok := strings.CutPrefix(e.Name, "Red Hat:enterprise_linux:"+majorS+".")
		if !ok {
			continue
		}
		m, ch, _ := strings.Cut(r, ":")
		if n, err := strconv.Atoi(m); err == nil && n > minor && ch == channel {
			out = append(out, e.Name)
		}
	}
	return out
}

// ParseRepositoryToCPE reads Red Hat's repository-to-CPE map
// ({"data": {"rhel-9-for-x86_64-baseos-rpms": {"cpes": [...]}, ...}}) as one record.
func ParseRepositoryToCPE(data []byte, add func(Record) error) error {
	var doc struct {
		Data map[string]struct {
			CPEs []string `json:"cpes"`
		} `json:"data"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("repository-to-cpe: %w", err)
	}
	r := Record{ID: "redhat-repository-to-cpe", Summary: "Red Hat's map of repositories to product CPEs", Source: redHatRepoSource}
	for _, repo := range sortedKeys(doc.Data) {
		var cpes []string
		for _, c := range doc.Data[repo].CPEs {
			if _, ok := redHatEcosystem(c); ok {
				cpes = append(cpes, c)
			}
		}
		if repo != "" && len(cpes) > 0 {
			r.Affected = append(r.Affected, Affected{Ecosystem: RedHatRepoEcosystem, Package: repo, Versions: sortedUnique(cpes)})
		}
	}
	if len(r.Affected) == 0 {
		return errors.New("repository-to-cpe: no repository with a Red Hat CPE")
	}
	return add(r)
}

// isRepositoryToCPE recognises the map by its first bytes.
func isRepositoryToCPE(head []byte) bool {
	h := string(head)
	return strings.Contains(h, `"data"`) && strings.Contains(h, `"cpes"`) && !strings.Contains(h, `"csaf_version"`)
}

// CSAF 2.0 as Red Hat writes it: security advisories (RHSA, one per erratum) and VEX
// files (one per CVE, with the streams still affected and why).
type csafDoc struct {
	Document struct {
		Category          string `json:"category"`
		CSAFVersion       string `json:"csaf_version"`
		Title             string `json:"title"`
		AggregateSeverity struct {
			Text string `json:"text"`
		} `json:"aggregate_severity"`
		Tracking struct {
			ID      string `json:"id"`
			Initial string `json:"initial_release_date"`
			Current string `json:"current_release_date"`
		} `json:"tracking"`
	} `json:"document"`
	ProductTree struct {
		Branches      []csafBranch `json:"branches"`
		Relationships []struct {
			FullProductName struct {
				ProductID string `json:"product_id"`
			} `json:"full_product_name"`
			ProductReference string `json:"product_reference"`
			RelatesTo        string `json:"relates_to_product_reference"`
		} `json:"relationships"`
	} `json:"product_tree"`
	Vulnerabilities []struct {
		CVE           string              `json:"cve"`
		Title         string              `json:"title"`
		ProductStatus map[string][]string `json:"product_status"`
		Remediations  []struct {
			Category   string   `json:"category"`
			Details    string   `json:"details"`
			URL        string   `json:"url"`
			ProductIDs []string `json:"product_ids"`
		} `json:"remediations"`
		Threats []struct {
			Category   string   `json:"category"`
			Details    string   `json:"details"`
			ProductIDs []string `json:"product_ids"`
		} `json:"threats"`
		Scores []struct {
			CVSSv3 struct {
				Vector string `json:"vectorString"`
			} `json:"cvss_v3"`
		} `json:"scores"`
	} `json:"vulnerabilities"`
}

type csafBranch struct {
	Category string `json:"category"`
	Product  *struct {
		ProductID string `json:"product_id"`
		Helper    struct {
			CPE  string `json:"cpe"`
			PURL string `json:"purl"`
		} `json:"product_identification_helper"`
	} `json:"product"`
	Branches []csafBranch `json:"branches"`
}

// isCSAF recognises a CSAF document by its first bytes.
func isCSAF(head []byte) bool { return strings.Contains(string(head), `"csaf_version"`) }

// rpmComponent is one rpm named by a CSAF product: a PURL
// pkg:rpm/redhat/NAME@VERSION-RELEASE?arch=…&epoch=…&rpmmod=….
type rpmComponent struct {
	name, evr, arch, module string
}

func parseRPMPURL(p string) (rpmComponent, bool) {
	var c rpmComponent
	var err error
	rest, ok := strings.CutPrefix(p, "pkg:rpm/")
	if !ok {
		// Older VEX files name an rpm of a module stream with the stream in the
		// namespace: pkg:rpmmod/redhat/nodejs:18/nodejs.
		if rest, ok = strings.CutPrefix(p, "pkg:rpmmod/"); !ok || strings.Count(strings.SplitN(rest, "?", 2)[0], "/") != 2 {
			return rpmComponent{}, false
		}
		_, modName, _ := strings.Cut(rest, "/")
		mod, _, _ := strings.Cut(modName, "/")
		if mod, err = url.PathUnescape(mod); err != nil || moduleStream(mod) == "" {
			return rpmComponent{}, false
		}
		c.module = moduleStream(mod)
		c.arch = "src"
		rest = "redhat/" + rest[strings.LastIndexByte(strings.SplitN(rest, "?", 2)[0], '/')+1:]
	}
	rest, query, _ := strings.Cut(rest, "?")
	_, nameVer, ok := strings.Cut(rest, "/")
	if !ok {
		return rpmComponent{}, false
	}
	name, ver, _ := strings.Cut(nameVer, "@")
	if c.name, err = url.PathUnescape(name); err != nil || c.name == "" {
		return rpmComponent{}, false
	}
	if c.evr, err = url.PathUnescape(ver); err != nil {
		return rpmComponent{}, false
	}
	epoch := ""
	for _, kv := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		v, err := url.PathUnescape(v)
		if err != nil {
			return rpmComponent{}, false
		}
		switch k {
		case "arch":
			c.arch = v
		case "epoch":
			epoch = v
		case "rpmmod":
			c.module = moduleStream(v)
		}
	}
	if c.evr != "" && epoch != "" && epoch != "0" {
		c.evr = epoch + ":" + c.evr
	}
	return c, true
}

// moduleStream is a modularity label's name:stream ("nodejs:18:8090020240101:a75119d5"
// → "nodejs:18"); "" when it has no stream.
func moduleStream(label string) string {
	parts := strings.SplitN(label, ":", 3)
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return ""
	}
	return parts[0] + ":" + parts[1]
}

// rhsaURL takes the advisory ID from an errata URL.
func rhsaURL(u string) string {
	i := strings.LastIndex(u, "/")
	id := u[i+1:]
	if strings.HasPrefix(id, "RHSA-") || strings.HasPrefix(id, "RHBA-") || strings.HasPrefix(id, "RHEA-") {
		return id
	}
	return ""
}

// ParseCSAF reads one Red Hat CSAF document. A security advisory becomes one record
// (the RHSA, its CVEs as aliases) with one fixed entry per stream and source RPM; a
// VEX file becomes one record (the CVE) with the streams fixed, affected (with Red
// Hat's reason: will not fix, out of support scope, deferred) and under
// investigation. Entries are by source RPM, as Red Hat files them, and carry the
// module stream for packages built in one. skipped counts products no rpm could be
// taken from (containers, binary-only listings).
func ParseCSAF(data []byte, add func(Record) error) (skipped int, err error) {
	var doc csafDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return 0, fmt.Errorf("csaf: %w", err)
	}
	d := doc.Document
	if d.CSAFVersion == "" || d.Tracking.ID == "" {
		return 0, errors.New("csaf: no csaf_version or tracking id")
	}
	vex := d.Category == "csaf_vex"
	if !vex && d.Category != "csaf_security_advisory" {
		return 0, fmt.Errorf("csaf %s: category %q is neither a security advisory nor VEX", d.Tracking.ID, d.Category)
	}
	cpes := map[string]string{}
	comps := map[string]string{}
	var walk func(bs []csafBranch)
	walk = func(bs []csafBranch) {
		for _, b := range bs {
			if b.Product != nil && b.Product.ProductID != "" {
				if b.Product.Helper.CPE != "" {
					cpes[b.Product.ProductID] = b.Product.Helper.CPE
				}
				if b.Product.Helper.PURL != "" {
					comps[b.Product.ProductID] = b.Product.Helper.PURL
				}
			}
			walk(b.Branches)
		}
	}
	walk(doc.ProductTree.Branches)
	type rel struct{ comp, product string }
	rels := map[string]rel{}
	for _, r := range doc.ProductTree.Relationships {
		rels[r.FullProductName.ProductID] = rel{r.ProductReference, r.RelatesTo}
	}
	// resolve gives a product status ID's stream and rpm. Older documents nest an rpm
	// in a module (pkg:rpmmod/redhat/NAME@STREAM:…) that is in turn a component of
	// the stream.
	streamOf := map[string]string{} // product status ID → its stream's product ID
	resolve := func(id string) (eco string, c rpmComponent, ok bool) {
		r, found := rels[id]
		if !found {
			return "", c, false
		}
		c, ok = parseRPMPURL(comps[r.comp])
		if !ok {
			return "", c, false
		}
		product := r.product
		cpe := cpes[product]
		if outer, nested := rels[r.product]; cpe == "" && nested {
			product = outer.product
			cpe = cpes[product]
			if m, isMod := strings.CutPrefix(comps[outer.comp], "pkg:rpmmod/"); isMod && c.module == "" {
				if _, nv, ok := strings.Cut(m, "/"); ok {
					n, v, _ := strings.Cut(strings.SplitN(nv, "?", 2)[0], "@")
					if v, err := url.PathUnescape(v); err == nil {
						c.module = moduleStream(n + ":" + v)
					}
				}
			}
		}
		eco, ok = redHatEcosystem(cpe)
		streamOf[id] = product
		return eco, c, ok
	}
	// The source RPM of each build (stream, epoch:version-release, module), when one
	// build has one.
	srcOf := map[string]string{}
	for id, r := range rels {
		if c, ok := parseRPMPURL(comps[r.comp]); ok && c.arch == "src" && c.evr != "" {
			if eco, _, ok := resolve(id); ok {
				k := eco + "\x00" + c.evr + "\x00" + c.module
				if prev, dup := srcOf[k]; dup && prev != c.name {
					srcOf[k] = "" // two sources built at one version: not told apart
				} else {
					srcOf[k] = c.name
				}
			}
		}
	}
	rec := Record{ID: d.Tracking.ID, Summary: strings.TrimPrefix(d.Title, "Red Hat Security Advisory: "), Severity: NormalizeSeverity(d.AggregateSeverity.Text),
		Published: d.Tracking.Initial, Modified: d.Tracking.Current, Source: redHatCSAFSource}
	seen := map[string]bool{}
	addEntry := func(a Affected) {
		b, _ := json.Marshal(a)
		if !seen[string(b)] {
			seen[string(b)] = true
			rec.Affected = append(rec.Affected, a)
		}
	}
	for _, v := range doc.Vulnerabilities {
		if v.CVE != "" && v.CVE != rec.ID && !slices.Contains(rec.Aliases, v.CVE) {
			rec.Aliases = append(rec.Aliases, v.CVE)
		}
		for _, s := range v.Scores {
			if s.CVSSv3.Vector != "" && !slices.Contains(rec.CVSS, s.CVSSv3.Vector) {
				rec.CVSS = append(rec.CVSS, s.CVSSv3.Vector)
			}
		}
		if vex {
			if v.Title != "" && rec.Summary == "" {
				rec.Summary = v.Title
			}
			for _, th := range v.Threats {
				if sev := NormalizeSeverity(th.Details); th.Category == "impact" && severityRank[sev] > severityRank[rec.Severity] {
					rec.Severity = sev
				}
			}
		}
		// What Red Hat says it will do for each product still affected, and which
		// erratum fixed each fixed one.
		why := map[string]string{}
		fixedBy := map[string]string{}
		for _, rm := range v.Remediations {
			for _, id := range rm.ProductIDs {
				switch rm.Category {
				case "vendor_fix":
					if e := rhsaURL(rm.URL); e != "" {
						fixedBy[id] = e
					}
				case "no_fix_planned":
					why[id] = "wont-fix"
					if strings.Contains(strings.ToLower(rm.Details), "out of support") {
						why[id] = "end-of-life"
					}
				case "none_available":
					if _, ok := why[id]; !ok {
						why[id] = "unfixed"
						if strings.Contains(strings.ToLower(rm.Details), "deferred") {
							why[id] = "fix-deferred"
						}
					}
				}
			}
		}
		for _, id := range v.ProductStatus["fixed"] {
			eco, c, ok := resolve(id)
			if ok && c.arch != "src" && c.evr != "" {
				// Advisories may list only the binary rpms as fixed: their source RPM
				// is the one of the same build in the product tree.
				c.name, ok = srcOf[eco+"\x00"+c.evr+"\x00"+c.module]
			}
			if !ok || c.evr == "" || c.name == "" {
				skipped++
				continue
			}
			a := Affected{Ecosystem: eco, Package: c.name, Module: c.module, Status: "fixed",
				Ranges: []Range{{Type: "ECOSYSTEM", Events: []Event{{Introduced: "0"}, {Fixed: c.evr}}}}}
			if vex && fixedBy[id] != "" {
				a.Note = "fixed by " + fixedBy[id]
			}
			addEntry(a)
			// A fix shipped in the main stream while a minor release was current
			// ("AppStream-9.4.0.Z.MAIN.EUS") is in that minor's extended streams too.
			for _, x := range extendedStreams(streamOf[id], eco) {
				a.Ecosystem = x
				addEntry(a)
			}
		}
		if !vex {
			continue // an advisory lists what it fixes
		}
		for _, st := range []string{"known_affected", "under_investigation"} {
			for _, id := range v.ProductStatus[st] {
				eco, c, ok := resolve(id)
				if !ok || c.arch != "src" {
					skipped++ // a binary rpm (entries are by source), a container image
					continue
				}
				status := "undetermined"
				if st == "known_affected" {
					status = why[id]
					if status == "" {
						status = "unfixed"
					}
				}
				addEntry(Affected{Ecosystem: eco, Package: c.name, Module: c.module, Status: status,
					Ranges: []Range{{Type: "ECOSYSTEM", Events: []Event{{Introduced: "0"}}}}})
			}
		}
	}
	slices.Sort(rec.Aliases)
	if len(rec.Affected) == 0 {
		return skipped, nil // nothing for an rpm stream (a container image, a middleware product)
	}
	return skipped, add(rec)
}

// moduleBuild reports an entry whose versions are module builds (a release with
// "module+el" or "module_el"), which an entry without a stream says nothing else of.
func moduleBuild(a Affected) bool {
	is := func(v string) bool { return strings.Contains(v, "module+el") || strings.Contains(v, "module_el") }
	for _, r := range a.Ranges {
		for _, e := range r.Events {
			if is(e.Introduced) || is(e.Fixed) || is(e.LastAffected) {
				return true
			}
		}
	}
	return slices.ContainsFunc(a.Versions, is)
}

// mainEUS is a main-stream product ID of a minor release with extended support.
var mainEUS = regexp.MustCompile(`^[A-Za-z0-9_]+-([0-9]+)\.([0-9]+)\.[0-9]+\.Z\.MAIN\.EUS$`)

// extendedStreams are the extended-support streams (EUS, AUS, E4S, TUS) of the minor
// release a main-stream product ID names, in eco's channel ("Red Hat:rhel_eus:9.4::appstream"
// for "AppStream-9.4.0.Z.MAIN.EUS" under "Red Hat:enterprise_linux:9::appstream").
func extendedStreams(productID, eco string) []string {
	m := mainEUS.FindStringSubmatch(productID)
	if m == nil {
		return nil
	}
	rest, ok := strings.CutPrefix(eco, "Red Hat:enterprise_linux:"+m[1])
	if !ok || (rest != "" && !strings.HasPrefix(rest, ":")) {
		return nil
	}
	var out []string
	for _, x := range []string{"rhel_eus", "rhel_aus", "rhel_e4s", "rhel_tus"} {
		out = append(out, "Red Hat:"+x+":"+m[1]+"."+m[2]+rest)
	}
	return out
}
