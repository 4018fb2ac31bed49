package rootpath

import (
	"fmt"
	"path"
	"strings"
)

// Lookup says what is at a clean absolute path inside the root: its link target when
// it is a symbolic link. An error means the path cannot be looked at (it does not
// exist, it cannot be read).
type Lookup func(p string) (target string, isLink bool, err error)

// Resolve returns where p leads inside the root: every symbolic link on the way is
// followed, the final one too when follow is set, at most maxLinks in all. A component
// on the way that cannot be looked at is an error; the final one is returned as it is,
// for the caller's own open or stat to report.
func Resolve(p string, follow bool, maxLinks int, lookup Lookup) (string, error) {
	if !path.IsAbs(p) {
		return "", fmt.Errorf("path %q is not absolute", p)
	}
	rest := split(p)
	cur := "/"
	links := 0
	for len(rest) > 0 {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			cur = path.Dir(cur) // at the root, ".." is the root
			continue
		}
		next := path.Join(cur, c)
		if len(rest) == 0 && !follow {
			cur = next
			break
		}
		target, isLink, err := lookup(next)
		if err != nil {
			if len(rest) == 0 {
				cur = next
				break
			}
			return "", err
		}
		if !isLink {
			cur = next
			continue
		}
		links++
		if links > maxLinks {
			return "", fmt.Errorf("%s: too many levels of symbolic links", p)
		}
		if !path.IsAbs(target) {
			target = path.Join(cur, target)
		}
		rest = append(split(target), rest...)
		cur = "/"
	}
	return cur, nil
}

func split(p string) []string {
	return strings.Split(strings.TrimPrefix(path.Clean(p), "/"), "/")
}
