package version

import (
	"fmt"
	"regexp"
	"strings"
)

// pep440RE is the canonical pattern of PEP 440 (appendix B), case-insensitive.
var pep440RE = regexp.MustCompile(`(?i)^\s*v?(?:(?:([0-9]+)!)?([0-9]+(?:\.[0-9]+)*)` +
	`(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?([0-9]+)?)?` +
	`(?:(?:-([0-9]+))|(?:[-_.]?(post|rev|r)[-_.]?([0-9]+)?))?` +
	`(?:[-_.]?(dev)[-_.]?([0-9]+)?)?)` +
	`(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$`)

type pep440 struct {
	epoch   string
	release []string
	pre     string // "", a, b, rc
	preN    string
	post    string // "" when absent
	dev     string // "" when absent
	hasPost bool
	hasDev  bool
	local   []string
}

func parsePEP440(v string) (pep440, error) {
	m := pep440RE.FindStringSubmatch(v)
	if m == nil {
		return pep440{}, fmt.Errorf("%q: %w", v, ErrInvalid)
	}
	p := pep440{epoch: m[1], release: strings.Split(m[2], ".")}
	if p.epoch == "" {
		p.epoch = "0"
	}
	// Trailing zeros do not count: 1.0 == 1.0.0.
	for len(p.release) > 1 && strings.Trim(p.release[len(p.release)-1], "0") == "" {
		p.release = p.release[:len(p.release)-1]
	}
	switch strings.ToLower(m[3]) {
	case "a", "alpha":
		p.pre = "a"
	case "b", "beta":
		p.pre = "b"
	case "c", "rc", "pre", "preview":
		p.pre = "rc"
	}
	p.preN = m[4]
	if m[5] != "" {
		p.hasPost, p.post = true, m[5]
	} else if m[6] != "" {
		p.hasPost, p.post = true, m[7]
	}
	if m[8] != "" {
		p.hasDev, p.dev = true, m[9]
	}
	if m[10] != "" {
		p.local = strings.FieldsFunc(strings.ToLower(m[10]), func(r rune) bool { return r == '.' || r == '-' || r == '_' })
	}
	return p, nil
}

// ComparePEP440 orders Python versions as PEP 440 (and pip's packaging) does: epoch,
// release, then .devN < aN < bN < rcN < release < .postN, with a dev release of a
// pre- or post-release just before it, and a local version after its public one.
func ComparePEP440(a, b string) (int, error) {
	pa, err := parsePEP440(a)
	if err != nil {
		return 0, err
	}
	pb, err := parsePEP440(b)
	if err != nil {
		return 0, err
	}
	if c := compareNumeric(pa.epoch, pb.epoch); c != 0 {
		return c, nil
	}
	for i := 0; i < len(pa.release) || i < len(pb.release); i++ {
		x, y := "0", "0"
		if i < len(pa.release) {
			x = pa.release[i]
		}
		if i < len(pb.release) {
			y = pb.release[i]
		}
		if c := compareNumeric(x, y); c != 0 {
			return c, nil
		}
	}
	if c := comparePre(pa, pb); c != 0 {
		return c, nil
	}
	if c := compareOptional(pa.hasPost, pa.post, pb.hasPost, pb.post, -1); c != 0 {
		return c, nil
	}
	// A dev release sorts before the same version without one.
	if c := compareOptional(pa.hasDev, pa.dev, pb.hasDev, pb.dev, 1); c != 0 {
		return c, nil
	}
	return compareLocal(pa.local, pb.local), nil
}

// preRank: a bare dev release sorts before every pre-release of its version.
func preRank(p pep440) int {
	switch {
	case p.pre == "" && p.hasDev && !p.hasPost:
		return -1
	case p.pre == "a":
		return 1
	case p.pre == "b":
		return 2
	case p.pre == "rc":
		return 3
	}
	return 4 // no pre-release
}

func comparePre(a, b pep440) int {
	ra, rb := preRank(a), preRank(b)
	if ra != rb {
		return sign(ra - rb)
	}
	if a.pre != "" {
		return compareNumeric(a.preN, b.preN)
	}
	return 0
}

// compareOptional compares an optional numbered part; absent sorts by absentSign
// against present (-1: absent first, as for post; 1: absent last, as for dev).
func compareOptional(hasA bool, a string, hasB bool, b string, absentSign int) int {
	switch {
	case hasA && hasB:
		return compareNumeric(a, b)
	case hasA:
		return -absentSign
	case hasB:
		return absentSign
	}
	return 0
}

func compareLocal(a, b []string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := a[i], b[i]
		xn, yn := strings.Trim(x, "0123456789") == "", strings.Trim(y, "0123456789") == ""
		var c int
		switch {
		case xn && yn:
			c = compareNumeric(x, y)
		case xn:
			c = 1 // numeric segments sort after alphanumeric ones
		case yn:
			c = -1
		default:
			c = strings.Compare(x, y)
		}
		if c != 0 {
			return c
		}
	}
	return sign(len(a) - len(b))
}
