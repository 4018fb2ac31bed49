package image

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/dockaudit/dockaudit/internal/collect/registry"
	"github.com/dockaudit/dockaudit/internal/safefile"
)

// Layout reads the signatures an OCI layout keeps beside its images: what cosign save
// writes (the sigs and atts manifests of the image it saved, marked with a kind
// annotation in index.json) and OCI 1.1 referrers listed in index.json with their
// artifact type (what notation and oras write to layouts). Every blob is read bounded
// and checked against its digest. It answers as the registry client does, so the same
// verification runs on both.
type Layout struct {
	dir, name string
}

// Layout is the OCI layout an oci: source was read from; nil for other sources.
func (s *Source) Layout() *Layout { return s.layout }

// Bounds on what a layout's signatures make us read.
const (
	maxLayoutIndex     = 4 << 20
	maxLayoutManifests = 256
	maxLayoutManifest  = 4 << 20
	maxLayoutPayload   = 1 << 20
	maxLayoutStatement = 16 << 20
)

func (l *Layout) index() ([]v1.Descriptor, error) {
	b, err := safefile.Read(filepath.Join(l.dir, "index.json"), maxLayoutIndex)
	if err != nil {
		return nil, err
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("index.json: %w", err)
	}
	if len(idx.Manifests) > maxLayoutManifests {
		return nil, fmt.Errorf("index.json lists %d manifests; at most %d are read for signatures", len(idx.Manifests), maxLayoutManifests)
	}
	return idx.Manifests, nil
}

// blob reads a blob of the layout, at most max bytes, checked against its digest.
func (l *Layout) blob(d v1.Hash, max int64) ([]byte, error) {
	if d.Algorithm != "sha256" || len(d.Hex) != 64 {
		return nil, fmt.Errorf("blob %s: only sha256 digests are verified", d)
	}
	b, err := safefile.Read(filepath.Join(l.dir, "blobs", "sha256", d.Hex), max)
	if err != nil {
		return nil, err
	}
	if err := checkRaw(func() ([]byte, error) { return b, nil }, d, "blob"); err != nil {
		return nil, err
	}
	return b, nil
}

// CosignSignatures is what cosign save kept of the signatures of the saved image, when
// digest is that image's (or index's).
func (l *Layout) CosignSignatures(_ context.Context, _ name.Repository, digest string) ([]registry.SignedLayer, bool, error) {
	return l.cosign(digest, "dev.cosignproject.cosign/sigs", "cosign signatures", maxLayoutPayload)
}

// CosignAttestations is the same for its attestations.
func (l *Layout) CosignAttestations(_ context.Context, _ name.Repository, digest string) ([]registry.SignedLayer, bool, error) {
	return l.cosign(digest, "dev.cosignproject.cosign/atts", "cosign attestations", maxLayoutStatement)
}

func (l *Layout) cosign(digest, kind, what string, limit int64) ([]registry.SignedLayer, bool, error) {
	ms, err := l.index()
	if err != nil {
		return nil, false, err
	}
	var entities []string
	var extra *v1.Descriptor
	for i, d := range ms {
		switch d.Annotations[cosignKind] {
		case "dev.cosignproject.cosign/image", "dev.cosignproject.cosign/index":
			entities = append(entities, d.Digest.String())
		case kind:
			if extra != nil {
				return nil, false, fmt.Errorf("index.json lists two %s manifests", what)
			}
			extra = &ms[i]
		}
	}
	switch {
	case extra == nil || !slices.Contains(entities, digest):
		return nil, false, nil
	case len(entities) > 1:
		// cosign save keeps one signed entity per layout: with several, which
		// signatures are whose is not recorded.
		return nil, true, fmt.Errorf("index.json lists %d images saved by cosign: which %s are whose is not recorded", len(entities), what)
	}
	mb, err := l.blob(extra.Digest, maxLayoutManifest)
	if err != nil {
		return nil, true, err
	}
	m, err := v1.ParseManifest(bytes.NewReader(mb))
	if err != nil {
		return []registry.SignedLayer{{Problem: "the " + what + " manifest does not parse: " + err.Error()}}, true, nil
	}
	var out []registry.SignedLayer
	var total int64
	for i, ly := range m.Layers {
		sl := registry.SignedLayer{Digest: ly.Digest.String(), Annotations: ly.Annotations, MediaType: string(ly.MediaType),
			Location: fmt.Sprintf("%s: %s manifest %s (layer %d)", l.name, what, extra.Digest, i)}
		if total += max(ly.Size, 0); total > maxLayoutStatement*2 || i >= 64 || ly.Size < 0 {
			sl.Problem = "the " + what + " hold more than the read limit: this one is not read"
		} else if sl.Payload, err = l.blob(ly.Digest, limit); err != nil {
			sl.Problem = "its blob could not be read: " + err.Error()
		} else if int64(len(sl.Payload)) != ly.Size {
			sl.Payload, sl.Problem = nil, fmt.Sprintf("the blob is %d bytes, its descriptor says %d", len(sl.Payload), ly.Size)
		}
		out = append(out, sl)
	}
	return out, true, nil
}

// SignatureReferrers is the layout's referrers of digest that are signatures (Sigstore
// bundles, Notation envelopes), found by the artifact type index.json gives them.
func (l *Layout) SignatureReferrers(_ context.Context, _ name.Repository, digest string) ([]registry.SignedLayer, error) {
	ms, err := l.index()
	if err != nil {
		return nil, err
	}
	var out []registry.SignedLayer
	for _, d := range ms {
		if !slices.Contains(registry.BundleTypes, d.ArtifactType) && d.ArtifactType != registry.NotationType {
			continue
		}
		sl := registry.SignedLayer{Digest: d.Digest.String(), ArtifactType: d.ArtifactType, Location: fmt.Sprintf("%s: referrer manifest %s", l.name, d.Digest)}
		mb, err := l.blob(d.Digest, maxLayoutManifest)
		if err != nil {
			sl.Problem = "the referrer could not be read: " + err.Error()
			out = append(out, sl)
			continue
		}
		m, err := v1.ParseManifest(bytes.NewReader(mb))
		switch {
		case err != nil:
			sl.Problem = "the referrer does not parse: " + err.Error()
		case m.Subject == nil || m.Subject.Digest.String() != digest:
			continue // another image's
		case len(m.Layers) != 1:
			sl.Subject = digest
			sl.Problem = fmt.Sprintf("the referrer has %d layers, not one signature", len(m.Layers))
		default:
			sl.Subject, sl.MediaType = digest, string(m.Layers[0].MediaType)
			if sl.Payload, err = l.blob(m.Layers[0].Digest, maxLayoutPayload); err != nil {
				sl.Problem = "its blob could not be read: " + err.Error()
			} else if int64(len(sl.Payload)) != m.Layers[0].Size {
				sl.Payload, sl.Problem = nil, fmt.Sprintf("the blob is %d bytes, its descriptor says %d", len(sl.Payload), m.Layers[0].Size)
			}
		}
		out = append(out, sl)
	}
	return out, nil
}

// Descriptor is a manifest's descriptor, from its blob in the layout.
func (l *Layout) Descriptor(_ context.Context, _ name.Repository, digest string) (v1.Descriptor, error) {
	h, err := v1.NewHash(digest)
	if err != nil {
		return v1.Descriptor{}, err
	}
	b, err := l.blob(h, maxLayoutManifest)
	if err != nil {
		return v1.Descriptor{}, err
	}
	var probe struct {
		MediaType string `json:"mediaType"`
	}
	if json.Unmarshal(b, &probe) != nil || probe.MediaType == "" {
		// An OCI manifest may leave its media type out.
		probe.MediaType = string(types.OCIManifestSchema1)
	}
	return v1.Descriptor{MediaType: types.MediaType(probe.MediaType), Digest: h, Size: int64(len(b))}, nil
}
