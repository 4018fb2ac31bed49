package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/finding"
	"github.com/dockaudit/dockaudit/internal/report"
	"github.com/dockaudit/dockaudit/internal/testenv"
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
	want["CONTEXT-SECRET"] = "pass" // its context: busybox and the Dockerfile, no credential file
	if d := cmp.Diff(want, config); d != "" {
		t.Errorf("dockaudit config (-want +got):\n%s", d)
	}
}

// TestConfigComposeMatchesHost brings Compose files up with Debian's docker-compose
// (1.29.2, so the files keep to what it reads; --compatibility for deploy) on the real
// daemon, then compares, service by service, what dockaudit config says of the file
// with what dockaudit host says of the containers: every rule both decide (neither
// skips) must agree.
func TestConfigComposeMatchesHost(t *testing.T) {
	need(t)
	if _, err := exec.LookPath("docker-compose"); err != nil {
		testenv.Missing(t, "no docker-compose (apt-get install docker-compose)")
	}
	dir := busyboxContext(t, `CMD ["/bin/busybox", "sleep", "600"]`+"\n")
	dockerBuild(t, dir, "dockaudit-it-parity:1")
	// A privileged container cannot start in this sandbox (runc may not apply its
	// capabilities): bad is created, the others run, and host reads all of them.
	// (docker-compose 1.29.2 here creates network_mode: "service:X" and pid:
	// "service:X" without them, unlike docker compose v2: those joins are tested
	// without a daemon, in internal/app.)
	compared := composeParity(t, dir, "daparity", nil, []string{"good", "open"}, `version: "2.4"
services:
  bad:
    image: dockaudit-it-parity:1
    user: "0"
    privileged: true
    pid: host
    ipc: host
    cap_add: [SYS_ADMIN]
    security_opt: ["seccomp:unconfined"]
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
      - /etc:/host-etc:ro
    restart: always
  good:
    image: dockaudit-it-parity:1
    user: "10001"
    read_only: true
    mem_limit: 64m
    cpus: 0.5
    pids_limit: 50
    cap_drop: [ALL]
    security_opt: ["no-new-privileges:true"]
    ports: ["127.0.0.1:18091:80"]
    restart: on-failure:3
    healthcheck:
      test: ["CMD", "/bin/busybox", "true"]
  open:
    image: dockaudit-it-parity:1
    network_mode: bridge
    ports: ["18092:80"]
    devices: ["/dev/null:/dev/xnull"]
`)
	// What the file alone decides, so the comparison cannot pass empty.
	for _, k := range []string{"bad CIS-4.1 fail", "bad CIS-5.5 fail", "bad CIS-5.6 fail", "bad CIS-5.16 fail", "bad CIS-5.17 fail",
		"bad CIS-5.22 fail", "bad CIS-5.32 fail", "bad CONFINE-SECCOMP fail", "bad CONFINE-CAPS fail", "good CIS-4.1 pass", "good CIS-5.11 pass",
		"good CIS-5.12 pass", "good CIS-5.13 pass", "good CIS-5.14 pass", "good CIS-5.15 pass", "good CIS-5.29 pass", "good CIS-5.27 pass",
		"open CIS-5.14 fail", "open CIS-5.18 warn", "open CIS-5.30 fail"} {
		if !slices.Contains(compared, k) {
			t.Errorf("not decided alike on both sides: %s", k)
		}
	}
	compared = composeParity(t, dir, "daparity3", []string{"--compatibility"}, []string{"limited", "unlimited"}, `version: "3.8"
services:
  limited:
    image: dockaudit-it-parity:1
    deploy:
      resources: {limits: {memory: 64M, cpus: "0.5"}}
      restart_policy: {condition: on-failure, max_attempts: 2}
  unlimited:
    image: dockaudit-it-parity:1
    deploy: {restart_policy: {condition: any}}
`)
	for _, k := range []string{"limited CIS-5.11 pass", "limited CIS-5.12 pass", "limited CIS-5.15 pass", "unlimited CIS-5.11 fail", "unlimited CIS-5.12 fail", "unlimited CIS-5.15 fail"} {
		if !slices.Contains(compared, k) {
			t.Errorf("deploy: not decided alike on both sides: %s", k)
		}
	}
}

// composeParity brings a Compose file up as project (created; start the services
// named), audits it with host and with config, fails on every (service, rule) both
// decide differently, and returns those decided alike, sorted.
func composeParity(t *testing.T, dir, project string, flags, start []string, yml string) []string {
	t.Helper()
	file := filepath.Join(dir, project+".yml")
	os.WriteFile(file, []byte(yml), 0o644)
	base := append(append([]string{}, flags...), "-p", project, "-f", file)
	compose := func(args ...string) {
		t.Helper()
		out, err := exec.Command("docker-compose", append(slices.Clone(base), args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("docker-compose %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	t.Cleanup(func() { exec.Command("docker-compose", append(slices.Clone(base), "down", "-v")...).Run() })
	compose("up", "--no-start")
	compose(append([]string{"start"}, start...)...)

	rules := "CIS-4.1,runtime,CONFINE-SECCOMP,CONFINE-CAPS,CONFINE-NNP"
	bySvc := func(rep *report.Report, name func(string) (string, bool)) map[string]string {
		out := map[string]string{}
		for _, f := range rep.Findings {
			if svc, ok := name(f.Target.Name); ok && f.Target.Kind == finding.KindContainer {
				out[svc+" "+f.Rule] = f.Status.String()
			}
		}
		return out
	}
	host := bySvc(jsonReport(t, nil, "host", "--all", "--fail-on", "none", "--include", rules), func(n string) (string, bool) {
		svc, ok := strings.CutPrefix(n, project+"_")
		return strings.TrimSuffix(svc, "_1"), ok // docker-compose 1.x names PROJECT_SERVICE_1
	})
	config := bySvc(jsonReport(t, nil, "config", "--fail-on", "none", "--include", rules, "--project-name", project, "--compose-file", file), func(n string) (string, bool) {
		svc, ok := strings.CutPrefix(n, project+"-")
		return strings.TrimSuffix(svc, "-1"), ok // docker compose v2 names PROJECT-SERVICE-1
	})
	var compared []string
	for k, c := range config {
		h, ok := host[k]
		if !ok {
			t.Errorf("%s: config says %s, host has no finding", k, c)
			continue
		}
		if c == "skip" || h == "skip" {
			continue
		}
		compared = append(compared, k+" "+c)
		if c != h {
			t.Errorf("%s %s: config %s, host %s", project, k, c, h)
		}
	}
	slices.Sort(compared)
	t.Logf("%s: %d (service, rule) pairs decided by both: %v", project, len(compared), compared)
	return compared
}
