package version

import (
	"errors"
	"fmt"
)

// Kind names a comparison scheme.
type Kind string

const (
	Dpkg   Kind = "dpkg"
	Apk    Kind = "apk"
	RPM    Kind = "rpm"
	Semver Kind = "semver" // Go modules ("v" optional, +incompatible), npm, crates.io, OSV SEMVER
	PEP440 Kind = "pep440"
	Maven  Kind = "maven"
	// RubyGems, NuGet and Packagist are their ecosystems' own orders.
	RubyGems  Kind = "rubygems"
	NuGet     Kind = "nuget"
	Packagist Kind = "packagist"
)

// ErrInvalid is a version the scheme cannot read.
var ErrInvalid = errors.New("not a valid version")

// Compare orders a and b under kind: negative when a < b, zero when equal, positive
// when a > b.
func Compare(kind Kind, a, b string) (int, error) {
	switch kind {
	case Dpkg:
		return CompareDpkg(a, b), nil
	case Apk:
		return CompareApk(a, b), nil
	case RPM:
		return CompareRPM(a, b), nil
	case Semver:
		return CompareSemver(a, b)
	case PEP440:
		return ComparePEP440(a, b)
	case Maven:
		return CompareMaven(a, b), nil
	case RubyGems:
		return CompareRubyGems(a, b)
	case NuGet:
		return CompareNuGet(a, b)
	case Packagist:
		return ComparePackagist(a, b)
	}
	return 0, fmt.Errorf("unknown version scheme %q", kind)
}

func sign(x int) int {
	switch {
	case x < 0:
		return -1
	case x > 0:
		return 1
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// compareNumeric compares two strings of digits as numbers of any length.
func compareNumeric(a, b string) int {
	for len(a) > 0 && a[0] == '0' {
		a = a[1:]
	}
	for len(b) > 0 && b[0] == '0' {
		b = b[1:]
	}
	if len(a) != len(b) {
		return sign(len(a) - len(b))
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
