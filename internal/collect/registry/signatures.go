package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
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
