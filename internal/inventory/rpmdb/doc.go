// Package rpmdb reads RPM databases in the three formats rpm writes: SQLite
// (rpmdb.sqlite: RHEL 9, Fedora), BerkeleyDB hash (Packages: rpm before 4.16, RHEL/UBI
// 8, CentOS 7, Amazon Linux 2, Oracle Linux 7/8) and NDB (Packages.db: SLES 15,
// openSUSE). Each holds one RPM header blob per package. The file formats are read
// directly (read-only, every offset checked, every page used once), so no SQLite or
// BerkeleyDB library is needed, and the headers are decoded. Input is untrusted.
//
// It imports only the standard library: no collector, no check.
package rpmdb
