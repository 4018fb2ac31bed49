package imagecfg

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
)

var ev = check.Ev

const section = "Image configuration and contents"

// Checks returns the image checks, in report order.
func Checks() []check.Check {
	cs := []check.Check{
		{Rule: rule("IMG-ROOT-USER", finding.Medium, "The image runs as a non-root user",
			"A container runs as the image's last USER unless told otherwise; root in a container is root on the host's kernel, a short escape away from the host. (hadolint: DL3002, for an explicit USER root; here no USER is root too.)",
			"End the Dockerfile with USER and an unprivileged UID (USER 10001), or run the container with --user.", "4.1"),
			Needs: []facts.Part{facts.PartImageConfig}, Run: rootUser},
		{Rule: rule("IMG-SETUID", finding.Low, "The image has no setuid or setgid files it does not need",
			"Setuid and setgid binaries are the usual way from an unprivileged user to root inside a container.",
			"Remove the bits the application does not need: RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} + (and run with --security-opt no-new-privileges).", "4.8"),
			Needs: []facts.Part{facts.PartContent}, Run: setuid},
		{Rule: rule("IMG-SUDO", finding.Low, "sudo is not installed",
			"sudo in a container makes privilege escalation a configuration mistake away; containers should start with the privileges they need. (hadolint: DL3004 flags sudo in RUN; this rule finds sudo installed in the built image.)",
			"Remove sudo from the image and run as the user the workload needs.", ""),
			Needs: []facts.Part{facts.PartContent}, Run: sudo},
		{Rule: rule("IMG-EMPTY-PASSWORD", finding.High, "No account has an empty password",
			"An account with an empty password lets anyone who reaches a login (su, sshd) become that user.",
			"Lock the account (passwd -l USER) or give it a password hash; system accounts should have * or ! in /etc/shadow.", ""),
			Needs: []facts.Part{facts.PartContent}, Run: emptyPasswords},
		{Rule: rule("IMG-DUPLICATE-ID", finding.Medium, "User and group IDs are unique",
			"Two names for one UID or GID make ownership and audit trails ambiguous, and a second name for UID 0 is a second root.",
			"Give every account in /etc/passwd its own UID and every group in /etc/group its own GID.", "").UpTo(finding.High),
			Needs: []facts.Part{facts.PartContent}, Run: duplicateIDs},
		{Rule: rule("IMG-PKG-CACHE", finding.Low, "Package manager caches are removed",
			"Downloaded packages and package lists left in a layer make the image bigger and keep stale metadata.",
			"Clean in the same RUN step that installs: apt-get clean && rm -rf /var/lib/apt/lists/*, apk add --no-cache, dnf clean all, pip install --no-cache-dir.", ""),
			Needs: []facts.Part{facts.PartContent}, Run: caches},
		{Rule: rule("IMG-LATEST-TAG", finding.Low, "The image is referenced by a fixed tag or digest",
			"'latest' (or no tag) names whatever was pushed last, so what runs can change without anyone deciding it.",
			"Reference images by a version tag, or better by digest (name@sha256:…).", ""),
			Needs: []facts.Part{facts.PartRef}, Run: latestTag},
		{Rule: rule("IMG-SENSITIVE-VOLUME", finding.Medium, "No VOLUME covers a sensitive path",
			"A VOLUME on /, /etc, /root, the Docker socket or a key directory invites mounting that path from the host or sharing it between containers.",
			"Declare volumes only for application data directories.", ""),
			Needs: []facts.Part{facts.PartImageConfig}, Run: sensitiveVolumes},
		{Rule: rule("IMG-LAYER-ANOMALY", finding.High, "The layers hold only what an image builder writes",
			"Entries whose path leaves the image root, or a layer cut short, are signs of a crafted or damaged image; other tools may extract them differently.",
			"Rebuild the image from a trusted Dockerfile and base; do not run an image whose layers try to escape their root.", ""),
			Needs: []facts.Part{facts.PartContent}, Run: anomalies},
		{Rule: rule("SECRET-FILE", finding.High, "No file in any layer holds a credential",
			"A private key or token in any layer can be extracted by whoever can pull the image, even when a later layer deletes the file.",
			"Remove the secret and rotate it. Pass secrets at build time with RUN --mount=type=secret and at run time with a secret store, never as files in a layer.", "4.10").UpTo(finding.Critical),
			Needs: []facts.Part{facts.PartContent}, Run: secretFiles},
		{Rule: rule("SECRET-GIT-DIR", finding.Medium, "The image holds no .git directory",
			"A .git directory carries the whole source history, often including credentials that were committed and removed.",
			"Add .git to .dockerignore, or copy only the build output into the final stage.", "4.10"),
			Needs: []facts.Part{facts.PartContent}, Run: gitDirs},
	}
	return append(cs, stepChecks()...)
}

func rule(id string, sev finding.Severity, title, desc, fix, cis string) finding.Rule {
	r := finding.Rule{ID: id, Title: title, Description: desc, Remediation: fix, Severity: sev, Section: section, Scope: finding.KindImage,
		Tags: []string{"image", "image-config"}}
	if strings.HasPrefix(id, "SECRET-") {
		r.Tags = []string{"image", "secrets"}
	}
	if cis != "" {
		r.Tags = append(r.Tags, "cis-"+cis)
		r.References = []string{"https://www.cisecurity.org/benchmark/docker"}
	}
	return r
}

func rootUser(p *check.Pass) {
	u := p.Image.Config.User
	user, _, _ := strings.Cut(strings.TrimSpace(u), ":")
	if p.Image.Source == "dir" {
		p.Skip("a root filesystem directory has no image configuration")
		return
	}
	shown := u
	if u == "" {
		shown = "(not set: root)"
	}
	e := ev("USER", shown, "a non-root user")
	if u == "" && slices.Contains(p.Image.Config.Inherited, "user") {
		p.Skip("no USER in the Dockerfile: the base image's user applies, and it was not read (build the image and run dockaudit image)")
		return
	}
	if strings.Contains(u, "$") {
		// A Dockerfile's USER naming a build argument with no value there.
		p.Skip("USER "+u+" names a build argument with no value in the Dockerfile: the --build-arg given decides the user", e)
		return
	}
	if user == "" || user == "root" || user == "0" {
		p.Fail("runs as root", e)
		return
	}
	p.OK("runs as "+u, e)
}

func setuid(p *check.Pass) {
	c := p.Image.Content // Needs PartContent: never nil here
	if len(c.Setuid) == 0 {
		p.OK("no setuid or setgid files")
		return
	}
	var list []string
	for _, f := range c.Setuid {
		bits := ""
		if f.Mode&0o4000 != 0 {
			bits += "setuid"
		}
		if f.Mode&0o2000 != 0 {
			bits += map[bool]string{true: "+setgid", false: "setgid"}[bits != ""]
		}
		list = append(list, fmt.Sprintf("%s (%04o %s, uid %d)", f.Path, f.Mode, bits, f.UID))
	}
	p.Warn(fmt.Sprintf("%d setuid or setgid files: %s", len(c.Setuid), strings.Join(list, ", ")), ev("setuid/setgid files", fmt.Sprint(len(c.Setuid)), "only those the application needs"))
}

func sudo(p *check.Pass) {
	c := p.Image.Content // Needs PartContent: never nil here
	if len(c.Sudo) > 0 {
		p.Warn("sudo is installed: "+strings.Join(c.Sudo, ", "), ev("sudo", strings.Join(c.Sudo, ", "), "absent"))
		return
	}
	p.OK("sudo is not installed")
}

func emptyPasswords(p *check.Pass) {
	c := p.Image.Content // Needs PartContent: never nil here
	if !c.Accounts.Read {
		p.Skip("the image has no /etc/passwd")
		return
	}
	if len(c.Accounts.EmptyPassword) > 0 {
		p.Fail("accounts with an empty password: "+strings.Join(c.Accounts.EmptyPassword, ", "), ev("empty passwords", strings.Join(c.Accounts.EmptyPassword, ", "), "none"))
		return
	}
	p.OK("no account has an empty password")
}

func duplicateIDs(p *check.Pass) {
	c := p.Image.Content // Needs PartContent: never nil here
	if !c.Accounts.Read {
		p.Skip("the image has no /etc/passwd")
		return
	}
	a := c.Accounts
	for _, d := range a.DuplicateUIDs {
		id, names, _ := strings.Cut(d, ": ")
		r := p.Warn("UID "+id+" belongs to several users: "+names, ev("duplicate UID", d, "unique UIDs"))
		if id == "0" {
			r.Sev(finding.High) // a second root
		}
	}
	for _, d := range a.DuplicateGIDs {
		id, names, _ := strings.Cut(d, ": ")
		p.Warn("GID "+id+" belongs to several groups: "+names, ev("duplicate GID", d, "unique GIDs"))
	}
	if !p.Reported() {
		p.OK("every UID and GID has one name")
	}
}

func caches(p *check.Pass) {
	c := p.Image.Content // Needs PartContent: never nil here
	for _, ca := range c.Caches {
		p.Warn(fmt.Sprintf("%s holds %d files left by the package manager", ca.Path, ca.Files), ev(ca.Path, fmt.Sprintf("%d files", ca.Files), "empty"))
	}
	if !p.Reported() {
		p.OK("no package manager cache is left in the image")
	}
}

func latestTag(p *check.Pass) {
	im := p.Image
	if im.Source == "dir" || im.Source == "docker-archive" || im.Source == "oci" {
		p.Skip("not applicable: the image was read from a file, not by name")
		return
	}
	ref := im.Ref
	for _, prefix := range []string{"daemon:", "docker:", "registry:"} {
		ref = strings.TrimPrefix(ref, prefix)
	}
	if strings.Contains(ref, "@sha256:") || strings.HasPrefix(ref, "sha256:") {
		p.OK("referenced by digest", ev("reference", ref, ""))
		return
	}
	if imageID(ref) {
		p.OK("referenced by image ID", ev("reference", ref, ""))
		return
	}
	name := ref[strings.LastIndexByte(ref, '/')+1:]
	_, tag, hasTag := strings.Cut(name, ":")
	switch {
	case !hasTag:
		p.Warn("referenced without a tag, which means latest", ev("reference", ref, "a version tag or a digest"))
	case tag == "latest":
		p.Warn("referenced by the latest tag", ev("reference", ref, "a version tag or a digest"))
	default:
		p.OK("referenced by the tag "+tag, ev("reference", ref, ""))
	}
}

var sensitive = []string{"/", "/etc", "/root", "/var/run/docker.sock", "/run/docker.sock", "/proc", "/sys", "/dev", "/boot", "/usr", "/lib", "/home"}

func sensitiveVolumes(p *check.Pass) {
	for _, v := range p.Image.Config.Volumes {
		c := path.Clean(v)
		for _, s := range sensitive {
			if c == s || strings.HasSuffix(c, "/.ssh") || strings.HasSuffix(c, "/.docker") {
				p.Warn("declares a VOLUME on "+v, ev("VOLUME", v, "an application data directory"))
				break
			}
		}
	}
	switch {
	case p.Reported():
	case slices.Contains(p.Image.Config.Inherited, "volumes"):
		p.Skip("no VOLUME of the Dockerfile covers a sensitive path; the base image's VOLUMEs apply too, and it was not read (build the image and run dockaudit image)",
			ev("volumes", strings.Join(p.Image.Config.Volumes, ", "), ""))
	default:
		p.OK("no VOLUME covers a sensitive path", ev("volumes", strings.Join(p.Image.Config.Volumes, ", "), ""))
	}
}

func anomalies(p *check.Pass) {
	c := p.Image.Content // Needs PartContent: never nil here
	for _, a := range c.Anomalies {
		layer := layerName(p.Image, a.Layer)
		if a.Path == "" {
			p.Warn(fmt.Sprintf("layer %s: %s", layer, a.Reason), ev("layer", layer, ""))
			continue
		}
		p.Fail(fmt.Sprintf("layer %s: %s: %s", layer, a.Reason, a.Path), ev("entry", a.Path, "a path inside the image root"))
	}
	if !p.Reported() {
		p.OK(fmt.Sprintf("all %d entries of %d layers are well formed", c.Entries, len(p.Image.Layers)))
	}
}

// layerName is "3 (sha256:0123456789ab)": the layer's number and short digest.
func layerName(im *facts.Image, i int) string {
	if i >= 0 && i < len(im.Layers) {
		d := im.Layers[i].Digest
		if j := strings.IndexByte(d, ':'); j >= 0 && len(d) > j+13 {
			d = d[:j+13]
		}
		return fmt.Sprintf("%d (%s)", i+1, d)
	}
	return fmt.Sprint(i + 1)
}

func secretFiles(p *check.Pass) {
	c := p.Image.Content // Needs PartContent: never nil here
	for _, s := range c.Secrets {
		what := s.Kind
		if s.Detail != "" {
			what += " (" + s.Detail + ")"
		}
		where := s.Path
		if s.Line > 0 {
			where = fmt.Sprintf("%s:%d", s.Path, s.Line)
		}
		msg := fmt.Sprintf("%s in %s, layer %s", what, where, layerName(p.Image, s.Layer))
		if s.Removed {
			msg += "; a later layer removed the file, but the layer still holds it"
		}
		r := p.Fail(msg, ev("secret", fmt.Sprintf("[redacted: %d characters, sha256:%s]", s.Length, s.Hash), "no secret in the image")).
			At(s.Path).Line(s.Line)
		if s.Layer >= 0 && s.Layer < len(p.Image.Layers) {
			r.Layer(p.Image.Layers[s.Layer].Digest)
		}
		if s.Kind == "private-key" || strings.HasPrefix(s.Kind, "aws-") {
			r.Sev(finding.Critical)
		}
	}
	if !p.Reported() {
		p.OK("no file holds a known kind of credential")
	}
}

func gitDirs(p *check.Pass) {
	c := p.Image.Content // Needs PartContent: never nil here
	for _, d := range c.GitDirs {
		p.Fail("holds a git repository at "+d, ev(".git", d, "absent")).At(d)
	}
	if !p.Reported() {
		p.OK("no .git directory")
	}
}

// imageID reports a daemon image ID or its prefix (12 to 64 hex digits).
func imageID(s string) bool {
	if len(s) < 12 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
