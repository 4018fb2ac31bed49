package inventory

import (
	"github.com/dockaudit/dockaudit/internal/facts"

	"strings"
)

// DpkgPackage is a stanza of a dpkg status file, fields as written.
type DpkgPackage struct {
	Name, Version, Arch, Source, SourceVersion, Status string
}

// ParseDpkgStatus reads /var/lib/dpkg/status (or one file of distroless's
// /var/lib/dpkg/status.d) and returns the installed packages. A stanza whose Status is
// not "install ok installed" (removed, half-configured, config-files) is not
// installed; distroless stanzas carry no Status and count as installed.
func ParseDpkgStatus(b []byte) []DpkgPackage {
	var out []DpkgPackage
	for _, para := range paragraphs(b) {
		fields := rfc822(string(para))
		p := DpkgPackage{
			Name: fields["Package"], Version: fields["Version"], Arch: fields["Architecture"], Status: fields["Status"],
		}
		if p.Name == "" || p.Version == "" {
			continue
		}
		if st, ok := fields["Status"]; ok && !installed(st) {
			continue
		}
		// "Source: name (version)" when the source version differs from the binary's.
		p.Source, p.SourceVersion = p.Name, p.Version
		if src := fields["Source"]; src != "" {
			name, ver, ok := strings.Cut(src, " ")
			p.Source = name
			if ok {
				p.SourceVersion = strings.Trim(strings.TrimSpace(ver), "()")
			}
		}
		out = append(out, p)
	}
	return out
}

func installed(status string) bool {
	f := strings.Fields(status)
	return len(f) == 3 && f[2] == "installed"
}

// rfc822 reads "Key: value" fields; continuation lines (starting with a space) belong
// to the previous field. Only the first line of a multi-line value is kept.
func rfc822(s string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		if line == "" || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		out[k] = strings.TrimSpace(v)
	}
	return out
}

// DpkgToPackages turns stanzas into packages for an OS (PURL namespace and distro).
func DpkgToPackages(ps []DpkgPackage, os facts.OS, path string, layer int) []facts.Package {
	out := make([]facts.Package, 0, len(ps))
	for _, p := range ps {
		pk := facts.Package{
			Name: p.Name, Version: p.Version, Arch: p.Arch, SourceName: p.Source, SourceVersion: p.SourceVersion,
			Type: "deb", Path: path, Layer: layer,
		}
		pk.PURL = PURL("deb", namespace(os, "debian"), p.Name, p.Version, debQualifiers(p, os))
		out = append(out, pk)
	}
	return out
}

func debQualifiers(p DpkgPackage, os facts.OS) [][2]string {
	q := [][2]string{{"arch", p.Arch}}
	if d := distro(os); d != "" {
		q = append(q, [2]string{"distro", d})
	}
	if p.Source != p.Name || p.SourceVersion != p.Version {
		up := p.Source
		if p.SourceVersion != p.Version {
			up += "@" + p.SourceVersion
		}
		q = append(q, [2]string{"upstream", up})
	}
	return q
}

// namespace is the PURL namespace for OS packages: the distribution ID.
func namespace(os facts.OS, def string) string {
	if os.ID != "" {
		return os.ID
	}
	return def
}

// distro is the PURL distro qualifier, "debian-12".
func distro(os facts.OS) string {
	if os.ID == "" {
		return ""
	}
	if os.VersionID == "" {
		return os.ID
	}
	return os.ID + "-" + os.VersionID
}
