package inventory

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/facts"
)

func listed(ps []facts.Package) []string {
	var out []string
	for _, p := range ps {
		out = append(out, strings.Join([]string{p.Type, p.Name, p.Version, p.PURL, strings.Join(p.Licenses, "|")}, " "))
	}
	return out
}

// A specification as RubyGems 3 writes it for an installed gem.
const rackGemspec = `# -*- encoding: utf-8 -*-
# stub: rack 2.2.8 ruby lib

Gem::Specification.new do |s|
  s.name = "rack".freeze
  s.version = "2.2.8"

  s.required_rubygems_version = Gem::Requirement.new(">= 0".freeze) if s.respond_to? :required_rubygems_version=
  s.authors = ["Leah Neukirchen".freeze]
  s.licenses = ["MIT".freeze]
  s.summary = "a modular Ruby webserver interface".freeze
end
`

func TestGems(t *testing.T) {
	for _, tt := range []struct {
		path, body string
		want       []string
	}{
		{"/usr/local/lib/ruby/gems/3.2.0/specifications/rack-2.2.8.gemspec", rackGemspec, []string{"gem rack 2.2.8 pkg:gem/rack@2.2.8 MIT"}},
		// A specification without the assignments: the file name says it.
		{"/usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec", "Gem::Specification.new do |spec|\nend\n", []string{"gem json 2.6.1 pkg:gem/json@2.6.1 "}},
	} {
		if !IsGemspec(tt.path) {
			t.Errorf("%s: not a gemspec", tt.path)
		}
		p, ok := GemPackage([]byte(tt.body), tt.path, 0)
		if d := cmp.Diff(tt.want, listed([]facts.Package{p})); d != "" || !ok {
			t.Errorf("%s (-want +got):\n%s", tt.path, d)
		}
	}
	if IsGemspec("/app/rack.gemspec") || IsGemspec("/app/specifications/x.rb") {
		t.Error("a gemspec outside specifications/ is a project's, not an installed gem")
	}
	// A gem from git is that gem (Syft's and Trivy's fixtures list it too); a PATH gem
	// is the application's own code.
	lock := "GIT\n  remote: https://github.com/rails/turbolinks.git\n  revision: c7f5a8e\n  specs:\n    turbolinks (3.0.0)\n      coffee-rails\n\n" +
		"PATH\n  remote: gems/local\n  specs:\n    local-gem (0.1.0)\n\n" +
		"GEM\n  remote: https://rubygems.org/\n  specs:\n    nokogiri (1.15.4-x86_64-linux)\n      racc (~> 1.4)\n    racc (1.7.1)\n    rails (7.1.0.rc1)\n    wasmer (1.0.0-wasm32-wasi)\n" +
		"\nPLATFORMS\n  x86_64-linux\n\nDEPENDENCIES\n  nokogiri\n\nBUNDLED WITH\n   2.4.19\n"
	want := []string{
		"gem turbolinks 3.0.0 pkg:gem/turbolinks@3.0.0 ",
		"gem nokogiri 1.15.4 pkg:gem/nokogiri@1.15.4?platform=x86_64-linux ",
		"gem racc 1.7.1 pkg:gem/racc@1.7.1 ",
		"gem rails 7.1.0.rc1 pkg:gem/rails@7.1.0.rc1 ",
		"gem wasmer 1.0.0 pkg:gem/wasmer@1.0.0?platform=wasm32-wasi ",
	}
	if d := cmp.Diff(want, listed(GemfileLockPackages([]byte(lock), "/app/Gemfile.lock", 1))); d != "" {
		t.Errorf("Gemfile.lock (-want +got):\n%s", d)
	}
}

func TestComposer(t *testing.T) {
	v2 := `{"packages":[{"name":"symfony/http-kernel","version":"v6.3.4","license":["MIT"]},{"name":"acme/tool","version":"dev-main"},{"name":"acme/alias","version":"2.x-dev"},{"name":"noslash","version":"1.0"}],"dev":true}`
	v1 := `[{"name":"monolog/monolog","version":"1.27.1","version_normalized":"1.27.1.0"}]`
	want := []string{
		"composer symfony/http-kernel v6.3.4 pkg:composer/symfony/http-kernel@v6.3.4 MIT",
		"composer acme/tool dev-main pkg:composer/acme/tool@dev-main ",
		"composer acme/alias 2.x-dev pkg:composer/acme/alias@2.x-dev ",
	}
	if d := cmp.Diff(want, listed(ComposerPackages([]byte(v2), "/app/vendor/composer/installed.json", 0))); d != "" {
		t.Errorf("Composer 2 (-want +got):\n%s", d)
	}
	want = []string{"composer monolog/monolog 1.27.1 pkg:composer/monolog/monolog@1.27.1 "}
	if d := cmp.Diff(want, listed(ComposerPackages([]byte(v1), "/app/vendor/composer/installed.json", 0))); d != "" {
		t.Errorf("Composer 1 (-want +got):\n%s", d)
	}
	if ComposerPackages([]byte(`{"packages":`), "p", 0) != nil {
		t.Error("broken JSON")
	}
	// A licence written as one string (by hand) costs the package its licence at most.
	one := `{"packages":[{"name":"a/b","version":"1.0.0","license":"MIT"},{"name":"c/d","version":"2.0.0","license":{"x":1}}]}`
	if d := cmp.Diff([]string{"composer a/b 1.0.0 pkg:composer/a/b@1.0.0 MIT", "composer c/d 2.0.0 pkg:composer/c/d@2.0.0 "}, listed(ComposerPackages([]byte(one), "p", 0))); d != "" {
		t.Errorf("licence as a string (-want +got):\n%s", d)
	}
}

func TestDotnet(t *testing.T) {
	deps := `{"runtimeTarget":{"name":".NETCoreApp,Version=v8.0"},"libraries":{
		"app/1.0.0":{"type":"project","serviceable":false},
		"Newtonsoft.Json/13.0.1":{"type":"package","serviceable":true,"sha512":"sha512-x"},
		"System.Text.Json/8.0.0":{"type":"package"},
		"runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/8.0.0":{"type":"runtimepack"}}}`
	// The runtime pack of a self-contained application is the .NET runtime, as NuGet
	// advisories name it.
	want := []string{
		"nuget Microsoft.NETCore.App.Runtime.linux-x64 8.0.0 pkg:nuget/Microsoft.NETCore.App.Runtime.linux-x64@8.0.0 ",
		"nuget Newtonsoft.Json 13.0.1 pkg:nuget/Newtonsoft.Json@13.0.1 ",
		"nuget System.Text.Json 8.0.0 pkg:nuget/System.Text.Json@8.0.0 ",
	}
	if d := cmp.Diff(want, listed(DotnetPackages([]byte(deps), "/app/app.deps.json", 2))); d != "" {
		t.Errorf("deps.json (-want +got):\n%s", d)
	}
}

func TestCargoLock(t *testing.T) {
	lock := `# This file is automatically @generated by Cargo.
version = 3

[[package]]
name = "app"
version = "0.1.0"
dependencies = [
 "smallvec",
]

[[package]]
name = "smallvec"
version = "1.6.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "fe0f37c9e8f3c5a4a66ad655a93c74daac4ad00c441533bf5c6e7990bb42604e"

[[package]]
name = "time"
version = "0.1.43"
source = "sparse+https://index.crates.io/"

[[package]]
name = "vendored"
version = "2.0.0"
source = "git+https://github.com/example/vendored#abc"

[metadata]
"checksum x" = "y"
`
	want := []string{"cargo smallvec 1.6.0 pkg:cargo/smallvec@1.6.0 ", "cargo time 0.1.43 pkg:cargo/time@0.1.43 "}
	if d := cmp.Diff(want, listed(CargoLockPackages([]byte(lock), "/src/Cargo.lock", 0))); d != "" {
		t.Errorf("Cargo.lock (-want +got):\n%s", d)
	}
}

func TestIsAppLockfile(t *testing.T) {
	for p, want := range map[string]bool{
		"/src/app/Cargo.lock": true, "/root/.cargo/registry/src/index.crates.io-6f17d22bba15001f/time-0.1.43/Cargo.lock": false,
		"/root/.cargo/git/checkouts/x/abc/Cargo.lock": false, "/app/Gemfile.lock": true,
		"/usr/local/bundle/gems/rack-2.2.8/Gemfile.lock": false, "/app/Gemfile": false,
	} {
		if IsAppLockfile(p) != want {
			t.Errorf("IsAppLockfile(%q) = %v", p, !want)
		}
	}
}

func FuzzEcosystems(f *testing.F) {
	f.Add([]byte(rackGemspec))
	f.Add([]byte("GEM\n  specs:\n    a (1)\n"))
	f.Add([]byte(`{"libraries":{"a/1":{"type":"package"}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		GemPackage(b, "/s/specifications/a-1.gemspec", 0)
		GemfileLockPackages(b, "p", 0)
		ComposerPackages(b, "p", 0)
		DotnetPackages(b, "p", 0)
		CargoLockPackages(b, "p", 0)
	})
}
