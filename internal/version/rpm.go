package version

import "strings"

// CompareRPM compares [epoch:]version[-release] strings as rpm does (rpmvercmp on
// version, then on release); a missing epoch is 0, and a missing release on either
// side is not compared (a bare version matches every release of it).
func CompareRPM(a, b string) int {
	ea, va, ra := splitEVR(a)
	eb, vb, rb := splitEVR(b)
	if c := compareNumeric(ea, eb); c != 0 {
		return c
	}
	if c := rpmvercmp(va, vb); c != 0 {
		return c
	}
	if ra == "" || rb == "" {
		return 0
	}
	return rpmvercmp(ra, rb)
}

func splitEVR(v string) (epoch, version, release string) {
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

func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }

// rpmvercmp is rpm's segment comparison: separators are ignored, '~' sorts before
// everything (pre-releases), '^' after the end but before anything else (snapshots),
// numeric segments beat alphabetic ones, numbers compare as numbers.
func rpmvercmp(a, b string) int {
	if a == b {
		return 0
	}
	for len(a) > 0 || len(b) > 0 {
		for len(a) > 0 && !isAlnum(a[0]) && a[0] != '~' && a[0] != '^' {
			a = a[1:]
		}
		for len(b) > 0 && !isAlnum(b[0]) && b[0] != '~' && b[0] != '^' {
			b = b[1:]
		}
		if strings.HasPrefix(a, "~") || strings.HasPrefix(b, "~") {
			if !strings.HasPrefix(a, "~") {
				return 1
			}
			if !strings.HasPrefix(b, "~") {
				return -1
			}
			a, b = a[1:], b[1:]
			continue
		}
		if strings.HasPrefix(a, "^") || strings.HasPrefix(b, "^") {
			switch {
			case len(a) == 0:
				return -1
			case len(b) == 0:
				return 1
			case !strings.HasPrefix(a, "^"):
				return 1
			case !strings.HasPrefix(b, "^"):
				return -1
			}
			a, b = a[1:], b[1:]
			continue
		}
		if len(a) == 0 || len(b) == 0 {
			break
		}
		var sa, sb string
		numeric := isDigit(a[0])
		if numeric {
			sa, a = span(a, isDigit)
			sb, b = span(b, isDigit)
		} else {
			sa, a = span(a, isAlpha)
			sb, b = span(b, isAlpha)
		}
		if sb == "" {
			// The segments are of different types: numeric is newer.
			if numeric {
				return 1
			}
			return -1
		}
		if numeric {
			if c := compareNumeric(sa, sb); c != 0 {
				return c
			}
		} else if c := strings.Compare(sa, sb); c != 0 {
			return c
		}
	}
	switch {
	case len(a) == 0 && len(b) == 0:
		return 0
	case len(a) == 0:
		return -1
	}
	return 1
}

func span(s string, f func(byte) bool) (string, string) {
	i := 0
	for i < len(s) && f(s[i]) {
		i++
	}
	return s[:i], s[i:]
}
