package trust

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcr "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/notaryproject/notation-go"
	notationregistry "github.com/notaryproject/notation-go/registry"
	"github.com/sigstore/sigstore/pkg/signature"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/dockaudit/dockaudit/internal/collect/registry"
	"github.com/dockaudit/dockaudit/internal/imagetest"
	"github.com/dockaudit/dockaudit/internal/notationtest"
)

// benchRegistry is go-containerregistry's in-process registry (with the referrers
// API) holding one image, app:1.
func benchRegistry(b *testing.B) (srv *httptest.Server, host string, repo name.Repository, digest string) {
	srv = httptest.NewServer(ggcr.New(ggcr.WithReferrersSupport(true), ggcr.Logger(log.New(io.Discard, "", 0))))
	host = strings.TrimPrefix(srv.URL, "http://")
	repo, _ = name.NewRepository(host + "/app")
	img, _ := random.Image(1024, 2)
	return srv, host, repo, imagetest.Push(b, srv.URL, "app", "1", img)
}

// BenchmarkVerify is what looking up and verifying one image's signatures adds to
// reading it: an image in an in-process registry (go-containerregistry's, with the
// referrers API) signed both ways cosign signs (a .sig tag and a bundle referrer),
// read through dockaudit's registry client and verified with the key.
func BenchmarkVerify(b *testing.B) {
	srv, _, repo, digest := benchRegistry(b)
	defer srv.Close()
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := signature.LoadSigner(priv, crypto.SHA256)
	der, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	keyFile := filepath.Join(b.TempDir(), "cosign.pub")
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644)
	k, err := LoadKey(keyFile)
	if err != nil {
		b.Fatal(err)
	}
	// The legacy signature.
	p := payload(digest)
	sig, _ := signer.SignMessage(bytes.NewReader(p))
	layer := static.NewLayer(p, "application/vnd.dev.cosign.simplesigning.v1+json")
	sigImg, _ := mutate.Append(empty.Image, mutate.Addendum{Layer: layer, Annotations: map[string]string{annSignature: base64.StdEncoding.EncodeToString(sig)}})
	sigImg = mutate.MediaType(sigImg, types.OCIManifestSchema1)
	imagetest.Push(b, srv.URL, "app", "sha256-"+strings.TrimPrefix(digest, "sha256:")+".sig", sigImg)
	c := &registry.Client{Insecure: true}
	ctx := context.Background()
	tr := Signatures(ctx, c, repo, []string{digest}, Policy{Keys: []Key{k}})
	if len(tr.Signatures) != 1 || !tr.Signatures[0].Verified {
		b.Fatalf("%+v", tr)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Signatures(ctx, c, repo, []string{digest}, Policy{Keys: []Key{k}})
	}
}

// BenchmarkVerifyNotation is the same for a Notation signature: signed with
// notation-go into the in-process registry as a referrer, verified under a trust
// policy and trust store in the notation CLI's layout.
func BenchmarkVerifyNotation(b *testing.B) {
	srv, host, repo, digest := benchRegistry(b)
	defer srv.Close()
	chain := notationtest.NewChain(b, "signer", time.Now().Add(time.Hour))
	r, err := remote.NewRepository(host + "/app")
	if err != nil {
		b.Fatal(err)
	}
	r.PlainHTTP = true
	opts := notation.SignOptions{ArtifactReference: host + "/app@" + digest, SignerSignOptions: notation.SignerSignOptions{SignatureMediaType: notationtest.COSE}}
	if _, err := notation.Sign(context.Background(), chain.Signer(b), notationregistry.NewRepository(r), opts); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	notationtest.Config(b, dir, chain.Root, notationtest.Policy{Scopes: []string{"*"}, Level: "strict", Identities: []string{"*"}})
	n, _, err := LoadNotation(dir)
	if err != nil {
		b.Fatal(err)
	}
	pol := Policy{Notation: n}
	c := &registry.Client{Insecure: true}
	ctx := context.Background()
	tr := Signatures(ctx, c, repo, []string{digest}, pol)
	if len(tr.Signatures) != 1 || !tr.Signatures[0].Verified {
		b.Fatalf("%+v", tr)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Signatures(ctx, c, repo, []string{digest}, pol)
	}
}
