package image

import (
	"bytes"
	"encoding/binary"
	"runtime/debug"
	"strings"
	"sync"
)

// GoBuildInfo is what a Go binary says about how it was built.
type GoBuildInfo struct {
	GoVersion string     `json:"goVersion"` // "go1.21.3"
	Path      string     `json:"path"`      // main package path
	Main      GoModule   `json:"main"`
	Deps      []GoModule `json:"deps,omitempty"`
	// GOOS and GOARCH are the platform it was built for (from its build settings).
	GOOS   string `json:"goos,omitempty"`
	GOARCH string `json:"goarch,omitempty"`
	// OldFormat is set for binaries built before Go 1.18, whose build information is
	// reached through pointers and is not read.
	OldFormat bool `json:"oldFormat,omitempty"`
	// oldHeader is an old-format blob's header: its pointers to the version and
	// module strings (not kept in records).
	oldHeader []byte
}

// GoModule is one module of a Go binary.
type GoModule struct {
	Path    string    `json:"path"`
	Version string    `json:"version"`
	Sum     string    `json:"sum,omitempty"`
	Replace *GoModule `json:"replace,omitempty"`
}

var (
	elfMagic       = []byte("\x7fELF")
	buildInfoMagic = []byte("\xff Go buildinf:")
)

const buildInfoHeader = 32

const scanChunk = 256 << 10

// scanBuf is the read buffer and search window of one scan, reused across the
// executables of an image (a Debian base has hundreds).
type scanBuf struct{ buf, window []byte }

var scanBufs = sync.Pool{New: func() any { return &scanBuf{buf: make([]byte, scanChunk), window: make([]byte, 0, scanChunk+64)} }}

// maxBuildInfo bounds a build information blob; real ones are kilobytes.
const maxBuildInfo = 4 << 20

// searchBuildInfo looks for the blob in window. It returns what to keep: nothing once
// found, the candidate when it needs more bytes, else a short tail (a magic may be
// split across reads). A magic that does not start valid build information (a binary
// that links debug/buildinfo carries the literal) is skipped and the search goes on.
func searchBuildInfo(window []byte, eof bool) (*GoBuildInfo, []byte) {
	for {
		i := bytes.Index(window, buildInfoMagic)
		if i < 0 {
			keep := max(0, len(window)-len(buildInfoMagic)+1)
			return nil, append(window[:0], window[keep:]...)
		}
		info, complete := parseBuildInfo(window[i:], maxBuildInfo)
		switch {
		case complete && info != nil:
			return info, nil
		case !complete && !eof && len(window)-i <= maxBuildInfo+buildInfoHeader+16:
			return nil, append(window[:0], window[i:]...)
		}
		window = window[i+1:]
	}
}

// parseBuildInfo decodes a build information blob starting at its magic. complete is
// false while more bytes are needed.
func parseBuildInfo(b []byte, max int64) (info *GoBuildInfo, complete bool) {
	if len(b) < buildInfoHeader {
		return nil, false
	}
	ptrSize, flags := b[14], b[15]
	if ptrSize != 4 && ptrSize != 8 {
		return nil, true
	}
	if flags&2 == 0 {
		return &GoBuildInfo{OldFormat: true, oldHeader: append([]byte{}, b[:buildInfoHeader]...)}, true
	}
	vers, rest, st := varString(b[buildInfoHeader:], max)
	if st != strOK {
		return nil, st == strBad
	}
	mod, _, st := varString(rest, max)
	if st != strOK {
		return nil, st == strBad
	}
	if !strings.HasPrefix(vers, "go") {
		return nil, true
	}
	// The module information is wrapped in 16-byte sentinels.
	if len(mod) >= 33 && mod[len(mod)-17] == '\n' {
		mod = mod[16 : len(mod)-16]
	} else {
		mod = ""
	}
	out := &GoBuildInfo{GoVersion: vers}
	if mod == "" {
		return out, true
	}
	bi, err := debug.ParseBuildInfo(mod)
	if err != nil {
		return out, true
	}
	out.Path = bi.Path
	out.Main = goModule(&bi.Main)
	for _, st := range bi.Settings {
		switch st.Key {
		case "GOOS":
			out.GOOS = st.Value
		case "GOARCH":
			out.GOARCH = st.Value
		}
	}
	for _, d := range bi.Deps {
		out.Deps = append(out.Deps, goModule(d))
	}
	return out, true
}

func goModule(m *debug.Module) GoModule {
	g := GoModule{Path: m.Path, Version: m.Version, Sum: m.Sum}
	if m.Replace != nil {
		r := goModule(m.Replace)
		g.Replace = &r
	}
	return g
}

type strStatus int

const (
	strOK   strStatus = iota
	strMore           // b ends before the string does
	strBad            // not a plausible length: the match was not build information
)

// varString reads a uvarint-length-prefixed string.
func varString(b []byte, max int64) (string, []byte, strStatus) {
	n, w := binary.Uvarint(b)
	switch {
	case w == 0:
		return "", nil, strMore
	case w < 0 || n > uint64(max):
		return "", nil, strBad
	case uint64(len(b)-w) < n:
		return "", nil, strMore
	}
	return string(b[w : w+int(n)]), b[w+int(n):], strOK
}
