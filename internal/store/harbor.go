package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// HarborScan is a scan Harbor asked for.
type HarborScan struct {
	ID, Registry, Repository, Digest, State, Error string
	Created                                        time.Time
}

// AddHarborScan records a scan request.
func (s *Store) AddHarborScan(ctx context.Context, h HarborScan) error {
	_, err := s.Pool.Exec(ctx, "INSERT INTO harbor_scans (id, registry, repository, digest, state) VALUES ($1, $2, $3, $4, $5)",
		h.ID, h.Registry, h.Repository, h.Digest, h.State)
	return err
}

// EndHarborScan records how a scan ended.
func (s *Store) EndHarborScan(ctx context.Context, id, state, msg string) error {
	_, err := s.Pool.Exec(ctx, "UPDATE harbor_scans SET state = $2, error = $3 WHERE id = $1", id, state, msg)
	return err
}

// HarborScanByID returns a scan request.
func (s *Store) HarborScanByID(ctx context.Context, id string) (HarborScan, error) {
	var h HarborScan
	err := s.Pool.QueryRow(ctx, "SELECT id, registry, repository, digest, state, error, created_at FROM harbor_scans WHERE id = $1", id).
		Scan(&h.ID, &h.Registry, &h.Repository, &h.Digest, &h.State, &h.Error, &h.Created)
	if errors.Is(err, pgx.ErrNoRows) {
		return h, ErrNotFound
	}
	return h, err
}
