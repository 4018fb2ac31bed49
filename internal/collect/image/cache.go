package image

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"

	"github.com/dockaudit/dockaudit/internal/facts"
)

// RecordFormat is the version of a layer record. Bump it whenever want, the walk or
// the record change what reading a layer gives: records of another format are read
// again, never replayed.
const RecordFormat = 6 // 6: .NET single-file bundles; 2: rpm BerkeleyDB and NDB databases, Python eggs, Java identity, gems, Composer, NuGet; 3: Red Hat content manifests; 4: Go 1.13–1.17 and cargo-auditable binaries; 5: Java archives two levels deep, manifest continuation lines, Jenkins plugin manifests

// LayerCache keeps layer records by diff ID (dockaudit serve keeps them in
// PostgreSQL). Get returns nil, nil for a layer it does not hold. A cache that fails
// costs time, never correctness: the layer is then read.
type LayerCache interface {
	Get(ctx context.Context, diffID string, format int) ([]byte, error)
	Put(ctx context.Context, diffID string, format int, record []byte) error
}

// LayerLocker is a LayerCache that can also lock a layer: a miss is read under the
// layer's lock and looked up again once it is held, so that workers and replicas
// reading images that share a layer read it once between them.
type LayerLocker interface {
	Lock(ctx context.Context, diffID string) (unlock func(), err error)
}

// A record is every change reading one layer made to the view, in order, with the
// layer's own index left out: replayed at another index (the same layer lower or
// higher in another image) it gives that image exactly the view reading it would.
// The changes are recorded, not their effects: a whiteout removes whatever the lower
// layers of the image at hand put there.
type record struct {
	MaxFileRead, MaxScan int64 // the limits the layer was read with
	Entries              int
	Bytes                int64 // decompressed
	Ops                  []op
}

type opKind uint8

const (
	opAnomaly opKind = iota
	opOpaque
	opWhiteout
	opReplace
	opPut  // a link
	opKeep // a node read or indexed
	opSecrets
)

type op struct {
	K       opKind
	Path    string
	Reason  string
	IsDir   bool
	History bool
	Node    *recNode
	Secrets []facts.Secret
}

// recNode is a Node as kept: gob drops the difference between empty and nil, which
// the inventory tells apart (an empty file read is not a file left unread).
type recNode struct {
	Type        byte
	Mode        int64
	UID, GID    int
	Size        int64
	Link        string
	Data        []byte
	HasData     bool
	Truncated   bool
	GoBuildInfo *GoBuildInfo
	Derived     []facts.Package
	Note        string `json:",omitempty"`
}

func (r *record) anomaly(v *View, layer int, p, reason string) {
	if r != nil {
		r.Ops = append(r.Ops, op{K: opAnomaly, Path: p, Reason: reason})
	}
	v.anomaly(layer, p, reason)
}

func (r *record) opaque(v *View, layer int, dir string) {
	if r != nil {
		r.Ops = append(r.Ops, op{K: opOpaque, Path: dir})
	}
	v.opaque(layer, dir)
}

func (r *record) whiteout(v *View, layer int, p string) {
	if r != nil {
		r.Ops = append(r.Ops, op{K: opWhiteout, Path: p})
	}
	v.whiteout(layer, p)
}

func (r *record) replace(v *View, layer int, p string, isDir bool) {
	if r != nil {
		r.Ops = append(r.Ops, op{K: opReplace, Path: p, IsDir: isDir})
	}
	v.replace(layer, p, isDir)
}

func (r *record) put(v *View, n *Node) {
	if r != nil {
		r.Ops = append(r.Ops, op{K: opPut, Path: n.Path, Node: toRec(n)})
	}
	v.put(n)
}

func (r *record) keep(v *View, n *Node, history bool, lim Limits) error {
	if r != nil {
		r.Ops = append(r.Ops, op{K: opKeep, Path: n.Path, History: history, Node: toRec(n)})
	}
	return v.keep(n, history, lim)
}

func (r *record) secrets(v *View, found []facts.Secret) {
	if r != nil {
		r.Ops = append(r.Ops, op{K: opSecrets, Secrets: found})
	}
	v.Secrets = append(v.Secrets, found...)
}

func toRec(n *Node) *recNode {
	return &recNode{Type: n.Type, Mode: n.Mode, UID: n.UID, GID: n.GID, Size: n.Size, Link: n.Link,
		Data: n.Data, HasData: n.Data != nil, Truncated: n.Truncated, GoBuildInfo: n.GoBuildInfo, Derived: n.Derived, Note: n.Note}
}

func (rn *recNode) node(p string, layer int) *Node {
	n := &Node{Path: p, Type: rn.Type, Mode: rn.Mode, UID: rn.UID, GID: rn.GID, Size: rn.Size, Layer: layer,
		Link: rn.Link, Data: rn.Data, Truncated: rn.Truncated, GoBuildInfo: rn.GoBuildInfo, Note: rn.Note}
	if rn.HasData && n.Data == nil {
		n.Data = []byte{}
	}
	if rn.Derived != nil {
		n.Derived = make([]facts.Package, len(rn.Derived))
		for i, pk := range rn.Derived {
			pk.Layer = layer
			n.Derived[i] = pk
		}
	}
	return n
}

// replay makes the record's changes to the view as layer idx.
func (r *record) replay(ctx context.Context, v *View, idx int, lim Limits) error {
	for i, o := range r.Ops {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		switch o.K {
		case opAnomaly:
			v.anomaly(idx, o.Path, o.Reason)
		case opOpaque:
			v.opaque(idx, o.Path)
		case opWhiteout:
			v.whiteout(idx, o.Path)
		case opReplace:
			v.replace(idx, o.Path, o.IsDir)
		case opPut:
			v.put(o.Node.node(o.Path, idx))
		case opKeep:
			if err := v.keep(o.Node.node(o.Path, idx), o.History, lim); err != nil {
				return err
			}
		case opSecrets:
			for _, s := range o.Secrets {
				s.Layer = idx
				v.Secrets = append(v.Secrets, s)
			}
		default:
			return fmt.Errorf("layer record: unknown change %d", o.K)
		}
		if v.exhausted {
			return ErrTooMany
		}
	}
	return nil
}

var (
	zenc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	zdec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(4<<30))
)

func (r *record) encode() ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(r); err != nil {
		return nil, err
	}
	return zenc.EncodeAll(buf.Bytes(), nil), nil
}

func decodeRecord(b []byte) (*record, error) {
	raw, err := zdec.DecodeAll(b, nil)
	if err != nil {
		return nil, err
	}
	r := &record{}
	if err := gob.NewDecoder(io.LimitReader(bytes.NewReader(raw), int64(len(raw)))).Decode(r); err != nil {
		return nil, err
	}
	return r, nil
}

// cachedLayer replays the layer's record when the cache holds one made with the same
// limits, and otherwise reads the layer, checking it against its diff ID, and keeps
// its record.
func cachedLayer(ctx context.Context, v *View, idx int, l Layer, opts Options, lim Limits, total *int64, entries *int) (int, error) {
	cached := func() *record {
		b, err := opts.Cache.Get(ctx, l.Key, RecordFormat)
		if err != nil || b == nil {
			return nil
		}
		if rec, err := decodeRecord(b); err == nil && rec.MaxFileRead == lim.MaxFileRead && rec.MaxScan == opts.MaxScan {
			return rec
		}
		return nil
	}
	rec := cached()
	if lk, ok := opts.Cache.(LayerLocker); ok && rec == nil {
		if unlock, err := lk.Lock(ctx, l.Key); err == nil {
			defer unlock()
			rec = cached() // another reader may have kept it while this one waited
		}
	}
	if rec != nil {
		if *total += rec.Bytes; *total > lim.MaxBytes {
			return 0, ErrTooLarge
		}
		if *entries += rec.Entries; *entries > lim.MaxEntries {
			return 0, ErrTooMany
		}
		return rec.Entries, rec.replay(ctx, v, idx, lim)
	}
	rec = &record{MaxFileRead: lim.MaxFileRead, MaxScan: opts.MaxScan}
	n, err := walkLayer(ctx, v, idx, l, opts, lim, total, entries, rec)
	if err != nil {
		return n, err
	}
	if b, err := rec.encode(); err == nil {
		opts.Cache.Put(ctx, l.Key, RecordFormat, b)
	}
	return n, nil
}
