package integration

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dockaudit/dockaudit/internal/report"
	"github.com/dockaudit/dockaudit/internal/testenv"
)

// bookwormRoot is the debootstrap minbase root filesystem scripts/setup caches.
func bookwormRoot(t *testing.T) string {
	t.Helper()
	cache := cacheDir()
	root := filepath.Join(cache, "bookworm-minbase")
	if _, err := os.Stat(filepath.Join(root, "var/lib/dpkg/status")); err != nil {
		testenv.Missing(t, "no debootstrap root at %s (scripts/setup builds it)", root)
	}
	return root
}

// importRoot makes the root filesystem a daemon image, as docker import does.
func importRoot(t *testing.T, root, tag string) {
	t.Helper()
	cmd := exec.Command("sh", "-c", "tar -C \"$1\" -c . | docker import - \"$2\"", "sh", root, tag)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("import %s: %v\n%s", root, err, out)
	}
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", tag).Run() })
}

// dpkgQuery is the ground truth: dpkg's own list of installed packages in root, with
// the source package and version dpkg derives for each.
func dpkgQuery(t *testing.T, root string) []string {
	t.Helper()
	out, err := exec.Command("dpkg-query", "--admindir="+filepath.Join(root, "var/lib/dpkg"), "-W",
		"-f", "${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\n").Output()
	if err != nil {
		t.Fatalf("dpkg-query: %v", err)
	}
	var list []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if status, rest, _ := strings.Cut(line, "\t"); strings.TrimSpace(status) == "ii" {
			list = append(list, rest)
		}
	}
	sort.Strings(list)
	return list
}

// inventory is the package list of the only image of a report, as dpkgQuery prints it.
func inventory(t *testing.T, rep *report.Report, typ string) []string {
	t.Helper()
	if len(rep.Images) != 1 {
		t.Fatalf("%d images in the report", len(rep.Images))
	}
	var list []string
	for _, p := range rep.Images[0].Packages {
		if p.Type == typ {
			list = append(list, strings.Join([]string{p.Name, p.Version, p.Arch, p.SourceName, p.SourceVersion}, "\t"))
		}
	}
	sort.Strings(list)
	return list
}

// imageStatuses maps rule → its status over the report (the worst over its findings).
func imageStatuses(rep *report.Report) map[string]string {
	out := map[string]string{}
	for rule, st := range report.RuleStatus(rep.Findings) {
		out[rule] = st.String()
	}
	return out
}

// TestImageDebootstrapGroundTruth: a real Debian root, read as a daemon image, as a
// docker save archive and as a directory, lists exactly what dpkg-query lists.
func TestImageDebootstrapGroundTruth(t *testing.T) {
	need(t)
	root := bookwormRoot(t)
	want := dpkgQuery(t, root)
	if len(want) < 80 {
		t.Fatalf("dpkg-query lists %d packages; a minbase root has about 88", len(want))
	}
	tag := "dockaudit-it-bookworm:minbase"
	importRoot(t, root, tag)
	archive := filepath.Join(t.TempDir(), "bookworm.tar")
	docker(t, "save", "-o", archive, tag)
	for _, ref := range []string{tag, "docker-archive:" + archive, "dir:" + root} {
		rep := jsonReport(t, nil, "image", ref)
		got := inventory(t, rep, "deb")
		if !slices.Equal(want, got) {
			t.Errorf("%s: packages differ from dpkg-query:\nwant %d: %v\n got %d: %v", ref, len(want), want, len(got), got)
		}
		im := rep.Images[0]
		if im.OS.ID != "debian" || im.OS.VersionID != "12" || im.OS.Codename != "bookworm" {
			t.Errorf("%s: os = %+v", ref, im.OS)
		}
		for _, p := range im.Packages {
			if p.Layer != 0 || p.Path != "/var/lib/dpkg/status" || !strings.HasPrefix(p.PURL, "pkg:deb/debian/") || !strings.Contains(p.PURL, "distro=debian-12") {
				t.Errorf("%s: %+v", ref, p)
				break
			}
		}
		s := imageStatuses(rep)
		// debootstrap leaves its downloaded .debs and lists; minbase ships setuid tools.
		for rule, st := range map[string]string{"IMG-PKG-CACHE": "warn", "IMG-SETUID": "warn", "IMG-EMPTY-PASSWORD": "pass",
			"IMG-DUPLICATE-ID": "pass", "SECRET-FILE": "pass", "IMG-LAYER-ANOMALY": "pass", "IMG-SUDO": "pass"} {
			if s[rule] != st {
				t.Errorf("%s: %s is %s, want %s", ref, rule, s[rule], st)
			}
		}
	}
}

// TestImageBusyboxAndGo: the scratch image with the static busybox and a Go program
// as sshd: OS busybox, the Go program's toolchain and module, root user.
func TestImageBusyboxAndGo(t *testing.T) {
	need(t)
	tag := "dockaudit-it-busybox:1"
	image(t, tag)
	rep := jsonReport(t, nil, "image", tag)
	im := rep.Images[0]
	var pk []string
	for _, p := range im.Packages {
		pk = append(pk, p.Type+" "+p.Name+" "+p.Version+" "+p.Path)
	}
	goVersion := "v" + strings.TrimPrefix(strings.Fields(runtime.Version())[0], "go")
	want := []string{"golang sleeper (devel) /usr/sbin/sshd", "golang stdlib " + goVersion + " /usr/sbin/sshd"}
	if im.OS.ID != "busybox" || !slices.Equal(want, pk) || len(im.Layers) != 3 {
		t.Errorf("os %+v, %d layers, packages %q, want %q", im.OS, len(im.Layers), pk, want)
	}
	s := imageStatuses(rep)
	if s["IMG-ROOT-USER"] != "fail" || s["IMG-SETUID"] != "pass" || s["IMG-EMPTY-PASSWORD"] != "skip" || s["IMG-LATEST-TAG"] != "pass" {
		t.Errorf("statuses %v", s)
	}
}

// TestImageSeededSecrets builds an image with fake secrets (one deleted by a later
// layer), setuid files, a git directory, a secret in ENV and a root user, and checks
// every finding and that no secret value is in any format.
func TestImageSeededSecrets(t *testing.T) {
	need(t)
	dir := t.TempDir()
	copyFile(t, "/bin/busybox", filepath.Join(dir, "busybox"))
	const (
		awsKey = "AKIAZ3MSJV4QWERTYUIO"
		npmTok = "npm_abcdefghijklmnopqrstuvwxyz0123456789"
		ghTok  = "ghp_0123456789abcdefghijABCDEFGHIJ012345"
	)
	files := map[string]string{
		"aws-credentials": "[default]\naws_access_key_id = " + awsKey + "\n",
		"npmrc":           "//registry.npmjs.org/:_authToken=" + npmTok + "\n",
		"id_rsa":          "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAfakefakefakefake\n-----END RSA PRIVATE KEY-----\n",
		"Dockerfile": `FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN mkdir -p /root/.aws /root/.ssh /app/.git /etc && echo 'root:x:0:0:root:/root:/bin/sh' > /etc/passwd && echo 'root::19000::::::' > /etc/shadow && chmod 4755 /bin/busybox
COPY aws-credentials /root/.aws/credentials
COPY npmrc /app/.npmrc
COPY id_rsa /root/.ssh/id_rsa
RUN rm /root/.ssh/id_rsa && touch /app/.git/HEAD
ENV GITHUB_TOKEN=` + ghTok + `
USER 0:0
`,
	}
	for n, b := range files {
		os.WriteFile(filepath.Join(dir, n), []byte(b), 0o644)
	}
	tag := "dockaudit-it-secrets:1"
	dockerBuild(t, dir, tag)

	rep := jsonReport(t, nil, "image", tag)
	var got []string
	for _, f := range rep.Findings {
		switch f.Rule {
		case "SECRET-FILE", "SECRET-GIT-DIR", "CIS-4.10", "IMG-SETUID", "IMG-ROOT-USER", "IMG-EMPTY-PASSWORD":
			msg := f.Message
			if i := strings.Index(msg, ", layer "); i > 0 {
				msg = msg[:i] + msg[strings.Index(msg[i:], ")")+i+1:] // the layer digest changes per build
			}
			got = append(got, fmt.Sprintf("%s %s %s: %s", f.Rule, f.Status, f.Severity, msg))
		}
	}
	want := []string{
		"CIS-4.10 fail high: environment variable GITHUB_TOKEN looks like a secret baked into the image",
		"IMG-ROOT-USER fail medium: runs as root",
		"IMG-SETUID warn low: 1 setuid or setgid files: /bin/busybox (4755 setuid, uid 0)",
		"IMG-EMPTY-PASSWORD fail high: accounts with an empty password: root",
		"SECRET-FILE fail high: npm-credentials (_authToken) in /app/.npmrc:1",
		"SECRET-FILE fail critical: aws-access-key-id in /root/.aws/credentials:2",
		"SECRET-FILE fail critical: private-key in /root/.ssh/id_rsa:1; a later layer removed the file, but the layer still holds it",
		"SECRET-GIT-DIR fail medium: holds a git repository at /app/.git",
	}
	if !slices.Equal(want, got) {
		t.Errorf("findings:\n got %q\nwant %q", got, want)
	}
	for _, format := range []string{"json", "sarif", "table"} {
		r := dockaudit(t, nil, "image", "--format", format, tag)
		if r.code != 3 {
			t.Errorf("%s: exit %d", format, r.code)
		}
		for _, secret := range []string{awsKey, npmTok, ghTok, "MIIEowIBAAKCAQEA"} {
			if strings.Contains(r.stdout, secret) {
				t.Errorf("%s output holds the secret %s", format, secret)
			}
		}
	}
}

// registry starts Debian's docker-registry (distribution 2.8) on a free port of every
// address, with storage in a temporary directory, and returns its port.
func registry(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		testenv.Missing(t, "no docker-registry (apt-get install docker-registry)")
	}
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	port := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	addr := ":" + port
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n", filepath.Join(dir, "data"), addr)), 0o644)
	cmd := exec.Command(bin, "serve", cfg)
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; i < 100; i++ {
		if resp, err := http.Get("http://127.0.0.1" + addr + "/v2/"); err == nil {
			resp.Body.Close()
			return port
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("docker-registry did not answer on %s", addr)
	return ""
}

// TestImageFromRegistry pushes an image to a real registry and reads it back without
// the daemon: the same findings and packages as through the daemon.
func TestImageFromRegistry(t *testing.T) {
	need(t)
	port := registry(t)
	tag := "dockaudit-it-busybox:reg"
	image(t, tag)
	// The daemon pushes over loopback, which it (like dockaudit) allows in plain HTTP.
	remote := "127.0.0.1:" + port + "/dockaudit/busybox:1"
	pushAs(t, tag, remote)

	viaDaemon := jsonReport(t, nil, "image", tag)
	viaRegistry := jsonReport(t, []string{"DOCKER_HOST=unix:///nonexistent.sock", "DOCKER_CONFIG=" + t.TempDir()}, "image", "--insecure", "registry:"+remote)
	a, b := viaDaemon.Images[0], viaRegistry.Images[0]
	if b.Source != "registry" || !strings.HasPrefix(b.Digest, "sha256:") || len(a.Packages) != len(b.Packages) || len(b.Packages) != 2 || b.OS.ID != "busybox" {
		t.Errorf("registry read: %+v\ndaemon read: %+v", b, a)
	}
	for i := range a.Packages {
		if a.Packages[i].PURL != b.Packages[i].PURL || a.Packages[i].Layer != b.Packages[i].Layer {
			t.Errorf("package %d: %+v vs %+v", i, a.Packages[i], b.Packages[i])
		}
	}
	if sa, sb := imageStatuses(viaDaemon), imageStatuses(viaRegistry); sa["IMG-ROOT-USER"] != sb["IMG-ROOT-USER"] || sb["IMG-LATEST-TAG"] != "pass" {
		t.Errorf("statuses differ: %v vs %v", sa, sb)
	}
	// Through a non-loopback address the plain-HTTP registry needs --insecure: without
	// it, one line and exit 1.
	ip := bridgeAddress(t)
	other := ip + ":" + port + "/dockaudit/busybox:1"
	r := dockaudit(t, nil, "image", "registry:"+other)
	if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "dockaudit image: registry:"+other+": ") {
		t.Errorf("without --insecure: exit %d, stderr %q", r.code, r.stderr)
	}
	if rep := jsonReport(t, nil, "image", "--insecure", "registry:"+other); rep.Images[0].Digest != b.Digest {
		t.Errorf("with --insecure through %s: digest %s, want %s", ip, rep.Images[0].Digest, b.Digest)
	}
	// An SBOM straight from the registry.
	r = dockaudit(t, nil, "sbom", "--insecure", "--format", "spdx", "registry:"+remote)
	if r.code != 0 || !strings.Contains(r.stdout, `"referenceLocator": "pkg:golang/stdlib@`) {
		t.Errorf("sbom: exit %d, %s", r.code, r.stderr)
	}
}

// bridgeAddress is an IPv4 address of this host that is not loopback (docker0's).
func bridgeAddress(t *testing.T) string {
	t.Helper()
	ifc, err := net.InterfaceByName("docker0")
	if err == nil {
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
				return n.IP.String()
			}
		}
	}
	t.Fatalf("docker0 has no IPv4 address: %v", err)
	return ""
}

// TestImageMissing: a daemon image that does not exist is one line and exit 1.
// TestImageMissing: a name the daemon does not hold is one line naming the daemon and
// the nearest names it does hold, exit 1, and no report (it was the raw API error and
// a report of 17 skipped rules).
func TestImageMissing(t *testing.T) {
	need(t)
	image(t, "ux-busybox:1")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"image", "ux-busybx:1"}, "dockaudit image: no image ux-busybx:1 on the daemon at unix:///var/run/docker.sock; did you mean ux-busybox:1?\n"},
		{[]string{"image", "ux-busybox"}, "dockaudit image: no image ux-busybox on the daemon at unix:///var/run/docker.sock; did you mean ux-busybox:1?\n"},
		{[]string{"image", "dockaudit-no-such-image:404"}, "dockaudit image: no image dockaudit-no-such-image:404 on the daemon at unix:///var/run/docker.sock\n"},
		{[]string{"image", "ux-busybox:1", "ux-busybx:1"}, "dockaudit image: no image ux-busybx:1 on the daemon at unix:///var/run/docker.sock; did you mean ux-busybox:1?\n"},
		{[]string{"sbom", "ux-busybx:1"}, "dockaudit sbom: no image ux-busybx:1 on the daemon at unix:///var/run/docker.sock; did you mean ux-busybox:1?\n"},
	} {
		r := dockaudit(t, []string{"DOCKER_HOST="}, tt.args...)
		if r.code != 1 || r.stderr != tt.want || r.stdout != "" {
			t.Errorf("%v: exit %d, stderr %q, %d bytes on stdout", tt.args, r.code, r.stderr, len(r.stdout))
		}
	}
}

// TestImageGoDependencies builds a static Go program with a module dependency into a
// scratch image: its toolchain, main module and dependency are inventoried from the
// binary's build information, with the layer that added it.
func TestImageGoDependencies(t *testing.T) {
	need(t)
	src := t.TempDir()
	sum, err := os.ReadFile("../go.sum")
	if err != nil {
		t.Fatal(err)
	}
	var cmpSum []string
	for _, line := range strings.Split(string(sum), "\n") {
		if strings.HasPrefix(line, "github.com/google/go-cmp v0.7.0") {
			cmpSum = append(cmpSum, line)
		}
	}
	os.WriteFile(filepath.Join(src, "go.mod"), []byte("module example.com/goapp\n\ngo 1.21\n\nrequire github.com/google/go-cmp v0.7.0\n"), 0o644)
	os.WriteFile(filepath.Join(src, "go.sum"), []byte(strings.Join(cmpSum, "\n")+"\n"), 0o644)
	os.WriteFile(filepath.Join(src, "main.go"), []byte("package main\n\nimport (\n\t\"fmt\"\n\n\t\"github.com/google/go-cmp/cmp\"\n)\n\nfunc main() { fmt.Println(cmp.Diff(1, 2)) }\n"), 0o644)
	ctx := filepath.Join(src, "ctx")
	os.Mkdir(ctx, 0o755)
	build := exec.Command("go", "build", "-o", filepath.Join(ctx, "goapp"), ".")
	build.Dir, build.Env = src, append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte("FROM scratch\nCOPY goapp /usr/local/bin/goapp\nUSER 65532\nENTRYPOINT [\"/usr/local/bin/goapp\"]\n"), 0o644)
	tag := "dockaudit-it-goapp:1"
	dockerBuild(t, ctx, tag)

	rep := jsonReport(t, nil, "image", tag)
	var got []string
	for _, p := range rep.Images[0].Packages {
		got = append(got, fmt.Sprintf("%s %s %s layer %d", p.PURL, p.Name, p.Path, p.Layer))
	}
	goVersion := "v" + strings.TrimPrefix(strings.Fields(runtime.Version())[0], "go")
	want := []string{
		"pkg:golang/example.com/goapp@%28devel%29 example.com/goapp /usr/local/bin/goapp layer 0",
		"pkg:golang/github.com/google/go-cmp@v0.7.0 github.com/google/go-cmp /usr/local/bin/goapp layer 0",
		"pkg:golang/stdlib@" + goVersion + " stdlib /usr/local/bin/goapp layer 0",
	}
	if !slices.Equal(want, got) {
		t.Errorf("packages:\n got %q\nwant %q", got, want)
	}
	if s := imageStatuses(rep); s["IMG-ROOT-USER"] != "pass" || rep.Images[0].OS.ID != "scratch" {
		t.Errorf("statuses %v, os %+v", s, rep.Images[0].OS)
	}
}
