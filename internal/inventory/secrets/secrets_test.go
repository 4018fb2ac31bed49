package secrets

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Fake credentials in the shapes the rules look for; none is real.
const (
	fakeKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n"
	fakeGH  = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"
)

func kinds(ms []Match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Kind+"@"+itoa(m.Line)+":"+m.Detail)
	}
	return out
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestScan(t *testing.T) {
	tests := []struct {
		path, content string
		want          []string
	}{
		{"/root/.ssh/id_ed25519", fakeKey, []string{"private-key@1:"}},
		{"/app/settings.py", "DEBUG=1\nGITHUB = '" + fakeGH + "'\nAWS_KEY = 'AKIAABCDEFGHIJKLMNOP'\n", []string{"github-token@2:", "aws-access-key-id@3:"}},
		{"/app/.aws/credentials", "[default]\naws_access_key_id = AKIAABCDEFGHIJKLMNOP\naws_secret_access_key = abcdefghijABCDEFGHIJabcdefghij0123456789\n",
			[]string{"aws-access-key-id@2:", "aws-secret-access-key@3:"}},
		{"/srv/.env", "PORT=8080\nDB_PASSWORD=s3cr3t-value\nAPI_TOKEN=\nSECRET_FILE=/run/secrets/x\nTOKEN=${FROM_ENV}\n", []string{"env-file-secret@2:DB_PASSWORD"}},
		{"/home/u/.npmrc", "registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=npm_abcdef0123456789\n", []string{"npm-credentials@2:_authToken"}},
		{"/home/u/.pypirc", "[pypi]\nusername = __token__\npassword = pypi-AgEIcHlwaS5vcmcCJGYzNzE0ZGE0LWFkYzMtNGZjOS05OWQ5LWU5MTJhYzg1YjQ2NwACKlszLCJlZDU\n",
			[]string{"pypi-token@3:"}}, // one value, reported once, by its most specific kind,
		{"/etc/nothing", "just text with the word token in it\n", nil},
		{"/etc/ssl/certs/ca.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", nil},
	}
	for _, tt := range tests {
		if d := cmp.Diff(tt.want, kinds(Scan(tt.path, []byte(tt.content)))); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.path, d)
		}
	}
}

func TestDockerConfig(t *testing.T) {
	cfg := `{"auths": {"registry.example.com": {"auth": "YWxpY2U6czNjcmV0"}, "ghcr.io": {}, "quay.io": {"identitytoken": "eyJhbGciOi"}}, "credsStore": ""}`
	got := Scan("/root/.docker/config.json", []byte(cfg))
	if d := cmp.Diff([]string{"docker-registry-credentials@0:quay.io", "docker-registry-credentials@0:registry.example.com"}, kinds(got)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if Scan("/app/config.json", []byte(cfg)) != nil {
		t.Error("a config.json outside .docker is not Docker's")
	}
}

// TestNoSecretInMatch: a match carries a hash, never the value.
func TestNoSecretInMatch(t *testing.T) {
	ms := Scan("/x/.env", []byte("export GITHUB_TOKEN="+fakeGH+"\n"))
	b, _ := json.Marshal(ms)
	if len(ms) == 0 || strings.Contains(string(b), fakeGH) || strings.Contains(string(b), "0123456789abcdef") {
		t.Errorf("matches %s", b)
	}
	if ms[0].Hash != "6ec359a75c2e" || ms[0].Length != len(fakeGH) {
		t.Errorf("hash %s length %d", ms[0].Hash, ms[0].Length)
	}
}

func TestCandidate(t *testing.T) {
	for p, want := range map[string]bool{
		"/root/.ssh/id_rsa": true, "/root/.ssh/id_rsa.pub": false, "/app/.env": true, "/app/.env.production": true,
		"/root/.docker/config.json": true, "/app/config.json": false, "/etc/ssl/private/server.key": true, "/usr/bin/env": false,
	} {
		if Candidate(p) != want {
			t.Errorf("Candidate(%s) = %v", p, !want)
		}
	}
}

func FuzzScan(f *testing.F) {
	f.Add("/a/.env", []byte("A_TOKEN=x\n"))
	f.Add("/root/.docker/config.json", []byte(`{"auths":{"r":{"auth":"YTpi"}}}`))
	f.Add("/a/b", []byte(fakeKey+fakeGH))
	f.Fuzz(func(t *testing.T, p string, b []byte) {
		for _, m := range Scan(p, b) {
			if m.Length > 0 && strings.Contains(m.Detail, string(b)) && len(b) > 8 {
				t.Fatalf("detail carries the content: %+v", m)
			}
		}
	})
}

func TestRedact(t *testing.T) {
	const gh = "ghp_0123456789abcdefghijABCDEFGHIJ012345"
	for in, want := range map[string]string{
		"/bin/sh -c curl -H 'Authorization: token " + gh + "' https://x": "/bin/sh -c curl -H 'Authorization: token [redacted: 40 characters, sha256:d8fe76b428b9]' https://x",
		"|2 DB_PASSWORD=hunter2 MODE=prod /bin/sh -c make":               "|2 DB_PASSWORD=[redacted: 7 characters, sha256:f52fbd32b2b3] MODE=prod /bin/sh -c make",
		"ADD https://bob:s3cret@example.com/a.tgz /":                     "ADD https://[redacted: 10 characters, sha256:0ab68c22ef6b]@example.com/a.tgz /",
		// A password holding '@': the credentials run to the last '@' of the authority.
		"ADD https://bob:p@ssw0rd@example.com/a.tgz /": "ADD https://[redacted: 12 characters, sha256:e46fe00e7c72]@example.com/a.tgz /",
		"TOKEN_FILE=/run/secrets/token apt-get update": "TOKEN_FILE=/run/secrets/token apt-get update",
		// Build arguments and ENV values are not quoted in history and may hold spaces.
		"|2 DB_PASSWORD=two words secret MODE=a b /bin/sh -c make": "|2 DB_PASSWORD=" + Redacted("two words secret") + " MODE=a b /bin/sh -c make",
		"/bin/sh -c #(nop)  ENV X_PASSWORD=a b c":                  "/bin/sh -c #(nop)  ENV X_PASSWORD=" + Redacted("a b c"),
		"RUN |1 API_KEY=k3y with space /bin/sh -c true":            "RUN |1 API_KEY=" + Redacted("k3y with space") + " /bin/sh -c true",
		// Secrets on command lines.
		"/bin/sh -c curl -u admin:CurlPassw0rd https://x/":      "/bin/sh -c curl -u admin:" + Redacted("CurlPassw0rd") + " https://x/",
		"/bin/sh -c mysql -h db -uroot -pMysqlPassw0rd < x.sql": "/bin/sh -c mysql -h db -uroot -p" + Redacted("MysqlPassw0rd") + " < x.sql",
		`/bin/sh -c echo '{"password": "JsonPassw0rd"}' > c`:    `/bin/sh -c echo '{"password": "` + Redacted("JsonPassw0rd") + `"}' > c`,
		"/bin/sh -c app --password=Sw0rdfish --port 80":         "/bin/sh -c app --password=" + Redacted("Sw0rdfish") + " --port 80",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q)\n got %q\nwant %q", in, got, want)
		}
	}
	if a := Assignments(`ENV A="x y" B=2`); len(a) != 2 || a[0] != (Assignment{"A", "x y", `"x y"`}) || a[1] != (Assignment{"B", "2", "2"}) {
		t.Errorf("assignments = %+v", a)
	}
}
