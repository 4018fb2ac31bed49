package integration

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestConfigMatchesImage: a Dockerfile read by dockaudit config and the image the real
// docker build makes of it, read by dockaudit image, get the same status from every
// rule both decide (a lone update, ADD, a secret in ENV, the user, the health check, a
// sensitive VOLUME); the rules on the image's files are skips in config.
func TestConfigMatchesImage(t *testing.T) {
	need(t)
	dir := busyboxContext(t, `RUN ["/bin/busybox", "true", "apt-get", "update"]
ADD busybox /bin/sh
ENV API_TOKEN=ghp_0123456789abcdefghijABCDEFGHIJ012345
VOLUME /var/run/docker.sock
USER 10001
HEALTHCHECK CMD ["/bin/busybox", "true"]
`)
	dockerBuild(t, dir, "dockaudit-it-config:1")
	rules := "CIS-4.6,CIS-4.7,CIS-4.9,CIS-4.10,IMG-ROOT-USER,IMG-SENSITIVE-VOLUME"
	statuses := func(args ...string) map[string]string {
		t.Helper()
		rep := jsonReport(t, nil, append([]string{args[0], "--fail-on", "none", "--include", rules}, args[1:]...)...)
		out := map[string]string{}
		for _, f := range rep.Findings {
			if f.Rule != "AUDIT-COLLECT" {
				out[f.Rule] = f.Status.String()
			}
		}
		return out
	}
	image := statuses("image", "dockaudit-it-config:1")
	config := statuses("config", filepath.Join(dir, "Dockerfile"))
	// CIS-4.10 brings the rules on secrets in files along: those need the built
	// image's files, which a Dockerfile does not decide.
	want := map[string]string{"CIS-4.6": "pass", "CIS-4.7": "warn", "CIS-4.9": "warn", "CIS-4.10": "fail", "IMG-ROOT-USER": "pass", "IMG-SENSITIVE-VOLUME": "warn",
		"SECRET-FILE": "pass", "SECRET-GIT-DIR": "pass"}
	if d := cmp.Diff(want, image); d != "" {
		t.Errorf("dockaudit image (-want +got):\n%s", d)
	}
	want["SECRET-FILE"], want["SECRET-GIT-DIR"] = "skip", "skip"
	if d := cmp.Diff(want, config); d != "" {
		t.Errorf("dockaudit config (-want +got):\n%s", d)
	}
}
