package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/dockaudit/dockaudit/internal/collect/image"
	"github.com/dockaudit/dockaudit/internal/sbom"
)

// SBOMOptions are the settings of dockaudit sbom.
type SBOMOptions struct {
	Ref    string
	Format string // cyclonedx, spdx
	File   string // "" for stdout
	Source SourceOptions
	Now    func() time.Time
}

// sbomFormat is the format of an SBOM attestation by its in-toto predicate type ("" for
// one that is no SBOM).
func sbomFormat(predicateType string) string {
	switch {
	case strings.HasPrefix(predicateType, "https://spdx.dev/Document"):
		return "spdx"
	case strings.HasPrefix(predicateType, "https://cyclonedx.org/bom"):
		return "cyclonedx"
	}
	return ""
}

// AttestedSBOM writes the SBOM BuildKit attached to a registry image (an in-toto
// statement in the attestation manifest its index lists for it), as attached: the
// statement's predicate, unchanged. format "" takes whichever is attached. It returns
// where the SBOM came from, for the caller to say; nothing is written when there is
// none.
func AttestedSBOM(ctx context.Context, opts SBOMOptions, stdout io.Writer) (string, error) {
	rd := newReader(opts.Source)
	defer rd.close()
	ctx, cancel := context.WithTimeout(ctx, rd.opts.Timeout)
	defer cancel()
	if !strings.HasPrefix(opts.Ref, "registry:") {
		return "", fmt.Errorf("%s: an attached SBOM is read from the image's registry: name it registry:NAME", opts.Ref)
	}
	src, err := image.Open(ctx, opts.Ref, image.OpenOptions{Registry: rd.reg, Platform: opts.Source.Platform, TempDir: opts.Source.TempDir})
	if err != nil {
		return "", fmt.Errorf("%s: %w", opts.Ref, err)
	}
	defer src.Close()
	if len(src.Indexes) == 0 {
		return "", fmt.Errorf("%s: no SBOM is attached: the image was not pushed with an index (docker buildx build --sbom=true --push attaches one)", opts.Ref)
	}
	nr, err := name.ParseReference(src.Name, name.WeakValidation)
	if err != nil {
		return "", err
	}
	want := func(pt string) bool {
		f := sbomFormat(pt)
		return f != "" && (opts.Format == "" || f == opts.Format)
	}
	stmts, err := rd.reg.BuildKitAttestations(ctx, nr.Context(), src.Indexes[len(src.Indexes)-1], src.Digest, want)
	if err != nil {
		return "", fmt.Errorf("%s: the attestations: %w", opts.Ref, err)
	}
	var found []string
	for _, st := range stmts {
		if st.Body == nil {
			if f := sbomFormat(st.PredicateType); f != "" {
				found = append(found, f)
			}
			continue
		}
		var statement struct {
			Subject []struct {
				Digest map[string]string `json:"digest"`
			} `json:"subject"`
			Predicate json.RawMessage `json:"predicate"`
		}
		if err := json.Unmarshal(st.Body, &statement); err != nil || len(statement.Predicate) == 0 {
			return "", fmt.Errorf("%s: the SBOM statement %s is not an in-toto statement with a predicate", opts.Ref, st.Digest)
		}
		about := false
		for _, sub := range statement.Subject {
			about = about || "sha256:"+sub.Digest["sha256"] == src.Digest
		}
		if !about {
			return "", fmt.Errorf("%s: the SBOM statement %s is not about this image (%s)", opts.Ref, st.Digest, src.Digest)
		}
		from := fmt.Sprintf("the %s SBOM BuildKit attached to %s@%s (%s, statement %s)", st.PredicateType, nr.Context(), src.Digest, st.From, st.Digest)
		return from, WriteOutput(opts.File, 0o644, stdout, func(w io.Writer) error {
			_, err := w.Write(append(statement.Predicate, '\n'))
			return err
		})
	}
	if len(found) > 0 {
		return "", fmt.Errorf("%s: the SBOM attached is %s, not %s (--format): it is written as attached, never converted", opts.Ref, strings.Join(found, ", "), opts.Format)
	}
	return "", fmt.Errorf("%s: no SBOM is attached to %s (docker buildx build --sbom=true --push attaches one)", opts.Ref, src.Digest)
}

// SBOM reads one image's inventory and writes it as an SBOM. Nothing is written when
// the image cannot be read.
func SBOM(ctx context.Context, opts SBOMOptions, stdout, progress io.Writer) error {
	if progress == nil {
		progress = io.Discard
	}
	rd := newReader(opts.Source)
	defer rd.close()
	im := rd.read(ctx, opts.Ref, true, progress)
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(rd.missing) > 0 {
		return &MissingError{Missing: rd.missing}
	}
	if im.Error != "" {
		return errors.New(opts.Ref + ": " + im.Error)
	}
	now := time.Now()
	if opts.Now != nil {
		now = opts.Now()
	}
	tool := sbom.Tool{Name: "dockaudit", Version: ToolVersion()}
	render := func(w io.Writer) error { return sbom.Write(w, opts.Format, &im, tool, now) }
	return WriteOutput(opts.File, 0o644, stdout, render)
}
