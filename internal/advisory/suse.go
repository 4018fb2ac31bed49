package advisory

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dockaudit/dockaudit/internal/facts"
)

// SUSE files its advisories (SUSE-SU, as OSV) by source RPM per product and support
// phase: "SUSE:Linux Enterprise Server 15 SP6", "SUSE:Linux Enterprise Module for
// Basesystem 15 SP6", "SUSE:Linux Enterprise Server 15 SP6-LTSS". os-release gives the
// release; which products an image has, its release packages say (sles-release,
// sles-ltss-release, sle-module-basesystem-release…). A SUSE Linux Enterprise image is
// matched against the server product and every module of its own service pack (a
// package lives in one module, whose fixes carry that service pack's release
// numbers), never another service pack's, and against LTSS: the same code stream,
// whose later fixes an image without LTSS cannot install, which the finding says.

// suseProducts names the product families a SUSE Linux Enterprise image is matched
// against, by os-release ID.
func suseProducts(id string) ([]string, bool) {
	switch id {
	case "sles", "sled", "sle_hpc":
		return []string{"Linux Enterprise Server", "Linux Enterprise Module for "}, true
	case "sles_sap":
		return []string{"Linux Enterprise Server for SAP Applications", "Linux Enterprise Server", "Linux Enterprise Module for "}, true
	case "sle-micro":
		return []string{"Linux Enterprise Micro"}, true
	case "sl-micro":
		return []string{"Linux Micro"}, true
	}
	return nil, false
}

// SUSERelease is how SUSE names an image's release in its products: "15 SP6" for
// SLES 15.6, "15" for 15, "5.5" for SLE Micro 5.5.
func SUSERelease(os facts.OS) string {
	if os.ID == "sle-micro" || os.ID == "sl-micro" {
		return os.VersionID
	}
	major, sp, ok := strings.Cut(os.VersionID, ".")
	if !ok || sp == "0" {
		return major
	}
	return major + " SP" + sp
}

// suseLTSS reports an image with SUSE's Long Term Service Pack Support: its
// sles-ltss-release package.
func suseLTSS(os facts.OS) bool {
	return slices.ContainsFunc(os.Products, func(p string) bool { return strings.Contains(p, "ltss") })
}

// suseTarget resolves a SUSE Linux Enterprise package's family target ("SUSE") into the
// database's SUSE products for the image's release.
func (s *Store) suseTarget(os facts.OS, t Target) (Target, error) {
	families, _ := suseProducts(os.ID)
	rel := SUSERelease(os)
	if rel == "" {
		return t, fmt.Errorf("%s without a VERSION_ID: no release to match against", os.ID)
	}
	var ecos []string
	for _, e := range s.Meta.Ecosystems {
		product, ok := strings.CutPrefix(e.Name, "SUSE:")
		if !ok {
			continue
		}
		// The release ends the name, as "15 SP6" or "15 SP6-LTSS": "15 SP6" is not
		// "15 SP6 …" of another product line nor "5 SP6".
		base, _ := strings.CutSuffix(product, "-LTSS") // LTSS products are kept either way
		name, ok := strings.CutSuffix(base, " "+rel)
		if !ok {
			continue
		}
		name = strings.TrimSpace(strings.ReplaceAll(name, "LTSS Extended Security", ""))
		name = strings.TrimSpace(strings.ReplaceAll(name, "LTSS", ""))
		if slices.ContainsFunc(families, func(f string) bool {
			return name == f || (strings.HasSuffix(f, " ") && strings.HasPrefix(name, f))
		}) {
			ecos = append(ecos, e.Name)
		}
	}
	if len(ecos) == 0 {
		ecos = []string{"SUSE:" + strings.TrimSuffix(families[0], " ") + " " + rel} // uncovered, by this name
	}
	t.Ecosystems = ecos
	return t, nil
}
