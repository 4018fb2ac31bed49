package version

import (
	"fmt"
	"strings"
)

type semver struct {
	nums [3]string
	pre  []string
}

// parseSemver reads MAJOR[.MINOR[.PATCH]][-PRERELEASE][+BUILD] with an optional "v"
// (Go modules); build metadata, including Go's "+incompatible", is ignored, as
// semver says. Missing minor and patch are 0 (npm and OSV data write "1.2").
func parseSemver(v string) (semver, error) {
	var out semver
	s := strings.TrimPrefix(strings.TrimSpace(v), "v")
	if i := strings.IndexByte(s, '+'); i >= 0 {
		s = s[:i]
	}
	core := s
	if i := strings.IndexByte(s, '-'); i >= 0 {
		core = s[:i]
		out.pre = strings.Split(s[i+1:], ".")
		for _, p := range out.pre {
			if p == "" {
				return out, fmt.Errorf("%q: %w", v, ErrInvalid)
			}
		}
	}
	parts := strings.Split(core, ".")
	if len(parts) > 3 || core == "" {
		return out, fmt.Errorf("%q: %w", v, ErrInvalid)
	}
	out.nums = [3]string{"0", "0", "0"}
	for i, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return out, fmt.Errorf("%q: %w", v, ErrInvalid)
		}
		out.nums[i] = p
	}
	return out, nil
}

// CompareSemver compares semantic versions (semver.org §11): numbers, then a
// pre-release sorts before the release, identifiers compared numerically when both
// are numbers, numbers before words, a longer list after its prefix.
func CompareSemver(a, b string) (int, error) {
	va, err := parseSemver(a)
	if err != nil {
		return 0, err
	}
	vb, err := parseSemver(b)
	if err != nil {
		return 0, err
	}
	for i := range 3 {
		if c := compareNumeric(va.nums[i], vb.nums[i]); c != 0 {
			return c, nil
		}
	}
	return comparePreRelease(va.pre, vb.pre), nil
}
