package sbom

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/dockaudit/dockaudit/internal/facts"
)

// Formats are the SBOM formats dockaudit writes.
var Formats = []string{"cyclonedx", "spdx"}

// Tool names the program that made the document.
type Tool struct {
	Name, Version string
}

// Write writes the image's inventory in the named format.
func Write(w io.Writer, format string, im *facts.Image, tool Tool, now time.Time) error {
	switch format {
	case "cyclonedx":
		return WriteCycloneDX(w, im, tool, now)
	case "spdx":
		return WriteSPDX(w, im, tool, now)
	}
	return fmt.Errorf("unknown SBOM format %q (want cyclonedx or spdx)", format)
}

// pkgs returns the packages of an image each once (the same package at the same path
// counted twice would be one component twice), with a stable unique key each.
func pkgs(im *facts.Image) ([]facts.Package, []string) {
	if im.Content == nil {
		return nil, nil
	}
	var out []facts.Package
	var keys []string
	seen := map[string]bool{}
	for _, p := range im.Content.Packages {
		sum := sha256.Sum256([]byte(strings.Join([]string{p.Type, p.Name, p.Version, p.Arch, p.Path}, "\x00")))
		k := hex.EncodeToString(sum[:8])
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, p)
		keys = append(keys, k)
	}
	return out, keys
}

// docID is a UUID (version 5 layout) derived from the image's identity, the tool and
// the time: unique per document, reproducible for tests (wherever the image file is).
func docID(im *facts.Image, tool Tool, now time.Time) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s", tool.Name, tool.Version, im.ID, im.Digest, now.UTC().Format(time.RFC3339Nano))
	b := h.Sum(nil)[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b)
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// imageVersion is what an SBOM calls the image's version: its manifest digest when it
// has one, else its ID.
func imageVersion(im *facts.Image) string {
	if im.Digest != "" {
		return im.Digest
	}
	return im.ID
}

func imageName(im *facts.Image) string {
	if im.Ref != "" {
		return im.Ref
	}
	return im.ID
}

func layerDigest(im *facts.Image, i int) string {
	if i >= 0 && i < len(im.Layers) {
		return im.Layers[i].Digest
	}
	return ""
}

// spdxLicenses are the license identifiers an SPDX licenseDeclared may carry as they
// are; package metadata often holds free text ("BSD License", "GPLv2+"), which goes
// into licenseComments instead of being guessed at.
var spdxLicenses = func() map[string]bool {
	m := map[string]bool{}
	for _, id := range strings.Fields(`0BSD AFL-2.1 AGPL-3.0-only AGPL-3.0-or-later Apache-1.1 Apache-2.0
		Artistic-1.0 Artistic-2.0 BSD-1-Clause BSD-2-Clause BSD-3-Clause BSD-4-Clause BSL-1.0 CC0-1.0
		CC-BY-3.0 CC-BY-4.0 CC-BY-SA-4.0 CDDL-1.0 EPL-1.0 EPL-2.0 GPL-1.0-only GPL-1.0-or-later
		GPL-2.0-only GPL-2.0-or-later GPL-3.0-only GPL-3.0-or-later ISC LGPL-2.0-only LGPL-2.0-or-later
		LGPL-2.1-only LGPL-2.1-or-later LGPL-3.0-only LGPL-3.0-or-later MIT MIT-0 MPL-1.1 MPL-2.0
		OpenSSL PSF-2.0 Python-2.0 Ruby Unlicense Vim WTFPL X11 Zlib zlib-acknowledgement curl`) {
		m[id] = true
	}
	return m
}()

// spdxExpression returns the licenses as an SPDX expression when every one is a known
// identifier (or an expression of them), else "".
func spdxExpression(ls []string) string {
	if len(ls) == 0 {
		return ""
	}
	var parts []string
	for _, l := range ls {
		for _, tok := range strings.Fields(strings.NewReplacer("(", " ", ")", " ").Replace(l)) {
			if tok != "AND" && tok != "OR" && tok != "WITH" && !spdxLicenses[tok] {
				return ""
			}
		}
		if len(ls) == 1 {
			return l // as it is: trimming its brackets could unbalance "(A OR B) AND (C OR D)"
		}
		if strings.ContainsAny(l, " ") {
			l = "(" + l + ")"
		}
		parts = append(parts, l)
	}
	sort.Strings(parts)
	return strings.Join(parts, " AND ")
}
