package image

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// An executable is streamed once, in layer order: nothing can seek back. What Go and
// cargo-auditable leave in a binary is found anyway:
//   - Go 1.18 and later: the build information follows its magic inline.
//   - Go 1.13 to 1.17: the magic is followed by pointers to the runtime's buildVersion
//     and modinfo strings. The string headers lie after it (in the data segment), the
//     bytes they point to before it (read-only data): the scan remembers where "go1."
//     strings and modinfo blobs (between their fixed sentinels) were seen, captures
//     the two headers as they pass, and maps addresses to file offsets with the
//     program headers read at the start.
//   - .NET single-file bundles: the apphost keeps, in its data, the bundle header's
//     offset just before a fixed 32-byte signature; the header comes at the end of the
//     bundle, right after the deps.json it locates. From the marker on, the stretch
//     before the header (up to maxDotnetDeps) and the header are kept.
//   - Rust built with cargo-auditable: a zlib-compressed JSON list of crates in an
//     unloaded .dep-v0 section. Unloaded sections lie between the last loaded segment
//     and the section header table (whose offset the ELF header gives): that stretch
//     is kept, up to maxELFTail, and the section table says where .dep-v0 is.

// maxELFTail bounds the unloaded sections kept per executable (symbol tables of
// unstripped binaries; debug information beyond it is not kept).
const maxELFTail = 16 << 20

// maxDepV0 bounds cargo-auditable's decompressed crate list.
const maxDepV0 = 8 << 20

// maxDotnetDeps bounds the deps.json read from a .NET single-file bundle (with the
// header, what is kept of the bundle).
const maxDotnetDeps = 8 << 20

// dotnetBundleSig is the signature the .NET host's bundle marker carries (after the
// header's offset, 8 bytes little-endian).
var dotnetBundleSig = []byte{0x8b, 0x12, 0x02, 0xb9, 0x6a, 0x61, 0x20, 0x38, 0x72, 0x7b, 0x93, 0x02, 0x14, 0xd7, 0xa0, 0x32,
	0x13, 0xf5, 0xb9, 0xe6, 0xef, 0xae, 0x33, 0x18, 0xee, 0x3b, 0x2d, 0xce, 0x24, 0xb3, 0x6a, 0xae}

// maxGoStrings bounds the "go1." strings remembered per binary, maxGoVersion the bytes
// kept of each ("go1.17.13 X:boringcrypto" and the like).
const (
	maxGoStrings = 4096
	maxGoVersion = 64
)

var (
	modinfoStart = []byte("0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6")
	modinfoEnd   = []byte("\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2")
	goNote       = []byte("Go\x00\x00")
)

// binaryFacts is what one executable says about how it was built.
type binaryFacts struct {
	Go    *GoBuildInfo
	DepV0 []byte // cargo-auditable's crate list, decompressed JSON
	// DotnetDeps is the deps.json a .NET single-file bundle carries.
	DotnetDeps []byte
	Note       string // what could not be read, for the image's notes
}

// dotnetBundle is a .NET single-file bundle found by its marker: the header's offset,
// and the spans kept to read it and the deps.json before it.
type dotnetBundle struct {
	before, hdr *span
}

// findDotnetMarker looks for the bundle marker in data (at file offset pos; seam is
// the end of the previous chunk when data follows it directly) and returns the header
// offset it holds, when it is past the marker (0 in an apphost that bundles nothing).
func findDotnetMarker(seam, data []byte, pos int64) (int64, bool) {
	look := func(b []byte, base int64) (int64, bool) {
		i := bytes.Index(b, dotnetBundleSig)
		if i < 8 {
			return 0, false
		}
		h := int64(binary.LittleEndian.Uint64(b[i-8 : i]))
		return h, h > base+int64(i)
	}
	if h, ok := look(data, pos); ok {
		return h, true
	}
	if len(seam) > 0 {
		n := min(len(data), len(dotnetBundleSig)+8)
		joined := append(append([]byte{}, seam...), data[:n]...)
		return look(joined, pos-int64(len(seam)))
	}
	return 0, false
}

// deps reads the deps.json out of what was kept: the header (major, minor, file count,
// bundle ID, then from version 2 on deps.json's offset and size).
func (d *dotnetBundle) deps() ([]byte, string) {
	h := d.hdr.buf
	if len(h) < 13 {
		return nil, ".NET single-file bundle: its header was not read whole"
	}
	major := binary.LittleEndian.Uint32(h[0:])
	if major < 2 {
		return nil, fmt.Sprintf(".NET single-file bundle version %d: it locates no deps.json (.NET 5 and later do)", major)
	}
	// The bundle ID: a string with a 7-bit encoded length.
	p, n, shift := 12, 0, 0
	for ; p < len(h) && shift < 28; p++ {
		n |= int(h[p]&0x7f) << shift
		shift += 7
		if h[p] < 0x80 {
			p++
			break
		}
	}
	if n < 0 || p+n+16 > len(h) {
		return nil, ".NET single-file bundle: its header was not read whole"
	}
	p += n
	off, size := int64(binary.LittleEndian.Uint64(h[p:])), int64(binary.LittleEndian.Uint64(h[p+8:]))
	b := d.before
	switch {
	case size == 0:
		return nil, ""
	case size < 0 || off < b.off || size > int64(len(b.buf)) || off-b.off > int64(len(b.buf))-size:
		return nil, fmt.Sprintf(".NET single-file bundle: its deps.json (%d bytes at %d) is not in the %d bytes kept before its header", size, off, len(b.buf))
	}
	deps := b.buf[off-b.off : off-b.off+size]
	if t := bytes.TrimLeft(deps, "\xef\xbb\xbf \t\r\n"); len(t) == 0 || t[0] != '{' {
		return nil, ".NET single-file bundle: its deps.json is compressed or not JSON: not read"
	}
	return deps, ""
}

type elfLoad struct {
	vaddr, off, size uint64
	exec             bool // PF_X: code, which holds no strings the scan needs
}

// elfLayout is what the ELF header and program headers say.
type elfLayout struct {
	ok        bool
	is64      bool
	order     binary.ByteOrder
	loads     []elfLoad
	loadEnd   int64
	shoff     int64
	shentsize int
	shnum     int
	shstrndx  int
	goNote    bool // a Go build ID note: a Go binary, old or new
	machine   uint16
	osabi     byte
	otherOS   bool // an OpenBSD or NetBSD note: not Linux, whatever the ABI byte says
}

// goArch names an ELF machine as GOARCH does, for Go binaries whose build settings do
// not say (those built before Go 1.18).
func (l elfLayout) goArch() string {
	little := l.order == binary.LittleEndian
	switch {
	case l.machine == 62:
		return "amd64"
	case l.machine == 3:
		return "386"
	case l.machine == 183:
		return "arm64"
	case l.machine == 40:
		return "arm"
	case l.machine == 22:
		return "s390x"
	case l.machine == 21 && little:
		return "ppc64le"
	case l.machine == 21:
		return "ppc64"
	case l.machine == 243 && l.is64:
		return "riscv64"
	case l.machine == 258:
		return "loong64"
	case l.machine == 8 && l.is64 && little:
		return "mips64le"
	case l.machine == 8 && l.is64:
		return "mips64"
	case l.machine == 8 && little:
		return "mipsle"
	case l.machine == 8:
		return "mips"
	}
	return ""
}

// parseELF reads the layout from the first bytes of the file; ok is false when the
// headers are not all in them.
func parseELF(b []byte) elfLayout {
	var l elfLayout
	if len(b) < 64 || !bytes.Equal(b[:4], elfMagic) {
		return l
	}
	switch b[5] {
	case 1:
		l.order = binary.LittleEndian
	case 2:
		l.order = binary.BigEndian
	default:
		return l
	}
	o := l.order
	l.machine, l.osabi = o.Uint16(b[0x12:]), b[7]
	var phoff uint64
	var phentsize, phnum int
	switch b[4] {
	case 2:
		l.is64 = true
		phoff, l.shoff = o.Uint64(b[0x20:]), int64(o.Uint64(b[0x28:]))
		phentsize, phnum = int(o.Uint16(b[0x36:])), int(o.Uint16(b[0x38:]))
		l.shentsize, l.shnum, l.shstrndx = int(o.Uint16(b[0x3a:])), int(o.Uint16(b[0x3c:])), int(o.Uint16(b[0x3e:]))
	case 1:
		phoff, l.shoff = uint64(o.Uint32(b[0x1c:])), int64(o.Uint32(b[0x20:]))
		phentsize, phnum = int(o.Uint16(b[0x2a:])), int(o.Uint16(b[0x2c:]))
		l.shentsize, l.shnum, l.shstrndx = int(o.Uint16(b[0x2e:])), int(o.Uint16(b[0x30:])), int(o.Uint16(b[0x32:]))
	default:
		return l
	}
	min := 32
	if l.is64 {
		min = 56
	}
	if phentsize < min || phoff > uint64(len(b)) || uint64(phnum)*uint64(phentsize) > uint64(len(b))-phoff {
		return l
	}
	for i := 0; i < phnum; i++ {
		h := b[phoff+uint64(i*phentsize):]
		typ := o.Uint32(h)
		var off, vaddr, filesz uint64
		var flags uint32
		if l.is64 {
			off, vaddr, filesz, flags = o.Uint64(h[8:]), o.Uint64(h[16:]), o.Uint64(h[32:]), o.Uint32(h[4:])
		} else {
			off, vaddr, filesz, flags = uint64(o.Uint32(h[4:])), uint64(o.Uint32(h[8:])), uint64(o.Uint32(h[16:])), o.Uint32(h[24:])
		}
		switch typ {
		case 1: // PT_LOAD
			l.loads = append(l.loads, elfLoad{vaddr, off, filesz, flags&1 != 0})
			if end := off + filesz; end >= off && end < 1<<62 && int64(end) > l.loadEnd {
				l.loadEnd = int64(end)
			}
		case 4: // PT_NOTE: a Go build ID note says Go (1.13–1.17 binaries need the hint)
			if off < uint64(len(b)) && filesz <= uint64(len(b))-off {
				note := b[off : off+filesz]
				l.goNote = l.goNote || bytes.Contains(note, goNote)
				l.otherOS = l.otherOS || bytes.Contains(note, []byte("OpenBSD\x00")) || bytes.Contains(note, []byte("NetBSD\x00"))
			}
		}
	}
	l.ok = true
	return l
}

// dataPart is the part of n bytes at file offset pos that lies in segments other than
// code (all of it when every segment is code).
func (l elfLayout) dataPart(pos int64, n int) (lo, hi int) {
	lo, hi, any := n, 0, false
	for _, s := range l.loads {
		if s.exec {
			continue
		}
		any = true
		start, end := int64(s.off)-pos, int64(s.off+s.size)-pos
		if int64(s.off) < 0 || end < start || end <= 0 || start >= int64(n) {
			continue
		}
		lo, hi = min(lo, int(max(start, 0))), max(hi, int(min(end, int64(n))))
	}
	if !any {
		return 0, n
	}
	return lo, hi
}

// fileOffset maps a virtual address to where it is in the file.
func (l elfLayout) fileOffset(vaddr uint64) (int64, bool) {
	for _, s := range l.loads {
		if vaddr >= s.vaddr && vaddr-s.vaddr < s.size {
			return int64(s.off + (vaddr - s.vaddr)), true
		}
	}
	return 0, false
}

// span is a stretch of the file to keep as it streams past.
type span struct {
	off int64
	buf []byte
	n   int // bytes wanted
}

// feed copies what of chunk (at file offset pos) falls inside the span.
func (s *span) feed(chunk []byte, pos int64) {
	if s == nil || len(s.buf) >= s.n {
		return
	}
	want := s.off + int64(len(s.buf)) // the next byte needed
	if want < pos || want >= pos+int64(len(chunk)) {
		return
	}
	i := want - pos
	take := min(int64(s.n-len(s.buf)), int64(len(chunk))-i)
	if s.buf == nil {
		s.buf = make([]byte, 0, s.n) // once its start streams past: n is bounded by its maker
	}
	s.buf = append(s.buf, chunk[i:i+take]...)
}

func (s *span) full() bool { return s != nil && len(s.buf) == s.n }

// oldGo is the pending resolution of a Go 1.13–1.17 binary's build information.
type oldGo struct {
	ptrSize        int
	order          binary.ByteOrder
	verHdr, modHdr *span
	strings        map[int64][]byte // offset → bytes starting with "go1."
	modinfos       map[int64][]byte // offset of a start sentinel → the blob up to its end sentinel
	openMod        *span            // a blob being captured
	seam           []byte           // the end of the last chunk and the start of this one
}

// scanExecutable streams one executable, reading what Go and cargo-auditable left in
// it. It returns nothing for files that are not ELF.
func scanExecutable(r io.Reader) (binaryFacts, error) {
	var out binaryFacts
	sb := scanBufs.Get().(*scanBuf)
	defer func() {
		if cap(sb.window) <= 2*scanChunk {
			scanBufs.Put(sb)
		}
	}()
	window := sb.window[:0]
	var lay elfLayout
	var old *oldGo
	var tails []*span // the unloaded sections kept: all of them, or their two ends
	var shdrs *span
	var pos int64
	var prev []byte // the last bytes of the previous chunk: a string may straddle two
	var bundle *dotnetBundle
	first := true
	for {
		n, err := io.ReadFull(r, sb.buf)
		eof := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !eof {
			return out, err
		}
		chunk := sb.buf[:n]
		if first {
			first = false
			if len(chunk) < 4 || !bytes.Equal(chunk[:4], elfMagic) {
				_, err := io.Copy(io.Discard, r)
				return out, err
			}
			lay = parseELF(chunk)
			if lay.ok && lay.goNote {
				old = &oldGo{strings: map[int64][]byte{}, modinfos: map[int64][]byte{}}
			}
			if lay.ok && lay.shoff > lay.loadEnd && lay.shnum > 0 && lay.shentsize > 0 {
				if size := lay.shoff - lay.loadEnd; size <= maxELFTail {
					tails = []*span{{off: lay.loadEnd, n: int(size)}}
				} else {
					// Too much to keep (debug information): its two ends, where linkers
					// put .dep-v0 (GNU ld after .comment, lld after the debug
					// sections) and the section names (just before the table).
					tails = []*span{{off: lay.loadEnd, n: maxELFTail / 2}, {off: lay.shoff - maxELFTail/2, n: maxELFTail / 2}}
				}
				if size := lay.shnum * lay.shentsize; size <= 4<<20 {
					shdrs = &span{off: lay.shoff, n: size}
				}
			}
		}
		if old != nil && out.Go == nil {
			// The strings are in read-only data, not in code: the text segment (most
			// of a Go binary) is not searched.
			if lo, hi := lay.dataPart(pos, len(chunk)); lo < hi {
				seam := prev
				if lo > 0 {
					seam = nil // not what comes before chunk[lo:]
				}
				old.remember(seam, chunk[lo:hi], pos+int64(lo))
			}
		}
		if out.Go == nil {
			window = append(window, chunk...)
			var found *GoBuildInfo
			found, window = searchBuildInfo(window, eof)
			if found != nil && found.OldFormat && old != nil {
				old.start(found.oldHeader, lay)
				// The headers may be in this very chunk, after the magic.
				old.verHdr.feed(chunk, pos)
				old.modHdr.feed(chunk, pos)
			}
			if found != nil {
				out.Go = found
				tails, shdrs = nil, nil // a Go binary has no .dep-v0
			}
		} else if old != nil && old.ptrSize != 0 {
			old.verHdr.feed(chunk, pos)
			old.modHdr.feed(chunk, pos)
		}
		if out.Go == nil && bundle == nil && lay.ok {
			// The marker is in the apphost's data, not its code.
			if lo, hi := lay.dataPart(pos, len(chunk)); lo < hi {
				seam := prev
				if lo > 0 {
					seam = nil
				}
				if h, ok := findDotnetMarker(seam, chunk[lo:hi], pos+int64(lo)); ok {
					start := max(pos+int64(hi), h-maxDotnetDeps)
					bundle = &dotnetBundle{before: &span{off: start, n: int(h - start)}, hdr: &span{off: h, n: 512}}
				}
			}
		}
		if bundle != nil {
			bundle.before.feed(chunk, pos)
			bundle.hdr.feed(chunk, pos)
		}
		for _, t := range tails {
			t.feed(chunk, pos)
		}
		shdrs.feed(chunk, pos)
		sb.window = window
		pos += int64(n)
		prev = append(prev[:0], chunk[max(0, len(chunk)-64):]...)
		if eof {
			break
		}
	}
	if out.Go != nil && out.Go.OldFormat && old != nil && old.ptrSize != 0 {
		var note string
		if info, n := old.resolve(lay); info != nil {
			out.Go, note = info, n
		}
		out.Note = note
	}
	if g := out.Go; g != nil && !g.OldFormat && g.GOARCH == "" && lay.ok {
		// Before Go 1.18 a binary has no build settings: the ELF header says the
		// architecture, and Go's ELF binaries are Linux's unless their ABI says
		// otherwise (FreeBSD's and others' set it).
		g.GOARCH = lay.goArch()
		if g.GOARCH != "" && (lay.osabi == 0 || lay.osabi == 3) && !lay.otherOS {
			g.GOOS = "linux"
		}
	}
	if shdrs.full() {
		out.DepV0, out.Note = depV0(lay, shdrs.buf, tails)
	}
	if bundle != nil && out.Go == nil {
		var note string
		if out.DotnetDeps, note = bundle.deps(); note != "" {
			out.Note = note
		}
	}
	return out, nil
}

// remember notes where "go1." strings and modinfo blobs are, in prev+chunk.
func (o *oldGo) remember(prev, chunk []byte, pos int64) {
	if o.openMod != nil {
		o.openMod.feed(chunk, pos)
		o.closeMod()
	}
	// What straddles two chunks is in the seam; the rest in the chunk itself.
	o.seam = append(append(o.seam[:0], prev...), chunk[:min(len(chunk), 64)]...)
	o.find(o.seam, pos-int64(len(prev)), chunk, pos)
	o.find(chunk, pos, chunk, pos)
}

// find records the strings and blobs starting in b, which is at file offset base.
func (o *oldGo) find(b []byte, base int64, chunk []byte, pos int64) {
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte("go1."))
		if j < 0 {
			break
		}
		at := base + int64(i+j)
		// A string cut short at the end of the seam is taken again in full.
		if cur, seen := o.strings[at]; len(cur) < maxGoVersion {
			if !seen && len(o.strings) >= maxGoStrings {
				break
			}
			end := min(len(b), i+j+maxGoVersion)
			o.strings[at] = append(cur[:0:0], b[i+j:end]...)
		}
		i += j + 1
	}
	for i := 0; o.openMod == nil && len(o.modinfos) < 4; {
		j := bytes.Index(b[i:], modinfoStart)
		if j < 0 {
			break
		}
		at := base + int64(i+j)
		if _, seen := o.modinfos[at]; !seen {
			o.openMod = &span{off: at, n: maxBuildInfo + 2*len(modinfoStart)}
			o.openMod.buf = append(o.openMod.buf, b[i+j:min(len(b), i+j+o.openMod.n)]...)
			o.openMod.feed(chunk, pos) // the rest of the chunk, when b is the seam
			o.closeMod()
		}
		i += j + 1
	}
}

// closeMod files the blob being captured once its end sentinel is in.
func (o *oldGo) closeMod() {
	m := o.openMod
	if k := bytes.Index(m.buf[len(modinfoStart):], modinfoEnd); k >= 0 {
		o.modinfos[m.off] = m.buf[:len(modinfoStart)+k+len(modinfoEnd)]
		o.openMod = nil
	} else if len(m.buf) >= m.n {
		o.modinfos[m.off] = nil // no end within the bound: not modinfo
		o.openMod = nil
	}
}

// start reads the old-format header's two pointers and sets up the capture of the string headers they point to.
func (o *oldGo) start(h []byte, lay elfLayout) {
	if len(h) < buildInfoHeader {
		return
	}
	ptrSize := int(h[14])
	var order binary.ByteOrder = binary.LittleEndian
	if h[15]&1 != 0 {
		order = binary.BigEndian
	}
	read := func(b []byte) uint64 {
		if ptrSize == 4 {
			return uint64(order.Uint32(b))
		}
		return order.Uint64(b)
	}
	verAddr, modAddr := read(h[16:]), read(h[16+ptrSize:])
	o.ptrSize, o.order = ptrSize, order
	// Each is followed on its own: a GOPATH build's modinfo is empty (in bss), and
	// its version still counts.
	if off, ok := lay.fileOffset(verAddr); ok {
		o.verHdr = &span{off: off, n: 2 * ptrSize}
	}
	if off, ok := lay.fileOffset(modAddr); ok {
		o.modHdr = &span{off: off, n: 2 * ptrSize}
	}
}

// resolve follows the captured string headers to the strings remembered: the Go
// version and the modules, with a note for what could not be read; nil when not even
// the version resolves (the binary stays an old one not read).
func (o *oldGo) resolve(lay elfLayout) (*GoBuildInfo, string) {
	str := func(h *span) (int64, uint64, bool) {
		if !h.full() {
			return 0, 0, false
		}
		var p, n uint64
		if o.ptrSize == 4 {
			p, n = uint64(o.order.Uint32(h.buf)), uint64(o.order.Uint32(h.buf[4:]))
		} else {
			p, n = o.order.Uint64(h.buf), o.order.Uint64(h.buf[8:])
		}
		off, ok := lay.fileOffset(p)
		return off, n, ok
	}
	info := &GoBuildInfo{}
	if off, n, ok := str(o.verHdr); ok {
		if s := o.strings[off]; n > 0 && n <= uint64(len(s)) && strings.HasPrefix(string(s[:n]), "go1.") {
			info.GoVersion = string(s[:n])
		}
	}
	if info.GoVersion == "" {
		return nil, ""
	}
	var mod []byte
	if off, n, ok := str(o.modHdr); ok {
		if m := o.modinfos[off]; m != nil && uint64(len(m)) == n {
			mod = m
		}
	}
	const noModules = "built with %s, whose module list %s: only the standard library is inventoried"
	if mod == nil {
		return info, fmt.Sprintf(noModules, info.GoVersion, "is empty (a GOPATH build) or could not be read")
	}
	bi, err := debug.ParseBuildInfo(string(mod[len(modinfoStart) : len(mod)-len(modinfoEnd)]))
	if err != nil {
		return info, fmt.Sprintf(noModules, info.GoVersion, "does not parse ("+err.Error()+")")
	}
	info.Path = bi.Path
	info.Main = goModule(&bi.Main)
	for _, d := range bi.Deps {
		info.Deps = append(info.Deps, goModule(d))
	}
	return info, ""
}

// depV0 finds cargo-auditable's section through the section table, in the unloaded
// sections kept, and decompresses it; note says when it is there and could not be read.
func depV0(lay elfLayout, shdrs []byte, kept []*span) (data []byte, note string) {
	o := lay.order
	type sect struct {
		name      uint32
		off, size uint64
	}
	read := func(i int) (sect, bool) {
		if i < 0 || i >= lay.shnum || (i+1)*lay.shentsize > len(shdrs) {
			return sect{}, false
		}
		h := shdrs[i*lay.shentsize:]
		if lay.is64 && lay.shentsize >= 40 {
			return sect{o.Uint32(h), o.Uint64(h[24:]), o.Uint64(h[32:])}, true
		}
		if !lay.is64 && lay.shentsize >= 24 {
			return sect{o.Uint32(h), uint64(o.Uint32(h[16:])), uint64(o.Uint32(h[20:]))}, true
		}
		return sect{}, false
	}
	bytesOf := func(s sect) ([]byte, bool) {
		for _, t := range kept {
			if s.off >= uint64(t.off) && s.size <= uint64(len(t.buf)) && s.off-uint64(t.off) <= uint64(len(t.buf))-s.size {
				i := s.off - uint64(t.off)
				return t.buf[i : i+s.size], true
			}
		}
		return nil, false
	}
	strtab, ok := read(lay.shstrndx)
	if !ok {
		return nil, ""
	}
	names, ok := bytesOf(strtab)
	if !ok {
		return nil, "" // names beyond what was kept (a symbol table of more than 8 MiB after them)
	}
	const what = "its .dep-v0 section (cargo-auditable's crate list) "
	for i := 0; i < lay.shnum; i++ {
		s, ok := read(i)
		if !ok || uint64(s.name) >= uint64(len(names)) {
			continue
		}
		name := names[s.name:]
		if k := bytes.IndexByte(name, 0); k < 0 || string(name[:k]) != ".dep-v0" {
			continue
		}
		raw, ok := bytesOf(s)
		if !ok {
			return nil, fmt.Sprintf(what+"is in the middle of %d MiB of unloaded sections, of which the first and last %d MiB are read: its crates are not inventoried",
				(lay.shoff-lay.loadEnd)>>20, maxELFTail>>21)
		}
		zr, err := zlib.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, what + "does not decompress: " + err.Error()
		}
		out, err := io.ReadAll(io.LimitReader(zr, maxDepV0+1))
		if err == nil && len(out) > maxDepV0 {
			err = fmt.Errorf("more than %d bytes", maxDepV0)
		}
		if err != nil {
			return nil, what + "does not decompress: " + err.Error()
		}
		return out, ""
	}
	return nil, ""
}
