package version

import (
	"regexp"
	"strings"
	"testing"
)

// ordered lists versions in strictly increasing order per scheme; every pair is
// checked both ways. Cases come from each scheme's documentation and the sources'
// own test suites (dpkg's t/dpkg_version.t, rpm's rpmvercmp tests, apk-tools' test
// data, semver.org §11, PEP 440's examples, Maven's ComparableVersionTest).
var ordered = map[Kind][]string{
	Dpkg: {
		"~~", "~~a", "~", "0", "0.1", "0.5~rc1", "0.5", "0.5-1", "0.5-1+b1", "0.5-2~bpo11+1", "0.5-2", "1.0~beta1~svn1245",
		"1.0~beta1", "1.0", "1.0-0.1", "1.0-1", "1.0a", "1.0a-1", "1.0+dfsg-1", "1.0.1", "1.2.3-1", "1.10", "2.0", "2:0.1", "10:1",
	},
	RPM: {
		"1.0~rc1", "1.0", "1.0^", "1.0^git1", "1.0a", "1.0.1", "1.1", "1.2.3-1.el9", "1.2.3-2.el9", "1.10", "2.0", "1:0.1", "2:0.1",
	},
	Apk: {
		"1.0_alpha", "1.0_alpha1", "1.0_beta2", "1.0_pre1", "1.0_rc1", "1.0", "1.0-r1", "1.0-r10", "1.0_cvs", "1.0_git20200101", "1.0_p1",
		"1.0a", "1.0b", "1.01", "1.02", "1.1", "1.1.1", "1.2", "1.10", "2.0",
	},
	Semver: {
		"0.0.1", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0",
		"v1.0.1", "1.2", "v1.2.1-0.20230101000000-abcdef123456", "1.2.1", "1.10.0", "2.0.0", "v2.1.0+incompatible",
	},
	PEP440: {
		"1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12", "1.0b1.dev456", "1.0b2", "1.0b2.post345.dev456", "1.0b2.post345",
		"1.0rc1.dev456", "1.0rc1", "1.0", "1.0+abc.5", "1.0+abc.7", "1.0+5", "1.0.post456.dev34", "1.0.post456", "1.1.dev1", "1.1", "1!0.5",
	},
	// RubyGems: Gem::Version's test_spaceship and test_semver; NuGet: NuGet.Versioning's
	// VersionComparerTests; Packagist: Composer's VersionParser and Comparator tests.
	RubyGems: {
		"0.9", "1.0.a", "1.0.a.2", "1.0.b1", "1.0.0-rc2", "1.0.rc1", "1", "1.0.0.1", "1.1", "1.1.1", "1.2.b", "1.2", "1.10", "2.0.0",
	},
	NuGet: {
		"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-ALPHA.2", "1.0.0-beta", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.0.1", "1.0.1", "1.2", "1.10.0.0", "2.0.0",
	},
	Packagist: {
		"1.0.0-dev", "1.0.0-alpha1", "1.0.0-alpha2", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-RC1", "v1.0.0", "1.0.0-p1", "1.0.0.1", "1.0.1", "1.2", "1.10.0", "2.0.0",
	},
	Maven: {
		"1-alpha", "1-alpha2", "1-beta", "1-milestone", "1-rc", "1-snapshot", "1", "1-sp", "1-abc", "1.0.1", "1.1", "1.2", "1.10", "2",
	},
}

// equal lists versions each scheme treats as the same.
var equal = map[Kind][][2]string{
	Dpkg:      {{"1.0", "0:1.0"}, {"1.0-0", "1.0-0"}, {"01", "1"}},
	RPM:       {{"1.0", "0:1.0"}, {"1.0-1", "1.0"}, {"1_0", "1.0"}},
	Apk:       {{"1.0", "1.0-r0"}},
	Semver:    {{"1.0.0", "v1.0.0"}, {"1.0.0+build.5", "1.0.0"}, {"1.2", "1.2.0"}, {"v2.0.0+incompatible", "2.0.0"}},
	RubyGems:  {{"1.0", "1"}, {"1.0.0", "1"}, {"1.0.a", "1.a"}, {"1.0.0-rc1", "1.0.0.pre.rc1"}, {"1.a.0", "1.a"}},
	NuGet:     {{"1.0", "1.0.0.0"}, {"1.0.0-Beta", "1.0.0-beta"}, {"1.0.0+build", "1.0.0"}},
	Packagist: {{"v1.0", "1.0.0.0"}, {"1.0.0-beta2", "1.0.0beta2"}, {"1.0.0-a1", "1.0.0-alpha1"}, {"1.0.0-RC1", "1.0.0-rc.1"}, {"1.0.0-pl1", "1.0.0-patch1"}},
	PEP440:    {{"1.0", "1.0.0"}, {"1.0a1", "1.0alpha1"}, {"1.0c1", "1.0rc1"}, {"1.0-1", "1.0.post1"}, {"v1.0", "1.0"}, {"1.0RC1", "1.0rc1"}},
	Maven: {{"1", "1.0"}, {"1", "1.0.0"}, {"1-ga", "1"}, {"1-final", "1"}, {"1.0-RC1", "1.0-cr1"}, {"1a1", "1-alpha-1"},
		// ComparableVersionTest.testVersionsEqual: zeros before a qualifier's list go.
		{"1a", "1-a"}, {"1a", "1.0-a"}, {"1a", "1.0.0-a"}, {"1.0a", "1-a"}, {"1.0.0a", "1-a"}, {"1x", "1-x"}, {"1x", "1.0-x"},
		{"1x", "1.0.0-x"}, {"1.0x", "1-x"}, {"1.0.0x", "1-x"}},
}

func TestOrdered(t *testing.T) {
	for kind, vs := range ordered {
		for i := range vs {
			for j := range vs {
				c, err := Compare(kind, vs[i], vs[j])
				if err != nil {
					t.Fatalf("%s: %v", kind, err)
				}
				if want := sign(i - j); c != want {
					t.Errorf("%s: Compare(%q, %q) = %d, want %d", kind, vs[i], vs[j], c, want)
				}
			}
		}
	}
}

func TestEqual(t *testing.T) {
	for kind, pairs := range equal {
		for _, p := range pairs {
			if c, err := Compare(kind, p[0], p[1]); err != nil || c != 0 {
				t.Errorf("%s: Compare(%q, %q) = %d, %v; want equal", kind, p[0], p[1], c, err)
			}
		}
	}
}

func TestInvalid(t *testing.T) {
	for kind, vs := range map[Kind][]string{Semver: {"", "1.x", "1.2.3.4", "1.0.0-", "abc"}, PEP440: {"", "1.0-foo-bar", "one"},
		RubyGems: {"", "a1", "1.0_1"}, NuGet: {"", "1.2.3.4.5", "1.x", "1.0-"}, Packagist: {"", "dev-main", "1.0-foo", "x"}} {
		for _, v := range vs {
			if _, err := Compare(kind, v, "1.0.0"); err == nil {
				t.Errorf("%s: %q accepted", kind, v)
			}
		}
	}
	if _, err := Compare("nope", "1", "2"); err == nil {
		t.Error("unknown scheme accepted")
	}
}

// fuzzScheme checks antisymmetry and transitivity on any three strings the scheme
// accepts.
func fuzzScheme(f *testing.F, kind Kind, accept func(string) bool) {
	vs := ordered[kind]
	for i := 0; i+2 < len(vs); i++ {
		f.Add(vs[i], vs[i+1], vs[i+2])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		if accept != nil && !(accept(a) && accept(b) && accept(c)) {
			return
		}
		ab, err1 := Compare(kind, a, b)
		ba, err2 := Compare(kind, b, a)
		if err1 != nil || err2 != nil {
			return
		}
		if ab != -ba {
			t.Fatalf("%s: not antisymmetric: %q vs %q: %d, %d", kind, a, b, ab, ba)
		}
		bc, err1 := Compare(kind, b, c)
		ac, err2 := Compare(kind, a, c)
		if err1 != nil || err2 != nil {
			return
		}
		if ab <= 0 && bc <= 0 && ac > 0 {
			t.Fatalf("%s: not transitive: %q <= %q <= %q but %q > %q", kind, a, b, c, a, c)
		}
		if ab == 0 && bc == 0 && ac != 0 {
			t.Fatalf("%s: equality not transitive: %q, %q, %q", kind, a, b, c)
		}
	})
}

func FuzzDpkg(f *testing.F) { fuzzScheme(f, Dpkg, nil) }

// FuzzRPM checks versions that carry a release: a bare version equals every release
// of it (rpm's matching rule), so "1.0-1" = "1.0" = "1.0-2" while "1.0-1" < "1.0-2".
func FuzzRPM(f *testing.F) {
	fuzzScheme(f, RPM, func(s string) bool { return strings.Contains(s, "-") })
}
func FuzzApk(f *testing.F)       { fuzzScheme(f, Apk, nil) }
func FuzzRubyGems(f *testing.F)  { fuzzScheme(f, RubyGems, nil) }
func FuzzNuGet(f *testing.F)     { fuzzScheme(f, NuGet, nil) }
func FuzzPackagist(f *testing.F) { fuzzScheme(f, Packagist, nil) }
func FuzzSemver(f *testing.F)    { fuzzScheme(f, Semver, nil) }
func FuzzPEP440(f *testing.F)    { fuzzScheme(f, PEP440, nil) }

// realisticMaven is the shape of published Maven versions: numbers, then qualifiers
// with optional numbers, no zero right before a qualifier. Maven's own order is not
// transitive outside it (see compareMvn).
var realisticMaven = regexp.MustCompile(`^[1-9][0-9]*(\.[0-9]+)*([.-]?[a-z]+([.-]?[1-9][0-9]*)?)*$`)

func FuzzMaven(f *testing.F) {
	fuzzScheme(f, Maven, func(s string) bool {
		return realisticMaven.MatchString(strings.ToLower(s)) && !zeroQualifier.MatchString(strings.ToLower(s))
	})
}

var zeroQualifier = regexp.MustCompile(`(^|[.-])0+[.-]?[a-z]`)

// TestMavenPaddingBeforeQualifier: versions padded differently before a qualifier
// still order by the qualifier (advisories and installed versions rarely pad alike).
func TestMavenPaddingBeforeQualifier(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"2.0-beta3", "2.0.0-beta2", 1}, {"1.0-rc1", "1-rc2", -1}, {"2.0.0-rc1", "2.0-rc1", 0}} {
		if got, err := Compare(Maven, c.a, c.b); err != nil || got != c.want {
			t.Errorf("Compare(%s, %s) = %d, %v; want %d", c.a, c.b, got, err, c.want)
		}
	}
}
