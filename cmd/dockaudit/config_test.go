package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestConfigCommand: dockaudit config finds the Dockerfiles under a directory (not
// through symbolic links, not in .git), judges each with the image rules at its lines,
// notes a linked one it does not follow, and makes a Dockerfile that does not parse
// an error naming its line (exit 1); a path that is not there, or holds no Dockerfile,
// is a usage error.
func TestConfigCommand(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "svc", ".git"), 0o755)
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM debian:12\nRUN apt-get update\n  ADD https://example.com/t.tgz /opt/\nUSER 10001\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "svc", "api.Dockerfile"), []byte("FROM scratch\nCOPY app /app\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "svc", ".git", "Dockerfile"), []byte("FROB\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte("services: {}\n"), 0o644)
	os.Symlink("/etc/passwd", filepath.Join(dir, "svc", "Dockerfile.link"))
	os.WriteFile(filepath.Join(dir, "Dockerfile.md"), []byte("# how to build\n"), 0o644)
	code, out, errs := runCLI(t, nil, "config", "--format", "json", "--include", "CIS-4.7,CIS-4.9,IMG-ROOT-USER", dir)
	var r struct {
		Context  struct{ Notes []string }
		Targets  []struct{ Name string }
		Findings []struct {
			Rule, Status, Message string
			Target                struct{ Name string }
			Location              *struct {
				Path         string
				Line, Column int
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 || errs != "" {
		t.Fatalf("exit %d, %v, stderr %q\n%s", code, err, errs, out)
	}
	df, api := filepath.Join(dir, "Dockerfile"), filepath.Join(dir, "svc", "api.Dockerfile")
	var got []string
	for _, f := range r.Findings {
		s := f.Rule + " " + f.Status + " " + strings.TrimPrefix(f.Target.Name, dir+"/") + ": " + f.Message
		if l := f.Location; l != nil {
			s += " @" + strings.TrimPrefix(l.Path, dir+"/") + ":" + strconv.Itoa(l.Line) + ":" + strconv.Itoa(l.Column)
		}
		got = append(got, s)
	}
	want := []string{
		"CIS-4.7 warn Dockerfile: line 2 runs apt-get update without installing in the same step @Dockerfile:2:1",
		"CIS-4.7 pass svc/api.Dockerfile: none of its 2 history steps updates package indexes alone",
		"CIS-4.9 warn Dockerfile: line 3 uses ADD https://example.com/t.tgz @Dockerfile:3:3",
		"CIS-4.9 pass svc/api.Dockerfile: no history step after the base layer uses ADD",
		"IMG-ROOT-USER pass Dockerfile: runs as 10001",
		"IMG-ROOT-USER fail svc/api.Dockerfile: runs as root @svc/api.Dockerfile:1:1",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
	if len(r.Targets) != 2 || r.Targets[0].Name != df && r.Targets[1].Name != df || r.Targets[0].Name != api && r.Targets[1].Name != api {
		t.Errorf("targets: %+v", r.Targets)
	}
	wantNotes := []string{
		filepath.Join(dir, "svc", "Dockerfile.link") + ": a symbolic link, not followed (name its target to audit it)",
	}
	if d := cmp.Diff(wantNotes, r.Context.Notes); d != "" {
		t.Errorf("notes (-want +got):\n%s", d)
	}
	// A Dockerfile that does not parse: an error at its line, exit 1.
	bad := filepath.Join(t.TempDir(), "Dockerfile")
	os.WriteFile(bad, []byte("FROM debian\nFROB x\n"), 0o644)
	if code, _, errs := runCLI(t, nil, "config", bad); code != 1 || errs != "dockaudit config: "+bad+": line 2: unknown instruction: FROB (did you mean FROM?)\n" {
		t.Errorf("a bad Dockerfile: exit %d, stderr %q", code, errs)
	}
	// A FIFO found as a Dockerfile is refused unread (exit 1); the report may not
	// replace a Dockerfile the run reads.
	fifoDir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(fifoDir, "x.Dockerfile"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI(t, nil, "config", fifoDir); code != 1 || !strings.Contains(errs, "x.Dockerfile") || !strings.Contains(errs, "a FIFO") {
		t.Errorf("a FIFO: exit %d, stderr %q", code, errs)
	}
	before, _ := os.ReadFile(api)
	if code, _, errs := runCLI(t, nil, "config", "-o", api, dir); code != 2 || errs != "dockaudit config: --output "+api+" is also an input of this run ("+api+"): the report would replace it\n" {
		t.Errorf("-o onto a Dockerfile: exit %d, stderr %q", code, errs)
	}
	if after, _ := os.ReadFile(api); string(after) != string(before) {
		t.Errorf("the Dockerfile was replaced: %q", after)
	}
	for _, tc := range []struct{ arg, want string }{
		{"/nonexistent", "dockaudit config: stat /nonexistent: no such file or directory\n"},
		{t.TempDir(), "dockaudit config: no Dockerfile or Compose file in "},
	} {
		if code, out, errs := runCLI(t, nil, "config", tc.arg); code != 2 || out != "" || !strings.HasPrefix(errs, tc.want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q", tc.arg, code, errs)
		}
	}
}

// TestConfigComposeFlags: docker compose's own options reach the loader (--compose-file
// merged in order, --env-file, --profile, --project-name), and a project whose files
// cannot be read safely is exit 1 with one line on stderr.
func TestConfigComposeFlags(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "base.yml"), []byte("services:\n  web:\n    image: \"nginx:${TAG}\"\n  dbg:\n    image: busybox:1\n    profiles: [debug]\n    privileged: true\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "prod.yml"), []byte("services:\n  web:\n    network_mode: host\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "prod.env"), []byte("TAG=1.27\n"), 0o644)
	code, out, errs := runCLI(t, nil, "config", "--format", "json", "--include", "CIS-4.1,CIS-5.5,CIS-5.10", "--compose-file", filepath.Join(dir, "base.yml"),
		"--compose-file", filepath.Join(dir, "prod.yml"), "--env-file", filepath.Join(dir, "prod.env"), "--profile", "debug", "--project-name", "shop")
	var r struct {
		Findings []struct {
			Rule, Status, Message string
			Target                struct{ Name string }
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 3 || errs != "" {
		t.Fatalf("exit %d, %v, stderr %q\n%s", code, err, errs, out)
	}
	var got []string
	for _, f := range r.Findings {
		got = append(got, f.Rule+" "+f.Status+" "+f.Target.Name+": "+f.Message)
	}
	want := []string{
		"CIS-4.1 skip shop-dbg-1: not known: the service sets no user: and its image busybox:1 decides it, which dockaudit config does not read (set user:, or audit the image with dockaudit image)",
		"CIS-4.1 skip shop-web-1: not known: the service sets no user: and its image nginx:1.27 decides it, which dockaudit config does not read (set user:, or audit the image with dockaudit image)",
		"CIS-5.5 fail shop-dbg-1: runs privileged: every capability, every device, no seccomp or LSM confinement",
		"CIS-5.5 pass shop-web-1: not privileged",
		"CIS-5.10 pass shop-dbg-1: has its own network namespace",
		"CIS-5.10 fail shop-web-1: shares the host's network namespace",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
	fifo := t.TempDir()
	os.WriteFile(filepath.Join(fifo, "compose.yaml"), []byte("services:\n  web:\n    image: x\n"), 0o644)
	if err := syscall.Mkfifo(filepath.Join(fifo, ".env"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI(t, nil, "config", fifo); code != 1 || errs != "dockaudit config: "+filepath.Join(fifo, "compose.yaml")+": "+filepath.Join(fifo, ".env")+": the env file is a FIFO, not a regular file\n" {
		t.Errorf("a FIFO .env: exit %d, stderr %q", code, errs)
	}
}
