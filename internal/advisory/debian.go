package advisory

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
)

// DebianReleases maps codenames to release numbers (distro-info-data's debian.csv).
var DebianReleases = map[string]string{
	"buzz": "1.1", "rex": "1.2", "bo": "1.3", "hamm": "2.0", "slink": "2.1", "potato": "2.2", "woody": "3.0", "sarge": "3.1",
	"etch": "4", "lenny": "5", "squeeze": "6", "wheezy": "7", "jessie": "8", "stretch": "9", "buster": "10",
	"bullseye": "11", "bookworm": "12", "trixie": "13", "forky": "14", "duke": "15",
}

type trackerRelease struct {
	Status       string            `json:"status"`
	Repositories map[string]string `json:"repositories"`
	FixedVersion string            `json:"fixed_version"`
	Urgency      string            `json:"urgency"`
	NoDSA        string            `json:"nodsa"`
	NoDSAReason  string            `json:"nodsa_reason"`
}

type trackerIssue struct {
	Description string          `json:"description"`
	Releases    trackerReleases `json:"releases"`
}

// trackerReleases is the releases object; the tracker writes an empty one as [].
type trackerReleases map[string]trackerRelease

func (r *trackerReleases) UnmarshalJSON(b []byte) error {
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '[' {
		var empty []json.RawMessage
		if err := json.Unmarshal(t, &empty); err != nil {
			return err
		}
		if len(empty) > 0 {
			return fmt.Errorf("releases is a non-empty array")
		}
		*r = nil
		return nil
	}
	return json.Unmarshal(b, (*map[string]trackerRelease)(r))
}

// ParseDebianTracker reads the Debian security tracker's JSON
// (https://security-tracker.debian.org/tracker/data/json): {source: {CVE: {releases:
// {codename: {status, fixed_version, urgency, nodsa, nodsa_reason, repositories}}}}}.
// It streams the top-level object, one source package at a time, and calls emit with
// one record per issue and package. Releases without a number (sid) are skipped.
func ParseDebianTracker(r io.Reader, emit func(Record) error) error {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 1<<20))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("not Debian security tracker JSON: %v", errOr(err, "no top-level object"))
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fmt.Errorf("Debian tracker JSON: %w", err)
		}
		source, _ := t.(string)
		var issues map[string]trackerIssue
		if err := dec.Decode(&issues); err != nil {
			return fmt.Errorf("Debian tracker JSON, package %s: %w", source, err)
		}
		ids := make([]string, 0, len(issues))
		for id := range issues {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			if rec, ok := trackerRecord(source, id, issues[id]); ok {
				if err := emit(rec); err != nil {
					return err
				}
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("Debian tracker JSON: %w", err)
	}
	return nil
}

func errOr(err error, s string) string {
	if err != nil {
		return err.Error()
	}
	return s
}

// trackerRecord turns one issue of one source package into a record whose affected
// entries carry Debian's own verdict per release.
func trackerRecord(source, id string, is trackerIssue) (Record, bool) {
	rec := Record{ID: id, Summary: firstLine(is.Description), Source: "debian-tracker"}
	codenames := make([]string, 0, len(is.Releases))
	for c := range is.Releases {
		codenames = append(codenames, c)
	}
	sort.Strings(codenames)
	for _, codename := range codenames {
		rel := is.Releases[codename]
		num, ok := DebianReleases[codename]
		if !ok {
			continue
		}
		af := Affected{Ecosystem: "Debian:" + num, Package: source, Severity: NormalizeSeverity(rel.Urgency)}
		urgency := strings.TrimSuffix(rel.Urgency, "**")
		switch {
		case rel.Status == "resolved" && (rel.FixedVersion == "0" || rel.FixedVersion == ""):
			af.Status = "not-affected"
		case rel.Status == "resolved":
			af.Status = "fixed"
			af.Ranges = []Range{{Type: "ECOSYSTEM", Events: []Event{{Introduced: "0"}, {Fixed: rel.FixedVersion}}}}
		case urgency == "end-of-life":
			af.Status = "end-of-life"
			af.Note = "Debian no longer supports this package in " + codename
		case rel.NoDSAReason == "ignored":
			af.Status = "wont-fix"
			af.Note = strings.TrimSpace("no DSA, ignored: " + rel.NoDSA)
		case rel.NoDSAReason == "postponed":
			af.Status = "fix-deferred"
			af.Note = strings.TrimSpace("no DSA, postponed: " + rel.NoDSA)
		case rel.NoDSA != "":
			af.Status = "no-dsa"
			af.Note = "no DSA: " + rel.NoDSA
		case rel.Status == "undetermined":
			af.Status = "undetermined"
		default:
			af.Status = "unfixed"
		}
		if af.Ranges == nil && af.Status != "not-affected" {
			af.Ranges = []Range{{Type: "ECOSYSTEM", Events: []Event{{Introduced: "0"}}}}
		}
		for _, v := range rel.Repositories {
			af.Released = append(af.Released, v)
		}
		sort.Strings(af.Released)
		rec.Affected = append(rec.Affected, af)
	}
	return rec, len(rec.Affected) > 0
}

var (
	dsaHeader = regexp.MustCompile(`^\[[^\]]+\] ((?:DSA|DLA)-[0-9]+-[0-9]+) (\S+)`)
	dsaCVEs   = regexp.MustCompile(`^\s+\{([^}]*)\}`)
	dsaFix    = regexp.MustCompile(`^\s+\[([a-z]+)\] - (\S+) (\S+)`)
)

// ParseDSAList reads the tracker's text lists of advisories (data/DSA/list,
// data/DLA/list): each advisory with its CVEs and, per release, the source package
// version that fixes it. "<not-affected>" and similar markers are not fixes.
func ParseDSAList(r io.Reader, emit func(Record) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var cur *Record
	flush := func() error {
		if cur != nil && len(cur.Affected) > 0 {
			cur.Aliases = sortedUnique(cur.Aliases)
			if err := emit(*cur); err != nil {
				return err
			}
		}
		cur = nil
		return nil
	}
	for sc.Scan() {
		line := sc.Text()
		if m := dsaHeader.FindStringSubmatch(line); m != nil {
			if err := flush(); err != nil {
				return err
			}
			summary := strings.TrimSpace(line[strings.Index(line, m[2]):])
			cur = &Record{ID: m[1], Summary: summary, Source: "debian-" + strings.ToLower(m[1][:3])}
			continue
		}
		if cur == nil {
			continue
		}
		if m := dsaCVEs.FindStringSubmatch(line); m != nil {
			cur.Aliases = append(cur.Aliases, strings.Fields(m[1])...)
			continue
		}
		if m := dsaFix.FindStringSubmatch(line); m != nil {
			num, ok := DebianReleases[m[1]]
			if !ok || strings.HasPrefix(m[3], "<") {
				continue
			}
			cur.Affected = append(cur.Affected, Affected{Ecosystem: "Debian:" + num, Package: m[2], Status: "fixed",
				Ranges: []Range{{Type: "ECOSYSTEM", Events: []Event{{Introduced: "0"}, {Fixed: m[3]}}}}})
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return flush()
}

// looksLikeDebianTracker tells the tracker's JSON from OSV and secdb by its shape.
func looksLikeDebianTracker(head []byte) bool {
	return bytes.Contains(head, []byte(`"releases"`)) && !bytes.Contains(head, []byte(`"affected"`)) && !bytes.Contains(head, []byte(`"secfixes"`))
}
