package trust

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"gopkg.in/yaml.v3"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/safefile"
)

// PolicyFile is a trust policy file (--trust-policy FILE, YAML): for each repository
// glob, what signatures must verify against (cosign keys, a keyless identity, a
// Notation trust policy) and what the image's provenance must say. The first entry
// whose glob matches an image's repository applies; an image no entry covers is
// verified against nothing. docs/trust-policy.md describes the format.
type PolicyFile struct {
	Path    string
	entries []policyEntry
}

type policyEntry struct {
	patterns []string
	pol      Policy
	requires *facts.ProvenanceRequirement
}

// policyDoc is the file as written.
type policyDoc struct {
	Version  int `yaml:"version"`
	Policies []struct {
		Repositories []string `yaml:"repositories"`
		Cosign       *struct {
			Keys    []string `yaml:"keys"`
			Keyless *struct {
				TrustedRoot    string `yaml:"trustedRoot"`
				Identity       string `yaml:"identity"`
				IdentityRegexp string `yaml:"identityRegexp"`
				Issuer         string `yaml:"issuer"`
				IssuerRegexp   string `yaml:"issuerRegexp"`
			} `yaml:"keyless"`
		} `yaml:"cosign"`
		Notation *struct {
			Config string `yaml:"config"`
		} `yaml:"notation"`
		Provenance *struct {
			Builder       string `yaml:"builder"`
			BuilderRegexp string `yaml:"builderRegexp"`
			Source        string `yaml:"source"`
			SourceRegexp  string `yaml:"sourceRegexp"`
		} `yaml:"provenance"`
	} `yaml:"policies"`
}

// maxPolicyFile bounds a trust policy file.
const maxPolicyFile = 1 << 20

// LoadPolicyFile reads and checks a trust policy file: every key, trusted root and
// Notation configuration it names is loaded now (paths relative to the file), so a
// mistake is one error before any image is read.
func LoadPolicyFile(p string, getenv func(string) string) (*PolicyFile, error) {
	b, err := safefile.Read(p, maxPolicyFile)
	if err != nil {
		return nil, err
	}
	var doc policyDoc
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty", p)
		}
		return nil, fmt.Errorf("%s: %s", p, firstLine(err.Error()))
	}
	switch {
	case doc.Version != 1:
		return nil, fmt.Errorf("%s: version %d: want version: 1", p, doc.Version)
	case len(doc.Policies) == 0:
		return nil, fmt.Errorf("%s: no policies", p)
	}
	rel := func(f string) string {
		if f == "" || filepath.IsAbs(f) {
			return f
		}
		return filepath.Join(filepath.Dir(p), f)
	}
	f := &PolicyFile{Path: p}
	for i, d := range doc.Policies {
		where := fmt.Sprintf("%s: policy %d", p, i+1)
		e := policyEntry{patterns: d.Repositories}
		if len(d.Repositories) == 0 {
			return nil, fmt.Errorf("%s: no repositories (globs such as ghcr.io/org/*, registry.example/**, or *)", where)
		}
		for _, g := range d.Repositories {
			if _, err := path.Match(strings.TrimSuffix(g, "/**"), ""); err != nil || g == "" {
				return nil, fmt.Errorf("%s: bad repository glob %q", where, g)
			}
			if why := neverMatches(g); why != "" {
				return nil, fmt.Errorf("%s: repository glob %q matches no repository: %s", where, g, why)
			}
		}
		e.pol.Source = fmt.Sprintf("%s, policy %d (%s)", p, i+1, strings.Join(d.Repositories, ", "))
		if c := d.Cosign; c != nil {
			for _, k := range c.Keys {
				key, err := LoadKey(rel(k))
				if err != nil {
					return nil, fmt.Errorf("%s: cosign key: %w", where, err)
				}
				e.pol.Keys = append(e.pol.Keys, key)
			}
			if kl := c.Keyless; kl != nil {
				if kl.TrustedRoot == "" || (kl.Identity == "") == (kl.IdentityRegexp == "") || (kl.Issuer == "") == (kl.IssuerRegexp == "") {
					return nil, fmt.Errorf("%s: keyless needs trustedRoot, one of identity or identityRegexp, and one of issuer or issuerRegexp", where)
				}
				if e.pol.Keyless, err = NewKeyless(rel(kl.TrustedRoot), kl.Identity, kl.IdentityRegexp, kl.Issuer, kl.IssuerRegexp); err != nil {
					return nil, fmt.Errorf("%s: keyless: %w", where, err)
				}
			}
		}
		if n := d.Notation; n != nil {
			dir := rel(n.Config)
			if dir == "" {
				dir = NotationDir(getenv)
			}
			if dir == "" {
				return nil, fmt.Errorf("%s: notation: no config, and neither $XDG_CONFIG_HOME nor $HOME says where the notation CLI's configuration is", where)
			}
			nv, found, err := LoadNotation(dir)
			switch {
			case err != nil:
				return nil, fmt.Errorf("%s: notation: %w", where, err)
			case !found:
				return nil, fmt.Errorf("%s: notation: no trust policy in %s (trustpolicy.oci.json or trustpolicy.json)", where, dir)
			}
			e.pol.Notation, e.pol.NotationDir = nv, dir
		}
		if pr := d.Provenance; pr != nil {
			for _, re := range []string{pr.BuilderRegexp, pr.SourceRegexp} {
				if _, err := regexp.Compile(re); err != nil {
					return nil, fmt.Errorf("%s: provenance: %w", where, err)
				}
			}
			e.requires = &facts.ProvenanceRequirement{Policy: e.pol.Source, Builder: pr.Builder, BuilderRegexp: pr.BuilderRegexp, Source: pr.Source, SourceRegexp: pr.SourceRegexp}
		}
		signers := len(e.pol.Keys) > 0 || e.pol.Keyless != nil || e.pol.Notation != nil
		switch {
		case !signers && e.requires == nil:
			return nil, fmt.Errorf("%s: asks nothing (give cosign keys or keyless, notation, or provenance)", where)
		case !signers:
			return nil, fmt.Errorf("%s: provenance needs cosign or notation beside it: it is verified through a signature of the index that lists it", where)
		}
		f.entries = append(f.entries, e)
	}
	return f, nil
}

// For is the policy for a repository and what its provenance must say: the first
// entry that covers it, else nothing.
func (f *PolicyFile) For(repo name.Repository) (Policy, *facts.ProvenanceRequirement) {
	r := RepositoryName(repo)
	for _, e := range f.entries {
		for _, g := range e.patterns {
			if MatchRepository(g, r) {
				return e.pol, e.requires
			}
		}
	}
	return Policy{Uncovered: "no policy of the trust policy " + f.Path + " covers " + r}, nil
}

// RepositoryName is REGISTRY/REPOSITORY with Docker Hub as docker.io, as trust policies
// (ours and Notation's) name repositories.
func RepositoryName(repo name.Repository) string {
	reg := repo.RegistryStr()
	if reg == name.DefaultRegistry {
		reg = "docker.io"
	}
	return reg + "/" + repo.RepositoryStr()
}

// neverMatches says why a glob can match no repository as RepositoryName writes them,
// "" when it can: a glob without its registry, with a tag or digest, in capitals, or a
// Docker Hub name without its namespace.
func neverMatches(g string) string {
	if g == "*" {
		return ""
	}
	first, rest, _ := strings.Cut(g, "/")
	switch {
	case rest == "":
		return "a repository is REGISTRY/PATH (docker.io/library/debian, ghcr.io/org/app)"
	case !strings.ContainsAny(first, ".:*?[") && first != "localhost":
		return "it names no registry first (" + first + " is no host name): write docker.io/" + g + " for Docker Hub"
	case strings.ContainsAny(rest, ":@"):
		return "a repository has no tag or digest"
	case strings.ToLower(g) != g:
		return "repository names are lowercase"
	case first == "index.docker.io" || first == "registry-1.docker.io":
		return "Docker Hub is written docker.io (docker.io/" + rest + ")"
	case first == "docker.io" && !strings.Contains(rest, "/") && rest != "**":
		return "a Docker Hub repository is docker.io/NAMESPACE/NAME (its official images are docker.io/library/" + rest + ")"
	}
	return ""
}

// MatchRepository matches a repository glob: "*" is every repository, "PREFIX/**"
// every repository under PREFIX (itself a glob), anything else path.Match's glob, in
// which * does not cross a "/".
func MatchRepository(glob, repo string) bool {
	if glob == "*" {
		return true
	}
	if pre, ok := strings.CutSuffix(glob, "/**"); ok {
		for i := range len(repo) {
			if repo[i] == '/' {
				if m, _ := path.Match(pre, repo[:i]); m {
					return true
				}
			}
		}
		return false
	}
	m, _ := path.Match(glob, repo)
	return m
}
