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
	urlCredentials = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s]+@`)
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

// Assignment is a KEY=value pair found in text: Value without quotes, Raw as written.
type Assignment struct{ Key, Value, Raw string }

var (
	// buildArgs is the prefix the classic builder and BuildKit put before a RUN step
	// that had build arguments: "|2 A=x B=y /bin/sh -c …". The values are not quoted
	// and may hold spaces.
	buildArgs = regexp.MustCompile(`^(?:RUN )?\|(\d+) `)
	keyStart  = regexp.MustCompile(`(?:^| )([A-Za-z_][A-Za-z0-9_]*)=`)
	// envStep is an ENV step of the classic builder: "/bin/sh -c #(nop)  ENV K=v".
	envStep = regexp.MustCompile(`#\(nop\)\s+ENV\s+`)
)

// Assignments lists the KEY=value pairs of a line. Build arguments and a single ENV
// assignment take the value up to the command or the end of the line, spaces and all;
// elsewhere a value ends at a space unless quoted.
func Assignments(s string) []Assignment {
	var out []Assignment
	rest := s
	if m := buildArgs.FindStringSubmatchIndex(s); m != nil {
		n := 0
		fmt.Sscan(s[m[2]:m[3]], &n)
		args := s[m[1]:]
		keys := keyStart.FindAllStringSubmatchIndex(args, -1)
		if n > len(keys) {
			n = len(keys)
		}
		end := len(args)
		for i := 0; i < n; i++ {
			from := keys[i][1]
			to := end
			if i+1 < n {
				to = keys[i+1][0]
			} else if j := strings.Index(args[from:], " /bin/sh -c "); j >= 0 {
				to = from + j
			} else if j := strings.IndexByte(args[from:], ' '); j >= 0 {
				to = from + j
			}
			raw := args[from:to]
			out = append(out, Assignment{Key: args[keys[i][2]:keys[i][3]], Value: strings.Trim(raw, `"'`), Raw: raw})
			rest = args[to:]
		}
	}
	if loc := envStep.FindStringIndex(rest); loc != nil {
		env := strings.TrimSpace(rest[loc[1]:])
		if ks := keyStart.FindAllStringSubmatchIndex(env, -1); len(ks) == 1 && ks[0][0] == 0 {
			raw := env[ks[0][1]:]
			return append(out, Assignment{Key: env[ks[0][2]:ks[0][3]], Value: strings.Trim(raw, `"'`), Raw: raw})
		}
	}
	for _, m := range assignment.FindAllStringSubmatch(rest, -1) {
		out = append(out, Assignment{Key: m[1], Value: strings.Trim(m[2], `"'`), Raw: m[2]})
	}
	return out
}

// inline are secrets written into command lines: credentials after -u/--user, a
// --password argument, mysql's -pPASSWORD, a password field in inline JSON, and an
// Authorization header. Group 1 is the secret.
var inline = []struct {
	kind string
	re   *regexp.Regexp
}{
	{"command-line-credentials", regexp.MustCompile(`(?:^|\s)(?:-u|--user)[\s=]+['"]?[^\s:'"]+:([^\s'"]+)`)},
	{"command-line-password", regexp.MustCompile(`(?:^|\s)--pass(?:word)?[\s=]+['"]?([^\s'"]+)`)},
	{"command-line-password", regexp.MustCompile(`\bmysql(?:dump|admin)?\s(?:[^|;&]*?\s)?-p([^\s'"]+)`)},
	{"json-secret", regexp.MustCompile(`(?i)\\?"(?:password|passwd|secret|token|api_?key|access_?key)\\?"\s*:\s*\\?"([^"\\]+)`)},
	{"authorization-header", regexp.MustCompile(`(?i)authorization:\s*(?:bearer|basic|token)\s+([^\s'"]+)`)},
	{"url-credentials", regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]*://[^/\s:@]+:([^/\s]+)@`)},
}

// Inline is a secret found in a command line.
type Inline struct{ Kind, Value string }

// InlineSecrets finds secrets passed on a command line (as image history shows RUN
// steps): user:password pairs, password arguments, inline JSON and headers.
func InlineSecrets(s string) []Inline {
	var out []Inline
	for _, r := range inline {
		for _, m := range r.re.FindAllStringSubmatch(s, -1) {
			if m[1] != "" && !placeholder([]byte(m[1])) {
				out = append(out, Inline{Kind: r.kind, Value: m[1]})
			}
		}
	}
	return out
}

// Redact masks what looks like a secret in text taken from an image, such as a
// history line shown as evidence: credentials in URLs, secret-named KEY=value
// assignments, secrets on command lines, and values shaped like known tokens
// wherever they are.
func Redact(s string) string {
	s = urlCredentials.ReplaceAllStringFunc(s, func(m string) string {
		scheme := urlCredentials.FindStringSubmatch(m)[1]
		return scheme + Redacted(strings.TrimSuffix(strings.TrimPrefix(m, scheme), "@")) + "@"
	})
	for _, a := range Assignments(s) {
		if SecretName(a.Key) && a.Value != "" {
			s = strings.ReplaceAll(s, a.Key+"="+a.Raw, a.Key+"="+Redacted(a.Value))
		}
	}
	for _, in := range InlineSecrets(s) {
		if !strings.HasPrefix(in.Value, "[redacted") {
			s = strings.ReplaceAll(s, in.Value, Redacted(in.Value))
		}
	}
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
