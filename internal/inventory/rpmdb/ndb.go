package rpmdb

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The NDB file rpm's own backend writes (SLES 15, openSUSE) as Packages.db, all
// little-endian: a 32-byte header ("RpmP", version, generation, the slot area's size in
// 4 KiB pages, the next package index), then 16-byte slots ("Slot", package index,
// first 16-byte block, block count; index 0 is a free slot) filling the slot area, each
// naming a blob: "BlbS", package index, generation, length, the header blob, padding,
// and in the blocks' last 12 bytes a tail (checksum, length, "BlbE").

const (
	ndbHeader    = 32
	ndbPage      = 4096
	ndbSlot      = 16
	ndbBlock     = 16
	ndbBlobHead  = 16
	ndbBlobTail  = 12
	ndbMaxSlotPg = 4096 // 16 MiB of slots, a million packages
)

var errNDB = errors.New("rpmdb: not a valid NDB file")

func isNDB(b []byte) bool { return len(b) >= ndbHeader && string(b[:4]) == "RpmP" }

// ndbBlobs calls fn with every package's header blob, in slot order.
func ndbBlobs(b []byte, fn func([]byte) error) error {
	if !isNDB(b) {
		return errors.New("rpmdb: not an NDB file")
	}
	le := binary.LittleEndian
	if v := le.Uint32(b[4:8]); v != 0 {
		return fmt.Errorf("rpmdb: NDB version %d (dockaudit reads version 0)", v)
	}
	slotPages := int(le.Uint32(b[12:16]))
	if slotPages == 0 || slotPages > ndbMaxSlotPg || slotPages*ndbPage > len(b) {
		return fmt.Errorf("%w: a slot area of %d pages in a file of %d bytes (truncated?)", errNDB, slotPages, len(b))
	}
	// Blobs never overlap; a crafted file whose slots share blocks would have the same
	// bytes decoded again and again. Each 16-byte block may belong to one blob.
	used := make([]uint64, len(b)/ndbBlock/64+1)
	for off := ndbHeader; off+ndbSlot <= slotPages*ndbPage; off += ndbSlot {
		s := b[off : off+ndbSlot]
		if string(s[:4]) != "Slot" {
			return fmt.Errorf("%w: slot at %d has no magic", errNDB, off)
		}
		idx, blk, cnt := le.Uint32(s[4:8]), le.Uint32(s[8:12]), le.Uint32(s[12:16])
		if idx == 0 {
			continue
		}
		start, size := int64(blk)*ndbBlock, int64(cnt)*ndbBlock
		if blk == 0 || start < int64(slotPages)*ndbPage || size < ndbBlobHead+ndbBlobTail || start+size > int64(len(b)) || !claim(used, blk, cnt) {
			return fmt.Errorf("%w: package %d's blob at block %d (%d blocks) is outside the file or shared", errNDB, idx, blk, cnt)
		}
		blob := b[start : start+size]
		n := int64(le.Uint32(blob[12:16]))
		if string(blob[:4]) != "BlbS" || le.Uint32(blob[4:8]) != idx || n > size-ndbBlobHead-ndbBlobTail {
			return fmt.Errorf("%w: package %d's blob head does not match its slot", errNDB, idx)
		}
		tail := blob[size-ndbBlobTail:] // at the end of the blocks, after any padding
		if string(tail[8:12]) != "BlbE" || int64(le.Uint32(tail[4:8])) != n {
			return fmt.Errorf("%w: package %d's blob tail does not match its head", errNDB, idx)
		}
		if err := fn(blob[ndbBlobHead : ndbBlobHead+n]); err != nil {
			return err
		}
	}
	return nil
}

// claim marks blocks blk to blk+cnt-1 as used, and reports false (marking nothing
// more) when one of them already was. The caller has checked they are in the file.
func claim(used []uint64, blk, cnt uint32) bool {
	for i := uint64(blk); i < uint64(blk)+uint64(cnt); i++ {
		if used[i/64]&(1<<(i%64)) != 0 {
			return false
		}
		used[i/64] |= 1 << (i % 64)
	}
	return true
}
