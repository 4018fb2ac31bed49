package rpmdb

import (
	"encoding/binary"
	"errors"
	"fmt"
)

var errCorrupt = errors.New("rpmdb: not a valid SQLite file")

// db is an SQLite file in memory.
type db struct {
	b        []byte
	pageSize int
	usable   int // page size minus reserved bytes
	pages    int
	// overflow are the overflow pages read so far: a valid file never shares one
	// between rows, and a crafted one that does would be copied again and again.
	overflow map[uint32]bool
}

func openDB(b []byte) (*db, error) {
	if len(b) < 100 || string(b[:16]) != "SQLite format 3\x00" {
		return nil, errors.New("rpmdb: not an SQLite file")
	}
	ps := int(binary.BigEndian.Uint16(b[16:18]))
	if ps == 1 {
		ps = 65536
	}
	if ps < 512 || ps&(ps-1) != 0 {
		return nil, fmt.Errorf("%w: page size %d", errCorrupt, ps)
	}
	reserved := int(b[20])
	d := &db{b: b, pageSize: ps, usable: ps - reserved, pages: len(b) / ps, overflow: map[uint32]bool{}}
	if d.usable < 480 {
		return nil, fmt.Errorf("%w: usable page size %d", errCorrupt, d.usable)
	}
	return d, nil
}

// page returns page n (1-based).
func (d *db) page(n uint32) ([]byte, error) {
	if n < 1 || int(n) > d.pages {
		return nil, fmt.Errorf("%w: page %d out of range", errCorrupt, n)
	}
	off := int(n-1) * d.pageSize
	return d.b[off : off+d.pageSize], nil
}

// row is one table row's record payload.
type row struct {
	payload []byte
}

// scanTable walks a table b-tree from its root page, calling fn for every row in rowid
// order. Every page is visited at most once, so a cycle cannot loop.
func (d *db) scanTable(root uint32, fn func(row) error) error {
	seen := map[uint32]bool{}
	var walk func(n uint32, depth int) error
	walk = func(n uint32, depth int) error {
		if seen[n] || depth > 64 {
			return fmt.Errorf("%w: b-tree cycle or depth at page %d", errCorrupt, n)
		}
		seen[n] = true
		p, err := d.page(n)
		if err != nil {
			return err
		}
		hdr := 0
		if n == 1 {
			hdr = 100 // page 1 starts with the file header
		}
		if len(p) < hdr+8 {
			return errCorrupt
		}
		typ := p[hdr]
		cells := int(binary.BigEndian.Uint16(p[hdr+3 : hdr+5]))
		switch typ {
		case 0x0d: // table leaf
			ptrs := hdr + 8
			if ptrs+2*cells > len(p) {
				return errCorrupt
			}
			cellSeen := map[int]bool{}
			for i := 0; i < cells; i++ {
				off := int(binary.BigEndian.Uint16(p[ptrs+2*i:]))
				if cellSeen[off] {
					return fmt.Errorf("%w: page %d points at one cell twice", errCorrupt, n)
				}
				cellSeen[off] = true
				r, err := d.leafCell(p, off)
				if err != nil {
					return err
				}
				if err := fn(r); err != nil {
					return err
				}
			}
			return nil
		case 0x05: // table interior: left children, then the right-most pointer
			ptrs := hdr + 12
			if ptrs+2*cells > len(p) {
				return errCorrupt
			}
			for i := 0; i < cells; i++ {
				off := int(binary.BigEndian.Uint16(p[ptrs+2*i:]))
				if off+4 > len(p) {
					return errCorrupt
				}
				if err := walk(binary.BigEndian.Uint32(p[off:]), depth+1); err != nil {
					return err
				}
			}
			return walk(binary.BigEndian.Uint32(p[hdr+8:]), depth+1)
		}
		return fmt.Errorf("%w: page %d is not a table b-tree page (type %#x)", errCorrupt, n, typ)
	}
	return walk(root, 0)
}

// leafCell reads a table leaf cell: payload size, rowid, the local part of the payload
// and, when it does not fit, the chain of overflow pages.
func (d *db) leafCell(p []byte, off int) (row, error) {
	if off >= len(p) {
		return row{}, errCorrupt
	}
	size, n := varint(p[off:])
	if n == 0 {
		return row{}, errCorrupt
	}
	off += n
	_, n = varint(p[off:]) // the rowid
	if n == 0 {
		return row{}, errCorrupt
	}
	off += n
	if size > uint64(len(d.b)) {
		return row{}, fmt.Errorf("%w: payload larger than the file", errCorrupt)
	}
	total := int(size)
	local := d.localSize(total)
	if off+local > len(p) {
		return row{}, errCorrupt
	}
	payload := make([]byte, 0, total)
	payload = append(payload, p[off:off+local]...)
	if local < total {
		if off+local+4 > len(p) {
			return row{}, errCorrupt
		}
		next := binary.BigEndian.Uint32(p[off+local:])
		for len(payload) < total {
			if next == 0 || d.overflow[next] {
				return row{}, fmt.Errorf("%w: broken or shared overflow chain", errCorrupt)
			}
			d.overflow[next] = true
			op, err := d.page(next)
			if err != nil {
				return row{}, err
			}
			chunk := min(d.usable-4, total-len(payload))
			payload = append(payload, op[4:4+chunk]...)
			next = binary.BigEndian.Uint32(op)
		}
	}
	return row{payload: payload}, nil
}

// localSize is how much of a table leaf payload is stored on the page itself.
func (d *db) localSize(p int) int {
	u := d.usable
	x := u - 35
	if p <= x {
		return p
	}
	m := ((u-12)*32)/255 - 23
	k := m + (p-m)%(u-4)
	if k <= x {
		return k
	}
	return m
}

// varint decodes an SQLite varint (1 to 9 bytes, big-endian, 7 bits per byte except
// the ninth). n is 0 when b is too short.
func varint(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < 9; i++ {
		if i >= len(b) {
			return 0, 0
		}
		if i == 8 {
			return v<<8 | uint64(b[i]), 9
		}
		v = v<<7 | uint64(b[i]&0x7f)
		if b[i]&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}

// record decodes the columns of a record: ints, text and blobs (floats are not needed).
func record(payload []byte) ([]any, error) {
	hsize, n := varint(payload)
	if n == 0 || hsize > uint64(len(payload)) || int(hsize) < n {
		return nil, errCorrupt
	}
	var types []uint64
	for off := n; off < int(hsize); {
		t, m := varint(payload[off:])
		if m == 0 {
			return nil, errCorrupt
		}
		types = append(types, t)
		off += m
	}
	body := payload[hsize:]
	out := make([]any, 0, len(types))
	for _, t := range types {
		var size int
		switch {
		case t == 0 || t == 8 || t == 9:
			size = 0
		case t >= 1 && t <= 6:
			size = []int{0, 1, 2, 3, 4, 6, 8}[t]
		case t == 7:
			size = 8
		case t >= 12:
			size = int((t - 12) / 2)
		default:
			return nil, errCorrupt
		}
		if size > len(body) {
			return nil, errCorrupt
		}
		v := body[:size]
		body = body[size:]
		switch {
		case t == 0:
			out = append(out, nil)
		case t == 8:
			out = append(out, int64(0))
		case t == 9:
			out = append(out, int64(1))
		case t >= 1 && t <= 6:
			var x int64
			for _, c := range v {
				x = x<<8 | int64(c)
			}
			shift := 64 - 8*uint(size)
			out = append(out, x<<shift>>shift) // sign-extend
		case t == 7:
			out = append(out, nil)
		case t%2 == 0:
			out = append(out, v)
		default:
			out = append(out, string(v))
		}
	}
	return out, nil
}

// tableRoot finds a table's root page in the schema table (page 1).
func (d *db) tableRoot(name string) (uint32, error) {
	var root uint32
	err := d.scanTable(1, func(r row) error {
		cols, err := record(r.payload)
		if err != nil || len(cols) < 4 {
			return err
		}
		typ, _ := cols[0].(string)
		n, _ := cols[1].(string)
		rp, _ := cols[3].(int64)
		if typ == "table" && n == name && rp > 0 {
			root = uint32(rp)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if root == 0 {
		return 0, fmt.Errorf("rpmdb: no %s table", name)
	}
	return root, nil
}
