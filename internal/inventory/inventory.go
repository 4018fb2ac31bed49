package inventory

import (
	"bufio"
	"bytes"
	"strings"

	"github.com/dockaudit/dockaudit/internal/facts"
)

// ParseOSRelease reads an os-release file (key=value lines, values possibly quoted).
func ParseOSRelease(b []byte) facts.OS {
	kv := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		kv[strings.TrimSpace(k)] = strings.NewReplacer(`\"`, `"`, `\$`, `$`, `\\`, `\`, "\\`", "`").Replace(v)
	}
	os := facts.OS{ID: strings.ToLower(kv["ID"]), VersionID: kv["VERSION_ID"], Codename: kv["VERSION_CODENAME"], PrettyName: kv["PRETTY_NAME"]}
	if like := strings.Fields(strings.ToLower(kv["ID_LIKE"])); len(like) > 0 {
		os.IDLike = like
	}
	return os
}

// paragraphs splits RFC 822 style stanzas (dpkg status, apk installed use blank lines).
func paragraphs(b []byte) [][]byte {
	var out [][]byte
	for _, p := range bytes.Split(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), []byte("\n\n")) {
		if len(bytes.TrimSpace(p)) > 0 {
			out = append(out, p)
		}
	}
	return out
}
