package advisory

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/dockaudit/dockaudit/internal/facts"
)

// Key is what an advisory lookup is filed under: a database ecosystem ("Debian:12",
// "PyPI") and the package name as the database files it.
type Key struct {
	Ecosystem string
	Name      string
}

// KeysFormat is the version of how Keys files packages: a service keys images stored
// with an older one again. 1: RHEL and SUSE packages keyed by family.
const KeysFormat = 1

// Keys are every key an image's packages are looked up under, whatever the database
// holds: an update that changes any of them may change the image's findings. A RHEL
// image's packages are keyed by the family "Red Hat" (Changes reports any stream's
// change under it) and by the image's repositories in Red Hat's repository map.
func Keys(os facts.OS, pkgs []facts.Package) []Key {
	seen := map[Key]bool{}
	var out []Key
	rhel := false
	for _, p := range pkgs {
		t, ok := TargetFor(os, p)
		if !ok {
			continue
		}
		rhel = rhel || t.Ecosystems[0] == "Red Hat"
		for _, eco := range t.Ecosystems {
			k := Key{Ecosystem: eco, Name: normalizeName(eco, t.Name)}
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	if rhel {
		for _, cs := range os.ContentSets {
			if k := (Key{Ecosystem: RedHatRepoEcosystem, Name: cs}); !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// Changes compares two databases: the keys whose advisories differ (an entry added,
// removed or changed, or the record of an advisory it lists changed: a new severity, a
// withdrawal), or all when what the databases cover differs (an ecosystem or source
// added or dropped changes every image's coverage).
func Changes(old, cur *Store) (keys []Key, all bool, err error) {
	if !slices.EqualFunc(old.Meta.Ecosystems, cur.Meta.Ecosystems, func(a, b EcosystemInfo) bool {
		return a.Name == b.Name && slices.Equal(a.Sources, b.Sources)
	}) {
		return nil, true, nil
	}
	err = old.db.View(func(otx *bolt.Tx) error {
		return cur.db.View(func(ctx *bolt.Tx) error {
			changedIDs := map[string]bool{}
			diff(otx.Bucket(bRecords), ctx.Bucket(bRecords), func(k []byte) { changedIDs[string(k)] = true })
			changed := map[string]bool{}
			diff(otx.Bucket(bAffected), ctx.Bucket(bAffected), func(k []byte) { changed[string(k)] = true })
			if len(changedIDs) > 0 {
				// A changed record changes every key whose entries list it, in either
				// database.
				for _, b := range []*bolt.Bucket{otx.Bucket(bAffected), ctx.Bucket(bAffected)} {
					err := b.ForEach(func(k, v []byte) error {
						if changed[string(k)] {
							return nil
						}
						var es []Entry
						if err := decodeValue(v, &es); err != nil {
							return fmt.Errorf("%s: %w", k, err)
						}
						for _, e := range es {
							if changedIDs[e.ID] {
								changed[string(k)] = true
								break
							}
						}
						return nil
					})
					if err != nil {
						return err
					}
				}
			}
			seen := map[Key]bool{}
			for k := range changed {
				eco, name, ok := bytes.Cut([]byte(k), []byte{0})
				if !ok {
					continue
				}
				// Red Hat's streams and SUSE's products are files of the family an
				// image's packages are keyed by (which apply is decided when matching).
				if base := BaseEcosystem(string(eco)); slices.Contains(families, base) {
					eco = []byte(base)
				}
				k := Key{Ecosystem: string(eco), Name: string(name)}
				if !seen[k] {
					seen[k] = true
					keys = append(keys, k)
				}
			}
			return nil
		})
	})
	slices.SortFunc(keys, func(a, b Key) int {
		if a.Ecosystem != b.Ecosystem {
			return strings.Compare(a.Ecosystem, b.Ecosystem)
		}
		return strings.Compare(a.Name, b.Name)
	})
	return keys, false, err
}

// diff walks two buckets in key order and calls changed for each key whose value
// differs or that only one holds. Values are compared as stored: the same record
// compresses to the same bytes.
func diff(a, b *bolt.Bucket, changed func(k []byte)) {
	ca, cb := a.Cursor(), b.Cursor()
	ka, va := ca.First()
	kb, vb := cb.First()
	for ka != nil || kb != nil {
		switch c := compareKeys(ka, kb); {
		case c < 0:
			changed(ka)
			ka, va = ca.Next()
		case c > 0:
			changed(kb)
			kb, vb = cb.Next()
		default:
			if !bytes.Equal(va, vb) {
				changed(ka)
			}
			ka, va = ca.Next()
			kb, vb = cb.Next()
		}
	}
}

// compareKeys orders keys with nil (the end of a bucket) last.
func compareKeys(a, b []byte) int {
	switch {
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return bytes.Compare(a, b)
}
