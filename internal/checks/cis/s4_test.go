package cis

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
)

func TestRootUser(t *testing.T) {
	for user, root := range map[string]bool{
		"": true, "0": true, "root": true, "0:0": true, "root:root": true, "root:0": true, "0:1000": true, " root ": true,
		"1000": false, "app": false, "1000:0": false, "nobody:nogroup": false, "rootless": false,
	} {
		s := base()
		s.Containers[0].Config.User = user
		fs := run(t, s, "4.1")
		want := finding.Pass
		if root {
			want = finding.Fail
		}
		if len(fs) != 1 || fs[0].Status != want {
			t.Errorf("user %q: %+v", user, fs)
		}
	}
	s := base()
	expect(t, run(t, s, "4.1"), brief{finding.Fail, finding.Medium, "web", "runs as root",
		[]finding.Evidence{ev("user", "(not set: root)", "a non-root user")}})
}

func TestImageHealthcheckOncePerImage(t *testing.T) {
	s := base()
	// One image with three tags is one image.
	s.Images[0].Tags = []string{"web:1", "web:latest", "registry.local/web:1"}
	statuses(t, run(t, s, "4.6"), "fail: web:1: has no HEALTHCHECK instruction")
	s.Images[0].Config.Healthcheck = []string{"NONE"}
	statuses(t, run(t, s, "4.6"), "fail: web:1: has no HEALTHCHECK instruction")
	s.Images[0].Config.Healthcheck = []string{"CMD-SHELL", "curl -f http://localhost/"}
	statuses(t, run(t, s, "4.6"), "pass: web:1: has a HEALTHCHECK")
}

func TestUpdateAndAdd(t *testing.T) {
	s := base()
	s.Images[0].History = append(s.Images[0].History,
		facts.History{CreatedBy: "/bin/sh -c apt-get update"},
		facts.History{CreatedBy: "/bin/sh -c apt-get update && apt-get install -y curl"},
		facts.History{CreatedBy: "RUN /bin/sh -c apk update # buildkit"},
		facts.History{CreatedBy: "/bin/sh -c #(nop) ADD https://example.com/tool.tgz /opt/ "},
		facts.History{CreatedBy: "ADD app.tar /srv/ # buildkit"},
	)
	statuses(t, run(t, s, "4.7"),
		"warn: web:1: history step 3 runs apt-get update without installing in the same step",
		"warn: web:1: history step 5 runs apk update without installing in the same step")
	fs := run(t, s, "4.9")
	// The base image's ADD of its root filesystem (step 1) is not reported.
	statuses(t, fs,
		"warn: web:1: history step 6 uses ADD https://example.com/tool.tgz",
		"warn: web:1: history step 7 uses ADD app.tar")
	if fs[0].Severity != finding.Medium || fs[1].Severity != finding.Low {
		t.Errorf("a remote ADD is worse than a local one: %v %v", fs[0].Severity, fs[1].Severity)
	}
}

// TestSecretsRedacted: secrets are reported by name and hash, and their value appears
// nowhere in the findings, evidence included.
func TestSecretsRedacted(t *testing.T) {
	s := base()
	const value = "hunter2-very-secret"
	s.Images[0].Config.Env = []string{"PATH=/usr/bin", "DB_PASSWORD=" + value, "DB_PASSWORD_FILE=/run/secrets/db", "API_TOKEN="}
	s.Images[0].History = append(s.Images[0].History,
		facts.History{CreatedBy: "/bin/sh -c #(nop)  ENV DB_PASSWORD=" + value},
		facts.History{CreatedBy: "|1 GITHUB_TOKEN=ghp_abc123 /bin/sh -c apt-get update"},
	)
	fs := run(t, s, "4.10")
	statuses(t, fs,
		"fail: web:1: environment variable DB_PASSWORD looks like a secret baked into the image",
		"fail: web:1: history step 4 sets GITHUB_TOKEN, which looks like a secret")
	if fs[0].Evidence[0].Actual != "[redacted: 19 characters, sha256:c4ca24390c4f]" {
		t.Errorf("evidence = %q", fs[0].Evidence[0].Actual)
	}
	s.Images[0].History = append(s.Images[0].History,
		facts.History{CreatedBy: "/bin/sh -c #(nop) ADD https://ci:glpat-SECRET99@gitlab.example.com/app.tgz /app"},
		facts.History{CreatedBy: "/bin/sh -c curl -u bob:hunter3 https://bob:hunter3@example.com/x && apt-get update"})
	add := run(t, s, "4.9")
	statuses(t, add, "warn: web:1: history step 5 uses ADD https://[redacted: 17 characters, sha256:879c898814fe]@gitlab.example.com/app.tgz")
	// A label named like a secret, a token under an innocent name, a token in a RUN line.
	s2 := base()
	const gh = "ghp_0123456789abcdefghijABCDEFGHIJ012345"
	s2.Images[0].Config.Env = []string{"GREETING=" + gh}
	s2.Images[0].Config.Labels = facts.Labels{{"com.example.api-token", "t0ps3cret"}, {"org.opencontainers.image.title", "web"}}
	s2.Images[0].History = append(s2.Images[0].History, facts.History{CreatedBy: "/bin/sh -c curl -H 'Authorization: token " + gh + "' https://example.com"})
	more := run(t, s2, "4.10")
	statuses(t, more,
		"fail: web:1: environment variable GREETING holds what looks like a github-token",
		"fail: web:1: history step 3 holds what looks like a github-token",
		"fail: web:1: label com.example.api-token looks like a secret baked into the image")
	if more[2].Evidence[0].Key != "LABEL com.example.api-token" || more[1].Evidence[0].Actual != "[redacted: 40 characters, sha256:d8fe76b428b9]" ||
		more[0].Evidence[0].Actual != more[1].Evidence[0].Actual {
		t.Errorf("evidence = %+v", more)
	}
	fs = append(fs, more...)

	// Commands: HEALTHCHECK, ENTRYPOINT, CMD and RUN lines carrying credentials.
	s3 := base()
	s3.Images[0].Config.Healthcheck = []string{"CMD-SHELL", "curl -f http://admin:Sup3rS3cretPw@localhost/ -H 'X-Api-Key: sk_live_abcdefghijklmnopqrstuvwx'"}
	s3.Images[0].Config.Cmd = []string{"app", "--password", "CmdPassw0rd"}
	s3.Images[0].History = append(s3.Images[0].History, facts.History{CreatedBy: "/bin/sh -c mysql -uroot -pMysqlPassw0rd < schema.sql"})
	cmds := run(t, s3, "4.10")
	statuses(t, cmds,
		"fail: web:1: CMD passes a secret on the command line (command-line-password)",
		"fail: web:1: HEALTHCHECK holds what looks like a stripe-key",
		"fail: web:1: HEALTHCHECK passes a secret on the command line (url-credentials)",
		"fail: web:1: history step 3 passes a secret on the command line (command-line-password)")
	hc := run(t, s3, "4.6")
	fs = append(append(fs, cmds...), hc...)
	all := append(append(fs, add...), run(t, s, "4.7")...)
	b, _ := json.Marshal(all)
	for _, secret := range []string{value, "ghp_abc123", "glpat-SECRET99", "hunter3@", gh, "t0ps3cret", "Sup3rS3cretPw", "sk_live_abc", "CmdPassw0rd", "MysqlPassw0rd"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("a secret value leaked into the findings: %s", b)
		}
	}
}

func TestManualImageItems(t *testing.T) {
	s := base()
	for id, msg := range map[string]string{
		"4.2":  "whether a base image is trusted is a policy decision; images without a registry digest were built or loaded locally, so their origin is not recorded",
		"4.3":  "which packages a container needs depends on the application; dockaudit host does not read image contents",
		"4.4":  "dockaudit host does not match image packages against vulnerability data; scan every image and rebuild it on a patched base",
		"4.8":  "setuid and setgid files are inside image layers, which dockaudit host does not read",
		"4.11": "whether packages were installed with signature verification cannot be seen from the image configuration; review Dockerfiles for --allow-unauthenticated, --nogpgcheck and similar",
		"4.12": "dockaudit host does not verify image signatures; verify them with cosign or Notation before use",
	} {
		statuses(t, run(t, s, id), "manual: node1: "+msg)
	}
	statuses(t, run(t, s, "4.5"), "manual: node1: Docker Content Trust is not enabled, and is retired (Docker Hub's Notary v1 service shuts down on 2026-12-08): what replaced it is verifying cosign or Notation signatures before images run (dockaudit image --key or --trust-policy, IMG-SIGNATURE)")
	s.Client.ContentTrust = "1"
	statuses(t, run(t, s, "4.5"), "warn: node1: DOCKER_CONTENT_TRUST=1 is set, but Docker Content Trust is retired (Docker Hub's Notary v1 service shuts down on 2026-12-08): pulls that need it fail, and it verifies no cosign or Notation signature; verify those instead (dockaudit image --key or --trust-policy, IMG-SIGNATURE)")
}

func TestAbbreviateKeepsCharacters(t *testing.T) {
	// 156 ASCII bytes, then "é" (2 bytes) across the cut at 157.
	s := strings.Repeat("a", 156) + "é" + strings.Repeat("b", 10)
	got := abbreviate(s)
	if got != strings.Repeat("a", 156)+"..." || !utf8.ValidString(got) {
		t.Errorf("abbreviate = %q", got)
	}
	if short := "RUN apt-get install -y curl"; abbreviate(short) != short {
		t.Errorf("a short line changed: %q", abbreviate(short))
	}
}
