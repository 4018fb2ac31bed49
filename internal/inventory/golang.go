package inventory

import (
	"github.com/dockaudit/dockaudit/internal/facts"

	"strings"
)

// GoInfo is the build information of a Go binary (see collect/image.GoBuildInfo).
type GoInfo struct {
	GoVersion string
	Main      GoMod
	Deps      []GoMod
	Platform  string // "linux/amd64", from the build settings
}

// GoMod is one module of a Go binary.
type GoMod struct {
	Path, Version string
}

// GoPackages lists a Go binary's modules and the standard library it was built with.
// The main module of a local build has version "(devel)"; it is listed like that.
func GoPackages(info GoInfo, p string, layer int) []facts.Package {
	var out []facts.Package
	add := func(m GoMod) {
		if m.Path == "" || m.Version == "" {
			return
		}
		ns, name := splitGoPath(m.Path)
		out = append(out, facts.Package{Name: m.Path, Version: m.Version, Type: "golang", Path: p, Layer: layer, Platform: info.Platform,
			PURL: PURL("golang", ns, name, m.Version, nil)})
	}
	if v := strings.TrimPrefix(info.GoVersion, "go"); v != "" {
		// "go1.21.3 X:nocoverageredesign" carries experiments after a space.
		v, _, _ = strings.Cut(v, " ")
		v = goSemver(v)
		out = append(out, facts.Package{Name: "stdlib", Version: "v" + v, Type: "golang", Path: p, Layer: layer, Platform: info.Platform,
			PURL: PURL("golang", "", "stdlib", "v"+v, nil)})
	}
	add(info.Main)
	for _, d := range info.Deps {
		add(d)
	}
	return out
}

// goSemver writes a Go release as semantic versioning does, as the Go vulnerability
// database compares them: "1.16" (a .0 release before Go 1.21) is 1.16.0, "1.21rc2"
// 1.21.0-rc.2, "1.17beta1" 1.17.0-beta.1.
func goSemver(v string) string {
	pre := ""
	for _, tag := range []string{"rc", "beta"} {
		if i := strings.Index(v, tag); i > 0 {
			v, pre = v[:i], "-"+tag+"."+v[i+len(tag):]
			break
		}
	}
	if strings.Count(v, ".") == 1 {
		v += ".0"
	}
	return v + pre
}

// splitGoPath splits a module path at its last slash into PURL namespace and name.
func splitGoPath(p string) (string, string) {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i], p[i+1:]
	}
	return "", p
}
