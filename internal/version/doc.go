// Package version compares package versions by each ecosystem's own rules: dpkg,
// apk, rpm, semantic versions (Go modules, npm, crates.io), PEP 440 (PyPI) and Maven.
// Every comparator is total on the strings it accepts: antisymmetric and transitive
// (fuzz tests check both).
//
// It imports only the standard library, so checks and the advisory store can share it.
package version
