package sbom

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/dockaudit/dockaudit/internal/facts"
)

type cdxBOM struct {
	Schema       string         `json:"$schema"`
	BOMFormat    string         `json:"bomFormat"`
	SpecVersion  string         `json:"specVersion"`
	SerialNumber string         `json:"serialNumber"`
	Version      int            `json:"version"`
	Metadata     cdxMetadata    `json:"metadata"`
	Components   []cdxComponent `json:"components"`
	Dependencies []cdxDep       `json:"dependencies"`
}

type cdxMetadata struct {
	Timestamp string       `json:"timestamp"`
	Tools     cdxTools     `json:"tools"`
	Component cdxComponent `json:"component"`
}

type cdxTools struct {
	Components []cdxComponent `json:"components"`
}

type cdxComponent struct {
	Type        string        `json:"type"`
	BOMRef      string        `json:"bom-ref,omitempty"`
	Name        string        `json:"name"`
	Version     string        `json:"version,omitempty"`
	Description string        `json:"description,omitempty"`
	Licenses    []cdxLicense  `json:"licenses,omitempty"`
	PURL        string        `json:"purl,omitempty"`
	Properties  []cdxProperty `json:"properties,omitempty"`
}

type cdxLicense struct {
	License cdxLicenseName `json:"license"`
}

type cdxLicenseName struct {
	Name string `json:"name"`
}

type cdxProperty struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type cdxDep struct {
	Ref       string   `json:"ref"`
	DependsOn []string `json:"dependsOn"`
}

// WriteCycloneDX writes a CycloneDX 1.6 JSON document: the image as the metadata
// component, its operating system and one component per package, each with its PURL,
// and where dockaudit found it as dockaudit:* properties.
func WriteCycloneDX(w io.Writer, im *facts.Image, tool Tool, now time.Time) error {
	bom := cdxBOM{
		Schema:       "http://cyclonedx.org/schema/bom-1.6.schema.json",
		BOMFormat:    "CycloneDX",
		SpecVersion:  "1.6",
		SerialNumber: "urn:uuid:" + docID(im, tool, now),
		Version:      1,
		Metadata: cdxMetadata{
			Timestamp: now.UTC().Format(time.RFC3339),
			Tools:     cdxTools{Components: []cdxComponent{{Type: "application", Name: tool.Name, Version: tool.Version}}},
			Component: cdxComponent{Type: "container", BOMRef: "image", Name: imageName(im), Version: imageVersion(im),
				Properties: imageProperties(im)},
		},
		Components:   []cdxComponent{},
		Dependencies: []cdxDep{},
	}
	contains := []string{}
	if c := im.Content; c != nil && c.OS.ID != "" {
		bom.Components = append(bom.Components, cdxComponent{Type: "operating-system", BOMRef: "os", Name: c.OS.ID,
			Version: c.OS.VersionID, Description: c.OS.PrettyName})
		contains = append(contains, "os")
	}
	ps, keys := pkgs(im)
	for i, p := range ps {
		ref := "pkg-" + keys[i]
		c := cdxComponent{Type: "library", BOMRef: ref, Name: p.Name, Version: p.Version, PURL: p.PURL}
		for _, l := range p.Licenses {
			c.Licenses = append(c.Licenses, cdxLicense{License: cdxLicenseName{Name: l}})
		}
		c.Properties = packageProperties(im, p)
		bom.Components = append(bom.Components, c)
		contains = append(contains, ref)
	}
	bom.Dependencies = append(bom.Dependencies, cdxDep{Ref: "image", DependsOn: contains})
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(bom)
}

func imageProperties(im *facts.Image) []cdxProperty {
	var ps []cdxProperty
	add := func(k, v string) {
		if v != "" {
			ps = append(ps, cdxProperty{Name: "dockaudit:image:" + k, Value: v})
		}
	}
	add("id", im.ID)
	add("digest", im.Digest)
	add("platform", im.Platform)
	add("source", im.Source)
	for i, l := range im.Layers {
		add(fmt.Sprintf("layer:%d", i), l.Digest)
	}
	return ps
}

func packageProperties(im *facts.Image, p facts.Package) []cdxProperty {
	ps := []cdxProperty{{Name: "dockaudit:package:type", Value: p.Type}}
	add := func(k, v string) {
		if v != "" {
			ps = append(ps, cdxProperty{Name: "dockaudit:" + k, Value: v})
		}
	}
	add("package:arch", p.Arch)
	add("package:source-name", p.SourceName)
	add("package:source-version", p.SourceVersion)
	add("location:path", p.Path)
	add("location:layer-index", fmt.Sprint(p.Layer))
	add("location:layer-digest", layerDigest(im, p.Layer))
	return ps
}
