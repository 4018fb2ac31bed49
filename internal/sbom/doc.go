// Package sbom writes an image's inventory as a software bill of materials: CycloneDX
// 1.6 JSON or SPDX 2.3 JSON. Each writer is a pure function of the image facts, the
// tool and the time, so the same input gives the same document byte for byte.
//
// It imports facts only: no collector, no check.
package sbom
