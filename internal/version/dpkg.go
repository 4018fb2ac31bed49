package version

import "strings"

// CompareDpkg compares Debian versions as dpkg does: [epoch:]upstream[-revision],
// where within each part digit runs compare as numbers and other characters by a
// modified ASCII order in which '~' sorts before anything, even the end of the part,
// and letters before non-letters. A missing epoch is 0; a missing revision sorts as
// an empty one.
func CompareDpkg(a, b string) int {
	ea, ua, ra := splitDpkg(a)
	eb, ub, rb := splitDpkg(b)
	if c := compareNumeric(ea, eb); c != 0 {
		return c
	}
	if c := verrevcmp(ua, ub); c != 0 {
		return c
	}
	return verrevcmp(ra, rb)
}

func splitDpkg(v string) (epoch, upstream, revision string) {
	v = strings.TrimSpace(v)
	epoch = "0"
	if i := strings.IndexByte(v, ':'); i >= 0 {
		epoch, v = v[:i], v[i+1:]
		if epoch == "" || strings.Trim(epoch, "0123456789") != "" {
			epoch = "0"
		}
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		return epoch, v[:i], v[i+1:]
	}
	return epoch, v, ""
}

// order is dpkg's character weight: '~' lowest, then the end, letters, the rest.
func order(c byte, end bool) int {
	switch {
	case end:
		return 0
	case isDigit(c):
		return 0
	case isAlpha(c):
		return int(c)
	case c == '~':
		return -1
	}
	return int(c) + 256
}

func verrevcmp(a, b string) int {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for (i < len(a) && !isDigit(a[i])) || (j < len(b) && !isDigit(b[j])) {
			ac := order(at(a, i), i >= len(a))
			bc := order(at(b, j), j >= len(b))
			if ac != bc {
				return sign(ac - bc)
			}
			if i < len(a) {
				i++
			}
			if j < len(b) {
				j++
			}
		}
		si := i
		for i < len(a) && isDigit(a[i]) {
			i++
		}
		sj := j
		for j < len(b) && isDigit(b[j]) {
			j++
		}
		if c := compareNumeric(a[si:i], b[sj:j]); c != 0 {
			return c
		}
	}
	return 0
}

func at(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}
