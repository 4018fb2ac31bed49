// Package registry is a small client for the OCI distribution API: it pulls manifests
// and blobs with anonymous, Basic or Bearer-token authentication, using credentials
// from the Docker configuration and its credential helpers. It verifies every digest
// and bounds every response it holds in memory.
//
// It must not import a check or the report: it returns facts and images.
package registry
