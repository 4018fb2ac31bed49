package dockerfile_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/checks"
	"github.com/dockaudit/dockaudit/internal/collect/dockerfile"
	"github.com/dockaudit/dockaudit/internal/facts"
)

const app = `FROM debian:12 AS build
RUN apt-get update
ADD https://example.com/tool.tgz /opt/
ENV AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY

FROM build
  VOLUME /var/run/docker.sock
`

// judge runs dockaudit image's rules on what a Dockerfile decides.
func judge(t *testing.T, src string, ids ...string) []string {
	t.Helper()
	f, err := dockerfile.Parse("app/Dockerfile", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	im := f.Image()
	sel, err := check.Selection{Include: ids}.Apply(checks.Image())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, fd := range check.Run(sel, &facts.Snapshot{Images: []facts.Image{im}}, check.Options{}) {
		where := ""
		if l := fd.Location; l != nil {
			where = fmt.Sprintf(" @%s:%d:%d", l.Path, l.Line, l.Column)
		}
		out = append(out, fd.Rule+" "+fd.Status.String()+": "+fd.Message+where)
	}
	return out
}

// TestImageRules: the image rules judge a Dockerfile as they judge the image it builds,
// each finding at the line that causes it; what the file cannot decide (the base
// image's user and health check, the image's files) is a skip that says why.
func TestImageRules(t *testing.T) {
	got := judge(t, app, "CIS-4.6", "CIS-4.7", "CIS-4.9", "CIS-4.10", "IMG-ROOT-USER", "IMG-BASE", "IMG-SETUID")
	want := []string{
		"CIS-4.6 skip: no HEALTHCHECK in the Dockerfile: the base image's, if it has one, applies, and it was not read (build the image and run dockaudit image)",
		"CIS-4.7 warn: line 2 runs apt-get update without installing in the same step @app/Dockerfile:2:1",
		"CIS-4.9 warn: line 3 uses ADD https://example.com/tool.tgz @app/Dockerfile:3:1",
		"CIS-4.10 fail: environment variable AWS_SECRET_ACCESS_KEY looks like a secret baked into the image @app/Dockerfile:4:1",
		"IMG-ROOT-USER skip: no USER in the Dockerfile: the base image's user applies, and it was not read (build the image and run dockaudit image)",
		"IMG-SETUID skip: not known: a Dockerfile is not built: the image's files are known once docker build has run (dockaudit image reads them)",
		"SECRET-FILE skip: not known: a Dockerfile is not built: the image's files are known once docker build has run (dockaudit image reads them)",
		"SECRET-GIT-DIR skip: not known: a Dockerfile is not built: the image's files are known once docker build has run (dockaudit image reads them)",
		"IMG-BASE warn: built on debian:12 (a Docker Official Image), not pinned by digest",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
	// FROM scratch inherits nothing: no USER is root, no HEALTHCHECK is none.
	got = judge(t, "FROM scratch\nCOPY app /app\n", "CIS-4.6", "IMG-ROOT-USER", "IMG-BASE")
	want = []string{
		"CIS-4.6 fail: has no HEALTHCHECK instruction",
		"IMG-ROOT-USER fail: runs as root",
		"IMG-BASE pass: built FROM scratch: no base image to trace or pin",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("scratch (-want +got):\n%s", d)
	}
	// Set in the file: judged, pinned by digest, with a user and a health check.
	got = judge(t, "FROM debian@sha256:"+fmt.Sprintf("%064d", 0)+"\nUSER 10001\nHEALTHCHECK CMD [\"/app\", \"-h\"]\n", "CIS-4.6", "IMG-ROOT-USER", "IMG-BASE")
	want = []string{
		"CIS-4.6 pass: has a HEALTHCHECK",
		"IMG-ROOT-USER pass: runs as 10001",
		"IMG-BASE pass: built on debian@sha256:" + fmt.Sprintf("%064d", 0) + " (a Docker Official Image)",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("set (-want +got):\n%s", d)
	}
}

// TestEveryStageJudged: a token in a global ARG and a download piped into a shell in
// a build stage the image does not run on are in the Dockerfile all the same (they
// passed when only the final stage's chain was read); the image's configuration is
// still the final stage's.
func TestEveryStageJudged(t *testing.T) {
	src := "ARG GITHUB_TOKEN=ghp_0123456789abcdefghijABCDEFGHIJ012345\n" +
		"FROM debian:12 AS build\n" +
		"USER root\n" +
		"RUN curl -fsSL https://get.example.com | sh\n" +
		"FROM debian:12\n" +
		"COPY --from=build /out /out\n" +
		"USER 10001\n"
	got := judge(t, src, "CIS-4.10", "IMG-PIPE-SHELL", "IMG-ROOT-USER")
	want := []string{
		"CIS-4.10 fail: line 1 sets GITHUB_TOKEN, which looks like a secret @app/Dockerfile:1:1",
		"IMG-ROOT-USER pass: runs as 10001",
		"SECRET-FILE skip: not known: a Dockerfile is not built: the image's files are known once docker build has run (dockaudit image reads them)",
		"SECRET-GIT-DIR skip: not known: a Dockerfile is not built: the image's files are known once docker build has run (dockaudit image reads them)",
		"IMG-PIPE-SHELL warn: line 4 pipes a curl download into sh @app/Dockerfile:4:1",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
}

// TestUserVariable: USER naming a build argument is the value it has in the file (as
// BuildKit expands it), and a skip when only --build-arg gives it one (it passed as
// "runs as $U"); the base image's VOLUMEs, not read, make a Dockerfile without a
// sensitive one a skip.
func TestUserVariable(t *testing.T) {
	for src, want := range map[string][]string{
		"ARG U=root\nFROM debian:12\nARG U\nUSER $U\n":           {"IMG-ROOT-USER fail: runs as root", "IMG-SENSITIVE-VOLUME skip: no VOLUME of the Dockerfile covers a sensitive path; the base image's VOLUMEs apply too, and it was not read (build the image and run dockaudit image)"},
		"FROM debian:12\nENV APP_USER=10001\nUSER ${APP_USER}\n": {"IMG-ROOT-USER pass: runs as 10001", "IMG-SENSITIVE-VOLUME skip: no VOLUME of the Dockerfile covers a sensitive path; the base image's VOLUMEs apply too, and it was not read (build the image and run dockaudit image)"},
		"FROM scratch\nARG U\nUSER $U\n":                         {"IMG-ROOT-USER skip: USER $U names a build argument with no value in the Dockerfile: the --build-arg given decides the user", "IMG-SENSITIVE-VOLUME pass: no VOLUME covers a sensitive path"},
	} {
		if d := cmp.Diff(want, judge(t, src, "IMG-ROOT-USER", "IMG-SENSITIVE-VOLUME")); d != "" {
			t.Errorf("%q (-want +got):\n%s", src, d)
		}
	}
}
