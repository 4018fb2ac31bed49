package rpmdb

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The BerkeleyDB hash file rpm wrote before 4.16 (CentOS 5–7, RHEL/UBI 8, Amazon
// Linux 2, Oracle Linux 7/8) as /var/lib/rpm/Packages: page 0 is the hash metadata,
// the other pages are hash buckets (key/data item pairs) and overflow pages (a long
// item split over a chain). The key is the package's instance number, the data its
// header blob; instance 0 holds a counter, not a package. Byte order is the writing
// machine's, told by the magic number. Only what rpm writes is read: no encryption,
// no duplicates.

const (
	bdbHashMagic   = 0x061561
	bdbPageHeader  = 26 // lsn, pgno, prev, next, entries, hf_offset, level, type
	bdbHashOld     = 2  // P_HASH_UNSORTED (before BerkeleyDB 4.6)
	bdbOverflow    = 7  // P_OVERFLOW
	bdbHashMeta    = 8  // P_HASHMETA
	bdbHash        = 13 // P_HASH
	bdbKeyData     = 1  // H_KEYDATA: the bytes follow the type byte
	bdbOffPage     = 3  // H_OFFPAGE: unused[3], first overflow page, total length
	bdbOffPageSize = 12
)

var errBDB = errors.New("rpmdb: not a valid BerkeleyDB hash file")

type bdb struct {
	b        []byte
	order    binary.ByteOrder
	pageSize int
	pages    int
	// overflow are the overflow pages read so far: BerkeleyDB never shares one
	// between items, and a crafted file that does would be copied again and again.
	overflow map[uint32]bool
}

// isBDB reports whether b starts like a BerkeleyDB hash file, in either byte order.
func isBDB(b []byte) bool {
	return len(b) >= 72 && (binary.LittleEndian.Uint32(b[12:16]) == bdbHashMagic || binary.BigEndian.Uint32(b[12:16]) == bdbHashMagic)
}

func openBDB(b []byte) (*bdb, error) {
	if !isBDB(b) {
		return nil, errors.New("rpmdb: not a BerkeleyDB hash file")
	}
	d := &bdb{b: b, order: binary.LittleEndian, overflow: map[uint32]bool{}}
	if binary.LittleEndian.Uint32(b[12:16]) != bdbHashMagic {
		d.order = binary.BigEndian
	}
	d.pageSize = int(d.order.Uint32(b[20:24]))
	if d.pageSize < 512 || d.pageSize > 65536 || d.pageSize&(d.pageSize-1) != 0 {
		return nil, fmt.Errorf("%w: page size %d", errBDB, d.pageSize)
	}
	if b[24] != 0 {
		return nil, fmt.Errorf("rpmdb: the BerkeleyDB file is encrypted (algorithm %d)", b[24])
	}
	if b[25] != bdbHashMeta {
		return nil, fmt.Errorf("%w: page 0 is of type %d, not hash metadata", errBDB, b[25])
	}
	last := int64(d.order.Uint32(b[32:36]))
	d.pages = len(b) / d.pageSize
	if last >= int64(d.pages) {
		return nil, fmt.Errorf("%w: %d pages said, %d in the file (truncated?)", errBDB, last+1, d.pages)
	}
	d.pages = int(last) + 1
	return d, nil
}

func (d *bdb) page(n uint32) ([]byte, error) {
	if int64(n) >= int64(d.pages) || n == 0 {
		return nil, fmt.Errorf("%w: page %d out of range", errBDB, n)
	}
	off := int(n) * d.pageSize
	return d.b[off : off+d.pageSize], nil
}

// values calls fn with the data item of every key/data pair on the hash pages, in
// page order, skipping instance 0.
func (d *bdb) values(fn func([]byte) error) error {
	for n := uint32(1); int(n) < d.pages; n++ {
		p, _ := d.page(n)
		if typ := p[25]; typ != bdbHash && typ != bdbHashOld {
			continue // overflow, free or other pages
		}
		entries := int(d.order.Uint16(p[20:22]))
		if bdbPageHeader+2*entries > d.pageSize {
			return fmt.Errorf("%w: page %d says %d entries", errBDB, n, entries)
		}
		for i := 0; i+1 < entries; i += 2 {
			key, err := d.item(p, n, i)
			if err != nil {
				return err
			}
			if k, ok := inline(key); ok && len(k) == 4 && d.order.Uint32(k) == 0 {
				continue
			}
			val, err := d.item(p, n, i+1)
			if err != nil {
				return err
			}
			data, err := d.resolve(val)
			if err != nil {
				return err
			}
			if err := fn(data); err != nil {
				return err
			}
		}
	}
	return nil
}

// item is the i-th item of hash page p: from its offset to the previous item's (items
// are laid out from the end of the page down).
func (d *bdb) item(p []byte, n uint32, i int) ([]byte, error) {
	off := int(d.order.Uint16(p[bdbPageHeader+2*i:]))
	end := d.pageSize
	if i > 0 {
		end = int(d.order.Uint16(p[bdbPageHeader+2*(i-1):]))
	}
	if off < bdbPageHeader || off >= end || end > d.pageSize {
		return nil, fmt.Errorf("%w: item %d of page %d at %d..%d", errBDB, i, n, off, end)
	}
	return p[off:end], nil
}

// inline is a key or data item held on the page itself.
func inline(it []byte) ([]byte, bool) {
	if len(it) == 0 || it[0] != bdbKeyData {
		return nil, false
	}
	return it[1:], true
}

// resolve is an item's bytes: inline, or gathered from its overflow chain.
func (d *bdb) resolve(it []byte) ([]byte, error) {
	if b, ok := inline(it); ok {
		return b, nil
	}
	if len(it) < bdbOffPageSize || it[0] != bdbOffPage {
		return nil, fmt.Errorf("%w: an item of type %d (rpm writes none)", errBDB, it[0])
	}
	next := d.order.Uint32(it[4:8])
	total64 := int64(d.order.Uint32(it[8:12]))
	if total64 > int64(len(d.b)) {
		return nil, fmt.Errorf("%w: an item of %d bytes in a file of %d", errBDB, total64, len(d.b))
	}
	total := int(total64)
	out := make([]byte, 0, total)
	for len(out) < total {
		if next == 0 || d.overflow[next] {
			return nil, fmt.Errorf("%w: overflow chain broken or shared at page %d", errBDB, next)
		}
		d.overflow[next] = true
		p, err := d.page(next)
		if err != nil {
			return nil, err
		}
		if p[25] != bdbOverflow {
			return nil, fmt.Errorf("%w: page %d in an overflow chain is of type %d", errBDB, next, p[25])
		}
		n := int(d.order.Uint16(p[22:24])) // hf_offset: the bytes on this page
		if n == 0 || bdbPageHeader+n > d.pageSize || len(out)+n > total {
			return nil, fmt.Errorf("%w: overflow page %d holds %d bytes", errBDB, next, n)
		}
		out = append(out, p[bdbPageHeader:bdbPageHeader+n]...)
		next = d.order.Uint32(p[16:20])
	}
	return out, nil
}
