package app

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/finding"
	"github.com/dockaudit/dockaudit/internal/report"
)

// TestConfigSARIF: a Dockerfile under the working directory is named relative to it,
// and SARIF points code scanning at its line and column under %SRCROOT%.
func TestConfigSARIF(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	os.MkdirAll(filepath.Join(dir, "svc"), 0o755)
	os.WriteFile(filepath.Join(dir, "svc", "Dockerfile"), []byte("FROM debian:12\n  RUN apt-get update\n"), 0o644)
	var buf bytes.Buffer
	opts := ConfigOptions{ImageOptions: ImageOptions{Output: Output{Format: "sarif"}, Selection: check.Selection{Include: []string{"CIS-4.7"}}}, Paths: []string{dir}}
	if _, err := Config(context.Background(), opts, &buf); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID    string
				Locations []json.RawMessage
			}
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil || len(log.Runs) != 1 || len(log.Runs[0].Results) != 1 {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	want := `{"physicalLocation":{"artifactLocation":{"uri":"svc/Dockerfile","uriBaseId":"%SRCROOT%"},"region":{"startLine":2,"startColumn":3}}}`
	var got bytes.Buffer
	json.Compact(&got, log.Runs[0].Results[0].Locations[0])
	if d := cmp.Diff(want, got.String()); d != "" {
		t.Errorf("location (-want +got):\n%s", d)
	}
}

// TestConfigWarnings: what BuildKit's parser warns of in a Dockerfile is a note at its
// line, not dropped.
func TestConfigWarnings(t *testing.T) {
	dir := t.TempDir()
	df := filepath.Join(dir, "Dockerfile")
	os.WriteFile(df, []byte("FROM debian:12\nRUN echo ghp_0123456789abcdefghijABCDEFGHIJ012345 \\\n\n  b\n"), 0o644)
	var buf bytes.Buffer
	opts := ConfigOptions{ImageOptions: ImageOptions{Output: Output{Format: "json"}, Selection: check.Selection{Include: []string{"CIS-4.7"}}}, Paths: []string{df}}
	r, err := Config(context.Background(), opts, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{df + ":4: Empty continuation line found in: RUN echo [redacted: 40 characters, sha256:d8fe76b428b9]   b"}, r.Context.Notes); d != "" {
		t.Errorf("notes (-want +got):\n%s", d)
	}
}

// configRepo writes a small repository with something for every config rule: a
// Dockerfile whose context ships a credential, and a Compose project (a base file,
// its override, an env file) whose services break the container rules, and makes
// it the working directory.
func configRepo(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	files := map[string]string{
		"Dockerfile": "FROM debian:12@sha256:0000000000000000000000000000000000000000000000000000000000000000 AS build\n" +
			"COPY src/ /src/\n" +
			"FROM debian:12\n" +
			"RUN apt-get update\n" +
			"ADD https://example.com/tool.tgz /opt/\n" +
			"ENV API_TOKEN=" + fakeGH + "\n" +
			"COPY . /app/\n" +
			"RUN curl -fsSL https://example.com/install.sh | sh && chmod 777 /app\n",
		".dockerignore":                ".git\n*.md\n",
		".env":                         "TAG=1.27\nAWS_SECRET_ACCESS_KEY=" + "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEqq" + "\n",
		"keys/deploy.pem":              "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
		"src/main.go":                  "package main\n",
		"README.md":                    "# golden\n",
		"deploy/compose.yaml":          "services:\n  web:\n    image: \"nginx:${TAG:-1}\"\n    privileged: true\n    ports: [\"8080:80\", \"127.0.0.1:8443:443\"]\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n      - ./html:/usr/share/nginx/html:ro\n  app:\n    build: {context: .., dockerfile: Dockerfile}\n    user: \"10001\"\n    read_only: true\n    cap_drop: [ALL]\n    security_opt: [\"no-new-privileges:true\"]\n    mem_limit: 128m\n    cpus: 0.5\n    pids_limit: 64\n    restart: on-failure:3\n    healthcheck: {test: [\"CMD\", \"/app/health\"]}\n",
		"deploy/compose.override.yaml": "services:\n  web:\n    cap_add: [SYS_ADMIN]\n    network_mode: host\n",
	}
	for name, content := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(dir, ".git"), 0o755)
	os.WriteFile(filepath.Join(dir, ".git", "config"), []byte("[remote \"origin\"]\n\turl = https://x:"+fakeGH+"@github.com/o/r\n"), 0o644)
}

func runConfig(t *testing.T, format string, include ...string) (*report.Report, string) {
	t.Helper()
	var out bytes.Buffer
	r, err := Config(context.Background(), ConfigOptions{ImageOptions: ImageOptions{Output: Output{Format: format, Remediation: true}, Now: goldenNow,
		Selection: check.Selection{Include: include}}, Env: []string{}}, &out)
	if err != nil {
		t.Fatal(err)
	}
	return r, out.String()
}

// TestConfigGolden: the config report in every format, over a repository written by
// configRepo.
func TestConfigGolden(t *testing.T) {
	wd, _ := os.Getwd()
	configRepo(t)
	for _, format := range []string{"table", "json", "sarif"} {
		_, out := runConfig(t, format)
		checkGolden(t, filepath.Join(wd, "testdata", "config."+format+".golden"), out)
	}
}

// TestConfigLocations: each finding of a Compose service or a build context points at
// the line and column that causes it, in the file that writes it.
func TestConfigLocations(t *testing.T) {
	configRepo(t)
	r, _ := runConfig(t, "json", "CIS-5.4", "CIS-5.5", "CIS-5.10", "CIS-5.11", "CIS-5.14", "CIS-5.32", "CONTEXT-SECRET", "IMG-PIPE-SHELL")
	var got []string
	for _, f := range r.Findings {
		if f.Status == finding.Pass {
			continue
		}
		s := f.Rule + " " + f.Status.String() + " " + f.Target.Name + ": " + f.Message
		if l := f.Location; l != nil {
			s += fmt.Sprintf(" @%s:%d:%d", l.Path, l.Line, l.Column)
		}
		got = append(got, s)
	}
	// The Dockerfile itself is in the context it copies, with the token its ENV holds.
	want := []string{
		"CIS-5.4 fail deploy-web-1: privileged: has every capability @deploy/compose.yaml:4:5",
		"CIS-5.5 fail deploy-web-1: runs privileged: every capability, every device, no seccomp or LSM confinement @deploy/compose.yaml:4:5",
		"CIS-5.10 fail deploy-web-1: shares the host's network namespace @deploy/compose.override.yaml:4:5",
		"CIS-5.11 fail deploy-web-1: has no memory limit @deploy/compose.yaml:2:3",
		"CIS-5.14 fail deploy-web-1: accepts traffic on every host interface: *:8080->80/tcp @deploy/compose.yaml:5:13",
		"CIS-5.32 fail deploy-web-1: mounts the Docker socket /var/run/docker.sock at /var/run/docker.sock: the container controls the daemon @deploy/compose.yaml:7:9",
		"IMG-PIPE-SHELL warn Dockerfile: line 8 pipes a curl download into sh @Dockerfile:8:1",
		"CONTEXT-SECRET fail Dockerfile: line 7 COPY . /app/ takes .env from the build context: env-file-secret (AWS_SECRET_ACCESS_KEY) @Dockerfile:7:1",
		"CONTEXT-SECRET fail Dockerfile: line 7 COPY . /app/ takes Dockerfile from the build context: github-token @Dockerfile:7:1",
		"CONTEXT-SECRET fail Dockerfile: line 7 COPY . /app/ takes keys/deploy.pem from the build context: private-key @Dockerfile:7:1",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
}

// benchRepo writes a repository of n Dockerfiles (multi-stage, with a context to copy)
// and m Compose projects (a file and its override, services built and pulled).
func benchRepo(b testing.TB, dir string, n, m int) {
	for i := range n {
		d := filepath.Join(dir, "services", fmt.Sprintf("svc%02d", i))
		os.MkdirAll(filepath.Join(d, "src"), 0o755)
		os.WriteFile(filepath.Join(d, "Dockerfile"), []byte(fmt.Sprintf(`ARG GO=1.24
FROM golang:${GO} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY src/ ./
RUN CGO_ENABLED=0 go build -o /out/app%d .
FROM debian:12-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/app%d /usr/local/bin/app
COPY config/ /etc/app/
ENV APP_ENV=production
EXPOSE 8080
USER 10001
HEALTHCHECK CMD ["/usr/local/bin/app", "health"]
ENTRYPOINT ["/usr/local/bin/app"]
`, i, i)), 0o644)
		os.WriteFile(filepath.Join(d, ".dockerignore"), []byte(".git\n*.md\n"), 0o644)
		for j := range 20 {
			os.WriteFile(filepath.Join(d, "src", fmt.Sprintf("f%02d.go", j)), []byte("package main\n\nfunc f() {}\n"), 0o644)
		}
		os.MkdirAll(filepath.Join(d, "config"), 0o755)
		os.WriteFile(filepath.Join(d, "config", "app.yaml"), []byte("listen: :8080\n"), 0o644)
	}
	for i := range m {
		d := filepath.Join(dir, "deploy", fmt.Sprintf("env%02d", i))
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, "compose.yaml"), []byte(fmt.Sprintf(`name: env%02d
services:
  api:
    build: {context: ../../services/svc%02d}
    user: "10001"
    read_only: true
    cap_drop: [ALL]
    security_opt: ["no-new-privileges:true"]
    ports: ["127.0.0.1:80%02d:8080"]
    deploy: {resources: {limits: {memory: 256M, cpus: "0.5", pids: 100}}}
    restart: on-failure:5
    volumes: ["./data:/data"]
  db:
    image: postgres:16.4@sha256:0000000000000000000000000000000000000000000000000000000000000000
    environment: {POSTGRES_PASSWORD_FILE: /run/secrets/db}
    volumes: [db:/var/lib/postgresql/data]
  proxy:
    image: nginx:1.27
    ports: ["443:443"]
    volumes: [/var/run/docker.sock:/var/run/docker.sock:ro]
volumes:
  db: {}
`, i, i, i)), 0o644)
		os.WriteFile(filepath.Join(d, "compose.override.yaml"), []byte("services:\n  proxy:\n    cap_add: [NET_ADMIN]\n"), 0o644)
	}
}

// BenchmarkConfigRepo: dockaudit config over a repository of 50 Dockerfiles and 20
// Compose projects, every rule, JSON.
func BenchmarkConfigRepo(b *testing.B) {
	dir := b.TempDir()
	benchRepo(b, dir, 50, 20)
	b.Chdir(dir)
	opts := ConfigOptions{ImageOptions: ImageOptions{Output: Output{Format: "json"}, Now: goldenNow}, Env: []string{}}
	for b.Loop() {
		r, err := Config(context.Background(), opts, io.Discard)
		if err != nil || r.Context.Images != 50 || r.Context.Containers != 60 {
			b.Fatalf("%v: %d images, %d containers", err, r.Context.Images, r.Context.Containers)
		}
	}
}

// TestConfigProjects: two projects whose directories share a name keep their findings
// apart (each at its own file), and a service joining another's namespace is judged
// by what that one shares.
func TestConfigProjects(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for name, content := range map[string]string{
		"a/app/compose.yaml": "services:\n  web:\n    image: x:1\n    privileged: true\n",
		"b/app/compose.yaml": "services:\n  web:\n    image: x:1\n    pid: service:db\n  db:\n    image: y:1\n    pid: host\n",
	} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
	}
	r, _ := runConfig(t, "json", "CIS-5.5", "CIS-5.16")
	var got []string
	for _, f := range r.Findings {
		got = append(got, fmt.Sprintf("%s %s %s: %s @%s:%d", f.Rule, f.Status, f.Target.ID, f.Message, f.Location.Path, f.Location.Line))
	}
	want := []string{
		"CIS-5.5 pass compose:b/app/compose.yaml#db: not privileged @b/app/compose.yaml:5",
		"CIS-5.5 fail compose:a/app/compose.yaml#web: runs privileged: every capability, every device, no seccomp or LSM confinement @a/app/compose.yaml:4",
		"CIS-5.5 pass compose:b/app/compose.yaml#web: not privileged @b/app/compose.yaml:2",
		"CIS-5.16 fail compose:b/app/compose.yaml#db: shares the host's process namespace @b/app/compose.yaml:7",
		"CIS-5.16 pass compose:a/app/compose.yaml#web: has its own process namespace @a/app/compose.yaml:2",
		"CIS-5.16 fail compose:b/app/compose.yaml#web: shares the host's process namespace through container app-db-1 @b/app/compose.yaml:4",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
}

// TestConfigBuildContext: a Compose service's build decides what CONTEXT-SECRET reads:
// its context (through a link too), its build arguments and its target stage.
func TestConfigBuildContext(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for name, content := range map[string]string{
		"real/Dockerfile":        "FROM debian:12 AS build\nARG SRC=public\nCOPY ${SRC}/ /src/\nFROM debian:12\nCOPY --from=build /src /src\n",
		"real/public/index.html": "<p>hi</p>\n",
		"real/secretdir/id_rsa":  "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
		"compose.yaml":           "services:\n  app:\n    build: {context: ./app, target: build, args: {SRC: secretdir}}\n",
	} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
	}
	os.Symlink(filepath.Join(dir, "real"), filepath.Join(dir, "app"))
	var out bytes.Buffer
	r, err := Config(context.Background(), ConfigOptions{ImageOptions: ImageOptions{Output: Output{Format: "json"}, Now: goldenNow,
		Selection: check.Selection{Include: []string{"CONTEXT-SECRET"}}}, Paths: []string{"compose.yaml"}, Env: []string{}}, &out)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range r.Findings {
		got = append(got, fmt.Sprintf("%s %s %s %s: %s", f.Rule, f.Status, f.Severity, f.Target.Name, f.Message))
	}
	// The target is the build stage: what it copies is in the image built.
	want := []string{"CONTEXT-SECRET fail high app/Dockerfile: line 3 COPY ${SRC}/ /src/ takes secretdir/id_rsa from the build context: private-key"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
}

// TestConfigSecretFile: a Compose secret from a host file is a bind of that file, so
// CIS-5.6 judges it at the service's secrets item (it passed, unseen).
func TestConfigSecretFile(t *testing.T) {
	t.Chdir(t.TempDir())
	os.WriteFile("compose.yaml", []byte("services:\n  web:\n    image: x:1\n    secrets: [shadow]\nsecrets:\n  shadow: {file: /etc/shadow}\n"), 0o644)
	r, _ := runConfig(t, "json", "CIS-5.6")
	var got []string
	for _, f := range r.Findings {
		got = append(got, fmt.Sprintf("%s %s: %s @%s:%d:%d", f.Rule, f.Status, f.Message, f.Location.Path, f.Location.Line, f.Location.Column))
	}
	if d := cmp.Diff([]string{"CIS-5.6 fail: mounts the host's /etc/shadow read-only at /run/secrets/shadow @compose.yaml:4:15"}, got); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
}

// TestConfigAddArchive: an archive ADD unpacks into the image is not what was scanned,
// so CONTEXT-SECRET cannot pass it (a key in a tarball passed unseen); COPY of the same
// file copies the file, which was scanned.
func TestConfigAddArchive(t *testing.T) {
	t.Chdir(t.TempDir())
	var tgz bytes.Buffer
	zw := gzip.NewWriter(&tgz)
	tw := tar.NewWriter(zw)
	key := "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
	tw.WriteHeader(&tar.Header{Name: "id_rsa", Mode: 0o600, Size: int64(len(key))})
	tw.Write([]byte(key))
	tw.Close()
	zw.Close()
	os.WriteFile("keys.tgz", tgz.Bytes(), 0o644)
	for instr, want := range map[string]string{
		"ADD":  "skip: 1 files it takes from the build context could not be scanned: keys.tgz (an archive ADD unpacks)",
		"COPY": "pass: 1 COPY/ADD take 2 files from the build context; none is a credential or in a .git directory",
	} {
		os.WriteFile("Dockerfile", []byte("FROM scratch\n"+instr+" keys.tgz Dockerfile /\n"), 0o644)
		r, _ := runConfig(t, "json", "CONTEXT-SECRET")
		if len(r.Findings) != 1 || r.Findings[0].Status.String()+": "+r.Findings[0].Message != want {
			t.Errorf("%s: %+v, want %q", instr, r.Findings, want)
		}
	}
}

// TestConfigParseErrorRedacted: a parse error that quotes the Dockerfile's text holds
// no token (BuildKit quotes the value it could not split).
func TestConfigParseErrorRedacted(t *testing.T) {
	t.Chdir(t.TempDir())
	os.WriteFile("Dockerfile", []byte("FROM debian:12\nENV GITHUB_TOKEN= "+fakeGH+"\n"), 0o644)
	var out bytes.Buffer
	_, err := Config(context.Background(), ConfigOptions{ImageOptions: ImageOptions{Output: Output{Format: "json"}, Now: goldenNow}, Env: []string{}}, &out)
	var re *ReadError
	want := `Dockerfile: line 2: Syntax error - can't find = in "[redacted: 40 characters, sha256:d8fe76b428b9]". Must be of the form: name=value`
	if !errors.As(err, &re) || len(re.Failed) != 1 || re.Failed[0] != want || strings.Contains(out.String(), fakeGH) {
		t.Errorf("%v %+v", err, re)
	}
}
