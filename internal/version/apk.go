package version

import "strings"

// apkSuffixes in apk's order; pre-release suffixes sort before no suffix, the rest
// after it.
var apkSuffixes = map[string]int{"alpha": -4, "beta": -3, "pre": -2, "rc": -1, "cvs": 1, "svn": 2, "git": 3, "hg": 4, "p": 5}

type apkVersion struct {
	nums     []string
	letter   byte
	suffixes [][2]string // name, number
	rev      string
	invalid  string // what could not be parsed, compared as text last
}

func parseApk(v string) apkVersion {
	var out apkVersion
	v = strings.TrimSpace(v)
	if i := strings.LastIndex(v, "-r"); i >= 0 && i+2 < len(v) && strings.Trim(v[i+2:], "0123456789") == "" {
		out.rev, v = v[i+2:], v[:i]
	}
	// digits(.digits)*
	for {
		d, rest := span(v, isDigit)
		if d == "" {
			break
		}
		out.nums = append(out.nums, d)
		v = rest
		if len(v) > 1 && v[0] == '.' && isDigit(v[1]) {
			v = v[1:]
			continue
		}
		break
	}
	if len(v) > 0 && v[0] >= 'a' && v[0] <= 'z' && (len(v) == 1 || v[1] == '_') {
		out.letter, v = v[0], v[1:]
	}
	for strings.HasPrefix(v, "_") {
		name, rest := span(v[1:], isAlpha)
		if _, ok := apkSuffixes[name]; !ok {
			break
		}
		num, rest2 := span(rest, isDigit)
		out.suffixes = append(out.suffixes, [2]string{name, num})
		v = rest2
	}
	out.invalid = v
	return out
}

// CompareApk compares Alpine package versions as apk does: dot-separated numbers (a
// number after the first with a leading zero compares as a decimal fraction), an
// optional letter, suffixes (_alpha < _beta < _pre < _rc < none < _cvs < _svn < _git <
// _hg < _p, each with an optional number), then the -rN package revision.
func CompareApk(a, b string) int {
	va, vb := parseApk(a), parseApk(b)
	for i := 0; i < len(va.nums) || i < len(vb.nums); i++ {
		switch {
		case i >= len(va.nums):
			return -1
		case i >= len(vb.nums):
			return 1
		}
		x, y := va.nums[i], vb.nums[i]
		var c int
		if i > 0 && (strings.HasPrefix(x, "0") || strings.HasPrefix(y, "0")) {
			c = strings.Compare(strings.TrimRight(x, "0"), strings.TrimRight(y, "0"))
		} else {
			c = compareNumeric(x, y)
		}
		if c != 0 {
			return c
		}
	}
	if va.letter != vb.letter {
		return sign(int(va.letter) - int(vb.letter))
	}
	for i := 0; i < len(va.suffixes) || i < len(vb.suffixes); i++ {
		var ra, rb int
		var na, nb string
		if i < len(va.suffixes) {
			ra, na = apkSuffixes[va.suffixes[i][0]], va.suffixes[i][1]
		}
		if i < len(vb.suffixes) {
			rb, nb = apkSuffixes[vb.suffixes[i][0]], vb.suffixes[i][1]
		}
		if ra != rb {
			return sign(ra - rb)
		}
		if c := compareNumeric(na, nb); c != 0 {
			return c
		}
	}
	if c := compareNumeric(va.rev, vb.rev); c != 0 {
		return c
	}
	return strings.Compare(va.invalid, vb.invalid)
}
