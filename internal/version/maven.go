package version

import "strings"

// Maven qualifiers in ComparableVersion's order; rank 5 is the release (no qualifier,
// ga, final, release); unknown qualifiers sort after all of these, among themselves as
// text.
var mavenQualifiers = map[string]int{"alpha": 0, "a": 0, "beta": 1, "b": 1, "milestone": 2, "m": 2, "rc": 3, "cr": 3,
	"snapshot": 4, "": 5, "ga": 5, "final": 5, "release": 5, "sp": 6}

const (
	mvnInt = iota
	mvnString
	mvnList
)

// mvnItem is an item of Maven's ComparableVersion: a number, a qualifier, or a
// sub-list (started by '-' or by a change between digits and letters).
type mvnItem struct {
	kind int
	num  string
	qual string
	list []*mvnItem
}

func (it *mvnItem) zero() bool { return it.kind == mvnInt && strings.Trim(it.num, "0") == "" }

// isNull is an item equal to nothing: zero, a release qualifier, an empty list.
func (it *mvnItem) isNull() bool {
	switch it.kind {
	case mvnInt:
		return it.zero()
	case mvnString:
		r, ok := mavenQualifiers[it.qual]
		return ok && r == 5
	}
	return len(it.list) == 0
}

func parseMaven(v string) *mvnItem {
	v = strings.ToLower(strings.TrimSpace(v))
	root := &mvnItem{kind: mvnList}
	list := root
	lists := []*mvnItem{root}
	start, isDigitTok := 0, false
	add := func(tok string, digit bool) {
		if digit {
			list.list = append(list.list, &mvnItem{kind: mvnInt, num: tok})
			return
		}
		if len(tok) == 1 && start+1 < len(v) && isDigit(v[start+1]) {
			switch tok {
			case "a":
				tok = "alpha"
			case "b":
				tok = "beta"
			case "m":
				tok = "milestone"
			}
		}
		list.list = append(list.list, &mvnItem{kind: mvnString, qual: tok})
	}
	sub := func() {
		n := &mvnItem{kind: mvnList}
		list.list = append(list.list, n)
		list = n
		lists = append(lists, n)
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '.':
			if i == start {
				list.list = append(list.list, &mvnItem{kind: mvnInt, num: "0"})
			} else {
				add(v[start:i], isDigitTok)
			}
			start = i + 1
		case c == '-':
			if i == start {
				list.list = append(list.list, &mvnItem{kind: mvnInt, num: "0"})
			} else {
				add(v[start:i], isDigitTok)
			}
			start = i + 1
			sub()
		case isDigit(c):
			if !isDigitTok && i > start {
				add(v[start:i], false)
				start = i
				sub()
			}
			isDigitTok = true
		default:
			if isDigitTok && i > start {
				add(v[start:i], true)
				start = i
				sub()
			}
			isDigitTok = false
		}
	}
	if len(v) > start {
		add(v[start:], isDigitTok)
	}
	// Normalize as ComparableVersion does, innermost lists first: from the end of each
	// list, drop items equal to nothing, looking past sub-lists ("1.0.0-a" is
	// "1-a": the zeros before the qualifier's list go too) and stopping at the first
	// other item.
	for i := len(lists) - 1; i >= 0; i-- {
		l := lists[i]
		for j := len(l.list) - 1; j >= 0; j-- {
			if it := l.list[j]; it.isNull() {
				l.list = append(l.list[:j], l.list[j+1:]...)
			} else if it.kind != mvnList {
				break
			}
		}
	}
	return root
}

// compareMvn compares two items, either of which may be nil (nothing), as Maven does.
// Maven's order is not transitive on every string ("0a" < "0" < "c" < "0a": a zero
// equals nothing but beats a qualifier); it is on versions that start with a number
// and have no zero before a qualifier, which the fuzz test checks.
func compareMvn(a, b *mvnItem) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -compareMvn(b, nil)
	}
	switch a.kind {
	case mvnInt:
		switch {
		case b == nil:
			if a.zero() {
				return 0
			}
			return 1
		case b.kind == mvnInt:
			return compareNumeric(a.num, b.num)
		}
		return 1 // a number is newer than a qualifier or a sub-list
	case mvnString:
		ra, known := mavenQualifiers[a.qual]
		if !known {
			ra = 7
		}
		switch {
		case b == nil:
			return sign(ra - 5)
		case b.kind == mvnInt:
			return -1
		case b.kind == mvnList:
			return -1
		}
		rb, known := mavenQualifiers[b.qual]
		if !known {
			rb = 7
		}
		if ra != rb {
			return sign(ra - rb)
		}
		if ra == 7 {
			return strings.Compare(a.qual, b.qual)
		}
		return 0
	}
	// a is a list
	switch {
	case b == nil:
		for _, it := range a.list {
			if c := compareMvn(it, nil); c != 0 {
				return c
			}
		}
		return 0
	case b.kind == mvnInt:
		return -1
	case b.kind == mvnString:
		return 1
	}
	for i := 0; i < len(a.list) || i < len(b.list); i++ {
		var x, y *mvnItem
		if i < len(a.list) {
			x = a.list[i]
		}
		if i < len(b.list) {
			y = b.list[i]
		}
		if c := compareMvn(x, y); c != 0 {
			return c
		}
	}
	return 0
}

// CompareMaven orders Maven versions with the rules of Maven's ComparableVersion:
// items split at '.', '-' and digit/letter changes (the last two start sub-lists),
// numbers numerically and after qualifiers and sub-lists, qualifiers alpha < beta <
// milestone < rc < snapshot < release < sp < others, trailing nothing ignored.
func CompareMaven(a, b string) int {
	return compareMvn(parseMaven(a), parseMaven(b))
}
