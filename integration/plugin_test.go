package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/report"
)

// TestDockerCLIPlugin: dockaudit plugin install makes the real docker CLI list the
// plugin as valid and run it as docker audit, with the daemon the docker command names;
// its report is dockaudit's own.
func TestDockerCLIPlugin(t *testing.T) {
	need(t)
	cfg := t.TempDir()
	env := []string{"DOCKER_CONFIG=" + cfg}
	if r := dockaudit(t, env, "plugin", "install"); r.code != 0 || !strings.HasPrefix(r.stdout, cfg+"/cli-plugins/docker-audit -> ") {
		t.Fatalf("plugin install: exit %d, %q, %q", r.code, r.stdout, r.stderr)
	}
	docker := func(args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.Command("docker", args...)
		cmd.Env = append(os.Environ(), env...)
		r := run(t, cmd)
		return r.stdout, r.stderr, r.code
	}
	info, _, _ := docker("info")
	if !strings.Contains(info, "audit: Audit the Docker host, images and build files") || strings.Contains(info, "Invalid Plugins") {
		t.Errorf("docker info does not list the plugin as valid:\n%s", info)
	}
	summary := func(out string) []string {
		t.Helper()
		var rep report.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		var s []string
		for _, f := range rep.Findings {
			s = append(s, f.Rule+" "+f.Status.String()+" "+f.Target.String()+": "+f.Message)
		}
		return s
	}
	args := []string{"host", "--format", "json", "--fail-on", "none", "--include", "CIS-2,CIS-3.1,CIS-3.3"}
	direct := dockaudit(t, env, args...)
	if direct.code != 0 {
		t.Fatalf("dockaudit host: exit %d\n%s", direct.code, direct.stderr)
	}
	want := summary(direct.stdout)
	for _, global := range [][]string{nil, {"--context", "default"}, {"-H", "unix:///var/run/docker.sock"}} {
		out, errs, code := docker(append(append(global, "audit"), args...)...)
		if code != 0 {
			t.Errorf("docker %v audit: exit %d\n%s", global, code, errs)
			continue
		}
		if d := cmp.Diff(want, summary(out)); d != "" {
			t.Errorf("docker %v audit host differs from dockaudit host (-dockaudit +docker audit):\n%s", global, d)
		}
	}
	// A TLS setting dockaudit would not honour is refused, never dropped.
	if _, errs, code := docker("--tls", "-H", "tcp://127.0.0.1:1", "audit", "host"); code != 2 || !strings.Contains(errs, "TLS without verifying the daemon's certificate") {
		t.Errorf("docker --tls audit: exit %d, %q", code, errs)
	}
}
