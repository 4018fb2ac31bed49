package imagecfg

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
)

const layer0 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
const layer1 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"

// clean is an image every rule passes.
func clean() *facts.Image {
	return &facts.Image{
		ID: "sha256:" + strings.Repeat("ab", 32), Tags: []string{"app:1.2"}, Ref: "app:1.2", Source: "daemon",
		Config: &facts.ImageConfig{User: "10001:10001", Volumes: []string{"/var/lib/app"}}, History: []facts.History{},
		Layers: []facts.ImageLayer{{Digest: layer0, Entries: 10}, {Digest: layer1, Entries: 3}},
		Content: &facts.ImageContent{
			OS: facts.OS{ID: "debian", VersionID: "12"}, Packages: []facts.Package{}, Setuid: []facts.FileMeta{}, Secrets: []facts.Secret{},
			GitDirs: []string{}, Sudo: []string{}, Caches: []facts.Cache{}, Entries: 13,
			Accounts: facts.Accounts{Read: true, EmptyPassword: []string{}, DuplicateUIDs: []string{}, DuplicateGIDs: []string{}},
		},
	}
}

func run(t *testing.T, im *facts.Image, id string) []string {
	t.Helper()
	sel, err := check.Selection{Include: []string{id}}.Apply(Checks())
	if err != nil {
		t.Fatal(err)
	}
	snap := &facts.Snapshot{Images: []facts.Image{*im}}
	var out []string
	for _, f := range check.Run(sel, snap, check.Options{}) {
		s := f.Status.String() + " " + f.Severity.String() + ": " + f.Message
		for _, e := range f.Evidence {
			s += " [" + e.Key + "=" + e.Actual + "]"
		}
		if f.Location != nil {
			b, _ := json.Marshal(f.Location)
			s += " @" + string(b)
		}
		out = append(out, s)
	}
	return out
}

func expect(t *testing.T, got []string, want ...string) {
	t.Helper()
	if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
}

func TestCleanImagePassesEverything(t *testing.T) {
	for _, c := range Checks() {
		got := run(t, clean(), c.ID)
		if len(got) != 1 || !strings.HasPrefix(got[0], "pass ") {
			t.Errorf("%s on a clean image: %v", c.ID, got)
		}
	}
}

func TestRootUser(t *testing.T) {
	for user, root := range map[string]bool{"": true, "root": true, "0": true, "0:0": true, "root:root": true, " 0 ": true,
		"10001": false, "app": false, "app:0": false, "rootless": false} {
		im := clean()
		im.Config.User = user
		got := run(t, im, "IMG-ROOT-USER")
		if len(got) != 1 || strings.HasPrefix(got[0], "fail") != root {
			t.Errorf("USER %q: %v", user, got)
		}
	}
	im := clean()
	im.Config.User = ""
	expect(t, run(t, im, "IMG-ROOT-USER"), "fail medium: runs as root [USER=(not set: root)]")
	im.Source = "dir"
	expect(t, run(t, im, "IMG-ROOT-USER"), "skip medium: a root filesystem directory has no image configuration")
}

func TestSetuidSudoAccounts(t *testing.T) {
	im := clean()
	im.Content.Setuid = []facts.FileMeta{{Path: "/usr/bin/passwd", Mode: 0o4755}, {Path: "/usr/bin/chage", Mode: 0o2755}, {Path: "/opt/both", Mode: 0o6750, UID: 1000}}
	im.Content.Sudo = []string{"/usr/bin/sudo"}
	im.Content.Accounts.EmptyPassword = []string{"guest"}
	im.Content.Accounts.DuplicateUIDs = []string{"0: root, toor", "1000: a, b"}
	im.Content.Accounts.DuplicateGIDs = []string{"100: users, staff"}
	expect(t, run(t, im, "IMG-SETUID"),
		"warn low: 3 setuid or setgid files: /usr/bin/passwd (4755 setuid, uid 0), /usr/bin/chage (2755 setgid, uid 0), /opt/both (6750 setuid+setgid, uid 1000) [setuid/setgid files=3]")
	expect(t, run(t, im, "IMG-SUDO"), "warn low: sudo is installed: /usr/bin/sudo [sudo=/usr/bin/sudo]")
	expect(t, run(t, im, "IMG-EMPTY-PASSWORD"), "fail high: accounts with an empty password: guest [empty passwords=guest]")
	expect(t, run(t, im, "IMG-DUPLICATE-ID"),
		"warn medium: GID 100 belongs to several groups: users, staff [duplicate GID=100: users, staff]",
		"warn high: UID 0 belongs to several users: root, toor [duplicate UID=0: root, toor]",
		"warn medium: UID 1000 belongs to several users: a, b [duplicate UID=1000: a, b]")
	im.Content.Accounts = facts.Accounts{}
	expect(t, run(t, im, "IMG-EMPTY-PASSWORD"), "skip high: the image has no /etc/passwd")
}

func TestCachesTagsVolumes(t *testing.T) {
	im := clean()
	im.Content.Caches = []facts.Cache{{Path: "/var/cache/apt/archives", Files: 88}, {Path: "/var/lib/apt/lists", Files: 4}}
	expect(t, run(t, im, "IMG-PKG-CACHE"),
		"warn low: /var/cache/apt/archives holds 88 files left by the package manager [/var/cache/apt/archives=88 files]",
		"warn low: /var/lib/apt/lists holds 4 files left by the package manager [/var/lib/apt/lists=4 files]")

	for ref, want := range map[string]string{
		"app":                                   "warn low: referenced without a tag, which means latest [reference=app]",
		"daemon:app:latest":                     "warn low: referenced by the latest tag [reference=app:latest]",
		"registry:localhost:5000/app":           "warn low: referenced without a tag, which means latest [reference=localhost:5000/app]",
		"registry:localhost:5000/a:v2":          "pass low: referenced by the tag v2 [reference=localhost:5000/a:v2]",
		"app@sha256:" + strings.Repeat("0", 64): "pass low: referenced by digest [reference=app@sha256:" + strings.Repeat("0", 64) + "]",
		"4dfd0fa9e8cf":                          "pass low: referenced by image ID [reference=4dfd0fa9e8cf]",
		"docker:dbsx-busybox":                   "warn low: referenced without a tag, which means latest [reference=dbsx-busybox]",
	} {
		im := clean()
		im.Ref = ref
		expect(t, run(t, im, "IMG-LATEST-TAG"), want)
	}
	im.Source = "docker-archive"
	expect(t, run(t, im, "IMG-LATEST-TAG"), "skip low: not applicable: the image was read from a file, not by name")

	im = clean()
	im.Config.Volumes = []string{"/data", "/etc/", "/home/app/.ssh", "/var/run/docker.sock"}
	expect(t, run(t, im, "IMG-SENSITIVE-VOLUME"),
		"warn medium: declares a VOLUME on /etc/ [VOLUME=/etc/]",
		"warn medium: declares a VOLUME on /home/app/.ssh [VOLUME=/home/app/.ssh]",
		"warn medium: declares a VOLUME on /var/run/docker.sock [VOLUME=/var/run/docker.sock]")
}

func TestAnomalies(t *testing.T) {
	im := clean()
	im.Content.Anomalies = []facts.Anomaly{
		{Layer: 1, Path: "../../../tmp/pwned", Reason: "the entry's path leaves the image root"},
		{Layer: 0, Reason: "the layer ends without the end-of-archive marker: it may be truncated"},
	}
	expect(t, run(t, im, "IMG-LAYER-ANOMALY"),
		"warn high: layer 1 (sha256:111111111111): the layer ends without the end-of-archive marker: it may be truncated [layer=1 (sha256:111111111111)]",
		"fail high: layer 2 (sha256:222222222222): the entry's path leaves the image root: ../../../tmp/pwned [entry=../../../tmp/pwned]")
	expect(t, run(t, clean(), "IMG-LAYER-ANOMALY"), "pass high: all 13 entries of 2 layers are well formed")
}

func TestSecrets(t *testing.T) {
	im := clean()
	im.Content.Secrets = []facts.Secret{
		{Kind: "private-key", Path: "/root/.ssh/id_rsa", Layer: 0, Line: 1, Hash: "0123456789ab", Length: 1675, Detail: "RSA"},
		{Kind: "npm-token", Path: "/app/.npmrc", Layer: 1, Line: 2, Hash: "ba9876543210", Length: 36, Detail: "registry.npmjs.org", Removed: true},
	}
	im.Content.GitDirs = []string{"/app/.git"}
	expect(t, run(t, im, "SECRET-FILE"),
		`fail high: npm-token (registry.npmjs.org) in /app/.npmrc:2, layer 2 (sha256:222222222222); a later layer removed the file, but the layer still holds it [secret=[redacted: 36 characters, sha256:ba9876543210]] @{"path":"/app/.npmrc","layer":"`+layer1+`","line":2}`,
		`fail critical: private-key (RSA) in /root/.ssh/id_rsa:1, layer 1 (sha256:111111111111) [secret=[redacted: 1675 characters, sha256:0123456789ab]] @{"path":"/root/.ssh/id_rsa","layer":"`+layer0+`","line":1}`)
	expect(t, run(t, im, "SECRET-GIT-DIR"), `fail medium: holds a git repository at /app/.git [.git=/app/.git] @{"path":"/app/.git"}`)
}

// TestUnreadContent: dockaudit host does not read layers; content rules skip there.
func TestUnreadContent(t *testing.T) {
	im := clean()
	im.Content = nil
	for _, id := range []string{"IMG-SETUID", "IMG-SUDO", "IMG-EMPTY-PASSWORD", "IMG-DUPLICATE-ID", "IMG-PKG-CACHE", "IMG-LAYER-ANOMALY", "SECRET-FILE", "SECRET-GIT-DIR"} {
		expect(t, run(t, im, id), "skip "+ruleSeverity(id)+": not known: the image's files were not read (dockaudit image reads them)")
	}
}

func ruleSeverity(id string) string {
	for _, c := range Checks() {
		if c.ID == id {
			return c.Severity.String()
		}
	}
	return finding.SevInfo.String()
}
