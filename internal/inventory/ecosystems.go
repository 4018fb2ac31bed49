package inventory

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/dockaudit/dockaudit/internal/facts"
)

// Ruby, PHP, .NET and Rust packages, each from the file its package manager keeps: an
// installed gem's specification, a Gemfile.lock, Composer's vendor/composer/
// installed.json, a .NET application's *.deps.json, a Cargo.lock.

// IsGemspec reports an installed gem's specification: …/specifications/NAME.gemspec
// (also specifications/default/, RubyGems' default gems).
func IsGemspec(p string) bool {
	dir := path.Dir(p)
	return strings.HasSuffix(p, ".gemspec") && (path.Base(dir) == "specifications" || strings.HasSuffix(dir, "/specifications/default"))
}

var (
	gemName    = regexp.MustCompile(`(?m)^\s*\w+\.name\s*=\s*["']([^"']+)["']`)
	gemVersion = regexp.MustCompile(`(?m)^\s*\w+\.version\s*=\s*["']([^"']+)["']`)
	gemLicense = regexp.MustCompile(`(?m)^\s*\w+\.licenses?\s*=\s*\[?\s*["']([^"']+)["']`)
)

// GemPackage reads an installed gem's specification (the Ruby file RubyGems writes:
// s.name = "rack".freeze, s.version = "2.2.8"); without them, the file name
// (rack-2.2.8.gemspec).
func GemPackage(b []byte, p string, layer int) (facts.Package, bool) {
	name, version := "", ""
	if m := gemName.FindSubmatch(b); m != nil {
		name = string(m[1])
	}
	if m := gemVersion.FindSubmatch(b); m != nil {
		version = string(m[1])
	}
	if name == "" || version == "" {
		base := strings.TrimSuffix(path.Base(p), ".gemspec")
		if i := strings.LastIndexByte(base, '-'); i > 0 {
			name, version = base[:i], base[i+1:]
		}
	}
	if name == "" || version == "" {
		return facts.Package{}, false
	}
	pk := facts.Package{Name: name, Version: version, Type: "gem", Path: p, Layer: layer, PURL: PURL("gem", "", name, version, nil)}
	if m := gemLicense.FindSubmatch(b); m != nil {
		pk.Licenses = []string{string(m[1])}
	}
	return pk, true
}

// GemfileLockPackages reads the gems of a Gemfile.lock's GEM and GIT sections ("    rack
// (2.2.8)", a platform after a "-" in the version: "nokogiri (1.15.4-x86_64-linux)"):
// a gem from a git repository is the gem of that name and version too, as RubyGems
// advisories name it; PATH gems are the application's own code. Only the specs lines
// (four spaces) are gems; their dependencies (six) are not.
func GemfileLockPackages(b []byte, p string, layer int) []facts.Package {
	var out []facts.Package
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	inGem, inSpecs := false, false
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		switch {
		case line != "" && line[0] != ' ':
			inGem, inSpecs = line == "GEM" || line == "GIT", false
			continue
		case inGem && strings.TrimSpace(line) == "specs:":
			inSpecs = true
			continue
		}
		if !inSpecs || !strings.HasPrefix(line, "    ") || strings.HasPrefix(line, "     ") {
			continue
		}
		name, rest, ok := strings.Cut(strings.TrimSpace(line), " (")
		version := strings.TrimSuffix(rest, ")")
		if !ok || name == "" || version == "" || strings.ContainsAny(version, " ()") {
			continue
		}
		// Bundler writes a pre-release as RubyGems prints it ("7.1.0.rc1"): a "-"
		// always starts the platform ("1.15.4-x86_64-linux").
		platform := ""
		if i := strings.IndexByte(version, '-'); i > 0 {
			version, platform = version[:i], version[i+1:]
		}
		var q [][2]string
		if platform != "" {
			q = append(q, [2]string{"platform", platform})
		}
		out = append(out, facts.Package{Name: name, Version: version, Type: "gem", Path: p, Layer: layer, PURL: PURL("gem", "", name, version, q)})
	}
	return out
}

// ComposerPackages reads vendor/composer/installed.json, as Composer 1 (an array) or
// Composer 2 ({"packages": […]}) writes it.
func ComposerPackages(b []byte, p string, layer int) []facts.Package {
	type pkg struct {
		Name    string          `json:"name"`
		Version string          `json:"version"`
		License json.RawMessage `json:"license"` // a list, or (hand-edited) one string
	}
	var v2 struct {
		Packages []pkg `json:"packages"`
	}
	var list []pkg
	if err := json.Unmarshal(b, &v2); err == nil && v2.Packages != nil {
		list = v2.Packages
	} else if err := json.Unmarshal(b, &list); err != nil {
		return nil
	}
	var out []facts.Package
	for _, c := range list {
		vendor, name, ok := strings.Cut(c.Name, "/")
		// A branch checkout ("dev-main", "2.x-dev") is listed as it is: it has no version
		// to compare, and matching says so (packages whose versions cannot be
		// compared) rather than the inventory leaving it out.
		if !ok || vendor == "" || name == "" || c.Version == "" {
			continue
		}
		pk := facts.Package{Name: c.Name, Version: c.Version, Type: "composer", Path: p, Layer: layer,
			PURL: PURL("composer", vendor, name, c.Version, nil)}
		var lic []string
		if json.Unmarshal(c.License, &lic) != nil {
			var one string
			if json.Unmarshal(c.License, &one) == nil && one != "" {
				lic = []string{one}
			}
		}
		if len(lic) > 0 {
			pk.Licenses = lic
		}
		out = append(out, pk)
	}
	return out
}

// DotnetPackages reads a .NET application's NAME.deps.json: the "libraries" of type
// "package" are NuGet packages ("Newtonsoft.Json/13.0.1"), and those of type
// "runtimepack" the runtime a self-contained application carries
// ("Microsoft.NETCore.App.Runtime.linux-x64/8.0.1"), under the names NuGet advisories
// give the .NET runtime; the application's own projects are not packages.
func DotnetPackages(b []byte, p string, layer int) []facts.Package {
	var deps struct {
		Libraries map[string]struct {
			Type string `json:"type"`
		} `json:"libraries"`
	}
	if json.Unmarshal(b, &deps) != nil {
		return nil
	}
	var out []facts.Package
	for key, lib := range deps.Libraries {
		name, version, ok := strings.Cut(key, "/")
		if !ok || (lib.Type != "package" && lib.Type != "runtimepack") || name == "" || version == "" {
			continue
		}
		name = strings.TrimPrefix(name, "runtimepack.") // the SDK writes the runtime pack's key so
		out = append(out, facts.Package{Name: name, Version: version, Type: "nuget", Path: p, Layer: layer, PURL: PURL("nuget", "", name, version, nil)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// IsAppLockfile reports a Gemfile.lock or Cargo.lock that describes what an image
// runs, not one that came inside a package's own sources: a crate unpacked in Cargo's
// registry (…/registry/src/…) or an installed gem's directory (…/gems/NAME-VERSION/).
func IsAppLockfile(p string) bool {
	switch path.Base(p) {
	case "Cargo.lock":
		return !strings.Contains(p, "/registry/src/") && !strings.Contains(p, "/.cargo/git/")
	case "Gemfile.lock":
		return path.Base(path.Dir(path.Dir(p))) != "gems"
	}
	return false
}

// CargoAuditablePackages reads the crate list cargo-auditable embeds in a Rust binary
// (its .dep-v0 section, decompressed: {"packages": [{"name", "version", "source",
// "kind", "dependencies", "root"}]}): the crates from crates.io or another registry
// that are built into the binary. Build-time crates (kind "build": build scripts and
// procedural macros) are not in it and are left out, as are local and git crates.
func CargoAuditablePackages(b []byte, p string, layer int) ([]facts.Package, error) {
	var doc struct {
		Packages []struct {
			Name    string `json:"name"`
			Version string `json:"version"`
			Source  string `json:"source"`
			Kind    string `json:"kind"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("cargo-auditable crate list: %w", err)
	}
	var out []facts.Package
	for _, c := range doc.Packages {
		if c.Name == "" || c.Version == "" || c.Kind == "build" || (c.Source != "crates.io" && c.Source != "registry") {
			continue
		}
		out = append(out, facts.Package{Name: c.Name, Version: c.Version, Type: "cargo", Path: p, Layer: layer, PURL: PURL("cargo", "", c.Name, c.Version, nil)})
	}
	return out, nil
}

// CargoLockPackages reads a Cargo.lock's [[package]] tables: the crates that came from a
// registry (source "registry+…" or "sparse+…"); the workspace's own crates and git or
// path dependencies have no registry version to match.
func CargoLockPackages(b []byte, p string, layer int) []facts.Package {
	var out []facts.Package
	var name, version, source string
	flush := func() {
		if name != "" && version != "" && (strings.HasPrefix(source, "registry+") || strings.HasPrefix(source, "sparse+")) {
			out = append(out, facts.Package{Name: name, Version: version, Type: "cargo", Path: p, Layer: layer, PURL: PURL("cargo", "", name, version, nil)})
		}
		name, version, source = "", "", ""
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	in := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			if in {
				flush()
			}
			in = line == "[[package]]"
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !in || !ok {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"`)
		switch strings.TrimSpace(k) {
		case "name":
			name = v
		case "version":
			version = v
		case "source":
			source = v
		}
	}
	if in {
		flush()
	}
	return out
}
