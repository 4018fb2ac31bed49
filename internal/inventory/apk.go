package inventory

import (
	"strings"

	"github.com/dockaudit/dockaudit/internal/facts"
)

// ApkPackage is one entry of an apk installed database.
type ApkPackage struct {
	Name, Version, Arch, Origin, License string
}

// ParseApkInstalled reads /lib/apk/db/installed: blank-line separated entries of
// one-letter keys (P name, V version, A arch, o origin, L license).
func ParseApkInstalled(b []byte) []ApkPackage {
	var out []ApkPackage
	for _, para := range paragraphs(b) {
		var p ApkPackage
		for _, line := range strings.Split(string(para), "\n") {
			if len(line) < 2 || line[1] != ':' {
				continue
			}
			v := line[2:]
			switch line[0] {
			case 'P':
				p.Name = v
			case 'V':
				p.Version = v
			case 'A':
				p.Arch = v
			case 'o':
				p.Origin = v
			case 'L':
				p.License = v
			}
		}
		if p.Name != "" && p.Version != "" {
			if p.Origin == "" {
				p.Origin = p.Name
			}
			out = append(out, p)
		}
	}
	return out
}

// ApkToPackages turns entries into packages; origin is the source package.
func ApkToPackages(ps []ApkPackage, os facts.OS, path string, layer int) []facts.Package {
	out := make([]facts.Package, 0, len(ps))
	for _, p := range ps {
		q := [][2]string{{"arch", p.Arch}}
		if d := distro(os); d != "" {
			q = append(q, [2]string{"distro", d})
		}
		if p.Origin != p.Name {
			q = append(q, [2]string{"upstream", p.Origin})
		}
		pk := facts.Package{Name: p.Name, Version: p.Version, Arch: p.Arch, SourceName: p.Origin, SourceVersion: p.Version,
			Type: "apk", Path: path, Layer: layer, PURL: PURL("apk", namespace(os, "alpine"), p.Name, p.Version, q)}
		if p.License != "" {
			pk.Licenses = []string{p.License}
		}
		out = append(out, pk)
	}
	return out
}
