package secrets

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

var (
	// assignment finds KEY=value pairs in text such as image history lines (ENV steps
	// and build arguments).
	assignment = regexp.MustCompile(`\b([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|\S+)`)
	secretKey  = regexp.MustCompile(`(?i)(passw(or)?d|passwd|secret|token|api_?key|access_?key|private_?key|credential|auth_?key)`)
	// urlCredentials matches the user:password@ of a URL.
	urlCredentials = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@`)
)

// SecretName reports a variable name that usually holds a secret. Names that point at
// a secret rather than hold it (…_FILE, …_PATH) are fine.
func SecretName(k string) bool {
	u := strings.ToUpper(k)
	for _, suffix := range []string{"_FILE", "_PATH", "_DIR", "_URL", "_URI", "_ENDPOINT", "_HOST", "_PORT", "_USER", "_USERNAME"} {
		if strings.HasSuffix(u, suffix) {
			return false
		}
	}
	return secretKey.MatchString(k)
}

// Redacted shows a secret's length and a short hash, never the value.
func Redacted(v string) string {
	sum := sha256.Sum256([]byte(v))
	return fmt.Sprintf("[redacted: %d characters, sha256:%s]", len(v), hex.EncodeToString(sum[:])[:12])
}

// Assignment is a KEY=value pair found in text, quotes removed from the value.
type Assignment struct{ Key, Value string }

// Assignments lists the KEY=value pairs of a line.
func Assignments(s string) []Assignment {
	var out []Assignment
	for _, m := range assignment.FindAllStringSubmatch(s, -1) {
		out = append(out, Assignment{Key: m[1], Value: strings.Trim(m[2], `"'`)})
	}
	return out
}

// Redact masks what looks like a secret in text taken from an image, such as a
// history line shown as evidence: credentials in URLs, secret-named KEY=value
// assignments, and values shaped like known tokens wherever they are.
func Redact(s string) string {
	s = urlCredentials.ReplaceAllStringFunc(s, func(m string) string {
		scheme := urlCredentials.FindStringSubmatch(m)[1]
		return scheme + Redacted(strings.TrimSuffix(strings.TrimPrefix(m, scheme), "@")) + "@"
	})
	s = assignment.ReplaceAllStringFunc(s, func(kv string) string {
		k, v, _ := strings.Cut(kv, "=")
		if SecretName(k) && strings.Trim(v, `"'`) != "" {
			return k + "=" + Redacted(strings.Trim(v, `"'`))
		}
		return kv
	})
	for _, r := range rules {
		if !containsAny([]byte(s), r.keywords) {
			continue
		}
		s = r.re.ReplaceAllStringFunc(s, func(m string) string {
			sub := r.re.FindStringSubmatch(m)
			return strings.Replace(m, sub[r.group], Redacted(sub[r.group]), 1)
		})
	}
	return s
}
