package advisory

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// BenchmarkAltWholeFile measures the alternative the database format was chosen
// against: every record and entry in one gzip'd JSON file, decoded whole at open.
func BenchmarkAltWholeFile(b *testing.B) {
	s, err := Open(buildBig(b))
	if err != nil {
		b.Fatal(err)
	}
	all := map[string][]Entry{}
	s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bAffected).ForEach(func(k, v []byte) error {
			var es []Entry
			decodeValue(v, &es)
			all[string(k)] = es
			return nil
		})
	})
	s.Close()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	json.NewEncoder(zw).Encode(all)
	zw.Close()
	b.Logf("one gzip'd JSON file: %.1f MB", float64(buf.Len())/1e6)
	for b.Loop() {
		zr, _ := gzip.NewReader(bytes.NewReader(buf.Bytes()))
		raw, _ := io.ReadAll(zr)
		var m map[string][]Entry
		if err := json.Unmarshal(raw, &m); err != nil {
			b.Fatal(err)
		}
	}
}
