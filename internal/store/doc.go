// Package store is dockaudit serve's PostgreSQL store: embedded, versioned migrations
// applied under an advisory lock, API tokens kept as hashes, the job queue replicas
// lease from, per-layer records, images with their facts and findings, host reports,
// and the event outbox. Nothing else in dockaudit talks SQL.
package store
