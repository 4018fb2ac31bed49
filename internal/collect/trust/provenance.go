package trust

import (
	"encoding/json"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/dockaudit/dockaudit/internal/collect/registry"
	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/inventory/secrets"
)

// Predicate types of SLSA provenance.
const (
	slsaV02 = "https://slsa.dev/provenance/v0.2"
	slsaV1  = "https://slsa.dev/provenance/v1"
)

// Attestations reads in-toto statements about an image: what each says, provenance
// in particular (who built it, from what); one about another digest, or one that does
// not decode, says so.
func Attestations(stmts []registry.Statement, imageDigest string) []facts.Attestation {
	var out []facts.Attestation
	for _, s := range stmts {
		a := facts.Attestation{PredicateType: s.PredicateType, From: s.From, Digest: s.Digest, Size: s.Size, InIndex: true}
		if s.Body == nil {
			// Listed, not read: an SBOM (dockaudit sbom --attested writes it).
			out = append(out, a)
			continue
		}
		out = append(out, statement(a, s.Body, []string{imageDigest}))
	}
	return out
}

// statement reads an in-toto statement into a: its predicate type, and for SLSA
// provenance who built the image from what. It must be about one of the digests
// (the image's, or an index that lists it).
func statement(a facts.Attestation, body []byte, about []string) facts.Attestation {
	var st struct {
		PredicateType string `json:"predicateType"`
		Subject       []struct {
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
		Predicate json.RawMessage `json:"predicate"`
	}
	if err := json.Unmarshal(body, &st); err != nil {
		a.Problem = "not an in-toto statement: " + firstLine(err.Error())
		return a
	}
	if st.PredicateType != "" {
		a.PredicateType = st.PredicateType
	}
	ok := false
	for _, sub := range st.Subject {
		ok = ok || slices.Contains(about, "sha256:"+sub.Digest["sha256"])
	}
	if !ok {
		a.Problem = "the statement is not about this image (" + about[0] + ")"
		return a
	}
	switch a.PredicateType {
	case slsaV02:
		var p struct {
			Builder struct {
				ID string `json:"id"`
			} `json:"builder"`
			BuildType  string `json:"buildType"`
			Invocation struct {
				ConfigSource struct {
					URI    string            `json:"uri"`
					Digest map[string]string `json:"digest"`
				} `json:"configSource"`
			} `json:"invocation"`
			Materials []material `json:"materials"`
		}
		if err := json.Unmarshal(st.Predicate, &p); err != nil {
			a.Problem = "SLSA provenance v0.2 that does not decode: " + firstLine(err.Error())
			break
		}
		a.Builder, a.BuildType, a.Source, a.Commit = p.Builder.ID, p.BuildType, secrets.Redact(p.Invocation.ConfigSource.URI), commit(p.Invocation.ConfigSource.Digest)
		a.Materials = materials(p.Materials)
	case slsaV1:
		var p struct {
			BuildDefinition struct {
				BuildType          string `json:"buildType"`
				ExternalParameters struct {
					ConfigSource struct {
						URI    string            `json:"uri"`
						Digest map[string]string `json:"digest"`
					} `json:"configSource"`
				} `json:"externalParameters"`
				ResolvedDependencies []material `json:"resolvedDependencies"`
			} `json:"buildDefinition"`
			RunDetails struct {
				Builder struct {
					ID string `json:"id"`
				} `json:"builder"`
			} `json:"runDetails"`
		}
		if err := json.Unmarshal(st.Predicate, &p); err != nil {
			a.Problem = "SLSA provenance v1 that does not decode: " + firstLine(err.Error())
			break
		}
		b := p.BuildDefinition
		a.Builder, a.BuildType, a.Source, a.Commit = p.RunDetails.Builder.ID, b.BuildType, secrets.Redact(b.ExternalParameters.ConfigSource.URI), commit(b.ExternalParameters.ConfigSource.Digest)
		a.Materials = materials(b.ResolvedDependencies)
	}
	return a
}

type material struct {
	URI    string            `json:"uri"`
	Digest map[string]string `json:"digest"`
}

func materials(ms []material) []string {
	var out []string
	for _, m := range ms {
		s := secrets.Redact(m.URI) // a git URL may carry a token
		if d := m.Digest["sha256"]; d != "" {
			s += " sha256:" + d
		}
		out = append(out, s)
	}
	return out
}

// commit is a source digest as git names it (sha1, or the other one given).
func commit(d map[string]string) string {
	if c := d["sha1"]; c != "" {
		return c
	}
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) > 0 {
		return keys[0] + ":" + d[keys[0]]
	}
	return ""
}

// BaseFromProvenance is the base image a build's provenance names: its first
// container-image material (BuildKit lists the FROM images first), with its digest.
// Provenance something verified vouches for is taken first; a base taken from any
// other says so in its From.
func BaseFromProvenance(t *facts.Trust) *facts.Base {
	as := slices.Clone(t.Attestations)
	slices.SortStableFunc(as, func(a, b facts.Attestation) int {
		switch va, vb := t.Vouched(a), t.Vouched(b); {
		case va && !vb:
			return -1
		case vb && !va:
			return 1
		}
		return 0
	})
	for _, a := range as {
		if !registry.IsProvenance(a.PredicateType) || a.Problem != "" {
			continue
		}
		from := "provenance"
		if !t.Vouched(a) {
			from = "provenance (unverified)"
		}
		for _, m := range a.Materials {
			uri, digest, _ := strings.Cut(m, " ")
			rest, ok := strings.CutPrefix(uri, "pkg:docker/")
			if !ok {
				continue
			}
			rest, _, _ = strings.Cut(rest, "?")
			nameVer, _ := url.PathUnescape(rest)
			n, v, _ := strings.Cut(nameVer, "@")
			if v != "" && !strings.HasPrefix(v, "sha256:") {
				n += ":" + v
			}
			return &facts.Base{Name: n, Digest: digest, From: from}
		}
	}
	return nil
}
