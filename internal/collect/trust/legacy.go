package trust

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/dockaudit/dockaudit/internal/collect/registry"
)

// annBundle is the annotation cosign's legacy form keeps the Rekor entry in: the
// signed entry timestamp (the log's promise to include it) and the entry itself.
const annBundle = "dev.sigstore.cosign/bundle"

// legacyBundle turns what cosign's legacy .sig layer keeps of a keyless signature (the
// signature, the Fulcio certificate, the Rekor entry and its signed entry timestamp,
// each in an annotation) into the Sigstore bundle (v0.1, with an inclusion promise)
// that says the same, so that sigstore-go verifies it: nothing is verified here. It
// returns the digest of the signed payload too.
func legacyBundle(layer registry.SignedLayer, sig []byte) (*bundle.Bundle, []byte, error) {
	vm, err := legacyMaterial(layer)
	if err != nil {
		return nil, nil, err
	}
	sum := sha256.Sum256(layer.Payload)
	pb := &protobundle.Bundle{
		MediaType:            "application/vnd.dev.sigstore.bundle+json;version=0.1",
		VerificationMaterial: vm,
		Content: &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: sum[:]},
			Signature:     sig,
		}},
	}
	b, err := bundle.NewBundle(pb)
	if err != nil {
		return nil, nil, fmt.Errorf("its parts make no Sigstore bundle: %w", err)
	}
	return b, sum[:], nil
}

// legacyAttestationBundle is legacyBundle for a keyless attestation in cosign's legacy
// .att form: the layer is the DSSE envelope.
func legacyAttestationBundle(layer registry.SignedLayer) (*bundle.Bundle, error) {
	vm, err := legacyMaterial(layer)
	if err != nil {
		return nil, err
	}
	var env struct {
		PayloadType string `json:"payloadType"`
		Payload     []byte `json:"payload"`
		Signatures  []struct {
			KeyID string `json:"keyid"`
			Sig   []byte `json:"sig"`
		} `json:"signatures"`
	}
	if err := json.Unmarshal(layer.Payload, &env); err != nil {
		return nil, fmt.Errorf("its DSSE envelope does not decode: %w", err)
	}
	de := &protodsse.Envelope{Payload: env.Payload, PayloadType: env.PayloadType}
	for _, sg := range env.Signatures {
		de.Signatures = append(de.Signatures, &protodsse.Signature{Sig: sg.Sig, Keyid: sg.KeyID})
	}
	b, err := bundle.NewBundle(&protobundle.Bundle{
		MediaType:            "application/vnd.dev.sigstore.bundle+json;version=0.1",
		VerificationMaterial: vm,
		Content:              &protobundle.Bundle_DsseEnvelope{DsseEnvelope: de},
	})
	if err != nil {
		return nil, fmt.Errorf("its parts make no Sigstore bundle: %w", err)
	}
	return b, nil
}

// legacyMaterial is the certificate and transparency-log entry a legacy layer keeps in
// its annotations.
func legacyMaterial(layer registry.SignedLayer) (*protobundle.VerificationMaterial, error) {
	certs, err := cryptoutils.UnmarshalCertificatesFromPEM([]byte(layer.Annotations[annCertificate]))
	if err != nil || len(certs) == 0 {
		return nil, errors.New("its certificate annotation holds no PEM certificate")
	}
	raw := layer.Annotations[annBundle]
	if raw == "" {
		return nil, errors.New("it carries no transparency-log entry (" + annBundle + "): its signing time cannot be vouched for")
	}
	var rb struct {
		SignedEntryTimestamp []byte `json:"SignedEntryTimestamp"`
		Payload              struct {
			Body           string `json:"body"`
			IntegratedTime int64  `json:"integratedTime"`
			LogIndex       int64  `json:"logIndex"`
			LogID          string `json:"logID"`
		} `json:"Payload"`
	}
	if err := json.Unmarshal([]byte(raw), &rb); err != nil {
		return nil, fmt.Errorf("its transparency-log entry does not decode: %w", err)
	}
	body, err := base64.StdEncoding.DecodeString(rb.Payload.Body)
	if err != nil {
		return nil, fmt.Errorf("its transparency-log entry's body is not base64: %w", err)
	}
	logID, err := hex.DecodeString(rb.Payload.LogID)
	if err != nil {
		return nil, fmt.Errorf("its transparency-log ID is not hex: %w", err)
	}
	var kind struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := json.Unmarshal(body, &kind); err != nil || kind.Kind == "" {
		return nil, errors.New("its transparency-log entry's body names no kind")
	}
	return &protobundle.VerificationMaterial{
		Content: &protobundle.VerificationMaterial_X509CertificateChain{X509CertificateChain: &protocommon.X509CertificateChain{
			Certificates: []*protocommon.X509Certificate{{RawBytes: certs[0].Raw}},
		}},
		TlogEntries: []*protorekor.TransparencyLogEntry{{
			LogIndex:          rb.Payload.LogIndex,
			LogId:             &protocommon.LogId{KeyId: logID},
			KindVersion:       &protorekor.KindVersion{Kind: kind.Kind, Version: kind.APIVersion},
			IntegratedTime:    rb.Payload.IntegratedTime,
			InclusionPromise:  &protorekor.InclusionPromise{SignedEntryTimestamp: rb.SignedEntryTimestamp},
			CanonicalizedBody: body,
		}},
	}, nil
}
