// Package version compares package versions by each ecosystem's own rules: dpkg,
// apk, rpm, semantic versions (Go modules, npm, crates.io), PEP 440 (PyPI) and Maven.
// Every comparator is antisymmetric and transitive on the strings it accepts (fuzz
// tests check both), with one deliberate exception: rpm's rule that a bare version
// matches every release of it makes "1.0-1" = "1.0" = "1.0-2" although "1.0-1" <
// "1.0-2"; RPM versions with releases, which packages and advisories carry, are
// ordered.
//
// It imports only the standard library, so checks and the advisory store can share it.
package version
