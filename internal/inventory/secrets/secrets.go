package secrets

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
)

// Match is one secret found in a file.
type Match struct {
	Kind   string `json:"kind"`
	Line   int    `json:"line,omitempty"`   // 1-based; 0 when not line-oriented
	Hash   string `json:"hash"`             // sha256 of the secret, first 12 hex digits
	Length int    `json:"length"`           // of the secret, in bytes
	Detail string `json:"detail,omitempty"` // non-secret context: the registry, the variable name
}

type rule struct {
	kind     string
	keywords []string // at least one must appear before the regexp runs
	re       *regexp.Regexp
	group    int // capture group holding the secret (0: the whole match)
}

var rules = []rule{
	{"private-key", []string{"PRIVATE KEY"}, regexp.MustCompile(`-----BEGIN ((?:RSA|EC|DSA|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY(?: BLOCK)?-----[\s\S]*?-----END[^-]*-----`), 0},
	{"aws-access-key-id", []string{"AKIA", "ASIA"}, regexp.MustCompile(`\b((?:AKIA|ASIA)[0-9A-Z]{16})\b`), 1},
	{"aws-secret-access-key", []string{"ecret_access_key", "ecretAccessKey"}, regexp.MustCompile(`(?i)aws_?secret_?access_?key["']?\s*[:=]\s*["']?([A-Za-z0-9/+=]{40})\b`), 1},
	{"github-token", []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"}, regexp.MustCompile(`\b(gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b`), 1},
	{"gitlab-token", []string{"glpat-"}, regexp.MustCompile(`\b(glpat-[A-Za-z0-9_-]{20,})`), 1},
	{"slack-token", []string{"xox"}, regexp.MustCompile(`\b(xox[baprs]-[A-Za-z0-9-]{10,})\b`), 1},
	{"google-api-key", []string{"AIza"}, regexp.MustCompile(`\b(AIza[0-9A-Za-z_-]{35})\b`), 1},
	{"stripe-key", []string{"_live_"}, regexp.MustCompile(`\b((?:sk|rk)_live_[0-9a-zA-Z]{24,})\b`), 1},
	{"pypi-token", []string{"pypi-"}, regexp.MustCompile(`\b(pypi-AgE[A-Za-z0-9_-]{50,})`), 1},
}

var (
	npmAuth       = regexp.MustCompile(`(?m)^\s*(?:\S*:)?(_authToken|_auth|_password)\s*=\s*(\S+)`)
	pypircPass    = regexp.MustCompile(`(?mi)^\s*password\s*[:=]\s*(\S+)`)
	netrcPass     = regexp.MustCompile(`(?m)\bpassword\s+(\S+)`)
	gitCredential = regexp.MustCompile(`://[^:/\s]+:([^@\s]+)@`)
	envLine       = regexp.MustCompile(`(?m)^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*(.*)$`)
	secretName    = regexp.MustCompile(`(?i)(passw(or)?d|passwd|secret|token|api_?key|access_?key|private_?key|credential)`)
)

// Candidate reports whether a file's name alone makes it worth scanning wherever it
// is (private keys, .env files, credential files).
func Candidate(p string) bool {
	base := path.Base(p)
	switch base {
	case "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", ".env", ".npmrc", ".pypirc", ".netrc", ".git-credentials", "credentials":
		return true
	case "config.json":
		return path.Base(path.Dir(p)) == ".docker"
	}
	ext := path.Ext(base)
	return ext == ".pem" || ext == ".key" || strings.HasPrefix(base, ".env.")
}

// Scan returns the secrets in a file's content, in order of appearance.
func Scan(p string, data []byte) []Match {
	var out []Match
	base := path.Base(p)
	for _, r := range rules {
		if !containsAny(data, r.keywords) {
			continue
		}
		for _, loc := range r.re.FindAllSubmatchIndex(data, 50) {
			s, e := loc[2*r.group], loc[2*r.group+1]
			if s < 0 {
				continue
			}
			out = append(out, match(r.kind, data, s, e, ""))
		}
	}
	switch {
	case base == ".npmrc":
		for _, loc := range npmAuth.FindAllSubmatchIndex(data, 50) {
			if v := data[loc[4]:loc[5]]; !placeholder(v) {
				out = append(out, match("npm-credentials", data, loc[4], loc[5], string(data[loc[2]:loc[3]])))
			}
		}
	case base == ".pypirc":
		for _, loc := range pypircPass.FindAllSubmatchIndex(data, 50) {
			if v := data[loc[2]:loc[3]]; !placeholder(v) {
				out = append(out, match("pypi-password", data, loc[2], loc[3], ""))
			}
		}
	case base == ".netrc" || base == ".git-credentials":
		re := netrcPass
		if base == ".git-credentials" {
			re = gitCredential
		}
		for _, loc := range re.FindAllSubmatchIndex(data, 50) {
			out = append(out, match("password-file", data, loc[2], loc[3], ""))
		}
	case base == "config.json" && path.Base(path.Dir(p)) == ".docker":
		out = append(out, dockerConfig(data)...)
	case base == ".env" || strings.HasPrefix(base, ".env."):
		for _, loc := range envLine.FindAllSubmatchIndex(data, 500) {
			key := string(data[loc[2]:loc[3]])
			val := bytes.Trim(bytes.TrimSpace(data[loc[4]:loc[5]]), `"'`)
			if secretName.MatchString(key) && !strings.HasSuffix(strings.ToUpper(key), "_FILE") && !placeholder(val) {
				s := loc[4] + bytes.Index(data[loc[4]:loc[5]], val)
				out = append(out, match("env-file-secret", data, s, s+len(val), key))
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return dedupe(out)
}

// dockerConfig reports registries whose credentials are stored in the file itself
// ("auth" or "identitytoken") rather than in a credential helper.
func dockerConfig(data []byte) []Match {
	var cfg struct {
		Auths map[string]struct {
			Auth          string `json:"auth"`
			IdentityToken string `json:"identitytoken"`
			Password      string `json:"password"`
		} `json:"auths"`
	}
	if json.Unmarshal(data, &cfg) != nil {
		return nil
	}
	var out []Match
	for reg, a := range cfg.Auths {
		secret := a.Auth + a.IdentityToken + a.Password
		if secret == "" {
			continue
		}
		if dec, err := base64.StdEncoding.DecodeString(a.Auth); err == nil && a.Auth != "" && !bytes.Contains(dec, []byte(":")) {
			continue // not user:password
		}
		out = append(out, Match{Kind: "docker-registry-credentials", Hash: hash([]byte(secret)), Length: len(secret), Detail: reg})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Detail < out[j].Detail })
	return out
}

func match(kind string, data []byte, s, e int, detail string) Match {
	return Match{Kind: kind, Line: 1 + bytes.Count(data[:s], []byte("\n")), Hash: hash(data[s:e]), Length: e - s, Detail: detail}
}

func hash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:12]
}

// placeholder reports values that are obviously not secrets.
func placeholder(v []byte) bool {
	s := strings.TrimSpace(string(v))
	if s == "" || strings.HasPrefix(s, "$") || strings.HasPrefix(s, "<") || strings.HasPrefix(s, "{{") {
		return true
	}
	return strings.Trim(s, string(s[0])) == "" || strings.EqualFold(s, "changeme") || strings.EqualFold(s, "password")
}

func containsAny(b []byte, keys []string) bool {
	for _, k := range keys {
		if bytes.Contains(b, []byte(k)) {
			return true
		}
	}
	return false
}

func dedupe(ms []Match) []Match {
	seen := map[string]bool{}
	out := ms[:0]
	for _, m := range ms {
		// One value is one secret: a second kind for it on the same line (an AWS key in
		// a .env file is also a secret-named variable) adds nothing; the first, most
		// specific kind stays.
		k, at := m.Kind+"\x00"+m.Hash, fmt.Sprintf("%d\x00%s", m.Line, m.Hash)
		if !seen[k] && !seen[at] {
			seen[k], seen[at] = true, true
			out = append(out, m)
		}
	}
	return out
}
