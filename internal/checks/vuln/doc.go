// Package vuln turns the vulnerabilities matched to an image's packages into
// findings. Matching is a collector's work (internal/advisory); this check only reads
// facts.
//
// Like every check package it does no I/O and must not import a collector, net/http or a
// Docker client (checks/boundary_test.go enforces it).
package vuln
