package integration

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockaudit/dockaudit/internal/serve"
	"github.com/dockaudit/dockaudit/internal/store"
	"github.com/dockaudit/dockaudit/internal/testenv"
)

// composeImages builds, under the names deploy/compose.yaml uses, stand-ins for the
// upstream images (which cannot be pulled here): postgres:15 and registry:2 from the
// Debian root scripts/setup makes with postgresql-15 and docker-registry, and
// dockaudit:latest from deploy/Dockerfile's prebuilt stage. An image of those names
// already present is left alone.
func composeImages(t *testing.T) {
	t.Helper()
	cache := cacheDir()
	root := filepath.Join(cache, "bookworm-server")
	if _, err := os.Stat(filepath.Join(root, "usr/bin/docker-registry")); err != nil {
		testenv.Missing(t, "no Debian root with postgresql and docker-registry at %s (scripts/setup builds it)", root)
	}
	present := func(name string) bool { return exec.Command("docker", "image", "inspect", name).Run() == nil }
	build := func(tag, dir string, args ...string) {
		cmd := exec.Command("docker", append(append([]string{"build", "-q", "-t", tag}, args...), dir)...)
		cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("docker build %s: %v\n%s", tag, err, out)
		}
		t.Cleanup(func() { exec.Command("docker", "rmi", "-f", tag).Run() })
	}
	base := "dockaudit-it-debian-server:1"
	if !present("postgres:15") || !present("registry:2") {
		importRoot(t, root, base)
	}
	if !present("postgres:15") {
		dir := t.TempDir()
		copyFile(t, "testdata/compose/postgres-entrypoint.sh", filepath.Join(dir, "docker-entrypoint.sh"))
		os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+base+"\nCOPY docker-entrypoint.sh /usr/local/bin/\n"+
			"ENV PGDATA=/var/lib/postgresql/data PATH=/usr/lib/postgresql/15/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"+
			"ENTRYPOINT [\"/usr/local/bin/docker-entrypoint.sh\"]\n"), 0o644)
		build("postgres:15", dir)
	}
	if !present("registry:2") {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+base+"\nEXPOSE 5000\n"+
			"CMD [\"/usr/bin/docker-registry\", \"serve\", \"/etc/docker/registry/config.yml\"]\n"), 0o644)
		build("registry:2", dir)
	}
	if !present("dockaudit:latest") {
		// The prebuilt stage, with a static binary built here (the golang image of
		// the other stages cannot be pulled).
		ctx := t.TempDir()
		os.MkdirAll(filepath.Join(ctx, "bin"), 0o755)
		gb := exec.Command("go", "build", "-o", filepath.Join(ctx, "bin", "dockaudit-static"), "../cmd/dockaudit")
		gb.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := gb.CombinedOutput(); err != nil {
			t.Fatalf("static build: %v\n%s", err, out)
		}
		copyFile(t, "../deploy/Dockerfile", filepath.Join(ctx, "Dockerfile"))
		build("dockaudit:latest", ctx, "--target", "prebuilt")
	}
}

// TestCompose brings deploy/compose.yaml up with Debian's docker-compose and the images
// above, pushes an image to its registry and sees the service scan it from the push
// notification.
func TestCompose(t *testing.T) {
	need(t)
	if _, err := exec.LookPath("docker-compose"); err != nil {
		testenv.Missing(t, "no docker-compose (apt-get install docker-compose)")
	}
	for _, addr := range []string{"127.0.0.1:5000", "127.0.0.1:8080"} {
		if l, err := net.Listen("tcp", addr); err != nil {
			testenv.Missing(t, "%s is taken: deploy/compose.yaml publishes it", addr)
		} else {
			l.Close()
		}
	}
	composeImages(t)
	compose := func(args ...string) string {
		cmd := exec.Command("docker-compose", append([]string{"-p", "dockauditit", "-f", "../deploy/compose.yaml"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("docker-compose %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := exec.Command("docker-compose", "-p", "dockauditit", "-f", "../deploy/compose.yaml", "logs", "--no-color", "--tail", "30").CombinedOutput()
			t.Logf("compose logs:\n%s", out)
		}
		exec.Command("docker-compose", "-p", "dockauditit", "-f", "../deploy/compose.yaml", "down", "-v", "--remove-orphans").Run()
	})
	compose("up", "-d", "--no-build")
	srv := &server{url: "http://127.0.0.1:8080"}
	eventually(t, "the service answers", 90*time.Second, func() bool { return healthy(srv.url) })
	tok := compose("exec", "-T", "dockaudit", "/dockaudit", "serve", "token", "create",
		"--database", "postgres://dockaudit:dockaudit@postgres/dockaudit?sslmode=disable", "--scope", "read")
	srv.token = strings.TrimSpace(tok)

	tag := "dockaudit-it-compose:1"
	image(t, tag)
	pushAs(t, tag, "127.0.0.1:5000/compose/busybox:1")
	var page serve.Page[store.ImageSummary]
	eventually(t, "the pushed image is scanned (from the registry's notification; polling is every minute)", 50*time.Second, func() bool {
		return srv.get(t, "/api/v1/images", &page) == 200 && len(page.Items) == 1
	})
	if it := page.Items[0]; it.Registry != "registry:5000" || it.Repository != "compose/busybox" || len(it.Tags) != 1 {
		t.Errorf("stored %+v", it)
	}
}
