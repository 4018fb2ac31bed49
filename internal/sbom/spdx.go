package sbom

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/dockaudit/dockaudit/internal/facts"
)

type spdxDoc struct {
	SPDXVersion       string             `json:"spdxVersion"`
	DataLicense       string             `json:"dataLicense"`
	SPDXID            string             `json:"SPDXID"`
	Name              string             `json:"name"`
	DocumentNamespace string             `json:"documentNamespace"`
	CreationInfo      spdxCreation       `json:"creationInfo"`
	Packages          []spdxPackage      `json:"packages"`
	Relationships     []spdxRelationship `json:"relationships"`
}

type spdxCreation struct {
	Created  string   `json:"created"`
	Creators []string `json:"creators"`
}

type spdxPackage struct {
	SPDXID                string            `json:"SPDXID"`
	Name                  string            `json:"name"`
	VersionInfo           string            `json:"versionInfo,omitempty"`
	DownloadLocation      string            `json:"downloadLocation"`
	FilesAnalyzed         bool              `json:"filesAnalyzed"`
	Checksums             []spdxChecksum    `json:"checksums,omitempty"`
	SourceInfo            string            `json:"sourceInfo,omitempty"`
	LicenseConcluded      string            `json:"licenseConcluded"`
	LicenseDeclared       string            `json:"licenseDeclared"`
	LicenseComments       string            `json:"licenseComments,omitempty"`
	CopyrightText         string            `json:"copyrightText"`
	Description           string            `json:"description,omitempty"`
	ExternalRefs          []spdxExternalRef `json:"externalRefs,omitempty"`
	PrimaryPackagePurpose string            `json:"primaryPackagePurpose"`
}

type spdxChecksum struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"checksumValue"`
}

type spdxExternalRef struct {
	Category string `json:"referenceCategory"`
	Type     string `json:"referenceType"`
	Locator  string `json:"referenceLocator"`
}

type spdxRelationship struct {
	Element string `json:"spdxElementId"`
	Type    string `json:"relationshipType"`
	Related string `json:"relatedSpdxElement"`
}

const noAssertion = "NOASSERTION"

// WriteSPDX writes an SPDX 2.3 JSON document: the image as a CONTAINER package the
// document DESCRIBES, which CONTAINS its operating system and one package per
// inventoried package, each with its PURL as a PACKAGE-MANAGER reference.
func WriteSPDX(w io.Writer, im *facts.Image, tool Tool, now time.Time) error {
	id := docID(im, tool, now)
	name := imageName(im)
	doc := spdxDoc{
		SPDXVersion: "SPDX-2.3", DataLicense: "CC0-1.0", SPDXID: "SPDXRef-DOCUMENT", Name: name,
		DocumentNamespace: "https://github.com/dockaudit/dockaudit/spdx/" + url.PathEscape(name) + "-" + id,
		CreationInfo: spdxCreation{
			Created:  now.UTC().Format(time.RFC3339),
			Creators: []string{"Tool: " + tool.Name + "-" + tool.Version},
		},
		Packages:      []spdxPackage{},
		Relationships: []spdxRelationship{{Element: "SPDXRef-DOCUMENT", Type: "DESCRIBES", Related: "SPDXRef-Image"}},
	}
	img := spdxPackage{SPDXID: "SPDXRef-Image", Name: name, VersionInfo: imageVersion(im), DownloadLocation: noAssertion,
		LicenseConcluded: noAssertion, LicenseDeclared: noAssertion, CopyrightText: noAssertion, PrimaryPackagePurpose: "CONTAINER"}
	if hexID, ok := strings.CutPrefix(im.ID, "sha256:"); ok && len(hexID) == 64 {
		img.Checksums = []spdxChecksum{{Algorithm: "SHA256", Value: hexID}}
	}
	if im.Platform != "" {
		img.Description = "platform " + im.Platform
	}
	doc.Packages = append(doc.Packages, img)
	if c := im.Content; c != nil && c.OS.ID != "" {
		doc.Packages = append(doc.Packages, spdxPackage{SPDXID: "SPDXRef-OperatingSystem", Name: c.OS.ID, VersionInfo: c.OS.VersionID,
			Description: c.OS.PrettyName, DownloadLocation: noAssertion, LicenseConcluded: noAssertion, LicenseDeclared: noAssertion,
			CopyrightText: noAssertion, PrimaryPackagePurpose: "OPERATING_SYSTEM"})
		doc.Relationships = append(doc.Relationships, spdxRelationship{Element: "SPDXRef-Image", Type: "CONTAINS", Related: "SPDXRef-OperatingSystem"})
	}
	ps, keys := pkgs(im)
	for i, p := range ps {
		sid := "SPDXRef-Package-" + spdxIDPart(p.Type) + "-" + keys[i]
		sp := spdxPackage{SPDXID: sid, Name: p.Name, VersionInfo: p.Version, DownloadLocation: noAssertion,
			LicenseConcluded: noAssertion, LicenseDeclared: noAssertion, CopyrightText: noAssertion, PrimaryPackagePurpose: "LIBRARY",
			SourceInfo: sourceInfo(im, p)}
		if e := spdxExpression(p.Licenses); e != "" {
			sp.LicenseDeclared = e
		} else if len(p.Licenses) > 0 {
			sp.LicenseComments = "declared by the package, not an SPDX expression: " + strings.Join(p.Licenses, "; ")
		}
		if p.PURL != "" {
			sp.ExternalRefs = []spdxExternalRef{{Category: "PACKAGE-MANAGER", Type: "purl", Locator: p.PURL}}
		}
		doc.Packages = append(doc.Packages, sp)
		doc.Relationships = append(doc.Relationships, spdxRelationship{Element: "SPDXRef-Image", Type: "CONTAINS", Related: sid})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

// sourceInfo says where the package was found: the database or file, and the layer.
func sourceInfo(im *facts.Image, p facts.Package) string {
	s := "found in " + p.Path
	if d := layerDigest(im, p.Layer); d != "" {
		s += fmt.Sprintf(", layer %d (%s)", p.Layer+1, d)
	}
	if p.SourceName != "" && (p.SourceName != p.Name || p.SourceVersion != p.Version) {
		s += "; source package " + p.SourceName
		if p.SourceVersion != "" {
			s += " " + p.SourceVersion
		}
	}
	return s
}

// spdxIDPart keeps the letters, digits, dots and dashes an SPDX ID allows.
func spdxIDPart(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '-'
	}, s)
}
