package inventory

import (
	"errors"
	"github.com/dockaudit/dockaudit/internal/facts"

	"archive/zip"
	"bufio"
	"bytes"
	"encoding/json"
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

// JavaPackages reads a JAR (or WAR/EAR) from memory: each META-INF/maven/**/
// pom.properties names an artifact; without one, the manifest's Implementation or
// Bundle headers name the archive itself. Archives nested one level deep (Spring Boot's
// BOOT-INF/lib, a WAR's WEB-INF/lib, an EAR's modules) are read too, their packages
// located at "OUTER!/INNER".
func JavaPackages(b []byte, p string, layer int) []facts.Package {
	budget := int64(maxNestedTotal)
	return javaPackages(b, p, layer, 0, &budget)
}

func javaPackages(b []byte, p string, layer, depth int, budget *int64) []facts.Package {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil || len(zr.File) > maxJarEntries {
		return nil
	}
	var out []facts.Package
	var manifest map[string]string
	for _, f := range zr.File {
		switch {
		case depth == 0 && isJavaArchive(f.Name) && f.UncompressedSize64 <= maxNestedJar && int64(f.UncompressedSize64) <= *budget:
			inner, err := readZipMember(f, maxNestedJar)
			*budget -= int64(len(inner))
			if err == nil {
				out = append(out, javaPackages(inner, p+"!/"+f.Name, layer, depth+1, budget)...)
			}
		case strings.HasPrefix(f.Name, "META-INF/maven/") && strings.HasSuffix(f.Name, "/pom.properties"):
			props := readZipText(f)
			kv := properties(props)
			if kv["groupId"] != "" && kv["artifactId"] != "" && kv["version"] != "" {
				out = append(out, facts.Package{Name: kv["groupId"] + ":" + kv["artifactId"], Version: kv["version"], Type: "maven",
					Path: p, Layer: layer, PURL: PURL("maven", kv["groupId"], kv["artifactId"], kv["version"], nil)})
			}
		case f.Name == "META-INF/MANIFEST.MF":
			manifest = properties(readZipText(f))
		}
	}
	if len(out) == 0 && manifest != nil {
		name := first(manifest["Implementation-Title"], manifest["Bundle-SymbolicName"], strings.TrimSuffix(path.Base(p), path.Ext(p)))
		version := first(manifest["Implementation-Version"], manifest["Bundle-Version"])
		group := first(manifest["Implementation-Vendor-Id"], "")
		if name != "" && version != "" {
			name, _, _ = strings.Cut(name, ";") // Bundle-SymbolicName may carry directives
			full := name
			if group != "" {
				full = group + ":" + name
			}
			out = append(out, facts.Package{Name: full, Version: version, Type: "maven", Path: p, Layer: layer,
				PURL: PURL("maven", group, name, version, nil)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PURL < out[j].PURL })
	return out
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func isJavaArchive(name string) bool {
	ext := path.Ext(name)
	return ext == ".jar" || ext == ".war" || ext == ".ear"
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
