package advisory

import (
	"cmp"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

type secdb struct {
	DistroVersion string `json:"distroversion" yaml:"distroversion"`
	RepoName      string `json:"reponame" yaml:"reponame"`
	Packages      []struct {
		Pkg struct {
			Name     string              `json:"name" yaml:"name"`
			Secfixes map[string][]string `json:"secfixes" yaml:"secfixes"`
		} `json:"pkg" yaml:"pkg"`
	} `json:"packages" yaml:"packages"`
}

// vulnID is the part of a secfixes entry that names a vulnerability ("CVE-2019-1234"
// out of "CVE-2019-1234 (upstream)" or "XSA-123"); entries are hand-written.
var vulnID = regexp.MustCompile(`^(CVE-\d{4}-\d{4,}|GHSA(?:-[0-9a-z]{4}){3}|[A-Z][A-Z0-9]*-[0-9][0-9A-Za-z:.-]*)`)

// ParseAlpineSecDB reads an Alpine secdb file (https://secdb.alpinelinux.org/v3.NN/
// main.json; the YAML form has the same fields). Each secfixes key is the first
// version that fixes the listed ids, keyed by origin package; the key "0" means the
// id never affected the package. One record per id and package is emitted; ids that
// are not recognisable are counted in skipped. The records' source names the branch
// and repository ("alpine-secdb:v3.20/main"), so each file is a source of its own.
func ParseAlpineSecDB(b []byte, emit func(Record) error) (source string, skipped int, err error) {
	var db secdb
	if jerr := json.Unmarshal(b, &db); jerr != nil {
		if yerr := yaml.Unmarshal(b, &db); yerr != nil {
			return "", 0, fmt.Errorf("not an Alpine secdb file: %v", jerr)
		}
	}
	branch := db.DistroVersion
	if branch == "" {
		return "", 0, fmt.Errorf("not an Alpine secdb file: no distroversion")
	}
	if branch[0] >= '0' && branch[0] <= '9' {
		branch = "v" + branch
	}
	source = "alpine-secdb:" + branch + "/" + cmp.Or(db.RepoName, "main")
	eco := "Alpine:" + branch
	for _, p := range db.Packages {
		fixes := make([]string, 0, len(p.Pkg.Secfixes))
		for v := range p.Pkg.Secfixes {
			fixes = append(fixes, v)
		}
		sort.Strings(fixes)
		for _, fixed := range fixes {
			for _, entry := range p.Pkg.Secfixes[fixed] {
				id := vulnID.FindString(strings.TrimSpace(entry))
				if id == "" {
					skipped++
					continue
				}
				af := Affected{Ecosystem: eco, Package: p.Pkg.Name}
				if fixed == "0" {
					af.Status = "not-affected"
				} else {
					af.Status = "fixed"
					af.Ranges = []Range{{Type: "ECOSYSTEM", Events: []Event{{Introduced: "0"}, {Fixed: fixed}}}}
				}
				if err := emit(Record{ID: id, Source: source, Affected: []Affected{af}}); err != nil {
					return source, skipped, err
				}
			}
		}
	}
	return source, skipped, nil
}
