package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dockaudit/dockaudit/internal/facts"
)

// SignedLayer is one layer of a cosign signature manifest: the signed payload (a
// simple-signing JSON document) and the layer's annotations (the signature, and for
// keyless signatures the certificate and the transparency-log bundle).
type SignedLayer struct {
	Digest      string
	Payload     []byte
	Annotations map[string]string
	// Subject is the digest a referrer manifest says it refers to (referrers only).
	Subject string
	// ArtifactType and MediaType are a referrer's artifact type and its one layer's
	// media type (a Notation envelope is application/jose+json or application/cose).
	ArtifactType, MediaType string
	// Location says where it was found, when the reader knows better than the
	// registry's tag and referrer names (an OCI layout).
	Location string
	// Problem says why the layer or referrer could not be read: it is a signature
	// that does not count, never an absent one.
	Problem string
}

// maxSignatureLayers and maxPayload bound what one signature manifest may make us read.
const (
	maxSignatureLayers = 64
	maxPayload         = 1 << 20
)

// CosignSignatures reads what cosign stored for a manifest digest under the tag
// sha256-HEX.sig in the repository. found is false when there is no such tag.
func (c *Client) CosignSignatures(ctx context.Context, repo name.Repository, digest string) (layers []SignedLayer, found bool, err error) {
	return c.cosignTag(ctx, repo, digest, ".sig")
}

// CosignAttestations reads what cosign attest stored for a manifest digest under the
// tag sha256-HEX.att: one DSSE envelope per layer. found is false when there is none.
func (c *Client) CosignAttestations(ctx context.Context, repo name.Repository, digest string) (layers []SignedLayer, found bool, err error) {
	return c.cosignTag(ctx, repo, digest, ".att")
}

// cosignTag reads the layers of the manifest cosign keeps under sha256-HEX+suffix.
func (c *Client) cosignTag(ctx context.Context, repo name.Repository, digest, suffix string) (layers []SignedLayer, found bool, err error) {
	hexDigest, ok := strings.CutPrefix(digest, "sha256:")
	if !ok || len(hexDigest) != 64 {
		return nil, false, fmt.Errorf("%q is not a sha256 manifest digest", digest)
	}
	body, _, _, err := c.manifest(ctx, repo, "sha256-"+hexDigest+suffix)
	if e := (*Error)(nil); errors.As(err, &e) && e.Status == http.StatusNotFound {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	m, err := v1.ParseManifest(bytes.NewReader(body))
	switch {
	case err != nil:
		return []SignedLayer{{Problem: "the signature manifest does not parse: " + firstLine(err.Error())}}, true, nil
	case len(m.Layers) == 0:
		return []SignedLayer{{Problem: "the signature manifest has no layer"}}, true, nil
	case len(m.Layers) > maxSignatureLayers:
		return []SignedLayer{{Problem: fmt.Sprintf("the signature manifest has %d layers; at most %d are read", len(m.Layers), maxSignatureLayers)}}, true, nil
	}
	var total int64
	for _, l := range m.Layers {
		sl := SignedLayer{Digest: l.Digest.String(), Annotations: l.Annotations, MediaType: string(l.MediaType)}
		limit := int64(maxPayload)
		if suffix == ".att" {
			// An attested SBOM is megabytes; all of them together are bounded too (a
			// negative size must not lower the total: smallBlob refuses it).
			limit = maxStatement
			if total += max(l.Size, 0); total > maxStatements {
				sl.Problem = fmt.Sprintf("the attestations hold more than %d bytes: this one is not read", maxStatements)
				layers = append(layers, sl)
				continue
			}
		}
		sl.Payload, sl.Problem = c.smallBlob(ctx, repo, l, limit)
		layers = append(layers, sl)
	}
	return layers, true, nil
}

// smallBlob reads a blob of at most max bytes; problem says why it could not be.
func (c *Client) smallBlob(ctx context.Context, repo name.Repository, l v1.Descriptor, max int64) (b []byte, problem string) {
	switch {
	case l.Size > max:
		return nil, fmt.Sprintf("a blob of %d bytes (at most %d are read)", l.Size, max)
	case l.Size < 0:
		return nil, fmt.Sprintf("a blob of %d bytes, its descriptor says", l.Size)
	}
	// The bounds on what is read are counted in declared sizes: a blob longer or
	// shorter than its descriptor says is refused.
	defer func() {
		if problem == "" && int64(len(b)) != l.Size {
			b, problem = nil, fmt.Sprintf("the blob is %d bytes, its descriptor says %d", len(b), l.Size)
		}
	}()
	rc, err := c.blob(ctx, repo, l.Digest, min(max, l.Size+1))
	if err == nil {
		b, err = io.ReadAll(rc)
		rc.Close()
	}
	if err != nil {
		return nil, "its blob could not be read: " + firstLine(err.Error())
	}
	return b, ""
}

// BundleTypes are the artifact types of Sigstore bundles attached as referrers.
var BundleTypes = []string{"application/vnd.dev.sigstore.bundle.v0.3+json", "application/vnd.dev.sigstore.bundle+json;version=0.3"}

// NotationType is the artifact type of a Notation signature.
const NotationType = "application/vnd.cncf.notary.signature"

// maxReferrers bounds the referrers read for one digest.
const maxReferrers = 64

// SignatureReferrers reads the signatures attached to a manifest digest as OCI 1.1
// referrers, Sigstore bundles and Notation envelopes: through the referrers API, or,
// for registries without it (distribution 2.8), the referrers tag schema's index under
// the tag sha256-HEX. Each comes with its referrer manifest's digest, annotations,
// artifact type and layer media type.
func (c *Client) SignatureReferrers(ctx context.Context, repo name.Repository, digest string) ([]SignedLayer, error) {
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
		if !slices.Contains(BundleTypes, d.ArtifactType) && d.ArtifactType != NotationType {
			continue
		}
		if len(out) == maxReferrers {
			out = append(out, SignedLayer{Problem: fmt.Sprintf("more than %d signature referrers: the rest are not read", maxReferrers)})
			break
		}
		out = append(out, c.signatureReferrer(ctx, repo, d))
	}
	return out, nil
}

// signatureReferrer reads one signature referrer; what could not be read is its problem.
func (c *Client) signatureReferrer(ctx context.Context, repo name.Repository, d v1.Descriptor) SignedLayer {
	sl := SignedLayer{Digest: d.Digest.String(), ArtifactType: d.ArtifactType}
	body, _, _, err := c.manifest(ctx, repo, d.Digest.String())
	if err != nil {
		sl.Problem = "the referrer could not be read: " + firstLine(err.Error())
		return sl
	}
	m, err := v1.ParseManifest(bytes.NewReader(body))
	if err != nil {
		sl.Problem = "the referrer does not parse: " + firstLine(err.Error())
		return sl
	}
	if m.Subject != nil {
		sl.Subject = m.Subject.Digest.String()
	}
	sl.Annotations = m.Annotations
	if len(m.Layers) != 1 {
		sl.Problem = fmt.Sprintf("the referrer has %d layers, not one signature", len(m.Layers))
		return sl
	}
	sl.MediaType = string(m.Layers[0].MediaType)
	sl.Payload, sl.Problem = c.smallBlob(ctx, repo, m.Layers[0], maxPayload)
	return sl
}

// Descriptor is a manifest's descriptor (media type, digest, size), read from the
// registry by digest and hashed: what a Notation signature must name.
func (c *Client) Descriptor(ctx context.Context, repo name.Repository, digest string) (v1.Descriptor, error) {
	if !strings.HasPrefix(digest, "sha256:") {
		return v1.Descriptor{}, fmt.Errorf("%q is not a sha256 manifest digest", digest)
	}
	body, mt, h, err := c.manifest(ctx, repo, digest)
	if err != nil {
		return v1.Descriptor{}, err
	}
	return v1.Descriptor{MediaType: mt, Digest: h, Size: int64(len(body))}, nil
}

// referrers lists a digest's referrers: the API's answer (every page), else, when the
// registry has no such API (404, 400 or 405), the referrers tag schema's index. Any
// other answer is an error: never "no referrers".
func (c *Client) referrers(ctx context.Context, repo name.Repository, digest string) ([]v1.Descriptor, error) {
	u := c.base(ctx, repo) + "/referrers/" + digest
	var out []v1.Descriptor
	for page := 0; u != ""; page++ {
		if page == maxReferrerPages {
			return nil, fmt.Errorf("the referrers of %s run to more than %d pages", digest, maxReferrerPages)
		}
		resp, err := c.get(ctx, repo, u, []string{"application/vnd.oci.image.index.v1+json"})
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxManifest+1))
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		switch {
		case page == 0 && (resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusMethodNotAllowed):
			return c.referrersTag(ctx, repo, digest)
		case resp.StatusCode != http.StatusOK:
			return nil, &Error{URL: u, Status: resp.StatusCode, Body: firstLine(string(body))}
		case len(body) > maxManifest:
			return nil, fmt.Errorf("the referrers of %s: more than %d bytes", digest, maxManifest)
		}
		idx, err := v1.ParseIndexManifest(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("referrers of %s: %w", digest, err)
		}
		out = append(out, idx.Manifests...)
		u = nextPage(u, resp.Header.Get("Link"))
	}
	return out, nil
}

// maxReferrerPages bounds the pages of one referrers listing.
const maxReferrerPages = 16

// nextPage is the Link: <…>; rel="next" target, on the same host as the page it
// followed; "" when there is none.
func nextPage(cur, link string) string {
	target, params, ok := strings.Cut(link, ";")
	if !ok || !strings.Contains(params, `rel="next"`) {
		return ""
	}
	target = strings.Trim(strings.TrimSpace(target), "<>")
	base, err := url.Parse(cur)
	if err != nil {
		return ""
	}
	next, err := base.Parse(target)
	if err != nil || next.Host != base.Host || next.Scheme != base.Scheme {
		return ""
	}
	return next.String()
}

// referrersTag reads the referrers tag schema's index (tag sha256-HEX).
func (c *Client) referrersTag(ctx context.Context, repo name.Repository, digest string) ([]v1.Descriptor, error) {
	body, _, _, err := c.manifest(ctx, repo, strings.Replace(digest, ":", "-", 1))
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
// came from. Body is nil for a statement that was listed but not fetched.
type Statement struct {
	From          string // "buildkit attestation manifest sha256:…"
	PredicateType string // the layer's in-toto.io/predicate-type annotation
	Digest        string // the statement's blob
	Size          int64
	Body          []byte
}

// IsProvenance says a predicate type is SLSA provenance's.
func IsProvenance(predicateType string) bool {
	return strings.HasPrefix(predicateType, facts.ProvenancePrefix)
}

// maxStatement bounds one in-toto statement (an SPDX SBOM of a large image is
// megabytes).
const maxStatement = 16 << 20

// BuildKitAttestations lists the in-toto statements BuildKit attached to an image: the
// attestation manifest its index lists for the image's digest
// (vnd.docker.reference.type: attestation-manifest). indexDigest is "" for an image
// that was not read through an index (it has none). Only the statements whose
// predicate type fetch accepts are read (an SPDX SBOM of a large image is megabytes);
// the others are listed by type, digest and size.
func (c *Client) BuildKitAttestations(ctx context.Context, repo name.Repository, indexDigest, imageDigest string, fetch func(predicateType string) bool) ([]Statement, error) {
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
	seen := map[string]bool{}
	manifests, total := 0, int64(0)
	for _, d := range idx.Manifests {
		if d.Annotations["vnd.docker.reference.type"] != "attestation-manifest" || d.Annotations["vnd.docker.reference.digest"] != imageDigest || seen[d.Digest.String()] {
			continue
		}
		seen[d.Digest.String()] = true
		if manifests++; manifests > maxAttestationManifests {
			return nil, fmt.Errorf("more than %d attestation manifests for %s", maxAttestationManifests, imageDigest)
		}
		mb, _, _, err := c.manifest(ctx, repo, d.Digest.String())
		if err != nil {
			return nil, err
		}
		m, err := v1.ParseManifest(bytes.NewReader(mb))
		if err != nil {
			return nil, fmt.Errorf("attestation manifest %s: %w", d.Digest, err)
		}
		for _, l := range m.Layers {
			pt := l.Annotations["in-toto.io/predicate-type"]
			if l.MediaType != "application/vnd.in-toto+json" || seen[l.Digest.String()] {
				continue
			}
			seen[l.Digest.String()] = true
			st := Statement{From: "buildkit attestation manifest " + d.Digest.String(), PredicateType: pt, Digest: l.Digest.String(), Size: l.Size}
			if fetch != nil && fetch(pt) {
				if total += l.Size; total > maxStatements {
					return nil, fmt.Errorf("the attestations of %s hold more than %d bytes", imageDigest, maxStatements)
				}
				var problem string
				if st.Body, problem = c.smallBlob(ctx, repo, l, maxStatement); problem != "" {
					return nil, fmt.Errorf("a statement (%s): %s", pt, problem)
				}
			}
			out = append(out, st)
		}
	}
	return out, nil
}

// maxAttestationManifests and maxStatements bound what one image's attestations make
// us read.
const (
	maxAttestationManifests = 4
	maxStatements           = 32 << 20
)
