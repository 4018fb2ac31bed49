// Package integration runs the dockaudit binary against real Docker daemons and real
// containers. It needs root, a daemon on /var/run/docker.sock, the docker CLI and
// busybox-static (.ci/run installs and starts them). Without them the tests skip, or
// fail when DOCKAUDIT_CI=1.
package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockaudit/dockaudit/internal/report"
	"github.com/dockaudit/dockaudit/internal/testenv"
)

var (
	binary  string // the dockaudit binary under test
	sleeper string // a static program that sleeps whatever its arguments (fake sshd, decoy dockerd)
	setup   string // why the environment is unusable, "" when it is fine
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dockaudit-it-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		binary = filepath.Join(dir, "dockaudit")
		if out, err := exec.Command("go", "build", "-o", binary, "../cmd/dockaudit").CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build dockaudit: %v\n%s", err, out)
			return 1
		}
		sleeper = filepath.Join(dir, "sleeper")
		src := filepath.Join(dir, "sleeper-src")
		os.MkdirAll(src, 0o755)
		os.WriteFile(filepath.Join(src, "go.mod"), []byte("module sleeper\n\ngo 1.21\n"), 0o644)
		os.WriteFile(filepath.Join(src, "main.go"), []byte("package main\n\nimport \"time\"\n\nfunc main() { time.Sleep(time.Hour) }\n"), 0o644)
		build := exec.Command("go", "build", "-o", sleeper, ".")
		build.Dir, build.Env = src, append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build sleeper: %v\n%s", err, out)
			return 1
		}
		setup = environment()
		return m.Run()
	}()
	os.Exit(code)
}

// environment checks what the tests need.
func environment() string {
	if os.Geteuid() != 0 {
		return "not root"
	}
	if _, err := exec.LookPath("docker"); err != nil {
		return "no docker CLI"
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		return "no /bin/busybox (apt-get install busybox-static)"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}").CombinedOutput(); err != nil {
		return "no Docker daemon on /var/run/docker.sock: " + strings.TrimSpace(string(out))
	}
	return ""
}

func need(t *testing.T) {
	t.Helper()
	if setup != "" {
		testenv.Missing(t, "integration environment: %s", setup)
	}
}

// docker runs the docker CLI and fails the test on error.
func docker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("docker", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

type result struct {
	code           int
	stdout, stderr string
	elapsed        time.Duration
}

// dockaudit runs the binary with extra environment entries.
func dockaudit(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	return run(t, cmd)
}

// run runs a command to its end: its exit code is the result's, and only a command
// that could not run at all fails the test.
func run(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), elapsed: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

// jsonReport runs an audit with --format json and decodes it; exit codes 0 and 3 are
// both a completed audit.
func jsonReport(t *testing.T, env []string, args ...string) *report.Report {
	t.Helper()
	r := dockaudit(t, env, append(args, "--format", "json")...)
	if r.code != 0 && r.code != 3 {
		t.Fatalf("dockaudit %v: exit %d\n%s", args, r.code, r.stderr)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("decode report: %v\n%s", err, r.stdout)
	}
	return &rep
}

// image builds a scratch image holding the static busybox and the sleeper as sshd.
func image(t *testing.T, tag string) {
	t.Helper()
	dir := t.TempDir()
	copyFile(t, "/bin/busybox", filepath.Join(dir, "busybox"))
	copyFile(t, sleeper, filepath.Join(dir, "sshd"))
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(
		"FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\nCOPY sshd /usr/sbin/sshd\n"), 0o644)
	dockerBuild(t, dir, tag)
}

// dockerBuild builds the Dockerfile in dir as tag with the classic builder (no image
// can be pulled here, so every base is scratch or one built before); the tag is
// removed at cleanup.
func dockerBuild(t *testing.T, dir, tag string) {
	t.Helper()
	cmd := exec.Command("docker", "build", "-q", "-t", tag, dir)
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker build %s: %v\n%s", tag, err, out)
	}
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", tag).Run() })
}

// busyboxContext is a build context for an image FROM scratch holding the static
// busybox at /bin/busybox, then what rest adds (Dockerfile lines copying the files the
// caller writes into the returned directory).
func busyboxContext(t *testing.T, rest string) string {
	t.Helper()
	dir := t.TempDir()
	copyFile(t, "/bin/busybox", filepath.Join(dir, "busybox"))
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY busybox /bin/busybox\n"+rest), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// cacheDir is where scripts/setup keeps what it fetches and builds once.
func cacheDir() string {
	if c := os.Getenv("DOCKAUDIT_CACHE"); c != "" {
		return c
	}
	return "/var/cache/dockaudit-test"
}

// pushAs tags a daemon image as remote and pushes it there; the tag is removed at
// cleanup.
func pushAs(t *testing.T, tag, remote string) {
	t.Helper()
	docker(t, "tag", tag, remote)
	t.Cleanup(func() { exec.Command("docker", "rmi", remote).Run() })
	docker(t, "push", remote)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// listenUnix accepts connections on a unix socket and never answers them.
func listenUnix(path string) (interface{ Close() error }, error) {
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	go func() {
		var conns []net.Conn
		for {
			c, err := l.Accept()
			if err != nil {
				for _, c := range conns {
					c.Close()
				}
				return
			}
			conns = append(conns, c)
		}
	}()
	return l, nil
}
