package advisory

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
)

// rpm-md updateinfo.xml is the advisory list RPM repositories publish beside their
// packages (repodata/…-updateinfo.xml.gz): Amazon Linux's ALAS and Oracle Linux's ELSA
// advisories are read from it. Each <update> names the binary packages, with the
// epoch, version and release that fix it, in <pkglist>; the release the advisory is
// for is in its ID (ALAS2023-…) for Amazon and in the packages' release (.el9) for
// Oracle.

// maxUpdateInfo bounds one updateinfo document (Amazon Linux 2's is about 30 MB).
const maxUpdateInfo = 512 << 20

type uiUpdate struct {
	Type     string `xml:"type,attr"`
	ID       string `xml:"id"`
	Title    string `xml:"title"`
	Severity string `xml:"severity"`
	Issued   struct {
		Date string `xml:"date,attr"`
	} `xml:"issued"`
	Refs []struct {
		Type string `xml:"type,attr"`
		ID   string `xml:"id,attr"`
	} `xml:"references>reference"`
	Pkgs []struct {
		Name    string `xml:"name,attr"`
		Epoch   string `xml:"epoch,attr"`
		Version string `xml:"version,attr"`
		Release string `xml:"release,attr"`
	} `xml:"pkglist>collection>package"`
}

var (
	alasID    = regexp.MustCompile(`^ALAS(2023|2022|2)?-\d{4}-\d+$`)
	elRelease = regexp.MustCompile(`\.el(\d+)`)
)

// ParseUpdateInfo streams an updateinfo.xml and calls add with each security update
// of a vendor it knows (Amazon Linux, Oracle Linux); it returns how many updates it
// passed over (not security, or of another vendor, or without packages).
func ParseUpdateInfo(r io.Reader, add func(Record) error) (skipped int, err error) {
	d := xml.NewDecoder(io.LimitReader(r, maxUpdateInfo))
	seenRoot := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			if !seenRoot {
				return skipped, errors.New("updateinfo: no <updates> element")
			}
			return skipped, nil
		}
		if err != nil {
			return skipped, fmt.Errorf("updateinfo: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "updates":
			seenRoot = true
			continue
		case "update":
		default:
			if err := d.Skip(); err != nil {
				return skipped, fmt.Errorf("updateinfo: %w", err)
			}
			continue
		}
		var u uiUpdate
		if err := d.DecodeElement(&u, &se); err != nil {
			return skipped, fmt.Errorf("updateinfo: %w", err)
		}
		rec, ok := updateRecord(u)
		if !ok {
			skipped++
			continue
		}
		if err := add(rec); err != nil {
			return skipped, err
		}
	}
}

// updateRecord turns one update into a record: per package name, fixed at the
// update's epoch:version-release, in the release's ecosystem.
func updateRecord(u uiUpdate) (Record, bool) {
	id := strings.TrimSpace(u.ID)
	if u.Type != "security" || id == "" || len(u.Pkgs) == 0 {
		return Record{}, false
	}
	var eco, source string
	switch {
	case alasID.MatchString(id):
		rel := alasID.FindStringSubmatch(id)[1]
		if rel == "" {
			rel = "1"
		}
		eco, source = "Amazon Linux:"+rel, "updateinfo:amazon"
	case strings.HasPrefix(id, "ELSA-"):
		m := elRelease.FindStringSubmatch(u.Pkgs[0].Release)
		if m == nil {
			return Record{}, false
		}
		eco, source = "Oracle Linux:"+m[1], "updateinfo:oracle"
	default:
		return Record{}, false
	}
	r := Record{ID: id, Summary: strings.TrimSpace(u.Title), Severity: NormalizeSeverity(u.Severity), Published: u.Issued.Date, Source: source}
	for _, ref := range u.Refs {
		if ref.Type == "cve" && strings.HasPrefix(ref.ID, "CVE-") && !slices.Contains(r.Aliases, ref.ID) {
			r.Aliases = append(r.Aliases, ref.ID)
		}
	}
	fixed := map[string]string{}
	var names []string
	for _, p := range u.Pkgs {
		if p.Name == "" || p.Version == "" || p.Release == "" {
			continue
		}
		v := p.Version + "-" + p.Release
		if p.Epoch != "" && p.Epoch != "0" {
			v = p.Epoch + ":" + v
		}
		if _, ok := fixed[p.Name]; !ok {
			names = append(names, p.Name)
		}
		fixed[p.Name] = v // every architecture's build has the same version
	}
	for _, n := range names {
		r.Affected = append(r.Affected, Affected{Ecosystem: eco, Package: n, Status: "fixed",
			Ranges: []Range{{Type: "ECOSYSTEM", Events: []Event{{Introduced: "0"}, {Fixed: fixed[n]}}}}})
	}
	return r, len(r.Affected) > 0
}
