package main

import (
	"encoding/json"
	"slices"
	"syscall"
	"time"

	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestDBCommands(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"DOCKAUDIT_DB_DIR": dir}
	code, _, errs := runCLI(t, env, "db", "status")
	if code != 1 || errs != "dockaudit db status: no database in "+dir+": run dockaudit db update (or dockaudit db import PATH)\n" {
		t.Errorf("no database: exit %d, %q", code, errs)
	}
	code, out, errs := runCLI(t, env, "db", "import", "../../internal/app/testdata/advisories")
	if code != 0 || out != "imported into "+filepath.Join(dir, "vuln.db")+": 4 advisories for 2 packages from 2 sources\n" {
		t.Fatalf("import: exit %d, %q %q", code, out, errs)
	}
	code, out, _ = runCLI(t, env, "db", "status", "--format", "json")
	var meta struct {
		Schema  string
		Records int
		Sources []struct{ Name string }
	}
	if json.Unmarshal([]byte(out), &meta); code != 0 || meta.Schema != "2" || meta.Records != 4 || len(meta.Sources) != 2 {
		t.Errorf("status: exit %d, %+v", code, meta)
	}
	code, out, _ = runCLI(t, env, "db", "status")
	if code != 0 || !strings.Contains(out, "4 advisories for 2 packages") || !strings.Contains(out, "debian-tracker") {
		t.Errorf("status table: %q", out)
	}
	// A second import adds its source (it replaced the database once); importing a
	// source again replaces that source only; --replace starts over.
	goRec := filepath.Join(t.TempDir(), "GO-2024-0001.json")
	os.WriteFile(goRec, []byte(`{"id":"GO-2024-0001","modified":"2024-05-01T00:00:00Z","affected":[{"package":{"ecosystem":"Go","name":"example.com/m"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.0"}]}]}]}`), 0o644)
	sources := func() []string {
		_, out, _ := runCLI(t, env, "db", "status", "--format", "json")
		var m struct{ Sources []struct{ Name string } }
		json.Unmarshal([]byte(out), &m)
		var names []string
		for _, s := range m.Sources {
			names = append(names, s.Name)
		}
		slices.Sort(names)
		return names
	}
	if code, out, errs := runCLI(t, env, "db", "import", goRec); code != 0 || out != "imported into "+filepath.Join(dir, "vuln.db")+": 5 advisories for 3 packages from 3 sources\n" {
		t.Errorf("second import: %d %q %q", code, out, errs)
	}
	if got := sources(); !slices.Equal(got, []string{"debian-tracker", "osv:Go", "osv:npm"}) {
		t.Errorf("after adding osv:Go: %q", got)
	}
	if code, _, _ := runCLI(t, env, "db", "import", goRec); code != 0 || !slices.Equal(sources(), []string{"debian-tracker", "osv:Go", "osv:npm"}) {
		t.Errorf("importing osv:Go again: %q", sources())
	}
	if code, _, _ := runCLI(t, env, "db", "import", "--replace", goRec); code != 0 || !slices.Equal(sources(), []string{"osv:Go"}) {
		t.Errorf("--replace: %q", sources())
	}
	runCLI(t, env, "db", "import", "--replace", "../../internal/app/testdata/advisories")
	bundle := filepath.Join(t.TempDir(), "db.tar.gz")
	if code, _, errs := runCLI(t, env, "db", "export", bundle); code != 0 {
		t.Fatalf("export: %d %s", code, errs)
	}
	if fi, err := os.Stat(bundle); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("the exported bundle: %v, mode %v (want 0644, like every file dockaudit writes)", err, fi.Mode().Perm())
	}
	other := t.TempDir()
	if code, out, errs := runCLI(t, map[string]string{"DOCKAUDIT_DB_DIR": other}, "db", "import", bundle); code != 0 || !strings.HasPrefix(out, "imported into "+other) {
		t.Errorf("import bundle: %d %q %q", code, out, errs)
	}
	// Errors: one line, the right exit code.
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"db"}, 2, ""},
		{[]string{"db", "fetch"}, 2, "dockaudit db: unknown subcommand \"fetch\" (update, import, export or status)\n"},
		{[]string{"db", "import"}, 2, "dockaudit db import: name at least one file, directory or bundle (see dockaudit db import --help)\n"},
		{[]string{"db", "import", "/nonexistent"}, 1, "dockaudit db import: stat /nonexistent: no such file or directory\n"},
		{[]string{"db", "export"}, 2, "dockaudit db export: name one output FILE (or - for stdout)\n"},
		{[]string{"db", "status", "--format", "xml"}, 2, "dockaudit db status: --format \"xml\": want table or json\n"},
		{[]string{"db", "update", "--updateinfo-repos", "ftp://mirror/al2023/"}, 2, "dockaudit db update: --updateinfo-repos \"ftp://mirror/al2023/\": want an http(s):// repository URL\n"},
		{[]string{"db", "update", "--osv-url", "http://127.0.0.1:1", "--ecosystems", "Go", "--debian-url", "", "--alpine-branches", ""}, 1, ""},
	} {
		code, _, errs := runCLI(t, env, tt.args...)
		if code != tt.code || (tt.want != "" && errs != tt.want) || (len(tt.args) > 1 && strings.Count(errs, "\n") != 1) {
			t.Errorf("%v: exit %d, %q", tt.args, code, errs)
		}
	}
	// The failed update left the database in place.
	if _, err := os.Stat(filepath.Join(dir, "vuln.db")); err != nil {
		t.Error(err)
	}
}

func TestImageWithDatabase(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"DOCKAUDIT_DB_DIR": dir}
	if code, _, errs := runCLI(t, env, "db", "import", "../../internal/app/testdata/advisories"); code != 0 {
		t.Fatal(errs)
	}
	// An Alpine image and a database without Alpine advisories: not checked, said,
	// never a pass (it passed "none of the 2 packages" once).
	archive := testArchive(t, v1.Config{})
	code, out, _ := runCLI(t, env, "image", "--include", "VULN", "-f", "json", archive)
	if code != 0 || !strings.Contains(out, `"message": "the database has no advisories for Alpine:v3.20 (dockaudit db update --ecosystems Alpine, or db import its data): 2 packages (Alpine:v3.20) not checked"`) ||
		strings.Contains(out, `"status": "pass"`) {
		t.Errorf("uncovered distribution: exit %d\n%s", code, out)
	}
	secdb := filepath.Join(t.TempDir(), "main.json")
	os.WriteFile(secdb, []byte(`{"distroversion":"v3.20","reponame":"main","packages":[{"pkg":{"name":"openssl","secfixes":{"3.3.2-r0":["CVE-2024-6119"]}}}]}`), 0o644)
	runCLI(t, env, "db", "import", secdb)
	code, out, _ = runCLI(t, env, "image", "--include", "VULN", "-f", "json", archive)
	if code != 0 || !strings.Contains(out, `"message": "none of the 2 packages has a known vulnerability in the database written `) || !strings.Contains(out, `"actual": "Alpine:v3.20: 2 against alpine-secdb:v3.20/main"`) {
		t.Errorf("covered: exit %d\n%s", code, out)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"image", "--severity", "urgent", archive}, "dockaudit image: --severity: unknown severity \"urgent\" (want one of info, low, medium, high, critical, unknown)\n"},
		{[]string{"image", "--vex", "/nonexistent.json", archive}, "dockaudit image: --vex: open /nonexistent.json: no such file or directory\n"},
		{[]string{"image", "--ignore-file", "/nonexistent.yaml", archive}, "dockaudit image: --ignore-file: open /nonexistent.yaml: no such file or directory\n"},
	} {
		if code, _, errs := runCLI(t, env, tt.args...); code != 2 || errs != tt.want {
			t.Errorf("%v: exit %d, %q\nwant %q", tt.args, code, errs, tt.want)
		}
	}
}

// TestUnratedSeverity: Alpine's secdb rates nothing, so its CVEs are unknown: their own
// level (--severity unknown selects them), counted as high by --fail-on unless
// --unknown-as says otherwise. They counted as medium and passed a --fail-on high gate.
func TestUnratedSeverity(t *testing.T) {
	env := map[string]string{"DOCKAUDIT_DB_DIR": t.TempDir()}
	secdb := filepath.Join(t.TempDir(), "main.json")
	os.WriteFile(secdb, []byte(`{"distroversion":"v3.20","reponame":"main","packages":[{"pkg":{"name":"musl","secfixes":{"1.2.5-r1":["CVE-2025-26519"]}}}]}`), 0o644)
	if code, _, errs := runCLI(t, env, "db", "import", secdb); code != 0 {
		t.Fatal(errs)
	}
	archive := testArchive(t, v1.Config{})
	code, out, _ := runCLI(t, env, "image", "--include", "VULN", "--color", "never", archive)
	if code != 3 || !strings.Contains(out, "  FAIL    unknown   VULN ") ||
		!strings.Contains(out, "1 findings, 1 of them unrated (severity unknown, counted as high: --unknown-as); 1 fail or warn at severity high or above (--fail-on high)") {
		t.Errorf("default gate: exit %d\n%s", code, out)
	}
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--unknown-as", "low"}, 0, `"failOn": "high",
    "failing": 0,
    "unknownAs": "low"`},
		{[]string{"--unknown-as", "critical", "--fail-on", "critical"}, 3, `"failing": 1,
    "unknownAs": "critical"`},
		{[]string{"--severity", "unknown"}, 3, `"severity": "unknown",`},
		{[]string{"--severity", "high,critical"}, 0, `"findings": [],`},
		{[]string{"--severity", "high,critical"}, 0, `"leftOut": [
      {
        "rule": "VULN",
        "by": "--severity",
        "count": 1
      }
    ]`},
	} {
		args := append(append([]string{"image", "--include", "VULN", "-f", "json"}, tt.args...), archive)
		code, out, errs := runCLI(t, env, args...)
		if code != tt.code || !strings.Contains(out, tt.want) {
			t.Errorf("%v: exit %d %s\n%s", tt.args, code, errs, out)
		}
	}
	// Filtered out is said, not "no images were audited".
	code, out, _ = runCLI(t, env, "image", "--include", "VULN", "--color", "never", "--ignore-unfixed", "--severity", "critical", archive)
	if code != 0 || !strings.Contains(out, "  SKIP    high      VULN        Packages have no known vulnerabilities\n"+
		"                                every finding was left out: 1 by --severity\n") {
		t.Errorf("filtered: exit %d\n%s", code, out)
	}
	for _, flag := range []string{"--fail-on", "--unknown-as"} {
		code, _, errs := runCLI(t, env, "image", flag, "unknown", archive)
		if code != 2 || !strings.HasPrefix(errs, "dockaudit image: "+flag+": \"unknown\" is not a severity threshold") {
			t.Errorf("%s unknown: exit %d %q", flag, code, errs)
		}
	}
}

// TestInputsAreBounded: a FIFO or a device named as an input is refused at once, in
// one line, and never read: no hang, no out-of-memory crash.
func TestInputsAreBounded(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.zip")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	certs := filepath.Join(dir, "certs")
	os.Mkdir(certs, 0o700)
	syscall.Mkfifo(filepath.Join(certs, "ca.pem"), 0o600)
	big := filepath.Join(dir, "big.yaml")
	os.WriteFile(big, []byte("ignore:\n"+strings.Repeat("  - {id: CVE-1, reason: x}\n", 200000)), 0o644)
	for _, tt := range []struct {
		env  map[string]string
		args []string
		code int
		want string
	}{
		{nil, []string{"host", "--ignore-file", "/dev/zero"}, 2, "dockaudit host: --ignore-file: /dev/zero is a character device, not a regular file\n"},
		{nil, []string{"host", "--ignore-file", fifo}, 2, "dockaudit host: --ignore-file: " + fifo + " is a FIFO, not a regular file\n"},
		{nil, []string{"host", "--ignore-file", big}, 2, "dockaudit host: --ignore-file: " + big + " is larger than 4 MiB\n"},
		{nil, []string{"image", "--vex", "/dev/zero", "dir:" + dir}, 2, "dockaudit image: --vex: /dev/zero is a character device, not a regular file\n"},
		{nil, []string{"image", "--vex", fifo, "dir:" + dir}, 2, "dockaudit image: --vex: " + fifo + " is a FIFO, not a regular file\n"},
		{nil, []string{"image", "docker-archive:" + fifo}, 1, "dockaudit image: docker-archive:" + fifo + ": read docker archive: not a regular file or directory (a FIFO or a device is not read)\n"},
		{nil, []string{"db", "import", "--db-dir", dir, fifo}, 1, "dockaudit db import: " + fifo + " is a FIFO, not a regular file\n"},
		{nil, []string{"db", "import", "--db-dir", dir, "/dev/zero"}, 1, "dockaudit db import: /dev/zero is a character device, not a regular file\n"},
		{nil, []string{"endpoint", "--tlscacert", "/dev/zero", "tcp://127.0.0.1:1"}, 2, "dockaudit endpoint: --tlscacert: /dev/zero is a character device, not a regular file\n"},
		{nil, []string{"endpoint", "--tlscert", fifo, "--tlskey", fifo, "tcp://127.0.0.1:1"}, 2, "dockaudit endpoint: client certificate: " + fifo + " is a FIFO, not a regular file\n"},
		{map[string]string{"DOCKER_HOST": "tcp://127.0.0.1:1", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": certs}, []string{"host"}, 1,
			"dockaudit host: DOCKER_TLS_VERIFY is set but the CA certificate cannot be read: " + filepath.Join(certs, "ca.pem") + " is a FIFO, not a regular file\n"},
	} {
		done := make(chan struct{})
		go func() {
			defer close(done)
			code, _, errs := runCLI(t, tt.env, tt.args...)
			if code != tt.code || errs != tt.want {
				t.Errorf("%v: exit %d, %q\nwant %d, %q", tt.args, code, errs, tt.code, tt.want)
			}
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("%v: still running after 20s", tt.args)
		}
	}
}
