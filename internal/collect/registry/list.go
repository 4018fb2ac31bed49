package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Bounds on what a registry may make a lister do.
const (
	maxListPages = 1000
	maxListed    = 100_000
	maxListBody  = 8 << 20
	pageSize     = 1000
)

var nextLink = regexp.MustCompile(`<([^>]+)>\s*;\s*rel="?next"?`)

// list follows a paginated listing (the Link header, rel="next", as distribution
// writes it) and collects field from each page.
func (c *Client) list(ctx context.Context, host, scope, first, field string) ([]string, error) {
	base, err := url.Parse(first)
	if err != nil {
		return nil, err
	}
	var out []string
	u := first
	for page := 0; ; page++ {
		if page >= maxListPages {
			return nil, fmt.Errorf("GET %s: more than %d pages", first, maxListPages)
		}
		resp, err := c.getScoped(ctx, host, scope, u, []string{"application/json"})
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxListBody+1))
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, &Error{URL: u, Status: resp.StatusCode, Body: firstLine(string(body))}
		}
		if len(body) > maxListBody {
			return nil, fmt.Errorf("GET %s: the answer is larger than %d bytes", u, maxListBody)
		}
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(body, &doc); err != nil {
			return nil, fmt.Errorf("GET %s: not a JSON object: %w", u, err)
		}
		var items []string
		if raw, ok := doc[field]; ok && !bytes.Equal(raw, []byte("null")) {
			if err := json.Unmarshal(raw, &items); err != nil {
				return nil, fmt.Errorf("GET %s: %q is not a list of strings", u, field)
			}
		}
		out = append(out, items...)
		if len(out) > maxListed {
			return nil, fmt.Errorf("GET %s: more than %d entries", first, maxListed)
		}
		m := nextLink.FindStringSubmatch(resp.Header.Get("Link"))
		if m == nil {
			return out, nil
		}
		next, err := base.Parse(m[1])
		if err != nil || next.Host != base.Host || next.Scheme != base.Scheme {
			// The next page stays on the registry: a Link elsewhere would take our token.
			return nil, fmt.Errorf("GET %s: the next page is not on the registry (%s)", u, m[1])
		}
		u = next.String()
	}
}

// Catalog lists the registry's repositories (GET /v2/_catalog, every page).
func (c *Client) Catalog(ctx context.Context, host string) ([]string, error) {
	reg, err := name.NewRegistry(host)
	if err != nil {
		return nil, err
	}
	u := c.scheme(ctx, reg.RegistryStr()) + "://" + reg.RegistryStr() + fmt.Sprintf("/v2/_catalog?n=%d", pageSize)
	return c.list(ctx, reg.RegistryStr(), "registry:catalog:*", u, "repositories")
}

// Tags lists a repository's tags (GET /v2/REPO/tags/list, every page).
func (c *Client) Tags(ctx context.Context, repo name.Repository) ([]string, error) {
	u := c.base(ctx, repo) + fmt.Sprintf("/tags/list?n=%d", pageSize)
	return c.list(ctx, repo.RegistryStr(), "repository:"+repo.RepositoryStr()+":pull", u, "tags")
}

// Manifest is one image manifest a reference resolves to.
type Manifest struct {
	Digest   string
	Platform string // os/arch[/variant]; "" for a single image without an index
}

// Resolved is what a tag or digest names: one image, or an index of images. Artifact,
// when set, says it names no image but a signature, attestation or other artifact
// (what cosign, notation and BuildKit push beside images), and Manifests is empty.
type Resolved struct {
	Digest    string // of what the reference names (the index, for an index)
	Index     bool
	Manifests []Manifest
	Artifact  string
}

// imageType says an artifact type is an image's: none, or an image configuration's media
// type (registries and go-containerregistry list images in an index with their
// config's type as artifact type).
func imageType(t string) bool {
	return t == "" || t == string(types.OCIConfigJSON) || t == string(types.DockerConfigJSON)
}

// artifact says what an image manifest is when it is no image, by what it holds: a
// configuration that is no image configuration, or layers none of which is a
// filesystem layer (cosign's .sig and .att manifests, Notation signatures, Sigstore
// bundles, BuildKit's attestations, Helm charts). "" for an image: fields anyone can
// set (a subject, an artifact type) never make a real image go unscanned.
func artifact(body []byte) string {
	m, err := v1.ParseManifest(bytes.NewReader(body))
	switch {
	case err != nil:
		return ""
	case !imageType(string(m.Config.MediaType)):
		return "an artifact whose configuration is " + string(m.Config.MediaType)
	case len(m.Layers) == 0:
		return ""
	}
	for _, l := range m.Layers {
		if l.MediaType.IsLayer() {
			return ""
		}
	}
	return "an artifact whose layers are " + string(m.Layers[0].MediaType)
}

// artifactIndex says an index lists only artifacts (the referrers tag schema's list of
// signatures and the like), judged by what each manifest holds, not by the artifact
// type the index gives it, which anyone who pushes can set: a runnable image listed
// under another type is still an image.
func (c *Client) artifactIndex(ctx context.Context, repo name.Repository, idx *v1.IndexManifest) bool {
	if len(idx.Manifests) == 0 || len(idx.Manifests) > maxReferrers {
		return false
	}
	for _, d := range idx.Manifests {
		if imageType(d.ArtifactType) || !d.MediaType.IsImage() {
			return false
		}
		body, _, _, err := c.manifest(ctx, repo, d.Digest.String())
		if err != nil || artifact(body) == "" {
			return false
		}
	}
	return true
}

// Resolve fetches what ref names and lists its image manifests: the image itself, or
// each platform of an index (attestation manifests, which are no images, left out).
func (c *Client) Resolve(ctx context.Context, ref name.Reference) (Resolved, error) {
	body, mt, digest, err := c.manifest(ctx, ref.Context(), ref.Identifier())
	if err != nil {
		return Resolved{}, err
	}
	r := Resolved{Digest: digest.String()}
	if !mt.IsIndex() {
		if !mt.IsImage() {
			return Resolved{}, fmt.Errorf("%s is a %s, not an image", ref, mt)
		}
		if r.Artifact = artifact(body); r.Artifact != "" {
			return r, nil
		}
		r.Manifests = []Manifest{{Digest: r.Digest}}
		return r, nil
	}
	r.Index = true
	idx, err := v1.ParseIndexManifest(bytes.NewReader(body))
	if err != nil {
		return Resolved{}, fmt.Errorf("parse index of %s: %w", ref, err)
	}
	if c.artifactIndex(ctx, ref.Context(), idx) {
		r.Artifact = "an index of artifacts (a referrers list)"
		return r, nil
	}
	for _, d := range idx.Manifests {
		if d.Annotations["vnd.docker.reference.type"] != "" || (d.Platform != nil && d.Platform.OS == "unknown") {
			continue
		}
		if !d.MediaType.IsImage() {
			continue // a nested index: dockaudit image takes the first level only
		}
		m := Manifest{Digest: d.Digest.String()}
		if d.Platform != nil {
			m.Platform = d.Platform.String()
		}
		r.Manifests = append(r.Manifests, m)
	}
	if len(r.Manifests) == 0 {
		return Resolved{}, errors.New(ref.String() + ": the index lists no image manifests")
	}
	return r, nil
}

// HostOf is the registry host of a URL from a configuration ("http://127.0.0.1:5000").
func HostOf(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || strings.Trim(u.Path, "/") != "" {
		return "", fmt.Errorf("registry %q: want http(s)://HOST[:PORT]", raw)
	}
	return u.Host, nil
}
