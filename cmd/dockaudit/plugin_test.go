package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const tlsRefused = "TLS without verifying the daemon's certificate (--tls, --tlsverify=false or DOCKER_TLS without DOCKER_TLS_VERIFY): dockaudit verifies it; use --tlsverify (with --tlscacert) or a context"

func TestPluginArgs(t *testing.T) {
	certs := t.TempDir()
	for _, tc := range []struct {
		args    []string
		getenv  map[string]string
		want    []string
		env     map[string]string
		wantErr string
	}{
		{args: []string{"audit", "host", "--format", "json"}, want: []string{"host", "--format", "json"}, env: map[string]string{}},
		{args: []string{"--context", "prod", "audit", "image", "x"}, want: []string{"image", "x"}, env: map[string]string{"DOCKER_CONTEXT": "prod", "DOCKER_HOST": ""}},
		{args: []string{"-H", "tcp://h:2376", "--tlsverify", "--config", "/c", "audit", "host"}, want: []string{"host"},
			env: map[string]string{"DOCKER_HOST": "tcp://h:2376", "DOCKER_CONTEXT": "", "DOCKER_TLS_VERIFY": "1", "DOCKER_CONFIG": "/c"}},
		{args: []string{"--tlscacert", filepath.Join(certs, "ca.pem"), "--tlscert", filepath.Join(certs, "cert.pem"), "--tlskey", filepath.Join(certs, "key.pem"), "-D", "audit", "host"},
			want: []string{"host"}, env: map[string]string{"DOCKER_CERT_PATH": certs, "DOCKER_TLS_VERIFY": "1"}},
		{args: []string{"--tlscert", "/a/client.crt", "audit", "host"}, wantErr: "--tlscacert, --tlscert and --tlskey must be ca.pem, cert.pem and key.pem in one directory (dockaudit reads them as DOCKER_CERT_PATH): got /a/client.crt"},
		// Several wrong: the first in flag order is named, every time.
		{args: []string{"--tlskey", "/a/k.key", "--tlscacert", "/a/ca.crt", "--tlscert", "/a/c.crt", "audit", "host"}, wantErr: "--tlscacert, --tlscert and --tlskey must be ca.pem, cert.pem and key.pem in one directory (dockaudit reads them as DOCKER_CERT_PATH): got /a/ca.crt"},
		{args: []string{"--tls", "-H", "tcp://h:2376", "audit", "host"}, wantErr: tlsRefused},
		{args: []string{"--tlsverify=false", "-H", "tcp://h:2376", "audit", "host"}, wantErr: tlsRefused},
		{args: []string{"-H", "tcp://h:2376", "audit", "host"}, getenv: map[string]string{"DOCKER_TLS": "1"}, wantErr: tlsRefused},
		{args: []string{"--tlsverify=false", "audit", "host"}, getenv: map[string]string{"DOCKER_TLS_VERIFY": "1"}, wantErr: tlsRefused},
		// --tls with DOCKER_TLS_VERIFY set verifies, as the docker CLI does.
		{args: []string{"--tls", "-H", "tcp://h:2376", "audit", "host"}, getenv: map[string]string{"DOCKER_TLS_VERIFY": "1"}, want: []string{"host"},
			env: map[string]string{"DOCKER_HOST": "tcp://h:2376", "DOCKER_CONTEXT": "", "DOCKER_TLS_VERIFY": "1"}},
		{args: []string{"-H", "x", "--context", "y", "audit", "host"}, wantErr: "--host and --context cannot both be given (as in the docker CLI)"},
		{args: []string{"host"}, wantErr: "run as a docker CLI plugin, expected `docker [flags] audit COMMAND`, got \"host\""},
		{args: []string{"--bogus", "audit"}, wantErr: "docker's global flags: flag provided but not defined: -bogus"},
	} {
		env := map[string]string{}
		got, err := pluginArgs(tc.args, func(k string) string { return tc.getenv[k] }, func(k, v string) { env[k] = v })
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("%v: error %v, want %q", tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%v: args (-want +got):\n%s", tc.args, d)
		}
		if d := cmp.Diff(tc.env, env); d != "" {
			t.Errorf("%v: environment (-want +got):\n%s", tc.args, d)
		}
	}
	if !isPlugin("/home/u/.docker/cli-plugins/docker-audit") || isPlugin("/usr/bin/dockaudit") {
		t.Error("isPlugin")
	}
	if m := string(pluginMeta()); !strings.HasPrefix(m, `{"SchemaVersion":"0.1.0",`) || !strings.Contains(m, `"Vendor":"dockaudit"`) {
		t.Errorf("metadata %s", m)
	}
}

// TestPluginInstall: the link is made, kept when it is there already, and anything
// else in its place is left alone.
func TestPluginInstall(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cli-plugins")
	self := filepath.Join(t.TempDir(), "dockaudit")
	os.WriteFile(self, []byte("#!/bin/sh\n"), 0o755)
	for range 2 {
		link, err := installPlugin(self, dir)
		if err != nil || link != filepath.Join(dir, "docker-audit") {
			t.Fatalf("install: %s, %v", link, err)
		}
		if to, _ := os.Readlink(link); to != self {
			t.Errorf("links to %s", to)
		}
	}
	os.Remove(filepath.Join(dir, "docker-audit"))
	os.WriteFile(filepath.Join(dir, "docker-audit"), []byte("someone else's"), 0o755)
	if _, err := installPlugin(self, dir); err == nil || err.Error() != filepath.Join(dir, "docker-audit")+" exists and is not a link to "+self+": remove it first" {
		t.Errorf("over a file: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "docker-audit")); string(b) != "someone else's" {
		t.Error("the file was replaced")
	}
	// Through the CLI: DOCKER_CONFIG decides the user's directory.
	cfg := t.TempDir()
	code, out, errs := runCLI(t, map[string]string{"DOCKER_CONFIG": cfg}, "plugin", "install")
	if code != 0 || !strings.HasPrefix(out, filepath.Join(cfg, "cli-plugins", "docker-audit")+" -> ") || errs != "" {
		t.Errorf("plugin install: exit %d, %q, %q", code, out, errs)
	}
	if code, _, _ := runCLI(t, nil, "plugin", "install", "--system", "--dir", cfg); code != 2 {
		t.Errorf("--system with --dir: exit %d", code)
	}
	// --system links only a binary no one but root can change.
	writable := filepath.Join(t.TempDir(), "sub")
	os.Mkdir(writable, 0o777)
	os.Chmod(writable, 0o777)
	bin := filepath.Join(writable, "dockaudit")
	os.WriteFile(bin, nil, 0o755)
	if err := rootOnly(bin); err == nil || !strings.Contains(err.Error(), writable+" is not root's alone") {
		t.Errorf("a binary in a world-writable directory: %v", err)
	}
	if err := rootOnly("/usr/bin/env"); err != nil {
		t.Errorf("/usr/bin/env: %v", err)
	}
}
