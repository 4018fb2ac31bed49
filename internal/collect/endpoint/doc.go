// Package endpoint probes a Docker daemon address the way an attacker would: is the
// Engine API answering without credentials, is it TLS, does it require a client
// certificate, which protocol versions and cipher suites it takes, and what its
// certificate says. Every dial has a timeout.
//
// It must not import a check or the report: it returns facts.
package endpoint
