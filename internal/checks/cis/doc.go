// Package cis implements the CIS Docker Benchmark v1.6.0, sections 1–7 (117 items), as
// checks: each item's text, severity and CIS reference sit beside the function that
// decides it. The v1.8.0 number of each item is kept in its metadata.
//
// Checks here are pure: they read facts and report; they never import a collector, an
// HTTP client or the Docker client (a test in internal/checks guards this).
package cis
