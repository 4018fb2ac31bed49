// Package link checks the link between clients and the daemon and the registries
// images come from, from probe facts: unauthenticated APIs, TLS and client
// certificates, protocol versions, cipher suites, certificates, Engine advisories,
// and what a registry lets anyone do.
//
// Like every check package it does no I/O and must not import a collector, net/http or a
// Docker client (checks/boundary_test.go enforces it).
package link
