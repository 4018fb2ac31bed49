package rpmdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"
)

// TestHeaderRepeatedTags: a header repeating one string tag 65535 times over 8 MiB
// of data is read in bounded time (each tag once), and a string longer than 64 KiB
// is refused.
func TestHeaderRepeatedTags(t *testing.T) {
	build := func(il, dl int, str byte) []byte {
		b := make([]byte, 8+16*il+dl)
		binary.BigEndian.PutUint32(b[0:], uint32(il))
		binary.BigEndian.PutUint32(b[4:], uint32(dl))
		for i := 0; i < il; i++ {
			e := b[8+16*i:]
			binary.BigEndian.PutUint32(e[0:], tagName)
			binary.BigEndian.PutUint32(e[4:], typeString)
			binary.BigEndian.PutUint32(e[12:], 1)
		}
		data := b[8+16*il:]
		for i := range data {
			data[i] = str
		}
		data[len(data)-1] = 0
		return b
	}
	start := time.Now()
	_, err := ParseHeader(build(0xffff, 8<<20, 'a'))
	if err == nil || err.Error() != "rpm header: tag 1000 runs past the data or past 65536 bytes" {
		t.Errorf("long repeated tag: %v", err)
	}
	// A short name repeated: read once, and the header has no version.
	b := build(0xffff, 1<<20, 0)
	copy(b[8+16*0xffff:], "bash\x00")
	_, err = ParseHeader(b)
	if err == nil || err.Error() != "rpm header without name or version" {
		t.Errorf("repeated short tag: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
}

// TestSharedCells: a leaf page whose cell pointers all point at the one row with
// overflow pages is corrupt, not a flood of copies of it.
func TestSharedCells(t *testing.T) {
	b, err := os.ReadFile("testdata/rpmdb-overflow.sqlite")
	if err != nil {
		t.Fatal(err)
	}
	d, err := openDB(b)
	if err != nil {
		t.Fatal(err)
	}
	var page uint32
	var off, size int
	for n := uint32(1); int(n) <= d.pages; n++ {
		p, _ := d.page(n)
		hdr := 0
		if n == 1 {
			hdr = 100
		}
		if p[hdr] != 0x0d {
			continue
		}
		for i := 0; i < int(binary.BigEndian.Uint16(p[hdr+3:])); i++ {
			o := int(binary.BigEndian.Uint16(p[hdr+8+2*i:]))
			if s, _ := varint(p[o:]); int(s) > size {
				page, off, size = n, o, int(s)
			}
		}
	}
	if size <= d.usable {
		t.Fatalf("the fixture has no row with overflow pages (largest %d)", size)
	}
	hdr := 0
	if page == 1 {
		hdr = 100
	}
	mod := append([]byte{}, b...)
	p := mod[int(page-1)*d.pageSize : int(page)*d.pageSize]
	cells := (off - (hdr + 8)) / 2
	binary.BigEndian.PutUint16(p[hdr+3:], uint16(cells))
	for i := 0; i < cells; i++ {
		binary.BigEndian.PutUint16(p[hdr+8+2*i:], uint16(off))
	}
	pkgs, _, err := Read(mod)
	if want := fmt.Sprintf("rpmdb: not a valid SQLite file: page %d points at one cell twice", page); !errors.Is(err, errCorrupt) || err.Error() != want {
		t.Errorf("%d cell pointers at one row: %d packages, %v", cells, len(pkgs), err)
	}
	// Reading the same overflow page for a second row is refused as well.
	d2, _ := openDB(b)
	pg, _ := d2.page(page)
	if _, err := d2.leafCell(pg, off); err != nil {
		t.Fatal(err)
	}
	if _, err := d2.leafCell(pg, off); err == nil || err.Error() != "rpmdb: not a valid SQLite file: broken or shared overflow chain" {
		t.Errorf("shared overflow chain: %v", err)
	}
}
