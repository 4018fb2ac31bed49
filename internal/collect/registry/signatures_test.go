package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/dockaudit/dockaudit/internal/imagetest"
)

// TestPullChain: the indexes a pull went through are the ones it fetched and hashed,
// outermost first; an image reached directly has none.
func TestPullChain(t *testing.T) {
	srv := httptest.NewServer(registry.New())
	defer srv.Close()
	img, _ := random.Image(64, 1)
	d := imagetest.Push(t, srv.URL, "app", "img", img)
	idx := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}})
	id := imagetest.PushIndex(t, srv.URL, "app", "multi", idx)
	c := &Client{Insecure: true}
	plat := v1.Platform{OS: "linux", Architecture: "amd64"}
	for tag, want := range map[string][]string{"img": nil, "multi": {id}} {
		_, got, chain, err := c.PullChain(context.Background(), ref(t, srv, "app:"+tag), plat)
		if err != nil || got != d || strings.Join(chain, ",") != strings.Join(want, ",") {
			t.Errorf("%s: %s %q %v", tag, got, chain, err)
		}
	}
}

// TestSignatureLookupsFailClosed: what cannot be read is a signature that does not
// count (a junk .sig tag, a referrer that does not parse), or an error (a referrers
// API that fails), never an absent signature; referrer pages are followed.
func TestSignatureLookupsFailClosed(t *testing.T) {
	inner := registry.New(registry.WithReferrersSupport(true))
	fail := ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail != "" && strings.Contains(r.URL.Path, "/referrers/") {
			code := map[string]int{"500": 500, "403": 403, "404": 404}[fail]
			w.WriteHeader(code)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	defer srv.Close()
	img, _ := random.Image(64, 1)
	d := imagetest.Push(t, srv.URL, "app", "img", img)
	hexd := strings.TrimPrefix(d, "sha256:")
	c := &Client{Insecure: true}
	repo, _ := name.NewRepository(strings.TrimPrefix(srv.URL, "http://")+"/app", name.Insecure)
	ctx := context.Background()
	// A .sig tag that is no image manifest (an index).
	imagetest.PushIndex(t, srv.URL, "app", "sha256-"+hexd+".sig", empty.Index)
	layers, found, err := c.CosignSignatures(ctx, repo, d)
	if err != nil || !found || len(layers) != 1 || layers[0].Problem != "the signature manifest has no layer" {
		t.Errorf("junk .sig: %+v %v %v", layers, found, err)
	}
	// The referrers API failing is an error; only its absence (404) falls back to the
	// tag schema, where nothing is found.
	for _, code := range []string{"500", "403"} {
		fail = code
		if _, err := c.SignatureReferrers(ctx, repo, d); err == nil || !strings.Contains(err.Error(), code) {
			t.Errorf("referrers API %s: %v", code, err)
		}
	}
	fail = "404"
	if b, err := c.SignatureReferrers(ctx, repo, d); err != nil || len(b) != 0 {
		t.Errorf("no referrers API: %+v %v", b, err)
	}
	fail = ""
	// A referrer of the bundle type whose manifest is not one bundle layer.
	art, _ := random.Image(16, 2)
	imagetest.Push(t, srv.URL, "app", "blobs", art)
	m, _ := art.Manifest()
	// go-containerregistry's registry lists a referrer by its config's media type.
	m.MediaType, m.Config.MediaType = "application/vnd.oci.image.manifest.v1+json", "application/vnd.dev.sigstore.bundle.v0.3+json"
	m.ArtifactType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	m.Subject = &v1.Descriptor{MediaType: "application/vnd.oci.image.manifest.v1+json", Digest: mustHash(d), Size: 1}
	body, _ := json.Marshal(m)
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/v2/app/manifests/art", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT referrer: %v %v", err, resp)
	}
	b, err := c.SignatureReferrers(ctx, repo, d)
	if err != nil || len(b) != 1 || b[0].Problem != "the referrer has 2 layers, not one signature" || b[0].Subject != d {
		t.Errorf("a referrer with two layers: %+v %v", b, err)
	}
	if next := nextPage("http://r/v2/app/referrers/x", `</v2/app/referrers/x?n=1&last=y>; rel="next"`); next != "http://r/v2/app/referrers/x?n=1&last=y" {
		t.Errorf("next page %q", next)
	}
	if next := nextPage("http://r/v2/app/referrers/x", `<http://elsewhere/v2/x>; rel="next"`); next != "" {
		t.Errorf("a next page on another host: %q", next)
	}
}

func mustHash(s string) v1.Hash {
	h, err := v1.NewHash(s)
	if err != nil {
		panic(err)
	}
	return h
}

// TestDeclaredSizes: a signature or attestation blob is bounded by the size its
// descriptor declares, so one longer or shorter than declared, or declared negative, is
// refused rather than read up to the per-blob limit.
func TestDeclaredSizes(t *testing.T) {
	srv := httptest.NewServer(registry.New())
	defer srv.Close()
	img, _ := random.Image(64, 1)
	d := imagetest.Push(t, srv.URL, "app", "img", img)
	sig, _ := random.Image(100, 1)
	imagetest.Push(t, srv.URL, "app", "carrier", sig)
	m, _ := sig.Manifest()
	c := &Client{Insecure: true}
	repo, _ := name.NewRepository(strings.TrimPrefix(srv.URL, "http://")+"/app", name.Insecure)
	put := func(size int64) {
		t.Helper()
		mm := *m
		mm.Layers = []v1.Descriptor{m.Layers[0]}
		mm.Layers[0].Size = size
		body, _ := json.Marshal(mm)
		req, _ := http.NewRequest(http.MethodPut, srv.URL+"/v2/app/manifests/sha256-"+strings.TrimPrefix(d, "sha256:")+".att", bytes.NewReader(body))
		req.Header.Set("Content-Type", string(mm.MediaType))
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT: %v %v", err, resp)
		}
	}
	real := m.Layers[0].Size
	for size, want := range map[int64]string{
		real:     "",
		real - 1: "the blob is ",
		1:        "its blob could not be read",
		-5:       "a blob of -5 bytes, its descriptor says",
	} {
		put(size)
		layers, found, err := c.CosignAttestations(context.Background(), repo, d)
		if err != nil || !found || len(layers) != 1 || !strings.HasPrefix(layers[0].Problem, want) || (want == "" && (layers[0].Problem != "" || int64(len(layers[0].Payload)) != real)) {
			t.Errorf("declared %d of %d: %+v %v %v", size, real, layers, found, err)
		}
	}
}

// TestResolveArtifacts: what cosign and notation push beside images (a .sig manifest
// whose layers are no filesystem layers, a referrer with a subject and artifact type,
// the referrers tag schema's index) resolves to no image to scan, said; an image
// resolves to itself.
func TestResolveArtifacts(t *testing.T) {
	srv := httptest.NewServer(registry.New())
	defer srv.Close()
	img, _ := random.Image(64, 1)
	d := imagetest.Push(t, srv.URL, "app", "img", img)
	c := &Client{Insecure: true}
	put := func(tag, mt string, body []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPut, srv.URL+"/v2/app/manifests/"+tag, bytes.NewReader(body))
		req.Header.Set("Content-Type", mt)
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT %s: %v %v", tag, err, resp)
		}
	}
	m, _ := img.Manifest()
	sig := *m
	sig.MediaType = "application/vnd.oci.image.manifest.v1+json"
	sig.Layers = []v1.Descriptor{{MediaType: "application/vnd.dev.cosign.simplesigning.v1+json", Digest: m.Layers[0].Digest, Size: m.Layers[0].Size}}
	body, _ := json.Marshal(sig)
	put("sha256-x.sig", string(sig.MediaType), body)
	referrer := sig
	referrer.ArtifactType = "application/vnd.cncf.notary.signature"
	referrer.Config.MediaType = "application/vnd.cncf.notary.signature"
	referrer.Layers = []v1.Descriptor{{MediaType: "application/jose+json", Digest: m.Layers[0].Digest, Size: m.Layers[0].Size}}
	referrer.Subject = &v1.Descriptor{MediaType: "application/vnd.oci.image.manifest.v1+json", Digest: mustHash(d), Size: 1}
	body, _ = json.Marshal(referrer)
	put("referrer", string(referrer.MediaType), body)
	refDigest := fmt.Sprintf("sha256:%x", sha256.Sum256(body))
	// A real image (an image configuration, filesystem layers) that also names a
	// subject and an odd artifact type: still an image, scanned.
	withSubject := *m
	withSubject.MediaType = "application/vnd.oci.image.manifest.v1+json"
	withSubject.ArtifactType = "application/x-odd"
	withSubject.Subject = referrer.Subject
	body, _ = json.Marshal(withSubject)
	put("image-with-subject", string(withSubject.MediaType), body)
	// The referrers tag schema's index of that referrer: no image; an index that lists
	// the real image under an artifact type: still an image, scanned.
	list := func(digest string) []byte {
		return []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + digest + `","size":1,"artifactType":"application/vnd.cncf.notary.signature"}]}`)
	}
	put("sha256-y", "application/vnd.oci.image.index.v1+json", list(refDigest))
	put("disguised", "application/vnd.oci.image.index.v1+json", list(d))
	for tag, want := range map[string]string{
		"sha256-x.sig":       "an artifact whose layers are application/vnd.dev.cosign.simplesigning.v1+json",
		"referrer":           "an artifact whose configuration is application/vnd.cncf.notary.signature",
		"image-with-subject": "",
		"disguised":          "",
		"sha256-y":           "an index of artifacts (a referrers list)",
		"img":                "",
	} {
		res, err := c.Resolve(context.Background(), ref(t, srv, "app:"+tag))
		if err != nil || res.Artifact != want || (want == "") != (len(res.Manifests) == 1) {
			t.Errorf("%s: %+v %v", tag, res, err)
		}
	}
}
