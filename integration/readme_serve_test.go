package integration

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dockaudit/dockaudit/internal/serve"
	"github.com/dockaudit/dockaudit/internal/store"
	"github.com/dockaudit/dockaudit/internal/testenv"
)

// TestREADMEServe runs the README's two service commands as written, in a copy of the
// module (so serve.yaml and bin/ land there), with a registry on 127.0.0.1:5000 as the
// README assumes, and checks that the service they start scans a pushed image.
func TestREADMEServe(t *testing.T) {
	need(t)
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)### The service\n.*?```sh\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no service commands")
	}
	lines := strings.Split(strings.TrimSpace(string(m[1])), "\n")
	if len(lines) != 2 {
		t.Fatalf("want two service commands, got %q", lines)
	}
	if l, err := net.Listen("tcp", "127.0.0.1:5000"); err != nil {
		testenv.Missing(t, "127.0.0.1:5000 is taken: the README's registry address")
	} else {
		l.Close()
	}
	if l, err := net.Listen("tcp", "127.0.0.1:8080"); err != nil {
		testenv.Missing(t, "127.0.0.1:8080 is taken: the README's service address")
	} else {
		l.Close()
	}
	dir := t.TempDir()
	root, _ := filepath.Abs("..")
	for _, e := range []string{"go.mod", "go.sum", "cmd", "internal", "scripts"} {
		if err := os.Symlink(filepath.Join(root, e), filepath.Join(dir, e)); err != nil {
			t.Fatal(err)
		}
	}
	reg := exec.Command("docker-registry", "serve", writeFile(t, dir, "registry.yml",
		fmt.Sprintf("version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:5000\n", filepath.Join(dir, "regdata"))))
	if err := reg.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Process.Kill(); reg.Wait() })

	one := exec.Command("bash", "-c", lines[0])
	one.Dir = dir
	if out, err := one.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", lines[0], err, out)
	}
	dsn := "postgres://dockaudit:dockaudit@127.0.0.1/dockaudit"
	two := exec.Command("bash", "-c", lines[1])
	two.Dir = dir
	log := &syncWriter{}
	two.Stdout, two.Stderr = log, log
	if err := two.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		two.Process.Kill()
		two.Wait()
		if t.Failed() {
			t.Logf("serve:\n%s", tail(log.String(), 40))
		}
	})
	srv := &server{url: "http://127.0.0.1:8080", cmd: two, log: log}
	eventually(t, "the README's service answers", 30*time.Second, func() bool { return healthy(srv.url) })
	tok := dockaudit(t, nil, "serve", "token", "create", "--database", dsn, "--scope", "read")
	if tok.code != 0 {
		t.Fatal(tok.stderr)
	}
	srv.token = strings.TrimSpace(tok.stdout)

	tag := "dockaudit-it-readme:1"
	image(t, tag)
	pushAs(t, tag, "127.0.0.1:5000/readme/busybox:1")
	var page serve.Page[store.ImageSummary]
	eventually(t, "the pushed image is scanned (poll: 30s)", 90*time.Second, func() bool {
		return srv.get(t, "/api/v1/images?repository=readme/busybox", &page) == 200 && len(page.Items) == 1
	})
}

func writeFile(t *testing.T, dir, name, body string) string {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
