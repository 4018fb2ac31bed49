package imagecfg

import (
	"fmt"
	"regexp"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
)

// stepChecks judge what the build steps run: the same on a built image's history and
// on a Dockerfile (dockaudit config), where they point at the line.
func stepChecks() []check.Check {
	return []check.Check{
		{Rule: rule("IMG-PIPE-SHELL", finding.Medium, "No build step pipes a download into a shell",
			"curl … | sh runs whatever the server (or anyone in between) sends at that moment, unverified, with the build's privileges; the next build may run something else. (hadolint has no counterpart; its DL4006 asks for pipefail, which a piped download needs too.)",
			"Download to a file, verify its checksum or signature, then run it: RUN curl -fsSLo install.sh URL && echo 'SHA256  install.sh' | sha256sum -c && sh install.sh.", ""),
			Needs: []facts.Part{facts.PartHistory}, Run: pipeShell},
		{Rule: rule("IMG-WORLD-WRITABLE", finding.Low, "No build step makes files writable by everyone",
			"chmod 777 (or a+w, o+w) lets any user in the container, and any process sharing a volume, change the files the application trusts. (hadolint has none.)",
			"Give the application's user ownership (COPY --chown, chown) and the least mode it needs (755 for directories, 644 for files).", ""),
			Needs: []facts.Part{facts.PartHistory}, Run: worldWritable},
		{Rule: rule("IMG-RUN-SUDO", finding.Low, "No build step runs sudo",
			"Build steps already run as the USER in force; sudo in one means a user that can become root, or sudo installed and configured in the image, which IMG-SUDO judges on the built image. (hadolint: DL3004.)",
			"Switch with USER root for the steps that need it and back to the unprivileged USER after, and leave sudo out of the image.", ""),
			Needs: []facts.Part{facts.PartHistory}, Run: runSudo},
	}
}

// sudoRE is sudo called as a command: first in a RUN or a shell's -c, or after a
// shell separator.
var sudoRE = regexp.MustCompile(`(?:^|[;&|(]|\s-c|\bRUN)\s*sudo\s`)

func runSudo(p *check.Pass) {
	for i, h := range p.Image.History {
		if sudoRE.MatchString(h.CreatedBy) {
			p.Warn(fmt.Sprintf("%s runs sudo", check.StepName(h, i)), ev("history step", check.Abbreviate(h.CreatedBy), "no sudo")).Step(h)
		}
	}
	if !p.Reported() {
		p.OK(fmt.Sprintf("none of its %d build steps runs sudo", len(p.Image.History)))
	}
}

var (
	// A download (curl, wget) whose output goes into a shell in the same pipeline.
	pipeShellRE = regexp.MustCompile(`\b(curl|wget)\b[^|;&\n]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:/usr)?(?:/bin/)?(sh|bash|zsh|dash|ash|ksh)\b`)
	// chmod giving write to everyone: 777, 666, a+w, o+w, ugo+rwx and the like.
	worldWritableRE = regexp.MustCompile(`\bchmod\s+(?:-[A-Za-z]+\s+)*(?:0?[0-7]?[2367][2367][2367]|[0-7]*[2367]\b|[ugoa]*[oa][ugoa]*\+[rwxXst]*w[rwxXst]*)\b`)
)

func pipeShell(p *check.Pass) {
	for i, h := range p.Image.History {
		if m := pipeShellRE.FindStringSubmatch(h.CreatedBy); m != nil {
			p.Warn(fmt.Sprintf("%s pipes a %s download into %s", check.StepName(h, i), m[1], m[2]),
				ev("history step", check.Abbreviate(h.CreatedBy), "download, verify, then run")).Step(h)
		}
	}
	if !p.Reported() {
		p.OK(fmt.Sprintf("none of its %d build steps pipes a download into a shell", len(p.Image.History)))
	}
}

func worldWritable(p *check.Pass) {
	for i, h := range p.Image.History {
		if m := worldWritableRE.FindString(h.CreatedBy); m != "" {
			p.Warn(fmt.Sprintf("%s makes files writable by everyone (%s)", check.StepName(h, i), m),
				ev("history step", check.Abbreviate(h.CreatedBy), "the least mode the application needs")).Step(h)
		}
	}
	if !p.Reported() {
		p.OK(fmt.Sprintf("none of its %d build steps makes files writable by everyone", len(p.Image.History)))
	}
}
