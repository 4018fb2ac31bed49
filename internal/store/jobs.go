package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// Job is a unit of work leased by one replica at a time.
type Job struct {
	ID       int64
	Kind     string
	Key      string
	Payload  json.RawMessage
	Attempts int
}

// Enqueue adds a job, due now, unless one with the same key is already queued or
// running; it reports whether it added one.
func (s *Store) Enqueue(ctx context.Context, kind, key string, payload any) (bool, error) {
	return s.enqueue(ctx, kind, key, payload, nil)
}

// EnqueueAt is Enqueue for a job due at a time.
func (s *Store) EnqueueAt(ctx context.Context, kind, key string, payload any, at time.Time) (bool, error) {
	return s.enqueue(ctx, kind, key, payload, &at)
}

// enqueue adds the job; a nil at is the database's now (replicas' clocks may differ).
func (s *Store) enqueue(ctx context.Context, kind, key string, payload any, at *time.Time) (bool, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return false, err
	}
	tag, err := s.Pool.Exec(ctx, `INSERT INTO jobs (kind, key, payload, run_at) VALUES ($1, $2, $3, coalesce($4, now()))
		ON CONFLICT (key) WHERE state IN ('queued', 'running') DO NOTHING`, kind, key, b, at)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// Lease takes the oldest job that is due: queued, or running under a lease that ran
// out (its replica died). SKIP LOCKED lets replicas lease at once without waiting on
// each other, and the lease makes the job nobody else's until it expires.
func (s *Store) Lease(ctx context.Context, owner string, kinds []string, lease time.Duration) (*Job, error) {
	var j Job
	err := s.Pool.QueryRow(ctx, `
		UPDATE jobs SET state = 'running', lease_owner = $1, lease_until = now() + $2::interval,
			attempts = attempts + 1
		WHERE id = (
			SELECT id FROM jobs
			WHERE kind = ANY($3) AND run_at <= now()
			  AND (state = 'queued' OR (state = 'running' AND lease_until < now()))
			ORDER BY run_at, id
			FOR UPDATE SKIP LOCKED
			LIMIT 1)
		RETURNING id, kind, key, payload, attempts`,
		owner, lease.String(), kinds).Scan(&j.ID, &j.Kind, &j.Key, &j.Payload, &j.Attempts)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &j, nil
}

// ErrLeaseLost is a job whose lease another replica took over (this one was too slow
// to renew it); its work must be dropped, not stored.
var ErrLeaseLost = errors.New("the job's lease was taken over")

// Heartbeat extends a lease the owner still holds.
func (s *Store) Heartbeat(ctx context.Context, id int64, owner string, lease time.Duration) error {
	tag, err := s.Pool.Exec(ctx, `UPDATE jobs SET lease_until = now() + $3::interval
		WHERE id = $1 AND lease_owner = $2 AND state = 'running'`, id, owner, lease.String())
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return ErrLeaseLost
	}
	return nil
}

// finishJob marks a job done inside the transaction that stored its result, so the
// result and the end of the job commit together.
func finishJob(ctx context.Context, tx pgx.Tx, id int64, owner string) error {
	tag, err := tx.Exec(ctx, `UPDATE jobs SET state = 'done', finished_at = now(), lease_owner = NULL, lease_until = NULL, last_error = NULL
		WHERE id = $1 AND lease_owner = $2 AND state = 'running'`, id, owner)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return ErrLeaseLost
	}
	return nil
}

// Done marks a job done that stored nothing.
func (s *Store) Done(ctx context.Context, id int64, owner string) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error { return finishJob(ctx, tx, id, owner) })
}

// Retry gives a failed job back to the queue after a backoff, or marks it failed for
// good after maxAttempts.
func (s *Store) Retry(ctx context.Context, id int64, owner string, cause error, backoff time.Duration, maxAttempts int) error {
	msg := cause.Error()
	if len(msg) > 2000 {
		msg = msg[:2000]
	}
	_, err := s.Pool.Exec(ctx, `UPDATE jobs SET
			state = CASE WHEN attempts >= $5 THEN 'failed' ELSE 'queued' END,
			run_at = now() + $4::interval, last_error = $3, lease_owner = NULL, lease_until = NULL,
			finished_at = CASE WHEN attempts >= $5 THEN now() END
		WHERE id = $1 AND lease_owner = $2`, id, owner, msg, backoff.String(), maxAttempts)
	return err
}

// QueueDepth counts jobs waiting or running, by kind.
func (s *Store) QueueDepth(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	rows, err := s.Pool.Query(ctx, "SELECT kind, count(*) FROM jobs WHERE state IN ('queued', 'running') GROUP BY kind")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, rows.Err()
}

// Reschedule queues a recurring job again, due after every, in one statement: a
// replica dying between ending a run and scheduling the next cannot lose the job.
func (s *Store) Reschedule(ctx context.Context, id int64, owner string, every time.Duration) error {
	tag, err := s.Pool.Exec(ctx, `UPDATE jobs SET state = 'queued', run_at = now() + $3::interval, attempts = 0,
			lease_owner = NULL, lease_until = NULL, last_error = NULL
		WHERE id = $1 AND lease_owner = $2 AND state = 'running'`, id, owner, every.String())
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return ErrLeaseLost
	}
	return nil
}
