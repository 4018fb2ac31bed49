package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

// writeLayout makes an OCI layout of the given blobs and index.json entries.
func writeSigLayout(t *testing.T, blobs [][]byte, index string) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755)
	var ds []string
	for _, b := range blobs {
		sum := sha256.Sum256(b)
		os.WriteFile(filepath.Join(dir, "blobs", "sha256", hex.EncodeToString(sum[:])), b, 0o644)
		ds = append(ds, "sha256:"+hex.EncodeToString(sum[:]))
	}
	os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
	os.WriteFile(filepath.Join(dir, "index.json"), []byte(index), 0o644)
	return dir, ds
}

// TestLayoutSignatures: cosign save's sigs manifest is read for the saved image only;
// a blob altered in place is a signature that does not count; two saved images make
// whose signatures are whose unknowable, an error; referrers are found by artifact
// type and subject.
func TestLayoutSignatures(t *testing.T) {
	ctx := context.Background()
	payload := []byte(`{"critical":{}}`)
	pd := fmt.Sprintf("sha256:%x", sha256.Sum256(payload))
	sigs := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"` + pd + `","size":15},` +
		`"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","digest":"` + pd + `","size":15,"annotations":{"dev.cosignproject.cosign/signature":"c2ln"}}]}`)
	img := "sha256:" + strings.Repeat("1", 64)
	entry := func(d, kind string) string {
		return `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + d + `","size":1,"annotations":{"kind":"` + kind + `"}}`
	}
	dir, ds := writeSigLayout(t, [][]byte{payload, sigs}, `{"schemaVersion":2,"manifests":[`+entry(img, "dev.cosignproject.cosign/image")+`,`+entry("SIGS", "dev.cosignproject.cosign/sigs")+`]}`)
	idx, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	os.WriteFile(filepath.Join(dir, "index.json"), []byte(strings.Replace(string(idx), "SIGS", ds[1], 1)), 0o644)
	l := &Layout{dir: dir, name: "oci:x"}
	layers, found, err := l.CosignSignatures(ctx, layoutRepo(), img)
	if err != nil || !found || len(layers) != 1 || string(layers[0].Payload) != string(payload) || layers[0].Problem != "" ||
		layers[0].Location != "oci:x: cosign signatures manifest "+ds[1]+" (layer 0)" || layers[0].Annotations["dev.cosignproject.cosign/signature"] != "c2ln" {
		t.Fatalf("%+v %v %v", layers, found, err)
	}
	if layers, found, err := l.CosignSignatures(ctx, layoutRepo(), "sha256:"+strings.Repeat("2", 64)); found || err != nil || layers != nil {
		t.Errorf("another image's: %+v %v %v", layers, found, err)
	}
	if _, found, err := l.CosignAttestations(ctx, layoutRepo(), img); found || err != nil {
		t.Errorf("no atts: %v %v", found, err)
	}
	// The payload altered in place.
	os.WriteFile(filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(pd, "sha256:")), []byte(`{"critical":{1}}`), 0o644)
	if layers, _, _ := l.CosignSignatures(ctx, layoutRepo(), img); !strings.HasPrefix(layers[0].Problem, "its blob could not be read: the layer was altered or damaged: the blob "+pd+" hashes to sha256:") {
		t.Errorf("altered: %+v", layers)
	}
	// Two saved images.
	two := strings.Replace(string(idx), "SIGS", ds[1], 1)
	two = strings.Replace(two, `"manifests":[`, `"manifests":[`+entry("sha256:"+strings.Repeat("3", 64), "dev.cosignproject.cosign/image")+`,`, 1)
	os.WriteFile(filepath.Join(dir, "index.json"), []byte(two), 0o644)
	if _, _, err := l.CosignSignatures(ctx, layoutRepo(), img); err == nil || err.Error() != "index.json lists 2 images saved by cosign: which cosign signatures are whose is not recorded" {
		t.Errorf("two images: %v", err)
	}
	// A referrer: found by artifact type, kept only for its subject.
	env := []byte(`{"payload":"x"}`)
	ed := fmt.Sprintf("sha256:%x", sha256.Sum256(env))
	ref := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.cncf.notary.signature","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"` + ed + `","size":15},` +
		`"layers":[{"mediaType":"application/jose+json","digest":"` + ed + `","size":15}],"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + img + `","size":1}}`)
	rd := fmt.Sprintf("sha256:%x", sha256.Sum256(ref))
	dir2, _ := writeSigLayout(t, [][]byte{env, ref}, `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"`+rd+`","size":`+fmt.Sprint(len(ref))+`,"artifactType":"application/vnd.cncf.notary.signature"}]}`)
	l2 := &Layout{dir: dir2, name: "oci:y"}
	got, err := l2.SignatureReferrers(ctx, layoutRepo(), img)
	if err != nil || len(got) != 1 || got[0].MediaType != "application/jose+json" || string(got[0].Payload) != string(env) || got[0].Subject != img || got[0].Location != "oci:y: referrer manifest "+rd {
		t.Errorf("referrer: %+v %v", got, err)
	}
	if got, err := l2.SignatureReferrers(ctx, layoutRepo(), "sha256:"+strings.Repeat("2", 64)); err != nil || len(got) != 0 {
		t.Errorf("another image's referrer: %+v %v", got, err)
	}
	if d, err := l2.Descriptor(ctx, layoutRepo(), rd); err != nil || d.Size != int64(len(ref)) || d.MediaType != "application/vnd.oci.image.manifest.v1+json" {
		t.Errorf("descriptor: %+v %v", d, err)
	}
	// An index.json listing more manifests than are read.
	var many []string
	for i := 0; i <= maxLayoutManifests; i++ {
		many = append(many, entry(fmt.Sprintf("sha256:%064x", i), "x"))
	}
	b, _ := json.Marshal(json.RawMessage(`{"schemaVersion":2,"manifests":[` + strings.Join(many, ",") + `]}`))
	os.WriteFile(filepath.Join(dir2, "index.json"), b, 0o644)
	if _, err := l2.SignatureReferrers(ctx, layoutRepo(), img); err == nil || err.Error() != "index.json lists 257 manifests; at most 256 are read for signatures" {
		t.Errorf("many: %v", err)
	}
}

func layoutRepo() name.Repository {
	r, _ := name.NewRepository("localhost/oci-layout")
	return r
}

// TestLayoutTampered: a layout's manifest or configuration blob changed in place (the
// digest index.json names stays, so signatures of it would still be found) is refused
// when the image is opened, as altered layers are when read.
func TestLayoutTampered(t *testing.T) {
	img, _ := random.Image(64, 1)
	other, _ := random.Image(64, 1)
	m, _ := img.Manifest()
	md, _ := img.Digest()
	otherCfg, _ := other.RawConfigFile()
	otherMan, _ := other.RawManifest()
	for what, tc := range map[string]struct {
		hex  string
		body []byte
	}{"manifest": {md.Hex, otherMan}, "configuration": {m.Config.Digest.Hex, otherCfg}} {
		dir := writeLayout(t, map[string]v1.Image{"1": img}, nil)
		os.WriteFile(filepath.Join(dir, "blobs", "sha256", tc.hex), tc.body, 0o644)
		_, err := Open(context.Background(), "oci:"+dir+":1", OpenOptions{})
		if err == nil || !errors.Is(err, ErrDigest) || !strings.Contains(err.Error(), "the "+what+" sha256:"+tc.hex+" hashes to sha256:") {
			t.Errorf("%s replaced: %v", what, err)
		}
	}
	if s, err := Open(context.Background(), "oci:"+writeLayout(t, map[string]v1.Image{"1": img}, nil)+":1", OpenOptions{}); err != nil || s.Digest != md.String() {
		t.Errorf("untouched: %v", err)
	}
}
