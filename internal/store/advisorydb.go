package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
)

const dbChunk = 8 << 20

// PublishAdvisories stores a database file, whose SHA-256 the caller computed, as the
// one every replica matches with, and queues the job that re-judges the images it
// changes, in one transaction: a replica that dies half-way leaves the previous
// database current. The file's content is checked against sum as it is stored.
func (s *Store) PublishAdvisories(ctx context.Context, path, sum string, built time.Time, sources any, job, key string, payload any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM advisory_db WHERE sha256 <> $1", sum); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM advisory_db WHERE sha256 = $1", sum); err != nil {
			return err
		}
		buf := make([]byte, dbChunk)
		for i := 0; ; i++ {
			n, err := io.ReadFull(f, buf)
			h.Write(buf[:n])
			if n > 0 {
				if _, err := tx.Exec(ctx, "INSERT INTO advisory_db (sha256, chunk, data) VALUES ($1, $2, $3)", sum, i, buf[:n]); err != nil {
					return err
				}
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				break
			}
			if err != nil {
				return err
			}
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != sum {
			return fmt.Errorf("%s changed while it was stored (sha256 %s, not %s)", path, got, sum)
		}
		b, err := jsonBytes(sources)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO advisory_state (id, built, sha256, sources) VALUES (1, $1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET built = $1, sha256 = $2, sources = $3, loaded_at = now()`, built, sum, b); err != nil {
			return err
		}
		if job == "" {
			return nil
		}
		pb, err := jsonBytes(payload)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "INSERT INTO jobs (kind, key, payload) VALUES ($1, $2, $3) ON CONFLICT (key) WHERE state IN ('queued', 'running') DO NOTHING", job, key, pb)
		return err
	})
}

// FetchAdvisories writes the published database with that digest to path (through a
// temporary file and a rename, checked against the digest).
func (s *Store) FetchAdvisories(ctx context.Context, sum, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".fetch-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	w := io.MultiWriter(tmp, h)
	rows, err := s.Pool.Query(ctx, "SELECT data FROM advisory_db WHERE sha256 = $1 ORDER BY chunk", sum)
	if err != nil {
		return err
	}
	n := 0
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			rows.Close()
			return err
		}
		if _, err := w.Write(b); err != nil {
			rows.Close()
			return err
		}
		n++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); n == 0 || got != sum {
		return fmt.Errorf("the stored advisory database %s is incomplete (%d chunks, sha256 %s)", sum, n, got)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
