package integration

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/report"
	"github.com/dockaudit/dockaudit/internal/testenv"
)

// TestOwnImage runs the README's "From its image" lines as written, in a clone of the
// repository tagged v9.9.9-it: the static binary scripts/build makes, stamped with the
// tag, in the prebuilt stage of deploy/Dockerfile; then host, image, config and serve
// from that image against the real daemon. Their reports equal the host binary's.
func TestOwnImage(t *testing.T) {
	need(t)
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)### From its image\n.*?```sh\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no image commands")
	}
	lines := strings.Split(strings.TrimSpace(string(m[1])), "\n")
	if len(lines) != 5 {
		t.Fatalf("want five image commands (build, host, image, config, serve), got %q", lines)
	}
	// The README's names: the image dockaudit, the image audited debian:12 (which
	// cannot be pulled here: a busybox image stands in).
	const tag = "dockaudit-it-self:1"
	target := "dockaudit-it-self-target:1"
	image(t, target)
	name := regexp.MustCompile(`(-t |\s)dockaudit(\s+(?:\.|(?:host|image|config|serve|version)\b))`)
	for i, l := range lines {
		lines[i] = strings.ReplaceAll(name.ReplaceAllString(l, "${1}"+tag+"${2}"), "debian:12", target)
	}
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", tag).Run() })

	repo := t.TempDir()
	for _, args := range [][]string{{"clone", "-q", "..", repo}, {"-C", repo, "tag", "v9.9.9-it"}} {
		if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	sh := func(dir, line string) (string, string, int) {
		t.Helper()
		cmd := exec.Command("bash", "-c", line)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
		r := run(t, cmd)
		return r.stdout, r.stderr, r.code
	}
	if _, errs, code := sh(repo, lines[0]); code != 0 {
		t.Fatalf("%s: exit %d\n%s", lines[0], code, errs)
	}
	// The binary is static (it runs FROM scratch) and says the tag.
	if out, errs, code := sh(repo, "docker run --rm "+tag+" version"); code != 0 || out != "dockaudit v9.9.9-it\n" {
		t.Errorf("version in the image: exit %d, %q, %q", code, out, errs)
	}
	if out, _, _ := sh(repo, "docker image inspect -f '{{index .Config.Labels \"org.opencontainers.image.version\"}}' "+tag); strings.TrimSpace(out) != "v9.9.9-it" {
		t.Errorf("label org.opencontainers.image.version = %q", out)
	}

	findings := func(out string) (*report.Report, []string) {
		t.Helper()
		var rep report.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		var s []string
		for _, f := range rep.Findings {
			s = append(s, f.Rule+" "+f.Status.String()+" "+f.Target.String()+": "+f.Message)
		}
		return &rep, s
	}
	same := func(what, dir, line string, binArgs ...string) *report.Report {
		t.Helper()
		out, errs, code := sh(dir, line)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", line, code, errs)
		}
		rep, got := findings(out)
		bin := exec.Command(binary, binArgs...)
		bin.Dir = dir
		bout, err := bin.Output()
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() != 0 {
			t.Fatalf("dockaudit %v: %v\n%s", binArgs, err, ee.Stderr)
		}
		if _, want := findings(string(bout)); !cmp.Equal(want, got) || len(want) == 0 {
			t.Errorf("%s: the image's report differs from the binary's (-binary +image):\n%s", what, cmp.Diff(want, got))
		}
		return rep
	}
	flags := " --format json --fail-on none --include "
	hostRules := "CIS-2,CIS-3,CIS-5.5,CIS-5.10"
	rep := same("host", repo, lines[1]+flags+hostRules, "host", "--format", "json", "--fail-on", "none", "--include", hostRules)
	if !slices.ContainsFunc(rep.Context.Notes, func(n string) bool { return strings.HasSuffix(n, "is dockaudit itself and was not audited") }) {
		t.Errorf("the host report does not say it left its own container out: %q", rep.Context.Notes)
	}
	imageRules := "IMG-ROOT-USER,IMG-SETUID,SECRET-FILE,IMG-LATEST-TAG"
	same("image", repo, lines[2]+flags+imageRules, "image", "--format", "json", "--fail-on", "none", "--include", imageRules, target)
	// Named as the README mounts it, so the Compose project name (the directory's) is
	// the same on both sides.
	proj := filepath.Join(t.TempDir(), "src")
	os.Mkdir(proj, 0o755)
	os.WriteFile(filepath.Join(proj, "Dockerfile"), []byte("FROM debian:12\nRUN apt-get update\nCOPY . /app\n"), 0o644)
	os.WriteFile(filepath.Join(proj, ".env"), []byte("API_TOKEN=ghp_0123456789abcdefghijABCDEFGHIJ012345\n"), 0o644)
	os.WriteFile(filepath.Join(proj, "compose.yaml"), []byte("services:\n  web:\n    build: .\n    privileged: true\n"), 0o644)
	same("config", proj, lines[3]+" --format json --fail-on none", "config", "--format", "json", "--fail-on", "none")

	// serve: on the host's network, with the README's database.
	if l, err := net.Listen("tcp", "127.0.0.1:8080"); err != nil {
		testenv.Missing(t, "127.0.0.1:8080 is taken: the README's service address")
	} else {
		l.Close()
	}
	os.WriteFile(filepath.Join(repo, "serve.yaml"), []byte("advisories:\n  update: 6h\n"), 0o644)
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := exec.Command("docker", "logs", "--tail", "30", "dockaudit-serve").CombinedOutput()
			t.Logf("serve:\n%s", out)
		}
		exec.Command("docker", "rm", "-f", "dockaudit-serve").Run()
		exec.Command("docker", "volume", "rm", "dockaudit-data").Run()
	})
	if _, errs, code := sh(repo, lines[4]); code != 0 {
		t.Fatalf("%s: exit %d\n%s", lines[4], code, errs)
	}
	eventually(t, "the service in the image answers", 60*time.Second, func() bool { return healthy("http://127.0.0.1:8080") })
}
