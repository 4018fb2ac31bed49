package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/dockaudit/dockaudit/internal/report"
	"github.com/dockaudit/dockaudit/internal/testenv"
	"github.com/dockaudit/dockaudit/internal/version"
)

// vulndbModule is the real Go vulnerability database, from the module proxy.
const vulndbModule = "golang.org/x/vulndb@v0.0.0-20261105234957-e22db6528018"

// importDB builds a database from advisory paths into a new directory.
func importDB(t *testing.T, paths ...string) string {
	t.Helper()
	dir := t.TempDir()
	r := dockaudit(t, nil, append([]string{"db", "import", "--db-dir", dir}, paths...)...)
	if r.code != 0 {
		t.Fatalf("db import: exit %d: %s", r.code, r.stderr)
	}
	return dir
}

// vulns lists the VULN findings of a report as "package id status fixed".
func vulns(rep *report.Report) []string {
	var out []string
	for _, f := range rep.Findings {
		if f.Vuln != nil {
			out = append(out, fmt.Sprintf("%s %s %s %s", f.Vuln.Package, f.Vuln.ID, f.Vuln.Status, f.Vuln.Fixed))
		}
	}
	sort.Strings(out)
	return out
}

// TestVulnGoBinary: a Go program built against golang.org/x/text v0.3.7, in a
// scratch image, matched against the real Go vulnerability database.
func TestVulnGoBinary(t *testing.T) {
	need(t)
	vdb, err := testenv.ModuleDir(vulndbModule)
	if err != nil {
		testenv.Missing(t, "Go vulnerability database: %v", err)
	}
	db := importDB(t, filepath.Join(vdb, "data", "osv"))

	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "go.mod"), []byte("module example.com/textapp\n\ngo 1.21\n\nrequire golang.org/x/text v0.3.7\n"), 0o644)
	os.WriteFile(filepath.Join(src, "main.go"), []byte("package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n\n\t\"golang.org/x/text/language\"\n)\n\n"+
		"func main() { fmt.Println(language.Parse(os.Args[len(os.Args)-1])) }\n"), 0o644)
	ctx := filepath.Join(src, "ctx")
	os.Mkdir(ctx, 0o755)
	build := exec.Command("go", "build", "-o", filepath.Join(ctx, "textapp"), ".")
	build.Dir, build.Env = src, append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOSUMDB=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte("FROM scratch\nCOPY textapp /textapp\nUSER 65532\n"), 0o644)
	tag := "dockaudit-it-textapp:1"
	dockerBuild(t, ctx, tag)

	rep := jsonReport(t, nil, "image", "--db-dir", db, tag)
	var text, std []string
	goVersion := strings.TrimPrefix(strings.Fields(runtime.Version())[0], "go")
	for _, f := range rep.Findings {
		if f.Vuln == nil {
			continue
		}
		goID := f.Vuln.ID
		for _, a := range f.Vuln.Aliases {
			if strings.HasPrefix(a, "GO-") {
				goID = a
			}
		}
		switch f.Vuln.Package {
		case "golang.org/x/text":
			text = append(text, goID+" "+f.Vuln.Fixed+" "+f.Status.String())
		case "stdlib":
			// Every stdlib finding must be fixed in a newer Go than the one that built it.
			if c, err := version.CompareSemver(f.Vuln.Fixed, goVersion); err != nil || c <= 0 || f.Vuln.Installed != "v"+goVersion {
				t.Errorf("stdlib finding %s: installed %s, fixed %s", goID, f.Vuln.Installed, f.Vuln.Fixed)
			}
			std = append(std, goID)
		}
	}
	sort.Strings(text)
	want := []string{"GO-2022-1059 0.3.8 fail", "GO-2026-5970 0.39.0 fail", "GO-2026-6629 0.41.0 fail"}
	if !slices.Equal(want, text) {
		t.Errorf("golang.org/x/text v0.3.7:\n got %q\nwant %q", text, want)
	}
	if slices.Contains(std, "GO-2026-6604") {
		t.Error("a Windows-only stdlib vulnerability was reported for a linux/amd64 binary")
	}
	if r := dockaudit(t, nil, "image", "--db-dir", db, "--fail-on", "critical", tag); r.code != 0 {
		t.Errorf("--fail-on critical: exit %d (Go advisories carry no severity: medium)", r.code)
	}
}

// TestVulnDebianImage: the real debootstrap bookworm image against tracker data
// written for the test from the image's own versions: every status, source-package
// matching over all binaries, and the tracker outranking an OSV record.
func TestVulnDebianImage(t *testing.T) {
	need(t)
	root := bookwormRoot(t)
	installed := map[string]string{} // source → source version
	binaries := map[string][]string{}
	for _, line := range dpkgQuery(t, root) {
		f := strings.Split(line, "\t") // package, version, arch, source, source version
		installed[f[3]] = f[4]
		binaries[f[3]] = append(binaries[f[3]], f[0])
	}
	for _, src := range []string{"bash", "tar", "coreutils", "util-linux", "sed"} {
		if installed[src] == "" {
			t.Fatalf("the bookworm root has no source package %s", src)
		}
	}
	rel := func(status, fixed, urgency, nodsa, reason string) map[string]any {
		r := map[string]any{"status": status, "urgency": urgency, "repositories": map[string]string{"bookworm": "1"}}
		if fixed != "" {
			r["fixed_version"] = fixed
			r["repositories"] = map[string]string{"bookworm": "1", "bookworm-security": fixed}
		}
		if nodsa != "" {
			r["nodsa"], r["nodsa_reason"] = nodsa, reason
		}
		return map[string]any{"releases": map[string]any{"bookworm": r}}
	}
	tracker := map[string]map[string]any{
		"bash":       {"CVE-2099-1001": rel("resolved", installed["bash"]+"+fix1", "high", "", "")},
		"tar":        {"CVE-2099-1002": rel("open", "", "low", "Minor issue", "ignored")},
		"coreutils":  {"CVE-2099-1003": rel("resolved", "0", "unimportant", "", "")},
		"util-linux": {"CVE-2099-1004": rel("open", "", "medium", "", "")},
		"sed":        {"CVE-2099-1005": rel("resolved", "1.0-1", "high", "", "")},
	}
	dir := t.TempDir()
	b, _ := json.Marshal(tracker)
	os.WriteFile(filepath.Join(dir, "tracker.json"), b, 0o644)
	// An OSV record that says coreutils is affected; the tracker says it is not.
	os.WriteFile(filepath.Join(dir, "DEBIAN-CVE-2099-1003.json"), []byte(`{"id":"DEBIAN-CVE-2099-1003","modified":"2026-01-01T00:00:00Z","upstream":["CVE-2099-1003"],`+
		`"affected":[{"package":{"ecosystem":"Debian:12","name":"coreutils"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]}`), 0o644)
	db := importDB(t, dir)

	tag := "dockaudit-it-bookworm-vuln:1"
	importRoot(t, root, tag)
	rep := jsonReport(t, nil, "image", "--db-dir", db, "--include", "VULN", tag)
	want := []string{fmt.Sprintf("bash CVE-2099-1001 fixed %s+fix1", installed["bash"]), "tar CVE-2099-1002 wont-fix "}
	for _, bin := range binaries["util-linux"] {
		want = append(want, bin+" CVE-2099-1004 unfixed ")
	}
	sort.Strings(want)
	if got := vulns(rep); !slices.Equal(want, got) {
		t.Errorf("findings:\n got %q\nwant %q", got, want)
	}
	// --ignore-unfixed leaves the fixable one.
	rep = jsonReport(t, nil, "image", "--db-dir", db, "--include", "VULN", "--ignore-unfixed", tag)
	if got := vulns(rep); len(got) != 1 || !strings.HasPrefix(got[0], "bash CVE-2099-1001 fixed") {
		t.Errorf("--ignore-unfixed: %q", got)
	}

	// The same findings from SBOMs of the image: dockaudit's own and Syft's, in both
	// formats, read as sbom:FILE (and recognised without the prefix).
	sboms := t.TempDir()
	for _, format := range []string{"cyclonedx", "spdx"} {
		out := filepath.Join(sboms, "dockaudit."+format+".json")
		if r := dockaudit(t, nil, "sbom", "--format", format, "--output", out, tag); r.code != 0 {
			t.Fatalf("dockaudit sbom: %s", r.stderr)
		}
	}
	syft := filepath.Join(cacheDir(), "syft-v1.57.2", "syft")
	if _, err := os.Stat(syft); err != nil {
		testenv.Missing(t, "no Syft at %s (scripts/setup builds it)", syft)
	}
	archive := filepath.Join(sboms, "image.tar")
	docker(t, "save", "-o", archive, tag)
	for format, file := range map[string]string{"cyclonedx-json": "syft.cyclonedx.json", "spdx-json": "syft.spdx.json"} {
		cmd := exec.Command(syft, "scan", "docker-archive:"+archive, "-q", "-o", format+"="+filepath.Join(sboms, file))
		cmd.Env = append(os.Environ(), "SYFT_CHECK_FOR_APP_UPDATE=false")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("syft %s: %v\n%s", format, err, out)
		}
	}
	for _, file := range []string{"dockaudit.cyclonedx.json", "dockaudit.spdx.json", "syft.cyclonedx.json", "syft.spdx.json"} {
		for _, ref := range []string{"sbom:" + filepath.Join(sboms, file), filepath.Join(sboms, file)} {
			rep := jsonReport(t, nil, "image", "--db-dir", db, "--include", "VULN", ref)
			if got := vulns(rep); !slices.Equal(want, got) {
				t.Errorf("%s: findings:\n got %q\nwant %q", ref, got, want)
			}
			if len(rep.Images) != 1 || rep.Images[0].Source != "sbom" || len(rep.Images[0].Packages) != len(installedPackages(t, root)) {
				t.Errorf("%s: read as %+v", ref, rep.Images)
			}
		}
	}
}

// installedPackages is the root's dpkg packages, one line each.
func installedPackages(t *testing.T, root string) []string { return dpkgQuery(t, root) }
