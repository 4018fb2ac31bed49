package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// SignedLayer is one layer of a cosign signature manifest: the signed payload (a
// simple-signing JSON document) and the layer's annotations (the signature, and for
// keyless signatures the certificate and the transparency-log bundle).
type SignedLayer struct {
	Digest      string
	Payload     []byte
	Annotations map[string]string
	// Subject is the digest a referrer manifest says it refers to (bundles only).
	Subject string
}

// maxSignatureLayers and maxPayload bound what one signature manifest may make us read.
const (
	maxSignatureLayers = 64
	maxPayload         = 1 << 20
)

// CosignSignatures reads what cosign stored for a manifest digest under the tag
// sha256-HEX.sig in the repository. found is false when there is no such tag.
func (c *Client) CosignSignatures(ctx context.Context, repo name.Repository, digest string) (layers []SignedLayer, found bool, err error) {
	hexDigest, ok := strings.CutPrefix(digest, "sha256:")
	if !ok || len(hexDigest) != 64 {
		return nil, false, fmt.Errorf("%q is not a sha256 manifest digest", digest)
	}
	body, _, _, err := c.manifest(ctx, repo, "sha256-"+hexDigest+".sig")
	if e := (*Error)(nil); errors.As(err, &e) && e.Status == http.StatusNotFound {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	m, err := v1.ParseManifest(bytes.NewReader(body))
	if err != nil {
		return nil, true, fmt.Errorf("the signature manifest: %w", err)
	}
	if len(m.Layers) > maxSignatureLayers {
		return nil, true, fmt.Errorf("the signature manifest has %d layers; at most %d are read", len(m.Layers), maxSignatureLayers)
	}
	for _, l := range m.Layers {
		if l.Size > maxPayload {
			return nil, true, fmt.Errorf("a signed payload of %d bytes (at most %d are read)", l.Size, maxPayload)
		}
		rc, err := c.blob(ctx, repo, l.Digest, maxPayload)
		if err != nil {
			return nil, true, err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, true, err
		}
		layers = append(layers, SignedLayer{Digest: l.Digest.String(), Payload: b, Annotations: l.Annotations})
	}
	return layers, true, nil
}

// Digest is the manifest digest a reference names now (an index's, for a
// multi-platform tag).
func (c *Client) Digest(ctx context.Context, ref name.Reference) (string, error) {
	_, _, h, err := c.manifest(ctx, ref.Context(), ref.Identifier())
	if err != nil {
		return "", err
	}
	return h.String(), nil
}

// bundleTypes are the artifact types of Sigstore bundles attached as referrers.
var bundleTypes = []string{"application/vnd.dev.sigstore.bundle.v0.3+json", "application/vnd.dev.sigstore.bundle+json;version=0.3"}

// maxReferrers bounds the referrers read for one digest.
const maxReferrers = 64

// SigstoreBundles reads the Sigstore bundles attached to a manifest digest as OCI 1.1
// referrers: through the referrers API, or, for registries without it (distribution
// 2.8), the referrers tag schema's index under the tag sha256-HEX. Each comes with its
// referrer manifest's digest and annotations.
func (c *Client) SigstoreBundles(ctx context.Context, repo name.Repository, digest string) ([]SignedLayer, error) {
	hexDigest, ok := strings.CutPrefix(digest, "sha256:")
	if !ok || len(hexDigest) != 64 {
		return nil, fmt.Errorf("%q is not a sha256 manifest digest", digest)
	}
	idx, err := c.referrers(ctx, repo, digest)
	if err != nil {
		return nil, err
	}
	var out []SignedLayer
	for _, d := range idx {
		if !slices.Contains(bundleTypes, d.ArtifactType) {
			continue
		}
		if len(out) == maxReferrers {
			return nil, fmt.Errorf("more than %d signature referrers", maxReferrers)
		}
		body, _, _, err := c.manifest(ctx, repo, d.Digest.String())
		if err != nil {
			return nil, err
		}
		m, err := v1.ParseManifest(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("referrer %s: %w", d.Digest, err)
		}
		if len(m.Layers) != 1 || m.Layers[0].Size > maxPayload {
			return nil, fmt.Errorf("referrer %s: want one bundle layer of at most %d bytes", d.Digest, maxPayload)
		}
		subject := ""
		if m.Subject != nil {
			subject = m.Subject.Digest.String()
		}
		rc, err := c.blob(ctx, repo, m.Layers[0].Digest, maxPayload)
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, SignedLayer{Digest: d.Digest.String(), Payload: b, Annotations: m.Annotations, Subject: subject})
	}
	return out, nil
}

// referrers lists a digest's referrers: the API's answer, else the tag schema's index.
func (c *Client) referrers(ctx context.Context, repo name.Repository, digest string) ([]v1.Descriptor, error) {
	u := c.base(ctx, repo) + "/referrers/" + digest
	resp, err := c.get(ctx, repo, u, []string{"application/vnd.oci.image.index.v1+json"})
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxManifest+1))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusOK && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/vnd.oci.image.index.v1+json") && len(body) <= maxManifest {
		idx, err := v1.ParseIndexManifest(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("referrers of %s: %w", digest, err)
		}
		return idx.Manifests, nil
	}
	// No referrers API: the tag schema.
	body, _, _, err = c.manifest(ctx, repo, strings.Replace(digest, ":", "-", 1))
	if e := (*Error)(nil); errors.As(err, &e) && e.Status == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("the referrers tag of %s: %w", digest, err)
	}
	return idx.Manifests, nil
}

// Statement is one in-toto statement attached to an image, with what says where it
// came from.
type Statement struct {
	From          string // "buildkit attestation manifest sha256:…"
	PredicateType string // the layer's in-toto.io/predicate-type annotation
	Body          []byte
}

// maxStatement bounds one in-toto statement (an SPDX SBOM of a large image is
// megabytes).
const maxStatement = 16 << 20

// BuildKitAttestations reads the in-toto statements BuildKit attached to an image: the
// attestation manifest its index lists for the image's digest
// (vnd.docker.reference.type: attestation-manifest). indexDigest is "" for an image
// that was not read through an index (it has none).
func (c *Client) BuildKitAttestations(ctx context.Context, repo name.Repository, indexDigest, imageDigest string) ([]Statement, error) {
	if indexDigest == "" {
		return nil, nil
	}
	body, mt, _, err := c.manifest(ctx, repo, indexDigest)
	if err != nil {
		return nil, err
	}
	if !mt.IsIndex() {
		return nil, nil
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("the index: %w", err)
	}
	var out []Statement
	for _, d := range idx.Manifests {
		if d.Annotations["vnd.docker.reference.type"] != "attestation-manifest" || d.Annotations["vnd.docker.reference.digest"] != imageDigest {
			continue
		}
		mb, _, _, err := c.manifest(ctx, repo, d.Digest.String())
		if err != nil {
			return nil, err
		}
		m, err := v1.ParseManifest(bytes.NewReader(mb))
		if err != nil {
			return nil, fmt.Errorf("attestation manifest %s: %w", d.Digest, err)
		}
		if len(m.Layers) > maxSignatureLayers {
			return nil, fmt.Errorf("attestation manifest %s has %d layers; at most %d are read", d.Digest, len(m.Layers), maxSignatureLayers)
		}
		for _, l := range m.Layers {
			if l.MediaType != "application/vnd.in-toto+json" {
				continue
			}
			st := Statement{From: "buildkit attestation manifest " + d.Digest.String(), PredicateType: l.Annotations["in-toto.io/predicate-type"]}
			if l.Size > maxStatement {
				return nil, fmt.Errorf("an attestation of %d bytes (at most %d are read)", l.Size, maxStatement)
			}
			rc, err := c.blob(ctx, repo, l.Digest, maxStatement)
			if err != nil {
				return nil, err
			}
			st.Body, err = io.ReadAll(rc)
			rc.Close()
			if err != nil {
				return nil, err
			}
			out = append(out, st)
		}
	}
	return out, nil
}
