package advisory

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dockaudit/dockaudit/internal/facts"
)

// updateInfo is in the layout Amazon Linux and Oracle Linux repositories publish
// (repodata/…-updateinfo.xml.gz): one security update per release, a bug fix, and
// another vendor's update.
const updateInfo = `<?xml version="1.0" encoding="UTF-8"?>
<updates>
  <update author="amazon" from="alas@amazon.com" status="final" type="security" version="2.0">
    <id>ALAS2023-2024-512</id>
    <title>Amazon Linux 2023 - ALAS2023-2024-512: important priority package update for curl</title>
    <issued date="2024-02-15 19:34:00"/>
    <severity>important</severity>
    <description>Package updates are available for Amazon Linux 2023 that fix the following vulnerabilities: CVE-2024-0853</description>
    <references>
      <reference href="https://www.cve.org/CVERecord?id=CVE-2024-0853" id="CVE-2024-0853" title="" type="cve"/>
    </references>
    <pkglist>
      <collection short="amazon-linux-2023">
        <name>amazon-linux-2023</name>
        <package arch="x86_64" epoch="0" name="curl" release="1.amzn2023.0.1" version="8.5.0">
          <filename>Packages/curl-8.5.0-1.amzn2023.0.1.x86_64.rpm</filename>
        </package>
        <package arch="aarch64" epoch="0" name="curl" release="1.amzn2023.0.1" version="8.5.0"/>
        <package arch="x86_64" epoch="0" name="libcurl" release="1.amzn2023.0.1" version="8.5.0"/>
      </collection>
    </pkglist>
  </update>
  <update author="amazon" from="alas@amazon.com" status="final" type="security" version="2.0">
    <id>ALAS2-2023-2100</id>
    <title>Amazon Linux 2 - ALAS2-2023-2100: medium priority package update for bind</title>
    <severity>medium</severity>
    <references><reference id="CVE-2023-2828" type="cve"/><reference id="CVE-2023-2911" type="cve"/></references>
    <pkglist><collection short="amazon-linux-2"><package arch="x86_64" epoch="32" name="bind-libs" release="26.P2.amzn2.13.5" version="9.11.4"/></collection></pkglist>
  </update>
  <update from="el-errata@oss.oracle.com" status="final" type="security" version="2">
    <id>ELSA-2024-1234</id>
    <title>openssl security update</title>
    <severity>Moderate</severity>
    <references><reference href="https://linux.oracle.com/cve/CVE-2023-5678.html" id="CVE-2023-5678" type="cve"/></references>
    <pkglist><collection short="el9"><package arch="x86_64" epoch="1" name="openssl-libs" release="24.el9_3" version="3.0.7"/></collection></pkglist>
  </update>
  <update from="alas@amazon.com" status="final" type="bugfix" version="2.0">
    <id>ALAS2023-2024-513</id>
    <pkglist><collection><package arch="x86_64" epoch="0" name="vim" release="1.amzn2023" version="9.0"/></collection></pkglist>
  </update>
  <update from="security@example.com" status="final" type="security" version="1">
    <id>EXAMPLE-2024-1</id>
    <pkglist><collection><package arch="x86_64" epoch="0" name="x" release="1" version="1"/></collection></pkglist>
  </update>
</updates>
`

func TestParseUpdateInfo(t *testing.T) {
	var got []string
	skipped, err := ParseUpdateInfo(bytes.NewReader([]byte(updateInfo)), func(r Record) error {
		for _, a := range r.Affected {
			got = append(got, r.ID+" "+r.Source+" "+r.Severity+" "+a.Ecosystem+" "+a.Package+" fixed="+a.Fixed()+" "+strings.Join(r.Aliases, ","))
		}
		return nil
	})
	want := []string{
		"ALAS2023-2024-512 updateinfo:amazon high Amazon Linux:2023 curl fixed=8.5.0-1.amzn2023.0.1 CVE-2024-0853",
		"ALAS2023-2024-512 updateinfo:amazon high Amazon Linux:2023 libcurl fixed=8.5.0-1.amzn2023.0.1 CVE-2024-0853",
		"ALAS2-2023-2100 updateinfo:amazon medium Amazon Linux:2 bind-libs fixed=32:9.11.4-26.P2.amzn2.13.5 CVE-2023-2828,CVE-2023-2911",
		"ELSA-2024-1234 updateinfo:oracle medium Oracle Linux:9 openssl-libs fixed=1:3.0.7-24.el9_3 CVE-2023-5678",
	}
	if d := cmp.Diff(want, got); d != "" || err != nil || skipped != 2 {
		t.Errorf("records (-want +got):\n%s\nskipped %d, err %v", d, skipped, err)
	}
	for name, doc := range map[string]string{"no root": "<other/>", "broken": "<updates><update><id>ALAS-1", "": ""} {
		if _, err := ParseUpdateInfo(bytes.NewReader([]byte(doc)), func(Record) error { return nil }); err == nil {
			t.Errorf("%q: no error", name)
		}
	}
}

// gzipped is s compressed, as repositories serve updateinfo.xml.gz.
func gzipped(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

// TestUpdateInfoMatches: db import of a gzip-compressed updateinfo.xml, then Amazon
// Linux and Oracle Linux packages matched by binary name in rpm's version order, and
// a release without advisories said to be uncovered, with what to import.
func TestUpdateInfoMatches(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "0123abcd-updateinfo.xml.gz"), gzipped(updateInfo), 0o644)
	b := NewBuilder()
	srcs, err := LoadPath(context.Background(), b, dir, now)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range srcs {
		names = append(names, s.Name)
		b.AddSource(s)
	}
	if d := cmp.Diff([]string{"updateinfo:amazon", "updateinfo:oracle", "updateinfo"}, names); d != "" {
		t.Errorf("sources (-want +got):\n%s", d)
	}
	if err := b.Install(filepath.Join(dir, "db"), now); err != nil {
		t.Fatal(err)
	}
	s, err := Open(filepath.Join(dir, "db", FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rpm := func(name, v string) facts.Package { return facts.Package{Name: name, Version: v, Type: "rpm"} }
	al2023 := facts.OS{ID: "amzn", VersionID: "2023"}
	expect(t, match(t, s, al2023, rpm("libcurl", "8.3.0-1.amzn2023.0.2")), "CVE-2024-0853 fixed fixed=8.5.0-1.amzn2023.0.1 sev=high aliases=ALAS2023-2024-512")
	expect(t, match(t, s, al2023, rpm("libcurl", "8.5.0-1.amzn2023.0.1")))
	expect(t, match(t, s, facts.OS{ID: "amzn", VersionID: "2"}, rpm("bind-libs", "32:9.11.4-26.P2.amzn2.13.4")),
		"CVE-2023-2828 fixed fixed=32:9.11.4-26.P2.amzn2.13.5 sev=medium aliases=ALAS2-2023-2100,CVE-2023-2911")
	expect(t, match(t, s, facts.OS{ID: "ol", VersionID: "9.3"}, rpm("openssl-libs", "1:3.0.7-18.0.1.el9")), "CVE-2023-5678 fixed fixed=1:3.0.7-24.el9_3 sev=medium aliases=ELSA-2024-1234")
	im := &facts.Image{Content: &facts.ImageContent{OS: facts.OS{ID: "ol", VersionID: "8.9"}, Packages: []facts.Package{rpm("bash", "4.4.20-4.el8")}}}
	s.MatchImage(im)
	want := []facts.Coverage{{Ecosystem: "Oracle Linux:8", Packages: 1, Uncovered: "the database has no advisories for Oracle Linux:8 (dockaudit db import the repositories' repodata/…-updateinfo.xml.gz)"}}
	if d := cmp.Diff(want, im.VulnDB.Coverage); d != "" {
		t.Errorf("Oracle Linux 8 coverage (-want +got):\n%s", d)
	}
}

func FuzzUpdateInfo(f *testing.F) {
	f.Add([]byte(updateInfo))
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseUpdateInfo(bytes.NewReader(b), func(Record) error { return nil })
	})
}

// TestUpdateInfoRepos: db update finds each repository's updateinfo through its
// repodata/repomd.xml (and Amazon's mirror.list), keeps each repository as a source of
// its own, and a repository that fails keeps its previous copy while the other is
// installed; a location outside the repository is refused.
func TestUpdateInfoRepos(t *testing.T) {
	repomd := `<?xml version="1.0" encoding="UTF-8"?><repomd xmlns="http://linux.duke.edu/metadata/repo">
<data type="primary"><location href="repodata/abc-primary.xml.gz"/></data>
<data type="updateinfo"><location href="repodata/5f3c-updateinfo.xml.gz"/></data></repomd>`
	f := &feeds{files: map[string][]byte{}, hits: map[string]int{}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	f.files["/al2023/mirror.list"] = []byte(srv.URL + "/al2023/mirror/x86_64\n")
	f.files["/al2023/mirror/x86_64/repodata/repomd.xml"] = []byte(repomd)
	f.files["/al2023/mirror/x86_64/repodata/5f3c-updateinfo.xml.gz"] = gzipped(updateInfo)
	f.files["/ol9/repodata/repomd.xml"] = []byte(repomd)
	f.files["/ol9/repodata/5f3c-updateinfo.xml.gz"] = []byte(updateInfo) // served uncompressed
	dir := t.TempDir()
	o := UpdateOptions{Dir: dir, UpdateInfoRepos: []string{srv.URL + "/al2023/mirror.list", srv.URL + "/ol9/"}, Now: func() time.Time { return now }}
	res, err := Update(context.Background(), o)
	if err != nil || len(res.Failed) != 0 {
		t.Fatalf("update: %v %+v", err, res.Failed)
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	var got []string
	for _, s := range res.Meta.Sources {
		got = append(got, fmt.Sprintf("%s %d", s.Name, s.Records))
	}
	want := []string{"updateinfo:" + host + "/al2023", "updateinfo:" + host + "/ol9"}
	for i := range want {
		want[i] += " 3"
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("sources (-want +got):\n%s", d)
	}
	// Oracle's repository goes wrong: its previous copy stays.
	f.files["/ol9/repodata/repomd.xml"] = []byte(`<repomd><data type="updateinfo"><location href="../../etc/passwd"/></data></repomd>`)
	res, err = Update(context.Background(), o)
	if err != nil || len(res.Failed) != 1 || !res.Failed[0].Kept || res.Failed[0].Err.Error() != `repomd.xml: updateinfo location "../../etc/passwd" is not inside the repository` {
		t.Fatalf("second update: %v %+v", err, res.Failed)
	}
	// A mirror list fetched over HTTPS may not send the download to plain HTTP.
	tls := httptest.NewTLSServer(f)
	defer tls.Close()
	f.files["/al2/mirror.list"] = []byte(srv.URL + "/al2023/mirror/x86_64\n")
	res, err = Update(context.Background(), UpdateOptions{Dir: t.TempDir(), UpdateInfoRepos: []string{tls.URL + "/al2/mirror.list"}, Client: tls.Client(), Now: o.Now})
	if err == nil || len(res.Failed) != 1 || res.Failed[0].Err.Error() != tls.URL+"/al2/mirror.list names a plain-HTTP mirror ("+srv.URL+"/al2023/mirror/x86_64): refused" {
		t.Fatalf("downgrade: %v %+v", err, res.Failed)
	}
	s, err := Open(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	expect(t, match(t, s, facts.OS{ID: "ol", VersionID: "9.3"}, facts.Package{Name: "openssl-libs", Version: "1:3.0.7-18.el9", Type: "rpm"}),
		"CVE-2023-5678 fixed fixed=1:3.0.7-24.el9_3 sev=medium aliases=ELSA-2024-1234")
}
