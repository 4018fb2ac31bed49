package app

import (
	"context"
	"errors"
	"io"
	"time"

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
