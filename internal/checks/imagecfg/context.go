package imagecfg

import (
	"fmt"
	"strings"

	"github.com/dockaudit/dockaudit/internal/check"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/finding"
)

// ContextChecks judge what a Dockerfile takes from its build context (dockaudit
// config): a built image keeps no build context, so dockaudit image does not run them.
func ContextChecks() []check.Check {
	return []check.Check{
		{Rule: rule("CONTEXT-SECRET", finding.High, "No credential or .git directory is copied from the build context",
			"COPY . . (or ADD of a directory) takes every file .dockerignore does not exclude: a .env, a private key, cloud credentials or the .git directory (history, remotes with tokens) end up in a layer, readable by anyone who can pull the image, even if a later step deletes them. Files are scanned by the same secret scanner as image layers; values are never printed. Into a build stage the image is not built on, the copy is still sent to the builder and kept in its cache: medium. (hadolint has none.)",
			"Exclude the files in .dockerignore (.env, *.pem, .git, …), copy only what the build needs (COPY src/ /app/src/), and pass build secrets with RUN --mount=type=secret.", "4.10").UpTo(finding.Critical),
			Needs: []facts.Part{facts.PartBuildContext}, Run: contextSecrets},
	}
}

func contextSecrets(p *check.Pass) {
	bc := p.Image.Context
	ctxEv := ev("build context", bc.Root, "")
	if bc.Assumed {
		ctxEv.Actual += " (the Dockerfile's directory: assumed, as `docker build .` beside it)"
	}
	ignore := ev(".dockerignore", orNone(bc.IgnoreFile), "")
	files := 0
	var unresolved, unscanned []string
	for _, c := range bc.Copies {
		files += c.Files
		unscanned = append(unscanned, c.Unscanned...)
		name := fmt.Sprintf("line %d %s", c.Line, check.Abbreviate(c.Instruction))
		if c.Unresolved != "" {
			unresolved = append(unresolved, fmt.Sprintf("line %d: %s", c.Line, c.Unresolved))
		}
		into := ""
		if !c.Final {
			into = fmt.Sprintf(" into build stage %s (not the image unless copied on; the builder keeps it)", stageName(c.Stage))
		}
		for _, s := range c.Secrets {
			what := s.Kind
			if s.Detail != "" {
				what += " (" + s.Detail + ")"
			}
			at := s.Path
			if s.Line > 0 {
				at = fmt.Sprintf("%s:%d", s.Path, s.Line)
			}
			r := p.Fail(fmt.Sprintf("%s takes %s from the build context%s: %s", name, s.Path, into, what),
				ev("file", at, "excluded by .dockerignore"), ev("secret", fmt.Sprintf("%s, %d bytes, sha256 %s", s.Kind, s.Length, s.Hash), ""), ctxEv, ignore).
				At(c.File).Line(c.Line).Column(c.Column)
			if !c.Final {
				r.Sev(finding.Medium)
			}
		}
		for _, g := range c.GitDirs {
			p.Fail(fmt.Sprintf("%s takes the git directory %s from the build context%s: its history and remotes", name, g, into),
				ev("directory", g, "excluded by .dockerignore"), ctxEv, ignore).At(c.File).Line(c.Line).Column(c.Column).Sev(finding.Medium)
		}
	}
	switch {
	case p.Reported():
	case len(unresolved) > 0:
		p.Skip("what some COPY or ADD takes from the build context is not known: "+strings.Join(unresolved, "; "), ctxEv, ignore)
	case len(unscanned) > 0:
		p.Skip(fmt.Sprintf("%d files it takes from the build context could not be scanned: %s", len(unscanned), check.Abbreviate(strings.Join(unscanned, ", "))), ctxEv, ignore)
	case len(bc.Copies) == 0:
		p.OK("takes nothing from the build context", ctxEv)
	default:
		p.OK(fmt.Sprintf("%d COPY/ADD take %d files from the build context; none is a credential or in a .git directory", len(bc.Copies), files), ctxEv, ignore)
	}
}

func stageName(s string) string {
	if s == "" {
		return "(unnamed)"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
