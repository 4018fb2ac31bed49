package sbom

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/inventory/rpmdb"
)

// MaxInput bounds an SBOM read (a large image's is a few megabytes).
const MaxInput = 64 << 20

// maxComponents bounds the packages of one SBOM, nested ones included; maxObjects the
// JSON objects, counted before decoding, so a file of empty objects cannot make the
// decoder build gigabytes of them.
const (
	maxComponents = 500000
	maxObjects    = 4000000
)

// Parsed is what an SBOM says of an image: its operating system and packages, as the
// image collector would have listed them, and what could not be taken.
type Parsed struct {
	Format string // "CycloneDX 1.5", "SPDX-2.3"
	Tool   string // the tool that wrote it, when it says
	// Name and Digest are the image the SBOM describes, when it says.
	Name, Digest string
	OS           facts.OS
	Packages     []facts.Package
	Notes        []string
	// Unread are components that could not be taken as packages (no package URL, one
	// that does not parse): nothing said of Packages covers them.
	Unread []string
}

// Read parses a CycloneDX (1.4–1.7, Syft's default being 1.7) or SPDX (2.2–2.3) JSON document, recognised by its
// content. Packages are taken from their package URLs; one without a PURL, or of a
// type no advisory source covers, is counted in a note.
func Read(data []byte) (*Parsed, error) {
	if len(data) > MaxInput {
		return nil, fmt.Errorf("larger than %d MiB", MaxInput>>20)
	}
	if n := bytes.Count(data, []byte("{")); n > maxObjects {
		return nil, fmt.Errorf("more than %d JSON objects", maxObjects)
	}
	var probe struct {
		BOMFormat   string `json:"bomFormat"`
		SpecVersion string `json:"specVersion"`
		SPDXVersion string `json:"spdxVersion"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("not a JSON SBOM: %v", firstLine(err))
	}
	switch {
	case probe.BOMFormat == "CycloneDX":
		if !slices.Contains([]string{"1.4", "1.5", "1.6", "1.7"}, probe.SpecVersion) {
			return nil, fmt.Errorf("CycloneDX %s: dockaudit reads CycloneDX 1.4 to 1.7", probe.SpecVersion)
		}
		return readCycloneDX(data, probe.SpecVersion)
	case probe.SPDXVersion != "":
		if probe.SPDXVersion != "SPDX-2.2" && probe.SPDXVersion != "SPDX-2.3" {
			return nil, fmt.Errorf("%s: dockaudit reads SPDX 2.2 and 2.3 (JSON)", probe.SPDXVersion)
		}
		return readSPDX(data, probe.SPDXVersion)
	}
	return nil, errors.New("neither CycloneDX (bomFormat) nor SPDX (spdxVersion) JSON")
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

type cdxIn struct {
	Metadata struct {
		Tools     json.RawMessage `json:"tools"`
		Component *cdxInComponent `json:"component"`
	} `json:"metadata"`
	Components []cdxInComponent `json:"components"`
}

type cdxInComponent struct {
	Type       string           `json:"type"`
	Name       string           `json:"name"`
	Version    string           `json:"version"`
	PURL       string           `json:"purl"`
	Properties []cdxProperty    `json:"properties"`
	Components []cdxInComponent `json:"components"`
}

func readCycloneDX(data []byte, spec string) (*Parsed, error) {
	var doc cdxIn
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("CycloneDX: %v", firstLine(err))
	}
	p := &Parsed{Format: "CycloneDX " + spec, Tool: cdxTool(doc.Metadata.Tools)}
	if c := doc.Metadata.Component; c != nil {
		p.Name = c.Name
		if d := prop(c.Properties, "dockaudit:image:digest", "aquasecurity:trivy:RepoDigest", "syft:image:repoDigest"); d != "" {
			p.Digest = d
		}
	}
	var all []cdxInComponent
	var walk func(cs []cdxInComponent) error
	walk = func(cs []cdxInComponent) error {
		for _, c := range cs {
			if len(all) >= maxComponents {
				return fmt.Errorf("more than %d components", maxComponents)
			}
			all = append(all, c)
			if err := walk(c.Components); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(doc.Components); err != nil {
		return nil, err
	}
	if c := doc.Metadata.Component; c != nil {
		if err := walk(c.Components); err != nil { // some tools nest the image's packages there
			return nil, err
		}
	}
	var pkgs []pkgIn
	for _, c := range all {
		if c.Type == "operating-system" {
			p.OS = osOf(c.Name, c.Version)
			continue
		}
		pkgs = append(pkgs, pkgIn{name: c.Name, purl: c.PURL,
			srcName:    prop(c.Properties, "dockaudit:package:source-name", "aquasecurity:trivy:SrcName", "syft:metadata:source"),
			srcVersion: trivySrcVersion(c.Properties, prop(c.Properties, "dockaudit:package:source-version", "syft:metadata:sourceVersion"))})
	}
	p.take(pkgs)
	return p, nil
}

// cdxTool names the tool of a CycloneDX 1.4 (a list) or 1.5+ (components) metadata.
func cdxTool(raw json.RawMessage) string {
	var list []struct{ Vendor, Name, Version string }
	if json.Unmarshal(raw, &list) == nil && len(list) > 0 {
		return strings.TrimSpace(list[0].Name + " " + list[0].Version)
	}
	var obj struct {
		Components []struct{ Name, Version string } `json:"components"`
	}
	if json.Unmarshal(raw, &obj) == nil && len(obj.Components) > 0 {
		return strings.TrimSpace(obj.Components[0].Name + " " + obj.Components[0].Version)
	}
	return ""
}

func prop(ps []cdxProperty, names ...string) string {
	for _, n := range names {
		for _, p := range ps {
			if p.Name == n {
				return p.Value
			}
		}
	}
	return ""
}

// trivySrcVersion is Trivy's source version (SrcEpoch:SrcVersion-SrcRelease), else v.
func trivySrcVersion(ps []cdxProperty, v string) string {
	sv := prop(ps, "aquasecurity:trivy:SrcVersion")
	if sv == "" {
		return v
	}
	if r := prop(ps, "aquasecurity:trivy:SrcRelease"); r != "" {
		sv += "-" + r
	}
	if e := prop(ps, "aquasecurity:trivy:SrcEpoch"); e != "" && e != "0" {
		sv = e + ":" + sv
	}
	return sv
}

type spdxIn struct {
	CreationInfo struct {
		Creators []string `json:"creators"`
	} `json:"creationInfo"`
	Name     string `json:"name"`
	Packages []struct {
		Name                  string `json:"name"`
		VersionInfo           string `json:"versionInfo"`
		PrimaryPackagePurpose string `json:"primaryPackagePurpose"`
		SourceInfo            string `json:"sourceInfo"`
		ExternalRefs          []struct {
			ReferenceCategory string `json:"referenceCategory"`
			ReferenceType     string `json:"referenceType"`
			ReferenceLocator  string `json:"referenceLocator"`
		} `json:"externalRefs"`
	} `json:"packages"`
}

func readSPDX(data []byte, spec string) (*Parsed, error) {
	var doc spdxIn
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("SPDX: %v", firstLine(err))
	}
	if len(doc.Packages) > maxComponents {
		return nil, fmt.Errorf("more than %d packages", maxComponents)
	}
	p := &Parsed{Format: spec, Name: doc.Name}
	for _, c := range doc.CreationInfo.Creators {
		if t, ok := strings.CutPrefix(c, "Tool: "); ok {
			p.Tool = t
			break
		}
	}
	var pkgs []pkgIn
	for _, sp := range doc.Packages {
		// The JSON schema spells it OPERATING_SYSTEM, tag-value OPERATING-SYSTEM.
		if strings.ReplaceAll(sp.PrimaryPackagePurpose, "-", "_") == "OPERATING_SYSTEM" {
			p.OS = osOf(sp.Name, sp.VersionInfo)
			continue
		}
		in := pkgIn{name: sp.Name}
		for _, r := range sp.ExternalRefs {
			if r.ReferenceType == "purl" {
				in.purl = r.ReferenceLocator
			}
		}
		if sp.PrimaryPackagePurpose == "CONTAINER" {
			continue // the image itself (Syft gives it a pkg:oci URL)
		}
		// Trivy: "built package from: openssl 3.0.11-1~deb12u2".
		if src, ok := strings.CutPrefix(sp.SourceInfo, "built package from: "); ok {
			in.srcName, in.srcVersion, _ = strings.Cut(src, " ")
		}
		pkgs = append(pkgs, in)
	}
	p.take(pkgs)
	return p, nil
}

// osOf is the OS an SBOM names: ID and version ("debian", "12.5"), with the names
// Trivy gives some distributions made the os-release IDs they stand for.
func osOf(name, version string) facts.OS {
	id := strings.ToLower(name)
	if os, ok := trivyOS[id]; ok {
		id = os
	}
	return facts.OS{ID: id, VersionID: version}
}

var trivyOS = map[string]string{"redhat": "rhel", "alma": "almalinux", "amazon": "amzn", "oracle": "ol", "suse linux enterprise server": "sles", "opensuse.leap": "opensuse-leap", "opensuse.tumbleweed": "opensuse-tumbleweed", "cbl-mariner": "mariner"}

type pkgIn struct {
	name, purl          string
	srcName, srcVersion string
}

// take turns the SBOM's packages into the inventory's, and the OS from their distro
// qualifier when the SBOM names none.
func (p *Parsed) take(in []pkgIn) {
	noPURL, bad := 0, 0
	noSource := 0
	seen := map[string]bool{}
	for _, i := range in {
		if i.purl == "" {
			noPURL++
			continue
		}
		pk, distro, err := fromPURL(i.purl)
		if err != nil {
			bad++
			continue
		}
		switch {
		case i.srcName != "" && pk.SourceName == "":
			pk.SourceName, pk.SourceVersion = i.srcName, i.srcVersion
		case pk.SourceName != "" && pk.SourceVersion == "":
			// upstream=NAME without @VERSION: the source's version is the binary's
			// (how dpkg and the writers put it), unless the tool said otherwise.
			pk.SourceVersion = pk.Version
			if i.srcName == pk.SourceName && i.srcVersion != "" {
				pk.SourceVersion = i.srcVersion
			}
		}
		if pk.Type == "deb" && pk.SourceName == "" {
			noSource++
		}
		if p.OS.ID == "" && distro != "" {
			if i := strings.LastIndexByte(distro, '-'); i > 0 {
				p.OS = facts.OS{ID: distro[:i], VersionID: distro[i+1:]}
			}
		}
		if key := pk.PURL; !seen[key] {
			seen[key] = true
			p.Packages = append(p.Packages, pk)
		}
	}
	// What is not taken is unread, never fewer packages to pass: a package of a type
	// no advisory source covers is kept, and matching counts it as not covered.
	if noPURL > 0 {
		p.Unread = append(p.Unread, fmt.Sprintf("%d components of the SBOM have no package URL, so they are not matched", noPURL))
	}
	if bad > 0 {
		p.Unread = append(p.Unread, fmt.Sprintf("%d components of the SBOM have a package URL that does not parse, so they are not matched", bad))
	}
	if noSource > 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("%d deb packages name no source package: each is taken as its own source (as dpkg does when they share a name)", noSource))
	}
}

// purlTypes are the package types the advisory sources cover.
var purlTypes = []string{"deb", "rpm", "apk", "golang", "npm", "pypi", "maven", "cargo", "gem", "nuget", "composer"}

// fromPURL is the inventory's package for a package URL, as the image collector
// writes it (name forms per ecosystem, source packages from upstream=), and the
// distro qualifier. A type no advisory covers gives a package with no Type.
func fromPURL(s string) (facts.Package, string, error) {
	rest, ok := strings.CutPrefix(s, "pkg:")
	if !ok {
		return facts.Package{}, "", errors.New("not a package URL")
	}
	rest, _, _ = strings.Cut(rest, "#")
	rest, query, _ := strings.Cut(rest, "?")
	// The version follows the last @: a namespace may hold one (%40 or not).
	path, ver := rest, ""
	if i := strings.LastIndexByte(rest, '@'); i > strings.IndexByte(rest, '/') {
		path, ver = rest[:i], rest[i+1:]
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) < 2 || segs[len(segs)-1] == "" {
		return facts.Package{}, "", errors.New("no name")
	}
	typ := strings.ToLower(segs[0])
	for i, seg := range segs {
		u, err := url.PathUnescape(seg)
		if err != nil {
			return facts.Package{}, "", err
		}
		segs[i] = u
	}
	version, err := url.PathUnescape(ver)
	if err != nil {
		return facts.Package{}, "", err
	}
	// Qualifier values are percent-decoded, a literal + kept (as the PURL spec and
	// packageurl-go read them; url.ParseQuery would make it a space).
	q := map[string]string{}
	for _, kv := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if k == "" {
			continue
		}
		if q[strings.ToLower(k)], err = url.PathUnescape(v); err != nil {
			return facts.Package{}, "", err
		}
	}
	ns, name := strings.Join(segs[1:len(segs)-1], "/"), segs[len(segs)-1]
	pk := facts.Package{Name: name, Version: version, Arch: q["arch"], PURL: s, Path: "sbom", Type: typ}
	if !slices.Contains(purlTypes, typ) {
		if ns != "" {
			pk.Name = ns + "/" + name
		}
		return pk, q["distro"], nil // kept: matching says no source covers it
	}
	up := q["upstream"]
	switch typ {
	case "deb":
		if up != "" {
			pk.SourceName, pk.SourceVersion, _ = strings.Cut(up, "@")
		}
		if e := q["epoch"]; e != "" && e != "0" && !strings.Contains(version, ":") {
			pk.Version = e + ":" + version // Trivy writes the epoch as a qualifier
		}
	case "apk":
		pk.SourceName = up
	case "rpm":
		rp := rpmdb.Package{Name: name, SourceRPM: up}
		rp.Version, rp.Release, _ = strings.Cut(version, "-")
		if e := q["epoch"]; e != "" {
			if n, err := strconv.Atoi(e); err == nil {
				rp.Epoch, rp.HasEpoch = n, true
				pk.Version = e + ":" + version
			}
		}
		if up != "" {
			pk.SourceName, pk.SourceVersion = rp.SourceName()
		}
	case "golang":
		if ns != "" {
			pk.Name = ns + "/" + name
		}
		// Syft writes the standard library's version without the v modules have.
		if version != "" && version[0] >= '0' && version[0] <= '9' {
			pk.Version = "v" + version
		}
	case "composer", "npm":
		if ns != "" {
			pk.Name = ns + "/" + name // vendor/name, @scope/name
		}
	case "maven":
		if ns != "" {
			pk.Name = ns + ":" + name
		}
	case "pypi":
		pk.Name = strings.ToLower(strings.NewReplacer("_", "-", ".", "-").Replace(name))
	}
	return pk, q["distro"], nil
}
