// Package serve is dockaudit serve: it watches registries, scans each new image with
// the collectors and rules dockaudit image uses, keeps facts and findings in
// PostgreSQL (internal/store), judges the stored facts again when the advisory
// database changes, delivers the differences to webhook receivers, collects the
// reports hosts submit, and answers an HTTP API. Replicas share nothing but the
// database: work is leased from its job table.
package serve
