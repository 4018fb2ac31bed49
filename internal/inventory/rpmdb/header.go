package rpmdb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
)

// Package is what the inventory takes from one RPM header.
type Package struct {
	Name, Version, Release, Arch, SourceRPM, License, Vendor string
	// ModularityLabel is the module stream a package was built in
	// ("nodejs:18:9040020240101000000:rhel9"), "" for packages outside modules.
	ModularityLabel string
	Epoch           int // 0 when the header has none
	HasEpoch        bool
}

// EVR is epoch:version-release, the form version comparison and advisories use; the
// epoch is left out when the header has none.
func (p Package) EVR() string {
	vr := p.Version + "-" + p.Release
	if p.HasEpoch {
		return fmt.Sprintf("%d:%s", p.Epoch, vr)
	}
	return vr
}

// SourceName is the source package: SOURCERPM without "-version-release.src.rpm".
func (p Package) SourceName() (name, version string) {
	s := strings.TrimSuffix(strings.TrimSuffix(p.SourceRPM, ".src.rpm"), ".nosrc.rpm")
	i := strings.LastIndexByte(s, '-')
	if i <= 0 {
		return p.Name, p.EVR()
	}
	j := strings.LastIndexByte(s[:i], '-')
	if j <= 0 {
		return p.Name, p.EVR()
	}
	return s[:j], s[j+1:]
}

const (
	tagName      = 1000
	tagVersion   = 1001
	tagRelease   = 1002
	tagEpoch     = 1003
	tagVendor    = 1011
	tagLicense   = 1014
	tagArch      = 1022
	tagSourceRPM = 1044
	// tagModularityLabel is RPMTAG_MODULARITYLABEL.
	tagModularityLabel = 5096

	typeInt32       = 4
	typeString      = 6
	typeStringArray = 8
	typeI18NString  = 9
)

// maxString bounds one string tag (a name, a licence expression).
const maxString = 64 << 10

// ParseHeader decodes an RPM header as rpmdb stores it (headerExport without the
// magic): entry count, data length, 16-byte index entries, then data. Only the tags the
// inventory needs are read; every offset is checked against the data section.
func ParseHeader(blob []byte) (Package, error) {
	var p Package
	if len(blob) < 8 {
		return p, fmt.Errorf("rpm header: %d bytes", len(blob))
	}
	il := binary.BigEndian.Uint32(blob[0:4])
	dl := binary.BigEndian.Uint32(blob[4:8])
	if il > 0xffff || dl > 0x0fffffff || uint64(len(blob)) != 8+16*uint64(il)+uint64(dl) {
		return p, fmt.Errorf("rpm header: %d entries and %d data bytes do not fit in %d bytes", il, dl, len(blob))
	}
	data := blob[8+16*il:]
	// Each wanted tag is read once: a crafted header may repeat one 65535 times over
	// megabytes of data, and rescanning it each time takes minutes.
	seen := map[uint32]bool{}
	for i := uint32(0); i < il; i++ {
		e := blob[8+16*i : 8+16*i+16]
		tag := binary.BigEndian.Uint32(e[0:4])
		typ := binary.BigEndian.Uint32(e[4:8])
		off := int32(binary.BigEndian.Uint32(e[8:12]))
		count := binary.BigEndian.Uint32(e[12:16])
		if off < 0 || int64(off) >= int64(len(data)) || count == 0 {
			continue // the region trailer entry points backwards; nothing we read does
		}
		d := data[off:]
		if seen[tag] {
			continue
		}
		switch tag {
		case tagName, tagVersion, tagRelease, tagVendor, tagLicense, tagArch, tagSourceRPM, tagModularityLabel:
			if typ != typeString && typ != typeStringArray && typ != typeI18NString {
				continue
			}
			end := bytes.IndexByte(d[:min(len(d), maxString)], 0)
			if end < 0 {
				return p, fmt.Errorf("rpm header: tag %d runs past the data or past %d bytes", tag, maxString)
			}
			seen[tag] = true
			s := string(d[:end])
			switch tag {
			case tagName:
				p.Name = s
			case tagVersion:
				p.Version = s
			case tagRelease:
				p.Release = s
			case tagVendor:
				p.Vendor = s
			case tagLicense:
				p.License = s
			case tagArch:
				p.Arch = s
			case tagSourceRPM:
				p.SourceRPM = s
			case tagModularityLabel:
				p.ModularityLabel = s
			}
		case tagEpoch:
			if typ != typeInt32 || len(d) < 4 {
				continue
			}
			p.Epoch, p.HasEpoch, seen[tag] = int(binary.BigEndian.Uint32(d)), true, true
		}
	}
	if p.Name == "" || p.Version == "" {
		return p, fmt.Errorf("rpm header without name or version")
	}
	return p, nil
}

// maxPackages bounds the rows read from one database.
const maxPackages = 200000

// Read returns the packages of an rpm database, whichever of rpm's three formats it
// is in (told by its content): SQLite (rpmdb.sqlite, in rowid order), BerkeleyDB hash
// (Packages, in page order) or NDB (Packages.db, in slot order). A header that does
// not decode is skipped and counted in bad.
func Read(b []byte) (pkgs []Package, bad int, err error) {
	add := func(blob []byte) error {
		if len(pkgs)+bad >= maxPackages {
			return fmt.Errorf("rpmdb: more than %d packages", maxPackages)
		}
		p, err := ParseHeader(blob)
		if err != nil {
			bad++
			return nil
		}
		pkgs = append(pkgs, p)
		return nil
	}
	switch {
	case isNDB(b):
		err = ndbBlobs(b, add)
	case isBDB(b):
		var d *bdb
		if d, err = openBDB(b); err == nil {
			err = d.values(add)
		}
	default:
		err = readSQLite(b, add)
	}
	return pkgs, bad, err
}

// readSQLite calls add with the header blob of every row of an rpmdb.sqlite file's
// Packages table (nil for a row that has none, which add counts as bad).
func readSQLite(b []byte, add func([]byte) error) error {
	d, err := openDB(b)
	if err != nil {
		return err
	}
	root, err := d.tableRoot("Packages")
	if err != nil {
		return err
	}
	return d.scanTable(root, func(r row) error {
		cols, err := record(r.payload)
		if err != nil || len(cols) < 2 {
			return add(nil)
		}
		blob, _ := cols[1].([]byte)
		return add(blob)
	})
}
