package trust

import (
	"encoding/json"
	"net/url"
	"sort"
	"strings"

	"github.com/dockaudit/dockaudit/internal/collect/registry"
	"github.com/dockaudit/dockaudit/internal/facts"
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
		a := facts.Attestation{PredicateType: s.PredicateType, From: s.From, Digest: s.Digest, Size: s.Size}
		if s.Body == nil {
			// Listed, not read: an SBOM (dockaudit sbom --attested writes it).
			out = append(out, a)
			continue
		}
		var st struct {
			PredicateType string `json:"predicateType"`
			Subject       []struct {
				Digest map[string]string `json:"digest"`
			} `json:"subject"`
			Predicate json.RawMessage `json:"predicate"`
		}
		if err := json.Unmarshal(s.Body, &st); err != nil {
			a.Problem = "not an in-toto statement: " + firstLine(err.Error())
			out = append(out, a)
			continue
		}
		if st.PredicateType != "" {
			a.PredicateType = st.PredicateType
		}
		about := false
		for _, sub := range st.Subject {
			about = about || "sha256:"+sub.Digest["sha256"] == imageDigest
		}
		if !about {
			a.Problem = "the statement is not about this image (" + imageDigest + ")"
			out = append(out, a)
			continue
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
			a.Builder, a.BuildType, a.Source, a.Commit = p.Builder.ID, p.BuildType, p.Invocation.ConfigSource.URI, commit(p.Invocation.ConfigSource.Digest)
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
			a.Builder, a.BuildType, a.Source, a.Commit = p.RunDetails.Builder.ID, b.BuildType, b.ExternalParameters.ConfigSource.URI, commit(b.ExternalParameters.ConfigSource.Digest)
			a.Materials = materials(b.ResolvedDependencies)
		}
		out = append(out, a)
	}
	return out
}

type material struct {
	URI    string            `json:"uri"`
	Digest map[string]string `json:"digest"`
}

func materials(ms []material) []string {
	var out []string
	for _, m := range ms {
		s := m.URI
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

// IsProvenance reports an attestation of SLSA provenance.
func IsProvenance(a facts.Attestation) bool {
	return strings.HasPrefix(a.PredicateType, "https://slsa.dev/provenance/")
}

// BaseFromProvenance is the base image a build's provenance names: its first
// container-image material (BuildKit lists the FROM images first), with its digest.
func BaseFromProvenance(as []facts.Attestation) *facts.Base {
	for _, a := range as {
		if !IsProvenance(a) || a.Problem != "" {
			continue
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
			return &facts.Base{Name: n, Digest: digest, From: "provenance"}
		}
	}
	return nil
}
