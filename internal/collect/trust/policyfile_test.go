package trust

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/dockaudit/dockaudit/internal/facts"
	"github.com/dockaudit/dockaudit/internal/notationtest"
)

func TestMatchRepository(t *testing.T) {
	for _, tc := range []struct {
		glob, repo string
		want       bool
	}{
		{"*", "docker.io/library/debian", true},
		{"ghcr.io/org/*", "ghcr.io/org/app", true},
		{"ghcr.io/org/*", "ghcr.io/org/team/app", false},
		{"ghcr.io/org/**", "ghcr.io/org/team/app", true},
		{"ghcr.io/org/**", "ghcr.io/org", false},
		{"ghcr.io/org/**", "ghcr.io/organisation/app", false},
		{"ghcr.io/*/**", "ghcr.io/any/deep/app", true},
		{"docker.io/library/debian", "docker.io/library/debian", true},
		{"docker.io/library/debian", "docker.io/library/debian-slim", false},
	} {
		if got := MatchRepository(tc.glob, tc.repo); got != tc.want {
			t.Errorf("MatchRepository(%q, %q) = %v", tc.glob, tc.repo, got)
		}
	}
}

// TestLoadPolicyFile: entries apply by their first matching glob, keys load relative
// to the file, provenance requirements come with the entry, an uncovered repository
// gets no policy; each mistake is one error naming the file and entry.
func TestLoadPolicyFile(t *testing.T) {
	dir := t.TempDir()
	_, k := keyPair(t, "ecdsa")
	pub, _ := os.ReadFile(k.Path)
	os.WriteFile(filepath.Join(dir, "release.pub"), pub, 0o644)
	chain := notationtest.NewChain(t, "signer", time.Now().Add(time.Hour))
	notationtest.Config(t, filepath.Join(dir, "notation"), chain.Root, notationtest.Policy{Scopes: []string{"*"}, Level: "strict", Identities: []string{"*"}})
	write := func(body string) string {
		p := filepath.Join(dir, "trust.yaml")
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	p := write(`version: 1
policies:
  - repositories: ["ghcr.io/org/**"]
    cosign: {keys: [release.pub]}
    provenance:
      builder: https://github.com/actions/runner
      sourceRegexp: ^https://github\.com/org/
  - repositories: ["registry.example/*", "docker.io/library/*"]
    notation: {config: notation}
`)
	f, err := LoadPolicyFile(p, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	repo := func(s string) name.Repository { r, _ := name.NewRepository(s); return r }
	pol, req := f.For(repo("ghcr.io/org/team/app"))
	if len(pol.Keys) != 1 || pol.Keys[0].ID != k.ID || pol.Notation != nil || pol.Source != p+", policy 1 (ghcr.io/org/**)" ||
		*req != (facts.ProvenanceRequirement{Policy: pol.Source, Builder: "https://github.com/actions/runner", SourceRegexp: `^https://github\.com/org/`}) {
		t.Errorf("ghcr.io/org/team/app: %+v %+v", pol, req)
	}
	if pol, req := f.For(repo("debian")); pol.Notation == nil || len(pol.Keys) != 0 || req != nil || pol.Source != p+", policy 2 (registry.example/*, docker.io/library/*)" {
		t.Errorf("debian: %+v %+v", pol, req)
	}
	if pol, req := f.For(repo("quay.io/x/y")); pol.Notation != nil || len(pol.Keys) != 0 || req != nil || pol.Source != "" ||
		pol.missing("no key was given (--key)", "cosign: keys") != "no policy of the trust policy "+p+" covers quay.io/x/y" {
		t.Errorf("uncovered: %+v %+v", pol, req)
	}
	if got := (Policy{}).missing("no key was given (--key)", "cosign: keys"); got != "no key was given (--key)" {
		t.Errorf("flags: %q", got)
	}
	for _, tc := range []struct{ body, want string }{
		{"", p + ": empty"},
		{"version: 2\npolicies: []\n", p + ": version 2: want version: 1"},
		{"version: 1\n", p + ": no policies"},
		{"version: 1\npolicies:\n  - repositories: [x]\n    cosgin: {}\n", p + ": yaml: unmarshal errors:"},
		{"version: 1\npolicies:\n  - cosign: {keys: [release.pub]}\n", p + ": policy 1: no repositories (globs such as ghcr.io/org/*, registry.example/**, or *)"},
		{"version: 1\npolicies:\n  - repositories: [\"a/[\"]\n    cosign: {keys: [release.pub]}\n", p + ": policy 1: bad repository glob \"a/[\""},
		{"version: 1\npolicies:\n  - repositories: [docker.io/debian]\n    cosign: {keys: [release.pub]}\n", p + ": policy 1: repository glob \"docker.io/debian\" matches no repository: a Docker Hub repository is docker.io/NAMESPACE/NAME (its official images are docker.io/library/debian)"},
		{"version: 1\npolicies:\n  - repositories: [\"docker.io/*\"]\n    cosign: {keys: [release.pub]}\n", p + ": policy 1: repository glob \"docker.io/*\" matches no repository: a Docker Hub repository is docker.io/NAMESPACE/NAME (its official images are docker.io/library/*)"},
		{"version: 1\npolicies:\n  - repositories: [index.docker.io/library/debian]\n    cosign: {keys: [release.pub]}\n", p + ": policy 1: repository glob \"index.docker.io/library/debian\" matches no repository: Docker Hub is written docker.io (docker.io/library/debian)"},
		{"version: 1\npolicies:\n  - repositories: [library/debian]\n    cosign: {keys: [release.pub]}\n", p + ": policy 1: repository glob \"library/debian\" matches no repository: it names no registry first (library is no host name): write docker.io/library/debian for Docker Hub"},
		{"version: 1\npolicies:\n  - repositories: [\"ghcr.io/org/app:1\"]\n    cosign: {keys: [release.pub]}\n", p + ": policy 1: repository glob \"ghcr.io/org/app:1\" matches no repository: a repository has no tag or digest"},
		{"version: 1\npolicies:\n  - repositories: [ghcr.io/Org/app]\n    cosign: {keys: [release.pub]}\n", p + ": policy 1: repository glob \"ghcr.io/Org/app\" matches no repository: repository names are lowercase"},
		{"version: 1\npolicies:\n  - repositories: [\"*\"]\n", p + ": policy 1: asks nothing (give cosign keys or keyless, notation, or provenance)"},
		{"version: 1\npolicies:\n  - repositories: [\"*\"]\n    cosign: {keys: [missing.pub]}\n", p + ": policy 1: cosign key: open " + filepath.Join(dir, "missing.pub") + ": no such file or directory"},
		{"version: 1\npolicies:\n  - repositories: [\"*\"]\n    cosign: {keyless: {trustedRoot: r.json, identity: me}}\n", p + ": policy 1: keyless needs trustedRoot, one of identity or identityRegexp, and one of issuer or issuerRegexp"},
		{"version: 1\npolicies:\n  - repositories: [\"*\"]\n    notation: {}\n", p + ": policy 1: notation: no config, and neither $XDG_CONFIG_HOME nor $HOME says where the notation CLI's configuration is"},
		{"version: 1\npolicies:\n  - repositories: [\"*\"]\n    notation: {config: nowhere}\n", p + ": policy 1: notation: no trust policy in " + filepath.Join(dir, "nowhere") + " (trustpolicy.oci.json or trustpolicy.json)"},
		{"version: 1\npolicies:\n  - repositories: [\"*\"]\n    provenance: {builderRegexp: \"(\"}\n", p + ": policy 1: provenance: error parsing regexp: missing closing ): `(`"},
		{"version: 1\npolicies:\n  - repositories: [\"*\"]\n    provenance: {builder: b}\n", p + ": policy 1: provenance needs cosign or notation beside it: it is verified through a signature of the index that lists it"},
		// An alias bomb is refused by the YAML decoder, not expanded.
		{"version: 1\na: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n", p + ": yaml: "},
	} {
		_, err := LoadPolicyFile(write(tc.body), func(string) string { return "" })
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: %v\nwant %s", tc.body, err, tc.want)
		}
	}
}
