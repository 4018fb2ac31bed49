package cis

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
	"github.com/dockaudit/dockaudit/internal/inventory/secrets"
)

func section4() []check.Check {
	return []check.Check{
		cis4_1(),
		cis4_2(),
		cis4_3(),
		cis4_4(),
		cis4_5(),
		cis4_6(),
		cis4_7(),
		cis4_8(),
		cis4_9(),
		cis4_10(),
		cis4_11(),
		cis4_12(),
	}
}

// cis4_1 is CIS 4.1: Ensure that a user for the container has been created.
func cis4_1() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that a user for the container has been created",
			Description: "Containers that run as root make any application compromise or escape far more damaging; a dedicated non-root user limits that.",
			Remediation: "Create an unprivileged user in the Dockerfile (e.g. `RUN useradd -r -u 10001 app`) and switch to it with `USER app` (or `USER 10001`); alternatively run with `docker run --user <uid>:<gid>`.",
			Severity:    finding.Medium,
			Scope:       container,
			CIS:         &finding.CIS{ID: "4.1", Level: 1, Automated: false, V180: "4.1"},
		},
		Needs: []facts.Part{facts.PartConfig, facts.PartUser},
		Run:   run4_1,
	}
}

func run4_1(p *check.Pass) {
	c := p.Container
	e := ev("user", displayUser(c.Config.User), "a non-root user")
	if isRootUser(c.Config.User) {
		p.Fail("runs as root", e)
		return
	}
	p.OK("runs as "+c.Config.User, e)
}

// cis4_2 is CIS 4.2: Ensure that containers use only trusted base images.
func cis4_2() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that containers use only trusted base images",
			Description: "Images from unknown publishers may contain malware, backdoors or unpatched software.",
			Remediation: "Use official or internally built base images from trusted registries, verify them (Content Trust/signatures, pinned digests), review their history, and scan them regularly.",
			Severity:    finding.Low,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "4.2", Level: 1, Automated: false, V180: "4.2"},
		},
		Run: run4_2,
	}
}

func run4_2(p *check.Pass) {
	var noDigest []string
	for _, im := range p.Facts.Images {
		if len(im.Digests) == 0 {
			noDigest = append(noDigest, check.ImageTarget(&im).Name)
		}
	}
	p.Manual("whether a base image is trusted is a policy decision; images without a registry digest were built or loaded locally, so their origin is not recorded",
		ev("images", fmt.Sprint(len(p.Facts.Images)), ""), ev("images without a registry digest", strings.Join(noDigest, ", "), ""))
}

// cis4_3 is CIS 4.3: Ensure that unnecessary packages are not installed in the container.
func cis4_3() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that unnecessary packages are not installed in the container",
			Description: "Every extra package increases the attack surface and the amount of software to patch.",
			Remediation: "Install only what the application needs; start from minimal bases (distroless, Alpine, slim or scratch) and use multi-stage builds to leave build tools behind.",
			Severity:    finding.Low,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "4.3", Level: 1, Automated: false, V180: "4.3"},
		},
		Run: run4_3,
	}
}

func run4_3(p *check.Pass) {
	p.Manual("which packages a container needs depends on the application; dockaudit host does not read image contents")
}

// cis4_4 is CIS 4.4: Ensure images are scanned and rebuilt to include security patches.
func cis4_4() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure images are scanned and rebuilt to include security patches",
			Description: "Images are snapshots; without scanning and rebuilding they accumulate known vulnerabilities.",
			Remediation: "Scan images in CI and registries with a vulnerability scanner (e.g. Trivy, Grype, Docker Scout), rebuild on updated base images (`docker build --pull --no-cache`), and redeploy containers from the new images.",
			Severity:    finding.Medium,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "4.4", Level: 1, Automated: false, V180: "4.4"},
		},
		Run: run4_4,
	}
}

func run4_4(p *check.Pass) {
	p.Manual("dockaudit host does not match image packages against vulnerability data; scan every image and rebuild it on a patched base",
		ev("images", fmt.Sprint(len(p.Facts.Images)), ""))
}

// cis4_5 is CIS 4.5: Ensure Content trust for Docker is Enabled.
func cis4_5() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure Content trust for Docker is Enabled",
			Description: "Content trust made the docker client refuse unsigned or tampered images. Docker Content Trust (Notary v1) is retired: Docker Official Images' DCT certificates began expiring on 2025-08-08, Docker Hub's Notary v1 service shuts down on 2026-12-08, and Harbor and ACR dropped it. What replaced it is verifying cosign or Notation signatures (and SLSA provenance) before an image runs, which IMG-SIGNATURE and IMG-PROVENANCE do for registry images, daemon images through their repository digests, and OCI layouts.",
			Remediation: "Do not rely on DOCKER_CONTENT_TRUST=1. Sign images with cosign (cosign sign) or Notation (notation sign) when they are pushed, and verify them before they run: dockaudit image --key cosign.pub, --trust-policy trust.yaml, or under the notation CLI's trust policy; enforce the same at admission (Kyverno, Ratify, sigstore policy-controller).",
			Severity:    finding.Low,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "4.5", Level: 2, Automated: false, V180: "4.5"},
		},
		Needs: []facts.Part{facts.PartClient},
		Run:   run4_5,
	}
}

func run4_5(p *check.Pass) {
	v := p.Facts.Client.ContentTrust
	e := ev("DOCKER_CONTENT_TRUST", v, "")
	if v == "1" || strings.EqualFold(v, "true") {
		p.Warn("DOCKER_CONTENT_TRUST=1 is set, but Docker Content Trust is retired (Docker Hub's Notary v1 service shuts down on 2026-12-08): pulls that need it fail, and it verifies no cosign or Notation signature; verify those instead (dockaudit image --key or --trust-policy, IMG-SIGNATURE)", e)
		return
	}
	p.Manual("Docker Content Trust is not enabled, and is retired (Docker Hub's Notary v1 service shuts down on 2026-12-08): what replaced it is verifying cosign or Notation signatures before images run (dockaudit image --key or --trust-policy, IMG-SIGNATURE)", e)
}

// cis4_6 is CIS 4.6: Ensure that HEALTHCHECK instructions have been added to container images.
func cis4_6() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that HEALTHCHECK instructions have been added to container images",
			Description: "A HEALTHCHECK lets Docker and orchestrators detect a hung or broken service and restart or replace it. (hadolint: DL3057.)",
			Remediation: "Add a `HEALTHCHECK` instruction to each Dockerfile, e.g. `HEALTHCHECK --interval=30s CMD curl -f http://localhost/ || exit 1`, and rebuild.",
			Severity:    finding.Low,
			Scope:       image,
			CIS:         &finding.CIS{ID: "4.6", Level: 1, Automated: false, V180: "4.6"},
		},
		Needs: []facts.Part{facts.PartImageConfig},
		Run:   run4_6,
	}
}

func run4_6(p *check.Pass) {
	im := p.Image
	if len(im.Config.Healthcheck) == 0 && slices.Contains(im.Config.Inherited, "healthcheck") {
		p.Skip("no HEALTHCHECK in the Dockerfile: the base image's, if it has one, applies, and it was not read (build the image and run dockaudit image)")
		return
	}
	if hasHealthcheck(im.Config.Healthcheck) {
		p.OK("has a HEALTHCHECK", ev("healthcheck", redact(strings.Join(im.Config.Healthcheck, " ")), ""))
		return
	}
	p.Fail("has no HEALTHCHECK instruction", ev("healthcheck", displayHealthcheck(im.Config.Healthcheck), "a HEALTHCHECK command"))
}

// cis4_7 is CIS 4.7: Ensure update instructions are not used alone in Dockerfiles.
func cis4_7() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure update instructions are not used alone in Dockerfiles",
			Description: "A cached `RUN apt-get update` layer on its own means later installs can use stale package indexes and miss security updates. (hadolint has none; its version-pinning rules DL3008 and the like serve reproducibility, and what is installed is judged by VULN.)",
			Remediation: "Combine update and install in one layer with pinned versions, e.g. `RUN apt-get update && apt-get install -y pkg=1.2.3`, or build with `--no-cache`.",
			Severity:    finding.Low,
			Scope:       image,
			CIS:         &finding.CIS{ID: "4.7", Level: 1, Automated: false, V180: "4.7"},
		},
		Needs: []facts.Part{facts.PartHistory},
		Run:   run4_7,
	}
}

func run4_7(p *check.Pass) {
	for i, h := range p.Image.History {
		if tool, ok := loneUpdate(h.CreatedBy); ok {
			p.Warn(fmt.Sprintf("%s runs %s update without installing in the same step", check.StepName(h, i), tool),
				ev("history step", abbreviate(h.CreatedBy), "update and install in one RUN")).Step(h)
		}
	}
	if !p.Reported() {
		p.OK(fmt.Sprintf("none of its %d history steps updates package indexes alone", len(p.Image.History)))
	}
}

// cis4_8 is CIS 4.8: Ensure setuid and setgid permissions are removed.
func cis4_8() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure setuid and setgid permissions are removed",
			Description: "setuid/setgid binaries are a common route to privilege escalation inside a container.",
			Remediation: "Remove unneeded setuid/setgid bits during the build, e.g. `RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} \\; || true`, keeping only those the application truly requires.",
			Severity:    finding.Medium,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "4.8", Level: 2, Automated: false, V180: "4.8"},
		},
		Run: run4_8,
	}
}

func run4_8(p *check.Pass) {
	p.Manual("setuid and setgid files are inside image layers, which dockaudit host does not read")
}

// cis4_9 is CIS 4.9: Ensure that COPY is used instead of ADD in Dockerfiles.
func cis4_9() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure that COPY is used instead of ADD in Dockerfiles",
			Description: "ADD can fetch remote URLs and auto-extract archives, which can pull in unverified content or trigger archive attacks; COPY only copies local files. (hadolint: DL3020, which allows ADD of a local archive; this rule warns on every ADD after the base, a URL at medium.)",
			Remediation: "Replace `ADD` with `COPY` in Dockerfiles; download remote content explicitly and verify its checksum if needed.",
			Severity:    finding.Low,
			MaxSeverity: finding.Medium, // ADD of a URL
			Scope:       image,
			CIS:         &finding.CIS{ID: "4.9", Level: 1, Automated: false, V180: "4.9"},
		},
		Needs: []facts.Part{facts.PartHistory},
		Run:   run4_9,
	}
}

func run4_9(p *check.Pass) {
	for i, h := range p.Image.History {
		if i == 0 {
			continue // the base layer's ADD of a root filesystem is how every base image starts
		}
		if src, ok := addInstruction(h.CreatedBy); ok {
			r := p.Warn(fmt.Sprintf("%s uses ADD %s", check.StepName(h, i), redact(src)), ev("history step", abbreviate(h.CreatedBy), "COPY")).Step(h)
			if strings.Contains(src, "://") {
				r.Sev(finding.Medium)
			}
		}
	}
	if !p.Reported() {
		p.OK("no history step after the base layer uses ADD")
	}
}

// cis4_10 is CIS 4.10: Ensure secrets are not stored in Dockerfiles.
func cis4_10() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure secrets are not stored in Dockerfiles",
			Description: "Secrets put in Dockerfiles (ENV, ARG, copied files) persist in image layers and history where anyone with the image can read them. (hadolint: DL3064 for ARG and ENV; this rule also reads labels, RUN lines and the health check, entrypoint and command.)",
			Remediation: "Keep secrets out of Dockerfiles; use BuildKit secret mounts (`RUN --mount=type=secret,id=...`) at build time and a secrets manager or Docker secrets at runtime.",
			Severity:    finding.High,
			Scope:       image,
			CIS:         &finding.CIS{ID: "4.10", Level: 1, Automated: false, V180: "4.10"},
		},
		Needs: []facts.Part{facts.PartImageConfig, facts.PartHistory},
		Run:   secretsInConfig,
	}
}

// cis4_11 is CIS 4.11: Ensure only verified packages are installed.
func cis4_11() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure only verified packages are installed",
			Description: "Unverified packages may have been tampered with in transit or at the source.",
			Remediation: "Install packages only from repositories with signature/GPG verification enabled (do not use `--allow-unauthenticated`, `--nogpgcheck` or equivalent) and verify checksums of downloaded artifacts.",
			Severity:    finding.Low,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "4.11", Level: 2, Automated: false, V180: "4.11"},
		},
		Run: run4_11,
	}
}

func run4_11(p *check.Pass) {
	p.Manual("whether packages were installed with signature verification cannot be seen from the image configuration; review Dockerfiles for --allow-unauthenticated, --nogpgcheck and similar")
}

// cis4_12 is CIS 4.12: Ensure all signed artifacts are validated.
func cis4_12() check.Check {
	return check.Check{
		Rule: finding.Rule{
			Title:       "Ensure all signed artifacts are validated",
			Description: "Unsigned or unverified artifacts can be substituted anywhere along the supply chain.",
			Remediation: "Verify signatures of images and other artifacts before use, ideally automatically in CI/admission (e.g. Docker Content Trust/Notary, cosign verify).",
			Severity:    finding.Low,
			Scope:       daemon,
			CIS:         &finding.CIS{ID: "4.12", Level: 1, Automated: false, V180: "4.12"},
		},
		Run: run4_12,
	}
}

func run4_12(p *check.Pass) {
	var evs []finding.Evidence
	if c := p.Facts.Client; c != nil {
		evs = append(evs, ev("DOCKER_CONTENT_TRUST", c.ContentTrust, "1"))
	}
	p.Manual("dockaudit host does not verify image signatures; verify them with cosign or Notation before use", evs...)
}

// secretsInConfig is 4.10 over what the image configuration carries: environment,
// labels and history. A value counts when its name looks like a secret's, or when the
// value itself has the shape of a known credential (a token under an innocent name).
// Files are SECRET-FILE's job.
func secretsInConfig(p *check.Pass) {
	im := p.Image
	seen := map[string]bool{}
	// The same variable set by ENV shows in the environment and in the history: once.
	reported := map[string]bool{} // short hashes of the values reported, as secrets.Scan gives them
	report := func(msg, what, name, value string) {
		if seen[name+"\x00"+value] {
			return
		}
		seen[name+"\x00"+value] = true
		sum := sha256.Sum256([]byte(value))
		reported[hex.EncodeToString(sum[:])[:12]] = true
		r := p.Fail(msg, ev(strings.TrimSpace(what+" "+name), redacted(value), "no secret in the image"))
		// Read from a Dockerfile: the line that sets it.
		for i := len(im.History) - 1; i >= 0; i-- {
			h := im.History[i]
			if h.File == "" {
				break
			}
			for _, a := range secrets.Assignments(h.CreatedBy) {
				if a.Key == name && a.Value == value {
					r.Step(h)
					return
				}
			}
		}
	}
	shaped := func(v string) (string, bool) {
		if ms := secrets.Scan("", []byte(v)); len(ms) > 0 {
			return ms[0].Kind, true
		}
		return "", false
	}
	for _, kv := range im.Config.Env {
		k, v, _ := strings.Cut(kv, "=")
		switch kind, ok := shaped(v); {
		case v == "":
		case secretKey(k):
			report("environment variable "+k+" looks like a secret baked into the image", "ENV", k, v)
		case ok:
			report("environment variable "+k+" holds what looks like a "+kind, "ENV", k, v)
		}
	}
	for _, l := range im.Config.Labels {
		k, v := l[0], l[1]
		switch kind, ok := shaped(v); {
		case v == "":
		case secretKey(lastLabelPart(k)):
			report("label "+k+" looks like a secret baked into the image", "LABEL", k, v)
		case ok:
			report("label "+k+" holds what looks like a "+kind, "LABEL", k, v)
		}
	}
	for i, h := range im.History {
		for _, a := range secrets.Assignments(h.CreatedBy) {
			k, v := a.Key, a.Value
			if secretKey(k) && v != "" {
				report(fmt.Sprintf("%s sets %s, which looks like a secret", check.StepName(h, i), k), "", k, v)
			}
		}
		// The ENV step of a variable reported above is not a second secret.
		assigned := map[string]bool{}
		for _, a := range secrets.Assignments(h.CreatedBy) {
			sum := sha256.Sum256([]byte(a.Value))
			if h := hex.EncodeToString(sum[:])[:12]; reported[h] {
				assigned[h] = true
			}
		}
		step := map[string]bool{} // hashes reported for this step: one value, one finding
		for _, ms := range secrets.Scan("", []byte(h.CreatedBy)) {
			step[ms.Hash] = true
			key := check.StepName(h, i)
			if assigned[ms.Hash] {
				continue
			}
			if !seen[key+"\x00"+ms.Kind] {
				seen[key+"\x00"+ms.Kind] = true
				p.Fail(fmt.Sprintf("%s holds what looks like a %s", key, ms.Kind),
					ev(key, fmt.Sprintf("[redacted: %d characters, sha256:%s]", ms.Length, ms.Hash), "no secret in the image history")).Step(h)
			}
		}
		for _, in := range secrets.InlineSecrets(h.CreatedBy) {
			sum := sha256.Sum256([]byte(in.Value))
			if short := hex.EncodeToString(sum[:])[:12]; !step[short] && !assigned[short] {
				report(fmt.Sprintf("%s passes a secret on the command line (%s)", check.StepName(h, i), in.Kind), check.StepName(h, i), in.Kind, in.Value)
			}
		}
	}
	for _, cmd := range []struct {
		what string
		args []string
	}{{"HEALTHCHECK", im.Config.Healthcheck}, {"ENTRYPOINT", im.Config.Entrypoint}, {"CMD", im.Config.Cmd}} {
		line := strings.Join(cmd.args, " ")
		for _, in := range secrets.InlineSecrets(line) {
			report(cmd.what+" passes a secret on the command line ("+in.Kind+")", cmd.what, in.Kind, in.Value)
		}
		for _, ms := range secrets.Scan("", []byte(line)) {
			if !seen[cmd.what+"\x00"+ms.Kind] {
				seen[cmd.what+"\x00"+ms.Kind] = true
				p.Fail(cmd.what+" holds what looks like a "+ms.Kind,
					ev(cmd.what, fmt.Sprintf("[redacted: %d characters, sha256:%s]", ms.Length, ms.Hash), "no secret in the image"))
			}
		}
	}
	if !p.Reported() {
		msg := "no secret-looking value in the image's environment, labels, history or commands"
		if im.Content == nil {
			msg += " (files are not read by dockaudit host; dockaudit image reads them)"
		}
		p.OK(msg)
	}
}

// lastLabelPart is the last dotted part of a label key: "com.example.api-token" → "api-token".
func lastLabelPart(k string) string {
	if i := strings.LastIndexAny(k, "./"); i >= 0 {
		return strings.ReplaceAll(k[i+1:], "-", "_")
	}
	return strings.ReplaceAll(k, "-", "_")
}

// isRootUser reports whether a Config.User value runs as root: empty (the image default,
// which is root unless the image set USER), "root" or "0", with or without a group.
func isRootUser(u string) bool {
	user, _, _ := strings.Cut(strings.TrimSpace(u), ":")
	return user == "" || user == "root" || user == "0"
}

func displayUser(u string) string {
	if u == "" {
		return "(not set: root)"
	}
	return u
}

func hasHealthcheck(test []string) bool {
	return len(test) > 0 && test[0] != "NONE"
}

func displayHealthcheck(test []string) string {
	if len(test) == 0 {
		return "(none)"
	}
	return strings.Join(test, " ")
}

var (
	updateRE  = regexp.MustCompile(`\b(apt-get|apt|apk|yum|dnf|microdnf|zypper)\s+(?:-\S+\s+)*(update|check-update|refresh)\b`)
	installRE = regexp.MustCompile(`\b(install|add|upgrade|dist-upgrade)\b`)
	addRE     = regexp.MustCompile(`(?:#\(nop\)\s+|^)ADD\s+(?:--\S+\s+)*(\S+)`)
)

// loneUpdate reports a package index update with no install in the same step.
func loneUpdate(createdBy string) (string, bool) {
	m := updateRE.FindStringSubmatch(createdBy)
	if m == nil {
		return "", false
	}
	rest := createdBy[strings.Index(createdBy, m[0])+len(m[0]):]
	if installRE.MatchString(rest) {
		return "", false
	}
	return m[1], true
}

// addInstruction reports an ADD step and its source.
func addInstruction(createdBy string) (string, bool) {
	m := addRE.FindStringSubmatch(strings.TrimSpace(createdBy))
	if m == nil {
		return "", false
	}
	return m[1], true
}

var (
	secretKey = secrets.SecretName
	redacted  = secrets.Redacted
	redact    = secrets.Redact
)

// abbreviate keeps history lines readable in reports, redacted.
func abbreviate(s string) string { return check.Abbreviate(s) }
