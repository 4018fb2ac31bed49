package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// Delivery is one event due to one receiver.
type Delivery struct {
	EventID  int64
	Receiver string
	Key      string
	Kind     string
	Payload  json.RawMessage
	Created  time.Time
	Attempts int
}

// NextDelivery leases the oldest due delivery to one of receivers for lease: another
// replica does not send it meanwhile, and a replica that dies mid-send lets it be sent
// again later (receivers tell repeats apart by the event's key). Deliveries to a
// receiver no longer configured wait, untried, until PruneEvents drops them.
func (s *Store) NextDelivery(ctx context.Context, lease time.Duration, receivers []string) (*Delivery, error) {
	var d Delivery
	err := s.Pool.QueryRow(ctx, `
		UPDATE deliveries SET lease_until = now() + $1::interval, attempts = attempts + 1
		WHERE (event_id, receiver) = (
			SELECT event_id, receiver FROM deliveries
			WHERE delivered_at IS NULL AND next_at <= now() AND (lease_until IS NULL OR lease_until < now()) AND receiver = ANY($2)
			ORDER BY next_at, event_id
			FOR UPDATE SKIP LOCKED LIMIT 1)
		RETURNING event_id, receiver, attempts,
			(SELECT key FROM events WHERE id = event_id), (SELECT kind FROM events WHERE id = event_id),
			(SELECT payload FROM events WHERE id = event_id), (SELECT created_at FROM events WHERE id = event_id)`,
		lease.String(), receivers).Scan(&d.EventID, &d.Receiver, &d.Attempts, &d.Key, &d.Kind, &d.Payload, &d.Created)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// Delivered marks a delivery done.
func (s *Store) Delivered(ctx context.Context, d *Delivery) error {
	_, err := s.Pool.Exec(ctx, "UPDATE deliveries SET delivered_at = now(), lease_until = NULL, last_error = NULL WHERE event_id = $1 AND receiver = $2", d.EventID, d.Receiver)
	return err
}

// PruneEvents deletes the events created before cutoff that owe nothing to any of
// receivers (each delivery to them done), with their deliveries: the outbox keeps a
// window of history, and what was due to a receiver since removed goes with it.
func (s *Store) PruneEvents(ctx context.Context, cutoff time.Time, receivers []string) (int64, error) {
	tag, err := s.Pool.Exec(ctx, `DELETE FROM events e WHERE e.created_at < $1 AND NOT EXISTS (
		SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.delivered_at IS NULL AND d.receiver = ANY($2))`, cutoff, receivers)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// DeliveryFailed schedules the next attempt after backoff.
func (s *Store) DeliveryFailed(ctx context.Context, d *Delivery, cause error, backoff time.Duration) error {
	msg := cause.Error()
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	_, err := s.Pool.Exec(ctx, "UPDATE deliveries SET next_at = now() + $3::interval, lease_until = NULL, last_error = $4 WHERE event_id = $1 AND receiver = $2",
		d.EventID, d.Receiver, backoff.String(), msg)
	return err
}

// EventRow is an event as the API lists it.
type EventRow struct {
	ID      int64           `json:"id"`
	Key     string          `json:"key"`
	Kind    string          `json:"kind"`
	Payload json.RawMessage `json:"payload"`
	Created time.Time       `json:"created_at"`
}

// Events lists events after an id, oldest first.
func (s *Store) Events(ctx context.Context, after int64, limit int) ([]EventRow, error) {
	rows, err := s.Pool.Query(ctx, "SELECT id, key, kind, payload, created_at FROM events WHERE id > $1 ORDER BY id LIMIT $2", after, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (EventRow, error) {
		var e EventRow
		err := r.Scan(&e.ID, &e.Key, &e.Kind, &e.Payload, &e.Created)
		return e, err
	})
}
