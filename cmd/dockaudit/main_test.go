package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func runCLI(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := env2(env)
	e.stdout, e.stderr = &out, &errb
	code = run(context.Background(), args, e)
	return code, out.String(), errb.String()
}

func env2(m map[string]string) env {
	return env{getenv: func(k string) string { return m[k] }}
}

const liveFacts = "../../internal/checks/cis/testdata/live.facts.json"

func TestFromFacts(t *testing.T) {
	code, out, errs := runCLI(t, nil, "host", "--from-facts", liveFacts, "--format", "json")
	if code != 3 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	var r struct {
		Command  string
		Findings []struct{ Rule, Status string }
		Summary  struct{ Failing int }
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Command != "host" || len(r.Findings) != 345 || r.Summary.Failing != 14 {
		t.Errorf("command %q, %d findings, %d failing", r.Command, len(r.Findings), r.Summary.Failing)
	}
	// The same facts with a stricter threshold or none.
	if code, _, _ := runCLI(t, nil, "host", "--from-facts", liveFacts, "--fail-on", "critical"); code != 3 {
		t.Errorf("--fail-on critical: exit %d (da-priv is privileged, da-sock mounts the socket)", code)
	}
	if code, _, _ := runCLI(t, nil, "host", "--from-facts", liveFacts, "--fail-on", "none"); code != 0 {
		t.Errorf("--fail-on none: exit %d", code)
	}
	if code, _, _ := runCLI(t, nil, "host", "--from-facts", liveFacts, "--include", "3.15,3.16"); code != 0 {
		t.Errorf("only passing rules: exit %d", code)
	}
}

func TestFromFactsErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{not json"), 0o644)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(dir, "old.json")
	os.WriteFile(old, []byte(`{"schemaVersion": 99}`), 0o644)
	tests := map[string]string{
		filepath.Join(dir, "none.json"): "dockaudit host: read facts: open " + filepath.Join(dir, "none.json") + ": no such file or directory\n",
		fifo:                            "dockaudit host: read facts " + fifo + ": not a regular file\n",
		bad:                             "dockaudit host: read facts " + bad + ": not a dockaudit facts file: invalid character 'n' looking for beginning of object key string\n",
		old:                             "dockaudit host: read facts " + old + ": schema version 99, this dockaudit reads version 2 (write them again with this dockaudit's --save-facts)\n",
	}
	for file, want := range tests {
		code, out, errs := runCLI(t, nil, "host", "--from-facts", file)
		if code != 1 || errs != want || out != "" {
			t.Errorf("%s: exit %d, stdout %q\nstderr %q\nwant   %q", filepath.Base(file), code, out, errs, want)
		}
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"host", "--format", "xml"}, 2, "dockaudit host: --format \"xml\": want table, json, sarif or html\n"},
		{[]string{"host", "--fail-on", "severe"}, 2, "dockaudit host: --fail-on: \"severe\" is not a severity threshold (want one of info, low, medium, high, critical), or none\n"},
		{[]string{"host", "--include", "CIS-9.9", "--from-facts", liveFacts}, 2, "dockaudit host: selector \"CIS-9.9\" matches no rule (dockaudit rules lists IDs and tags)\n"},
		{[]string{"host", "--color", "sometimes"}, 2, "dockaudit host: --color \"sometimes\": want auto, always or never\n"},
		{[]string{"host", "now"}, 2, "dockaudit host: unexpected argument \"now\" (host takes only flags)\n"},
		{[]string{"rules", "all"}, 2, "dockaudit rules: unexpected argument \"all\" (rules takes only flags)\n"},
		{[]string{"host", "--bogus"}, 2, "dockaudit host: flag provided but not defined: --bogus (see dockaudit host --help)\n"},
		{[]string{"host", "--timeout", "soon"}, 2, "dockaudit host: invalid value \"soon\" for flag --timeout: parse error (see dockaudit host --help)\n"},
		{[]string{"host", "--concurrency", "0"}, 2, "dockaudit host: --concurrency 0: want 1 to 256\n"},
		{[]string{"host", "--timeout", "0s"}, 2, "dockaudit host: --timeout 0s: want a positive duration such as 30s\n"},
		{[]string{"host", "--from-facts", liveFacts, "--all", "--timeout", "5s"}, 2, "dockaudit host: --all, --timeout cannot be used with --from-facts, which reads nothing live\n"},
		{[]string{"host", "--from-facts", "a", "--save-facts", "b"}, 2, "dockaudit host: --from-facts and --save-facts cannot be combined\n"},
		// An output never replaces an input of the same run, under any spelling.
		{[]string{"host", "--from-facts", liveFacts, "-o", liveFacts}, 2, "dockaudit host: --output " + liveFacts + " is also an input of this run (" + liveFacts + "): the report would replace it\n"},
		{[]string{"host", "--from-facts", liveFacts, "-o", filepath.Dir(liveFacts) + "/./" + filepath.Base(liveFacts)}, 2, "dockaudit host: --output " + filepath.Dir(liveFacts) + "/./" + filepath.Base(liveFacts) + " is also an input of this run (" + liveFacts + "): the report would replace it\n"},
		{[]string{"host", "--save-facts", "s.json", "-o", "s.json"}, 2, "dockaudit host: --save-facts s.json and --output s.json name the same file\n"},
		{[]string{"host", "--save-facts", "-"}, 2, "dockaudit host: --save-facts - and the report would both go to stdout; give --output FILE\n"},
		{[]string{"image", "-o", "a.tar", "docker-archive:a.tar"}, 2, "dockaudit image: --output a.tar is also an input of this run (a.tar): the report would replace it\n"},
		{[]string{"image", "-o", "a.tar", "oci-archive:a.tar"}, 2, "dockaudit image: --output a.tar is also an input of this run (a.tar): the report would replace it\n"},
		{[]string{"seccomp", "lint", "-o", "prof.json", "prof.json"}, 2, "dockaudit seccomp lint: --output prof.json is also an input of this run (prof.json): the report would replace it\n"},
		{[]string{"host", "-o", "/tmp/f.json", "--save-facts", "../../../../../../tmp/f.json"}, 2, "dockaudit host: --save-facts ../../../../../../tmp/f.json and --output /tmp/f.json name the same file\n"},
		{[]string{"host", "--save-facts", "/dev/stdout"}, 2, "dockaudit host: --save-facts /dev/stdout and the report would both go to stdout; give --output FILE\n"},
		{[]string{"sbom", "-o", "rootfs", "dir:rootfs"}, 2, "dockaudit sbom: --output rootfs is also an input of this run (rootfs): the report would replace it\n"},
		{[]string{"frobnicate"}, 2, "dockaudit: unknown command \"frobnicate\" (run dockaudit help)\n"},
	}
	for _, tt := range tests {
		code, out, errs := runCLI(t, nil, tt.args...)
		if code != tt.code || errs != tt.stderr || out != "" {
			t.Errorf("%v: exit %d, stdout %q\nstderr %q\nwant   %q", tt.args, code, out, errs, tt.stderr)
		}
	}
}

// TestOutputClashWithFiles: outputs that would replace an existing input, however it
// is named (found in review).
func TestOutputClashWithFiles(t *testing.T) {
	dir := t.TempDir()
	colon, ign := filepath.Join(dir, "b:c.tar"), filepath.Join(dir, "ign.yaml")
	os.WriteFile(colon, []byte("x"), 0o644)
	os.WriteFile(ign, []byte("ignore: []\n"), 0o644)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"image", "-o", colon, "oci:" + colon}, "dockaudit image: --output " + colon + " is also an input of this run (" + colon + "): the report would replace it\n"},
		{[]string{"endpoint", "-o", ign, "--ignore-file", ign, "tcp://127.0.0.1:1"}, "dockaudit endpoint: --output " + ign + " is also an input of this run (" + ign + "): the report would replace it\n"},
		{[]string{"host", "-o", dir + "/./ign.yaml", "--ignore-file", ign}, "dockaudit host: --output " + dir + "/./ign.yaml is also an input of this run (" + ign + "): the report would replace it\n"},
	} {
		if code, out, errs := runCLI(t, nil, tt.args...); code != 2 || errs != tt.want || out != "" {
			t.Errorf("%v: exit %d\nstderr %q\nwant   %q", tt.args, code, errs, tt.want)
		}
	}
	if b, _ := os.ReadFile(colon); string(b) != "x" {
		t.Error("an input was replaced")
	}
}

func TestHelp(t *testing.T) {
	code, out, errs := runCLI(t, nil, "host", "--help")
	if code != 0 || errs != "" || !strings.Contains(out, "Usage: dockaudit host [flags]") || !strings.Contains(out, "  -o, --output FILE") {
		t.Errorf("host --help: exit %d, stderr %q\n%s", code, errs, out)
	}
	code, out, _ = runCLI(t, nil, "help")
	if code != 0 || !strings.Contains(out, "Exit codes") {
		t.Errorf("help: exit %d\n%s", code, out)
	}
	code, _, errs = runCLI(t, nil)
	if code != 2 || !strings.Contains(errs, "Commands:") {
		t.Errorf("no arguments: exit %d", code)
	}
	code, out, _ = runCLI(t, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "dockaudit ") {
		t.Errorf("version: %d %q", code, out)
	}
}

func TestRulesCommand(t *testing.T) {
	code, out, _ := runCLI(t, nil, "rules", "--include", "runtime", "--format", "json")
	var rules []struct{ ID, Scope string }
	if code != 0 || json.Unmarshal([]byte(out), &rules) != nil || len(rules) != 32 || rules[0].ID != "CIS-5.1" {
		t.Errorf("rules --include runtime: exit %d, %d rules", code, len(rules))
	}
	// Every rule (host's CIS items, daemon-link and syscall-control rules; the image,
	// trust, build-step and build-context rules; VULN, ENGINE-CVE and the registry
	// rules), one line each after the header: 166.
	code, out, _ = runCLI(t, nil, "rules")
	if code != 0 || strings.Count(out, "\n") != 167 || !strings.HasPrefix(out, "ID ") || !strings.Contains(out, "\nSECRET-FILE ") || !strings.Contains(out, "\nCONTEXT-SECRET ") {
		t.Errorf("rules: exit %d, %d lines", code, strings.Count(out, "\n"))
	}
	// The severity listed is the one findings carry: a private key is a critical
	// SECRET-FILE finding, so the list says high-critical, not high.
	code, out, _ = runCLI(t, nil, "rules", "--include", "SECRET-FILE,VULN,CIS-4.9,IMG-DUPLICATE-ID")
	want := "ID                SEVERITY       TITLE                                                   TAGS\n" +
		"CIS-4.9           low-medium     Ensure that COPY is used instead of ADD in Dockerfiles  cis,images,level1,manual,image\n" +
		"IMG-DUPLICATE-ID  medium-high    User and group IDs are unique                           image,image-config\n" +
		"SECRET-FILE       high-critical  No file in any layer holds a credential                 image,secrets,cis-4.10\n" +
		"VULN              high-critical  Packages have no known vulnerabilities                  image,vuln\n"
	if code != 0 || out != want {
		t.Errorf("rules severities: exit %d\n%s", code, out)
	}
}

func TestColor(t *testing.T) {
	tty := func(m map[string]string) env { e := env2(m); e.stdoutTTY = true; return e }
	for _, tt := range []struct {
		e     env
		flag  string
		color bool
	}{
		{tty(nil), "auto", true},
		{tty(map[string]string{"NO_COLOR": "1"}), "auto", false},
		{tty(map[string]string{"TERM": "dumb"}), "auto", false},
		{env2(nil), "auto", false},
		{env2(nil), "always", true},
		{tty(nil), "never", false},
	} {
		o := outputFlags{format: "table", failOn: "high", color: tt.flag}
		out, err := o.resolve(tt.e)
		if err != nil || out.Color != tt.color {
			t.Errorf("--color %s tty=%v: %v %v", tt.flag, tt.e.stdoutTTY, out.Color, err)
		}
	}
	// A file is never coloured in auto mode.
	o := outputFlags{format: "table", failOn: "high", color: "auto", output: "r.txt"}
	if out, _ := o.resolve(tty(nil)); out.Color {
		t.Error("--output with --color auto is coloured")
	}
}

func TestOutputFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "r.sarif")
	code, stdout, _ := runCLI(t, nil, "host", "--from-facts", liveFacts, "-f", "sarif", "-o", out, "--fail-on", "none")
	b, err := os.ReadFile(out)
	if code != 0 || stdout != "" || err != nil || !bytes.Contains(b, []byte(`"version": "2.1.0"`)) {
		t.Errorf("exit %d, stdout %q, %v", code, stdout, err)
	}
	code, _, errs := runCLI(t, nil, "host", "--from-facts", liveFacts, "-o", filepath.Join(dir, "missing", "r.txt"))
	if code != 1 || !strings.HasPrefix(errs, "dockaudit host: write "+filepath.Join(dir, "missing", "r.txt")+": ") {
		t.Errorf("unwritable output: exit %d, %q", code, errs)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

// TestStderrEscapes: error text from a registry or a daemon reaches stderr with its
// control characters escaped, whatever the path.
func TestStderrEscapes(t *testing.T) {
	hostile := "\x1b]0;pwned\x07\x1b[2J\rgone"
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, hostile)
	}))
	defer reg.Close()
	sock := filepath.Join(t.TempDir(), "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	daemon := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, hostile)
	})}
	go daemon.Serve(l)
	defer daemon.Close()
	// A daemon that answers /_ping, then /info with a message that holds a newline and
	// a line that looks like dockaudit's own.
	sock2 := filepath.Join(t.TempDir(), "docker.sock")
	l2, err := net.Listen("unix", sock2)
	if err != nil {
		t.Fatal(err)
	}
	forger := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_ping" {
			w.Header().Set("Api-Version", "1.41")
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
		json.NewEncoder(w).Encode(map[string]string{"message": hostile + "\r\ndockaudit host: all good"})
	})}
	go forger.Serve(l2)
	defer forger.Close()
	for _, tc := range []struct {
		env  map[string]string
		args []string
	}{
		{map[string]string{"DOCKER_CONFIG": t.TempDir()}, []string{"image", "registry:" + strings.TrimPrefix(reg.URL, "http://") + "/team/app:1"}},
		{map[string]string{"DOCKER_HOST": "unix://" + sock}, []string{"host", "--timeout", "5s"}},
		{map[string]string{"DOCKER_HOST": "unix://" + sock2}, []string{"host", "--timeout", "5s"}},
	} {
		code, _, errs := runCLI(t, tc.env, tc.args...)
		if code != 1 || strings.ContainsAny(errs, "\x1b\x07\r") || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, `\x1b]0;pwned\x07\x1b[2J\x0dgone`) {
			t.Errorf("%v: exit %d, stderr %q", tc.args, code, errs)
		}
	}
}

type fullDisk struct{}

func (fullDisk) Write([]byte) (int, error) { return 0, syscall.ENOSPC }

// TestStdoutWriteErrors: output that could not be written is a failed run (db status,
// version and certs said 0 to a full disk).
func TestStdoutWriteErrors(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"rules"}, {"host", "--from-facts", liveFacts, "-f", "json"}} {
		var errb bytes.Buffer
		e := env2(nil)
		e.stdout, e.stderr = fullDisk{}, &errb
		if code := run(context.Background(), args, e); code != 1 || !strings.Contains(errb.String(), "no space left on device") {
			t.Errorf("%v: exit %d, %q", args, code, errb.String())
		}
	}
}

// TestFactsTargetCap (found in review): a small facts file of many minimal containers
// is refused instead of becoming gigabytes of findings.
func TestFactsTargetCap(t *testing.T) {
	p := filepath.Join(t.TempDir(), "many.json")
	var b strings.Builder
	b.WriteString(`{"schemaVersion":2,"containers":[`)
	for i := range 65537 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id":"%d"}`, i)
	}
	b.WriteString(`]}`)
	os.WriteFile(p, []byte(b.String()), 0o600)
	code, _, errs := runCLI(t, nil, "host", "--from-facts", p)
	if code != 1 || errs != "dockaudit host: read facts "+p+": 65537 containers and 0 images; dockaudit audits at most 65536 of each at once\n" {
		t.Errorf("exit %d, %q", code, errs)
	}
}
