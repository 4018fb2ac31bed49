package compose

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
)

func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func service(t *testing.T, p *Project, name string) Service {
	t.Helper()
	for _, s := range p.Services {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no service %s in %v", name, p.Services)
	return Service{}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"compose.yaml": `name: shop
include:
  - lib/cache.yaml
services:
  web:
    image: "nginx:${TAG}"
    extends: {file: base.yaml, service: hardened}
    cap_add: [NET_ADMIN]
    ports: ["8080:80", "127.0.0.1:9090:90/udp"]
    volumes:
      - ./data:/data:ro
      - /var/run/docker.sock:/var/run/docker.sock
      - etc:/host-etc
    deploy:
      resources: {limits: {memory: 256M, pids: 50}}
      restart_policy: {condition: on-failure, max_attempts: 3}
    security_opt: ["seccomp=profile.json"]
  worker:
    build: {context: ./app, target: base}
    network_mode: service:web
    pid: host
    profiles: [jobs]
volumes:
  etc:
    driver_opts: {type: none, o: bind, device: /etc}
`,
		"compose.override.yaml": "services:\n  web:\n    cap_add: [NET_RAW]\n    read_only: true\n",
		"base.yaml":             "services:\n  hardened:\n    cap_drop: [ALL]\n    user: \"10001\"\n",
		"lib/cache.yaml":        "services:\n  cache:\n    image: redis:7\n    privileged: true\n    healthcheck: {disable: true}\n",
		".env":                  "TAG=1.27\n",
		"prod.env":              "TAG=9.9\n",
		"profile.json":          "{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n  \"syscalls\": []\n}\n",
		"app/Dockerfile":        "FROM debian:12 AS base\nUSER app\nHEALTHCHECK CMD true\nFROM base AS debug\nUSER root\n",
	})
	files := []string{filepath.Join(dir, "compose.yaml"), filepath.Join(dir, "compose.override.yaml")}
	p, err := Load(context.Background(), Options{Files: files, Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "shop" || len(p.Services) != 2 || strings.Join(p.Disabled, ",") != "worker" {
		t.Fatalf("project %s, services %v, disabled %v", p.Name, p.Services, p.Disabled)
	}
	web := service(t, p, "web").Container
	want := facts.Container{
		Name: "shop-web-1", State: &facts.ContainerState{Status: "created"}, Networks: []string{},
		Config: &facts.ContainerConfig{Image: "nginx:1.27", User: "10001"},
		HostConfig: &facts.HostConfig{
			CapAdd: []string{"NET_ADMIN", "NET_RAW"}, CapDrop: []string{"ALL"},
			SecurityOpt: []string{`seccomp={"defaultAction":"SCMP_ACT_ERRNO","syscalls":[]}`},
			NetworkMode: "shop_default", Memory: 256 << 20, PidsLimit: 50, ReadonlyRootfs: true,
			RestartPolicy: "on-failure", RestartRetries: 3, Devices: []facts.Device{}, Ulimits: []facts.Ulimit{},
		},
		Mounts: []facts.Mount{
			{Type: "bind", Source: filepath.Join(dir, "data"), Destination: "/data", HostPath: filepath.Join(dir, "data"), Propagation: "rprivate"},
			{Type: "bind", Source: "/var/run/docker.sock", Destination: "/var/run/docker.sock", RW: true, HostPath: "/var/run/docker.sock", Propagation: "rprivate"},
			{Type: "volume", Name: "shop_etc", Source: "etc", Destination: "/host-etc", RW: true, HostPath: "/etc"},
		},
		Ports: []facts.Port{{ContainerPort: "80/tcp", HostPort: "8080"}, {ContainerPort: "90/udp", HostIP: "127.0.0.1", HostPort: "9090"}},
		Unknown: map[facts.Part]string{
			facts.PartHealthcheck: "the service sets no healthcheck: and its image nginx:1.27 may define one, which dockaudit config does not read",
		},
		ProcessesError: "the container does not exist yet: dockaudit config reads files",
	}
	if d := cmp.Diff(want, web); d != "" {
		t.Errorf("web (-want +got):\n%s", d)
	}
	cache := service(t, p, "cache").Container
	if !cache.HostConfig.Privileged || strings.Join(cache.Config.Healthcheck, " ") != "NONE" || cache.Unknown[facts.PartUser] == "" {
		t.Errorf("cache: %+v %+v %v", cache.HostConfig, cache.Config, cache.Unknown)
	}

	// Where settings are written: the override's list item, the included file, the
	// merged list item found by what a finding says, the service when unset.
	for _, tc := range []struct {
		svc  string
		keys []string
		said string
		want finding.Location
	}{
		{"web", []string{"cap_add"}, "adds NET_RAW", finding.Location{Path: files[1], Line: 3, Column: 15}},
		{"web", []string{"volumes"}, "mounts /var/run/docker.sock at /var/run/docker.sock", finding.Location{Path: files[0], Line: 12, Column: 9}},
		{"web", []string{"volumes"}, "mounts volume shop_etc (/etc) read-write at /host-etc etc:/host-etc:rw", finding.Location{Path: files[0], Line: 13, Column: 9}},
		{"web", []string{"ports"}, "accepts traffic on every host interface: *:8080->80/tcp", finding.Location{Path: files[0], Line: 9, Column: 13}},
		{"web", []string{"deploy.resources.limits.memory", "mem_limit"}, "", finding.Location{Path: files[0], Line: 15, Column: 28}},
		{"web", []string{"mem_limit"}, "", finding.Location{Path: files[0], Line: 5, Column: 3}}, // unset: the service, where first defined
		{"cache", []string{"privileged"}, "", finding.Location{Path: filepath.Join(dir, "lib/cache.yaml"), Line: 4, Column: 5}},
	} {
		if got := p.Locate(tc.svc, tc.keys, tc.said); got != tc.want {
			t.Errorf("Locate(%s, %v, %q) = %+v, want %+v", tc.svc, tc.keys, tc.said, got, tc.want)
		}
	}

	// --env-file, --profile; the environment wins over env files; the build's
	// Dockerfile gives the user and health check a service does not set.
	// --env-file is relative to the working directory, as docker compose takes it.
	t.Chdir(dir)
	p, err = Load(context.Background(), Options{Files: files, EnvFiles: []string{"prod.env"}, Profiles: []string{"jobs"}, Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if got := service(t, p, "web").Container.Config.Image; got != "nginx:9.9" {
		t.Errorf("--env-file: image %s", got)
	}
	w := service(t, p, "worker")
	if w.Container.HostConfig.NetworkMode != "container:shop-web-1" || w.Container.HostConfig.PidMode != "host" ||
		w.Container.Config.User != "app" || strings.Join(w.Container.Config.Healthcheck, " ") != "CMD-SHELL true" || w.Build.Dockerfile != filepath.Join(dir, "app", "Dockerfile") {
		t.Errorf("worker: %+v %+v %+v", w.Container.HostConfig, w.Container.Config, w.Build)
	}
	p, err = Load(context.Background(), Options{Files: files, Env: []string{"TAG=7"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := service(t, p, "web").Container.Config.Image; got != "nginx:7" {
		t.Errorf("environment over .env: image %s", got)
	}
}

func TestLoadHostile(t *testing.T) {
	type tc struct {
		name  string
		setup func(dir string) []string
		want  string
	}
	fifo := func(p string) {
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []tc{
		{"alias bomb", func(dir string) []string {
			var b strings.Builder
			b.WriteString("x-a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
			for i := 'b'; i <= 'j'; i++ {
				b.WriteString("x-" + string(i) + ": &" + string(i) + " [")
				for j := 0; j < 9; j++ {
					if j > 0 {
						b.WriteString(",")
					}
					b.WriteString("*" + string(i-1))
				}
				b.WriteString("]\n")
			}
			b.WriteString("services:\n  web:\n    image: x\n    labels: *j\n")
			write(t, dir, map[string]string{"compose.yaml": b.String()})
			return []string{filepath.Join(dir, "compose.yaml")}
		}, "excessive aliasing"},
		{"deep nesting", func(dir string) []string {
			write(t, dir, map[string]string{"compose.yaml": "services:\n  web:\n    image: x\n    labels: " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "\n"})
			return []string{filepath.Join(dir, "compose.yaml")}
		}, "exceeded max depth"},
		{"100 MB file", func(dir string) []string {
			f, err := os.Create(filepath.Join(dir, "compose.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			f.Truncate(100 << 20)
			f.Close()
			return []string{filepath.Join(dir, "compose.yaml")}
		}, "the Compose file is larger than 4 MiB"},
		{"FIFO .env", func(dir string) []string {
			write(t, dir, map[string]string{"compose.yaml": "services:\n  web:\n    image: x\n"})
			fifo(filepath.Join(dir, ".env"))
			return []string{filepath.Join(dir, "compose.yaml")}
		}, "DIR/.env: the env file is a FIFO, not a regular file"},
		{"FIFO env_file", func(dir string) []string {
			write(t, dir, map[string]string{"compose.yaml": "services:\n  web:\n    image: x\n    env_file: [app.env]\n"})
			fifo(filepath.Join(dir, "app.env"))
			return []string{filepath.Join(dir, "compose.yaml")}
		}, "DIR/app.env: the env file is a FIFO, not a regular file"},
		{"FIFO env_file through a merge key", func(dir string) []string {
			write(t, dir, map[string]string{"compose.yaml": "x-common: &common\n  env_file: [app.env]\nservices:\n  web:\n    <<: *common\n    image: x\n"})
			fifo(filepath.Join(dir, "app.env"))
			return []string{filepath.Join(dir, "compose.yaml")}
		}, "DIR/app.env: the env file is a FIFO, not a regular file"},
		{"FIFO env_file of an included file, beside it", func(dir string) []string {
			write(t, dir, map[string]string{"compose.yaml": "include: [inc/compose.yaml]\nservices:\n  web:\n    image: x\n",
				"inc/compose.yaml": "services:\n  db:\n    image: y\n    env_file: app.env\n"})
			fifo(filepath.Join(dir, "inc", "app.env"))
			return []string{filepath.Join(dir, "compose.yaml")}
		}, "DIR/inc/app.env: the env file is a FIFO, not a regular file"},
		{"FIFO .env of an included project", func(dir string) []string {
			write(t, dir, map[string]string{"compose.yaml": "include: [inc/compose.yaml]\nservices:\n  web:\n    image: x\n",
				"inc/compose.yaml": "services:\n  db:\n    image: y\n"})
			fifo(filepath.Join(dir, "inc", ".env"))
			return []string{filepath.Join(dir, "compose.yaml")}
		}, "DIR/inc/.env: the env file is a FIFO, not a regular file"},
		{"FIFO env_file in a second YAML document", func(dir string) []string {
			write(t, dir, map[string]string{"compose.yaml": "services:\n  web:\n    image: x\n---\nservices:\n  web:\n    env_file: app.env\n"})
			fifo(filepath.Join(dir, "app.env"))
			return []string{filepath.Join(dir, "compose.yaml")}
		}, "DIR/app.env: the env file is a FIFO, not a regular file"},
		{"a token in a line the env file parser quotes", func(dir string) []string {
			write(t, dir, map[string]string{"compose.yaml": "services:\n  web:\n    image: x\n", ".env": "A=1\nB=\"ghp_0123456789abcdefghijABCDEFGHIJ012345\n"})
			return []string{filepath.Join(dir, "compose.yaml")}
		}, ".env: line 3: unterminated quoted value \"[redacted: 40 characters, sha256:d8fe76b428b9]"},
		{"seccomp profile missing", func(dir string) []string {
			write(t, dir, map[string]string{"compose.yaml": "services:\n  web:\n    image: x\n    security_opt: [seccomp=nope.json]\n"})
			return []string{filepath.Join(dir, "compose.yaml")}
		}, "DIR/compose.yaml: security_opt seccomp=nope.json: open DIR/nope.json: no such file or directory"},
		{"seccomp profile not JSON", func(dir string) []string {
			write(t, dir, map[string]string{"compose.yaml": "services:\n  web:\n    image: x\n    security_opt: [\"seccomp:p.json\"]\n", "p.json": "{nope"})
			return []string{filepath.Join(dir, "compose.yaml")}
		}, "DIR/compose.yaml: security_opt seccomp=p.json: the profile is not JSON"},
		{"FIFO Compose file", func(dir string) []string {
			fifo(filepath.Join(dir, "compose.yaml"))
			return []string{filepath.Join(dir, "compose.yaml")}
		}, "DIR/compose.yaml: the Compose file is a FIFO, not a regular file"},
		{"symlink out of the project", func(dir string) []string {
			write(t, dir, map[string]string{"compose.yaml": "services:\n  web:\n    image: x\n    extends: {file: base.yaml, service: b}\n"})
			os.Symlink("/etc/passwd", filepath.Join(dir, "base.yaml"))
			return []string{filepath.Join(dir, "compose.yaml")}
		}, "base.yaml: the Compose file is a symbolic link to /etc/passwd, outside the project directory DIR: name it directly to read it"},
		{"remote include", func(dir string) []string {
			write(t, dir, map[string]string{"compose.yaml": "include: [\"oci://example.com/x:1\"]\nservices:\n  web:\n    image: x\n"})
			return []string{filepath.Join(dir, "compose.yaml")}
		}, "oci:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			files := c.setup(dir)
			start := time.Now()
			_, err := Load(context.Background(), Options{Files: files, Env: []string{}})
			if err == nil {
				t.Fatal("loaded")
			}
			msg := err.Error()
			if want := strings.ReplaceAll(c.want, "DIR", dir); !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q, want it to hold %q, on one line", msg, want)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
}

func TestDiscover(t *testing.T) {
	dir := t.TempDir()
	if Discover(dir) != nil {
		t.Error("an empty directory")
	}
	write(t, dir, map[string]string{"docker-compose.yml": "", "compose.yaml": "", "compose.override.yml": "", "docker-compose.override.yml": ""})
	if got := Discover(dir); strings.Join(got, " ") != filepath.Join(dir, "compose.yaml")+" "+filepath.Join(dir, "compose.override.yml") {
		t.Errorf("Discover = %v", got)
	}
}

// TestConvertEdges: what docker compose sends for a restart_policy without a
// condition (no restart), and a volumes_from another container (mounts not known).
func TestConvertEdges(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{"compose.yaml": "services:\n  web:\n    image: x\n    deploy: {restart_policy: {max_attempts: 3}}\n    volumes_from: [\"container:vault\"]\n    build: {context: \"https://github.com/o/r.git\", dockerfile_inline: \"FROM x\"}\n" +
		"    secrets: [shadow, {source: token, target: api}, inline]\n    configs: [{source: cfg, target: /etc/app.conf}]\n" +
		"secrets:\n  shadow: {file: /etc/shadow}\n  token: {external: true}\n  inline: {environment: HOME}\nconfigs:\n  cfg: {file: ./app.conf}\n"})
	p, err := Load(context.Background(), Options{Files: []string{filepath.Join(dir, "compose.yaml")}, Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	s := service(t, p, "web")
	c := s.Container
	if c.HostConfig.RestartPolicy != "no" {
		t.Errorf("restart policy %q", c.HostConfig.RestartPolicy)
	}
	// File secrets and configs are binds of host files; an external one is not known;
	// one from the environment has no host path.
	want := []facts.Mount{
		{Type: "bind", Source: "/etc/shadow", Destination: "/run/secrets/shadow", HostPath: "/etc/shadow", Propagation: "rprivate"},
		{Type: "bind", Name: "token", Destination: "/run/secrets/api", HostPathUnknown: "the external secret or config token is not in the files"},
		{Type: "bind", Source: filepath.Join(dir, "app.conf"), Destination: "/etc/app.conf", HostPath: filepath.Join(dir, "app.conf"), Propagation: "rprivate"},
		{Type: "volume", Name: "vault", Destination: "(volumes_from container:vault)", HostPathUnknown: "volumes_from container:vault: that container's mounts are not in the files"},
	}
	if d := cmp.Diff(want, c.Mounts); d != "" {
		t.Errorf("mounts (-want +got):\n%s", d)
	}
	if got := strings.Join(s.Build.NotRead, "; "); got != "its dockerfile_inline" || s.Build.Dockerfile != "" {
		t.Errorf("build %+v", s.Build)
	}
}
