// Package confine checks syscall control: what a seccomp profile allows (the lint
// rules of dockaudit seccomp lint, also run on the custom profiles dockaudit host
// finds), the Engine's built-in profile, and each container's confinement, requested
// (its options) against effective (what the kernel shows for its init process).
//
// Like every check package it does no I/O and must not import a collector, net/http or a
// Docker client (checks/boundary_test.go enforces it).
package confine
