package inventory

import (
	"fmt"
	"sort"
	"strings"
)

// PURL builds a package URL (github.com/package-url/purl-spec): type, optional
// namespace segments, name, version and qualifiers (sorted by key, empty ones left out).
func PURL(typ, namespace, name, version string, qualifiers [][2]string) string {
	var b strings.Builder
	b.WriteString("pkg:")
	b.WriteString(typ)
	b.WriteByte('/')
	if namespace != "" {
		for _, seg := range strings.Split(namespace, "/") {
			b.WriteString(escape(seg))
			b.WriteByte('/')
		}
	}
	b.WriteString(escape(name))
	if version != "" {
		b.WriteByte('@')
		b.WriteString(escape(version))
	}
	q := make([][2]string, 0, len(qualifiers))
	for _, kv := range qualifiers {
		if kv[1] != "" {
			q = append(q, kv)
		}
	}
	sort.Slice(q, func(i, j int) bool { return q[i][0] < q[j][0] })
	for i, kv := range q {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(kv[0])
		b.WriteByte('=')
		b.WriteString(escape(kv[1]))
	}
	return b.String()
}

// escape percent-encodes a PURL component: only ASCII letters, digits, ".-_~" and ':'
// stay as they are ('+' becomes %2B, '@' %40).
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-_~:", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
