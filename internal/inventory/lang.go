package inventory

import (
	"errors"
	"github.com/dockaudit/dockaudit/internal/facts"

	"archive/zip"
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"path"
	"regexp"
	"sort"
	"strings"
)

// ParsePythonMetadata reads a dist-info METADATA or egg-info PKG-INFO file (RFC 822
// headers up to the first blank line) and returns name and version.
func ParsePythonMetadata(b []byte) (name, version, license string) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			break // the body (long description) follows
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.ToLower(k) {
		case "name":
			name = v
		case "version":
			version = v
		case "license":
			if license == "" && len(v) < 100 {
				license = v
			}
		}
	}
	return name, version, license
}

var pypiNormal = regexp.MustCompile(`[-_.]+`)

// PythonPackage makes a package from METADATA; the PURL name is the normalised name.
func PythonPackage(b []byte, p string, layer int) (facts.Package, bool) {
	name, version, license := ParsePythonMetadata(b)
	if name == "" || version == "" {
		return facts.Package{}, false
	}
	if name == "Python" && strings.Contains(p, "/lib-dynload/") {
		// The interpreter describes itself there (Python-2.7.egg-info): it is the
		// OS package's, not a PyPI package.
		return facts.Package{}, false
	}
	pk := facts.Package{Name: name, Version: version, Type: "pypi", Path: p, Layer: layer,
		PURL: PURL("pypi", "", strings.ToLower(pypiNormal.ReplaceAllString(name, "-")), version, nil)}
	if license != "" && license != "UNKNOWN" {
		pk.Licenses = []string{license}
	}
	return pk, true
}

// NpmPackage reads a node_modules/<name>/package.json.
func NpmPackage(b []byte, p string, layer int) (facts.Package, bool) {
	var pj struct {
		Name    string          `json:"name"`
		Version string          `json:"version"`
		License json.RawMessage `json:"license"`
	}
	if json.Unmarshal(b, &pj) != nil || pj.Name == "" || pj.Version == "" || len(pj.Name) > 214 {
		return facts.Package{}, false
	}
	ns, name := "", pj.Name
	if strings.HasPrefix(name, "@") {
		ns, name, _ = strings.Cut(name, "/")
	}
	pk := facts.Package{Name: pj.Name, Version: pj.Version, Type: "npm", Path: p, Layer: layer, PURL: PURL("npm", ns, name, pj.Version, nil)}
	var lic string
	if json.Unmarshal(pj.License, &lic) == nil && lic != "" {
		pk.Licenses = []string{lic}
	}
	return pk, true
}

// IsNpmManifest reports a package.json that describes an installed module: directly
// in node_modules/<name>/ or node_modules/@scope/<name>/.
func IsNpmManifest(p string) bool {
	if path.Base(p) != "package.json" {
		return false
	}
	dir := path.Dir(p)
	parent := path.Dir(dir)
	if path.Base(parent) == "node_modules" {
		return true
	}
	return strings.HasPrefix(path.Base(parent), "@") && path.Base(path.Dir(parent)) == "node_modules"
}

// PythonEgg reads a zipped egg (setuptools' .egg file) from memory: its
// EGG-INFO/PKG-INFO names the distribution. Nothing else in it is read.
func PythonEgg(b []byte, p string, layer int) []facts.Package {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil || len(zr.File) > maxJarEntries {
		return nil
	}
	for _, f := range zr.File {
		if f.Name == "EGG-INFO/PKG-INFO" {
			if pk, ok := PythonPackage([]byte(readZipText(f)), p, layer); ok {
				return []facts.Package{pk}
			}
			return nil
		}
	}
	return nil
}

// maxJarEntries bounds the zip entries looked at in one archive.
const maxJarEntries = 100000

// maxNestedJar bounds one nested archive read into memory, and maxNestedTotal all of
// them in one outer archive: a JAR is a zip, and zips can be bombs.
const (
	maxNestedJar   = 64 << 20
	maxNestedTotal = 512 << 20
)

// JavaPackages reads a Java archive (JAR, WAR, EAR, or a Jenkins plugin's HPI/JPI)
// from memory and names what it holds, the way Maven names it (group:artifact):
//   - every pom.properties in it, wherever it is (Maven writes them under
//     META-INF/maven/GROUP/ARTIFACT/; shading and repackaging put them elsewhere);
//   - without one beside it, the embedded pom.xml (its project's groupId, artifactId
//     and version, or its parent's groupId and version);
//   - without either, the archive itself from its manifest and file name: the artifact
//     and version from a name like jackson-core-2.15.2.jar, the group from
//     Implementation-Vendor-Id or from a Bundle-SymbolicName that ends with the
//     artifact (com.fasterxml.jackson.core.jackson-core), never from
//     Implementation-Title, which is a display name ("Jackson-core");
//   - without a manifest, the file name alone, when it carries a version.
//
// Archives nested in it (Spring Boot's BOOT-INF/lib, a WAR's WEB-INF/lib, an EAR's
// modules and their WEB-INF/lib) are read too, two levels deep, their packages located
// at "OUTER!/INNER!/INNERMOST".
func JavaPackages(b []byte, p string, layer int) []facts.Package {
	budget, meta := int64(maxNestedTotal), int64(maxMetadataTotal)
	return javaPackages(b, p, layer, 0, &budget, &meta)
}

// maxJavaDepth is how deep nested archives are read: an EAR's WAR's libraries.
const maxJavaDepth = 2

// maxPom bounds one embedded pom.xml; maxMetadataTotal all the pom.xml and
// pom.properties bytes read from one archive and those nested in it (an archive of
// thousands of compressible poms would otherwise take minutes to parse).
const (
	maxPom           = 1 << 20
	maxMetadataTotal = 16 << 20
)

func javaPackages(b []byte, p string, layer, depth int, budget, meta *int64) []facts.Package {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil || len(zr.File) > maxJarEntries {
		return nil
	}
	var out []facts.Package
	var manifest map[string]string
	described := map[string]bool{} // directories with a pom.properties
	var poms []*zip.File
	add := func(group, artifact, version string) {
		if artifact == "" || version == "" {
			return
		}
		name := artifact
		if group != "" {
			name = group + ":" + artifact
		}
		out = append(out, facts.Package{Name: name, Version: version, Type: "maven", Path: p, Layer: layer,
			PURL: PURL("maven", group, artifact, version, nil)})
	}
	for _, f := range zr.File {
		switch {
		case depth < maxJavaDepth && IsJavaArchive(f.Name) && f.UncompressedSize64 <= maxNestedJar && int64(f.UncompressedSize64) <= *budget:
			inner, err := readZipMember(f, maxNestedJar)
			*budget -= int64(len(inner))
			if err == nil {
				out = append(out, javaPackages(inner, p+"!/"+f.Name, layer, depth+1, budget, meta)...)
			}
		case path.Base(f.Name) == "pom.properties" && *meta > 0:
			text := readZipText(f)
			*meta -= int64(len(text))
			kv := properties(text)
			if kv["groupId"] != "" && kv["artifactId"] != "" && kv["version"] != "" {
				described[path.Dir(f.Name)] = true
				add(kv["groupId"], kv["artifactId"], kv["version"])
			}
		case path.Base(f.Name) == "pom.xml" && strings.HasPrefix(f.Name, "META-INF/maven/"):
			poms = append(poms, f)
		case f.Name == "META-INF/MANIFEST.MF":
			manifest = manifestAttributes(readZipText(f))
		}
	}
	for _, f := range poms {
		if described[path.Dir(f.Name)] || f.UncompressedSize64 > maxPom || *meta <= 0 {
			continue
		}
		if b, err := readZipMember(f, maxPom); err == nil {
			*meta -= int64(len(b))
			add(pomIdentity(b))
		}
	}
	if len(out) == 0 {
		add(archiveIdentity(manifest, p))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PURL < out[j].PURL })
	return out
}

// pomIdentity is a pom.xml's project coordinates, the group and version inherited from
// its parent when it does not say; "" for any that is a property reference (${…}),
// which only a build resolves.
func pomIdentity(b []byte) (group, artifact, version string) {
	var pom struct {
		GroupID    string `xml:"groupId"`
		ArtifactID string `xml:"artifactId"`
		Version    string `xml:"version"`
		Parent     struct {
			GroupID string `xml:"groupId"`
			Version string `xml:"version"`
		} `xml:"parent"`
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false
	if d.Decode(&pom) != nil {
		return "", "", ""
	}
	group = strings.TrimSpace(first(pom.GroupID, pom.Parent.GroupID))
	artifact = strings.TrimSpace(pom.ArtifactID)
	version = strings.TrimSpace(first(pom.Version, pom.Parent.Version))
	if strings.Contains(group+artifact+version, "${") {
		return "", "", ""
	}
	return group, artifact, version
}

// archiveIdentity names an archive from its manifest (nil: none) and file name.
func archiveIdentity(manifest map[string]string, p string) (group, artifact, version string) {
	fileArtifact, fileVersion := splitArchiveName(path.Base(p))
	if manifest == nil {
		return "", fileArtifact, fileVersion
	}
	// A Jenkins plugin says what it is in its manifest.
	if short, v := manifest["Short-Name"], manifest["Plugin-Version"]; short != "" && v != "" {
		v, _, _ = strings.Cut(v, " ") // "2.11 (private-…)" for a local build
		return manifest["Group-Id"], short, v
	}
	version = first(manifest["Implementation-Version"], manifest["Bundle-Version"], fileVersion)
	bsn, _, _ := strings.Cut(manifest["Bundle-SymbolicName"], ";") // it may carry directives
	bsn = strings.TrimSpace(bsn)
	group, artifact = manifest["Implementation-Vendor-Id"], fileArtifact
	switch {
	case artifact == "" && group != "" && strings.HasPrefix(bsn, group+"."):
		artifact = bsn[len(group)+1:]
	case artifact == "" && strings.Contains(bsn, "."):
		i := strings.LastIndexByte(bsn, '.')
		artifact = bsn[i+1:]
		group = first(group, bsn[:i])
	case artifact == "":
		artifact = first(bsn, strings.TrimSuffix(path.Base(p), path.Ext(p)))
	}
	if group == "" && strings.HasSuffix(bsn, "."+artifact) {
		group = strings.TrimSuffix(bsn, "."+artifact)
	}
	return group, artifact, version
}

// splitArchiveName splits "log4j-1.2-api-2.17.1.jar" into "log4j-1.2-api" and "2.17.1":
// the version starts at the last "-" followed by a digit; "", "" when there is none.
func splitArchiveName(base string) (artifact, version string) {
	base = strings.TrimSuffix(base, path.Ext(base))
	for i := len(base) - 2; i > 0; i-- {
		if base[i] == '-' && base[i+1] >= '0' && base[i+1] <= '9' {
			return base[:i], base[i+1:]
		}
	}
	return "", ""
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// IsJavaArchive reports a file name Java archives have (a Jenkins plugin is a JAR
// named .hpi or .jpi).
func IsJavaArchive(name string) bool {
	switch path.Ext(name) {
	case ".jar", ".war", ".ear", ".hpi", ".jpi":
		return true
	}
	return false
}

// readZipMember reads a member whose declared size is at most max, trusting the
// declaration no further than max bytes.
func readZipMember(f *zip.File, max int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, max+1))
	if int64(len(b)) > max {
		return nil, errors.New("larger than declared")
	}
	return b, err
}

// readZipText reads a small text member (64 KiB at most).
func readZipText(f *zip.File) string {
	if f.UncompressedSize64 > 64<<10 {
		return ""
	}
	rc, err := f.Open()
	if err != nil {
		return ""
	}
	defer rc.Close()
	b, _ := io.ReadAll(io.LimitReader(rc, 64<<10))
	return string(b)
}

// manifestAttributes reads a JAR manifest's main attributes: "Name: value" lines, a
// line starting with one space continuing the one before (values longer than 72
// bytes are wrapped so), up to the first blank line (per-entry sections follow).
func manifestAttributes(s string) map[string]string {
	out := map[string]string{}
	last := ""
	for _, line := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		switch {
		case line == "":
			return out
		case line[0] == ' ' && last != "":
			out[last] += line[1:]
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok || k == "" {
				last = ""
				continue
			}
			last = strings.TrimSpace(k)
			out[last] = strings.TrimSpace(v) // the value starts after ": "; a wrapped one goes on below
		}
	}
	return out
}

// properties reads Java properties and manifest "Key: value" / "key=value" lines.
func properties(s string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		i := strings.IndexAny(line, ":=")
		if i <= 0 {
			continue
		}
		out[strings.TrimSpace(line[:i])] = strings.TrimSpace(line[i+1:])
	}
	return out
}
