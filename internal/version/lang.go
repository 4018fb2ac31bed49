package version

import (
	"fmt"
	"strings"
)

// CompareRubyGems orders versions as RubyGems' Gem::Version does: the version is cut
// into runs of digits and runs of letters ("1.0.0.rc1" is 1, 0, 0, "rc", 1; a "-" is
// ".pre."), the zeros that end the numbers before the first letters and the zeros
// that end the rest are dropped (1.0 = 1, 1.0.a = 1.a), then segments compare one by one, a missing one as 0,
// numbers as numbers, letters as strings, and letters (a pre-release) before numbers.
func CompareRubyGems(a, b string) (int, error) {
	sa, err := gemSegments(a)
	if err != nil {
		return 0, err
	}
	sb, err := gemSegments(b)
	if err != nil {
		return 0, err
	}
	for i := range max(len(sa), len(sb)) {
		x, y := "0", "0"
		if i < len(sa) {
			x = sa[i]
		}
		if i < len(sb) {
			y = sb[i]
		}
		xn, yn := isDigit(x[0]), isDigit(y[0])
		switch {
		case xn && yn:
			if c := compareNumeric(x, y); c != 0 {
				return c, nil
			}
		case xn:
			return 1, nil
		case yn:
			return -1, nil
		case x != y:
			return sign(strings.Compare(x, y)), nil
		}
	}
	return 0, nil
}

func gemSegments(v string) ([]string, error) {
	s := strings.ReplaceAll(strings.TrimSpace(v), "-", ".pre.")
	if s == "" || !isDigit(s[0]) {
		return nil, fmt.Errorf("%q: %w", v, ErrInvalid)
	}
	var segs []string
	for i := 0; i < len(s); {
		j := i
		switch {
		case isDigit(s[i]):
			for j < len(s) && isDigit(s[j]) {
				j++
			}
		case isAlpha(s[i]):
			for j < len(s) && isAlpha(s[j]) {
				j++
			}
		case s[i] == '.':
			i++
			continue
		default:
			return nil, fmt.Errorf("%q: %w", v, ErrInvalid)
		}
		segs = append(segs, s[i:j])
		i = j
	}
	// Gem::Version#canonical_segments: the numbers before the first letters, and the
	// rest, each without the zeros that end it.
	first := len(segs)
	for i, seg := range segs {
		if !isDigit(seg[0]) {
			first = i
			break
		}
	}
	return append(trimZeros(segs[:first]), trimZeros(segs[first:])...), nil
}

func trimZeros(segs []string) []string {
	for len(segs) > 0 && strings.Trim(segs[len(segs)-1], "0") == "" {
		segs = segs[:len(segs)-1]
	}
	return segs
}

// CompareNuGet orders NuGet versions (SemVer 2.0 with up to four numbers, as NuGet
// reads them): numbers compare as numbers, a missing one as 0; a pre-release sorts
// before its release, its labels compare numerically when both are numbers and
// otherwise case-insensitively; build metadata (+…) is ignored.
func CompareNuGet(a, b string) (int, error) {
	na, pa, err := parseNuGet(a)
	if err != nil {
		return 0, err
	}
	nb, pb, err := parseNuGet(b)
	if err != nil {
		return 0, err
	}
	for i := range 4 {
		if c := compareNumeric(na[i], nb[i]); c != 0 {
			return c, nil
		}
	}
	return comparePreRelease(pa, pb), nil
}

func parseNuGet(v string) ([4]string, []string, error) {
	nums := [4]string{"0", "0", "0", "0"}
	s, _, _ := strings.Cut(strings.TrimSpace(v), "+")
	core, pre, hasPre := strings.Cut(s, "-")
	parts := strings.Split(core, ".")
	if core == "" || len(parts) > 4 {
		return nums, nil, fmt.Errorf("%q: %w", v, ErrInvalid)
	}
	for i, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return nums, nil, fmt.Errorf("%q: %w", v, ErrInvalid)
		}
		nums[i] = p
	}
	var labels []string
	if hasPre {
		labels = strings.Split(strings.ToLower(pre), ".")
		for _, l := range labels {
			if l == "" {
				return nums, nil, fmt.Errorf("%q: %w", v, ErrInvalid)
			}
		}
	}
	return nums, labels, nil
}

// comparePreRelease compares pre-release labels as semver.org §11 does: none sorts
// last; numbers before words; numbers as numbers; a longer list after its prefix.
func comparePreRelease(a, b []string) int {
	switch {
	case len(a) == 0 && len(b) == 0:
		return 0
	case len(a) == 0:
		return 1
	case len(b) == 0:
		return -1
	}
	for i := 0; i < len(a) && i < len(b); i++ {
		an, bn := strings.Trim(a[i], "0123456789") == "", strings.Trim(b[i], "0123456789") == ""
		switch {
		case an && bn:
			if c := compareNumeric(a[i], b[i]); c != 0 {
				return c
			}
		case an:
			return -1
		case bn:
			return 1
		case a[i] != b[i]:
			return sign(strings.Compare(a[i], b[i]))
		}
	}
	return sign(len(a) - len(b))
}

// ComparePackagist orders Composer versions as Composer normalises them: an optional
// "v", up to four numbers (a missing one is 0), then a stability with an optional
// number, "-" or "." before it optional: dev < alpha (a) < beta (b) < RC < the release
// < patch (pl, p). Branch versions ("dev-main") are not versions and are refused.
func ComparePackagist(a, b string) (int, error) {
	va, err := parseComposer(a)
	if err != nil {
		return 0, err
	}
	vb, err := parseComposer(b)
	if err != nil {
		return 0, err
	}
	for i := range 4 {
		if c := compareNumeric(va.nums[i], vb.nums[i]); c != 0 {
			return c, nil
		}
	}
	if va.stability != vb.stability {
		return sign(va.stability - vb.stability), nil
	}
	return compareNumeric(va.n, vb.n), nil
}

type composerVersion struct {
	nums      [4]string
	stability int // dev 0, alpha 1, beta 2, RC 3, release 4, patch 5
	n         string
}

var composerStability = map[string]int{"dev": 0, "alpha": 1, "a": 1, "beta": 2, "b": 2, "rc": 3, "patch": 5, "pl": 5, "p": 5}

func parseComposer(v string) (composerVersion, error) {
	out := composerVersion{nums: [4]string{"0", "0", "0", "0"}, stability: 4, n: "0"}
	s := strings.ToLower(strings.TrimSpace(v))
	s = strings.TrimPrefix(s, "v")
	i := 0
	for part := 0; part < 4; part++ {
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == i {
			if part == 0 {
				return out, fmt.Errorf("%q: %w", v, ErrInvalid)
			}
			break
		}
		out.nums[part] = s[i:j]
		i = j
		if i < len(s) && s[i] == '.' && i+1 < len(s) && isDigit(s[i+1]) {
			i++
			continue
		}
		break
	}
	rest := strings.TrimLeft(s[i:], "-._")
	if rest == "" {
		return out, nil
	}
	k := 0
	for k < len(rest) && isAlpha(rest[k]) {
		k++
	}
	st, ok := composerStability[rest[:k]]
	num := strings.TrimLeft(rest[k:], "-._")
	if !ok || strings.Trim(num, "0123456789") != "" {
		return out, fmt.Errorf("%q: %w", v, ErrInvalid)
	}
	out.stability = st
	if num != "" {
		out.n = num
	}
	return out, nil
}
