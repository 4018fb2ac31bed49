package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProbeUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"endpoint"}, "dockaudit endpoint: name at least one address (see dockaudit endpoint --help)\n"},
		{[]string{"endpoint", "--timeout", "0s", "tcp://x:1"}, "dockaudit endpoint: --timeout 0s: want a positive duration such as 3s\n"},
		{[]string{"endpoint", "--tlscert", "c.pem", "tcp://x:1"}, "dockaudit endpoint: --tlscert and --tlskey go together\n"},
		{[]string{"endpoint", "--tlscacert", "/nonexistent", "tcp://x:1"}, "dockaudit endpoint: --tlscacert: open /nonexistent: no such file or directory\n"},
		{[]string{"registry"}, "dockaudit registry: name at least one registry (see dockaudit registry --help)\n"},
		{[]string{"registry", "--username", "alice", "r:5000"}, "dockaudit registry: --username needs --password-stdin (passwords are never taken as flags)\n"},
		{[]string{"certs"}, "dockaudit certs: --out DIR is required\n"},
		{[]string{"certs", "--out", "/tmp/x"}, "dockaudit certs: name the daemon with --dns and/or --ip: every name and address clients dial\n"},
		{[]string{"certs", "--out", "/tmp/x", "--ip", "not-an-ip"}, "dockaudit certs: --ip \"not-an-ip\" is not an IP address\n"},
		{[]string{"certs", "--out", "/tmp/x", "--dns", "a", "--days", "0"}, "dockaudit certs: --days must be 1 to 825 and --ca-days at least --days and at most 3650\n"},
		{[]string{"certs", "--out", "/tmp/x", "--dns", "a", "--key-type", "dsa"}, "dockaudit certs: --key-type \"dsa\": want ecdsa or rsa\n"},
	} {
		code, out, errs := runCLI(t, nil, tt.args...)
		if code != 2 || out != "" || errs != tt.want {
			t.Errorf("%v: exit %d, stdout %q, stderr %q\nwant %q", tt.args, code, out, errs, tt.want)
		}
	}
	// An unreachable address: an error finding, one line, exit 1.
	code, out, errs := runCLI(t, nil, "endpoint", "--timeout", "1s", "tcp://127.0.0.1:1")
	if code != 1 || !strings.Contains(out, "AUDIT-COLLECT") || errs != "dockaudit endpoint: tcp://127.0.0.1:1: dial tcp 127.0.0.1:1: connect: connection refused\n" {
		t.Errorf("refused: exit %d, %q", code, errs)
	}
}

func TestCertsCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	code, out, errs := runCLI(t, nil, "certs", "--out", dir, "--dns", "docker.internal", "--ip", "10.0.0.5")
	if code != 0 || errs != "" || !strings.Contains(out, `"tlscacert": "`+dir+`/ca.pem"`) || !strings.Contains(out, "export DOCKER_HOST=tcp://docker.internal:2376 DOCKER_TLS_VERIFY=1") ||
		!strings.Contains(out, "Move ca-key.pem off the daemon host") {
		t.Fatalf("exit %d, %q\n%s", code, errs, out)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 6 {
		t.Errorf("%d files", len(entries))
	}
	if code, _, errs := runCLI(t, nil, "certs", "--out", dir, "--dns", "docker.internal"); code != 1 ||
		errs != "dockaudit certs: "+dir+"/ca.pem exists; dockaudit certs never overwrites (choose another --out directory)\n" {
		t.Errorf("second run: exit %d, %q", code, errs)
	}
}
